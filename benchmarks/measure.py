"""Measuring one subprocess: wall time, CPU time, peak memory and, under strace, system calls.

Used by ``benchmarks/suite.py``; every peer (planner, the naive way, Ansible) is measured the
same way, as a child process that ``tests/launch.py`` starts and reaps with ``os.wait4``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

STRACE = shutil.which("strace")
LAUNCHER = Path(__file__).resolve().parent.parent / "tests" / "launch.py"

SYSCALL_GROUPS: dict[str, tuple[str, ...]] = {
    "writes": ("write", "writev", "pwrite64", "pwritev", "pwritev2"),
    "syncs": ("fsync", "fdatasync", "syncfs", "sync", "sync_file_range"),
    "opens": ("open", "openat", "openat2", "creat"),
    "renames": ("rename", "renameat", "renameat2"),
}
TRACED_SYSCALLS = ",".join(name for names in SYSCALL_GROUPS.values() for name in names)

Command = Sequence[str | Path]


@dataclass(frozen=True)
class Measurement:
    """What one run of a child process cost.

    ``cpu_seconds`` is user plus system time of the child and of every descendant it waited
    for (Ansible's module processes are counted); ``peak_rss_kib`` is the largest resident
    set of any single process of that tree, not their sum.
    """

    wall_seconds: float
    cpu_seconds: float
    peak_rss_kib: int

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


class ChildFailed(RuntimeError):
    """A measured command exited with a code it was not expected to."""


def run_measured(
    command: Command,
    cwd: Path,
    environment: Mapping[str, str] | None = None,
    exit_codes: Sequence[int] = (0,),
) -> Measurement:
    """Run a command to completion with its output discarded, and measure it.

    The command is started by ``tests/launch.py``, a small process of its own, so that its peak
    memory is its own and not the size of this one (see there). Dirty pages left by earlier
    runs are flushed first, untimed: planner's ``syncfs`` flushes the whole file system, so it
    would otherwise pay for the writes of the runs before it.
    """
    os.sync()
    with (
        tempfile.TemporaryFile() as stderr,
        tempfile.NamedTemporaryFile(prefix="launch-", suffix=".txt") as report,
    ):
        launcher = [sys.executable, "-I", "-S", str(LAUNCHER), report.name]
        returncode = subprocess.call(
            [*launcher, *(str(part) for part in command)],
            cwd=cwd,
            env=dict(environment) if environment is not None else None,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )
        figures = Path(report.name).read_text(encoding="utf-8").split()
        if returncode != 0 or len(figures) != 4:
            stderr.seek(0)
            message = stderr.read().decode(errors="replace")[-3000:]
            raise ChildFailed(f"the launcher of {command[0]} exited {returncode}:\n{message}")

        code, wall, cpu, peak = figures
        if int(code) not in exit_codes:
            stderr.seek(0)
            message = stderr.read().decode(errors="replace")[-3000:]
            raise ChildFailed(f"{command[0]} exited {code}:\n{message}")

    return Measurement(wall_seconds=float(wall), cpu_seconds=float(cpu), peak_rss_kib=int(peak))


def parse_strace_summary(text: str) -> dict[str, int]:
    """Calls per system call, from the table that ``strace -c`` writes."""
    calls: dict[str, int] = {}
    for line in text.splitlines():
        columns = line.split()
        if len(columns) < 5 or not columns[0][0].isdigit() or columns[-1] == "total":
            continue
        calls[columns[-1]] = int(columns[3])
    return calls


def group_syscalls(calls: Mapping[str, int]) -> dict[str, int]:
    return {
        group: sum(calls.get(name, 0) for name in names) for group, names in SYSCALL_GROUPS.items()
    }


def count_syscalls(
    command: Command,
    cwd: Path,
    environment: Mapping[str, str] | None = None,
    exit_codes: Sequence[int] = (0,),
) -> dict[str, int]:
    """System calls of one run, by group, for the command and every process it starts."""
    if STRACE is None:
        raise RuntimeError("strace is not installed")

    with tempfile.NamedTemporaryFile(prefix="strace-", suffix=".txt") as summary:
        traced = [STRACE, "-f", "-c", "-o", summary.name, "-e", f"trace={TRACED_SYSCALLS}"]
        run_measured([*traced, *command], cwd, environment, exit_codes)
        calls = parse_strace_summary(Path(summary.name).read_text(encoding="utf-8"))

    return group_syscalls(calls)
