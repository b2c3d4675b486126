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
from typing import IO, Any

# The repository root is not installed; the launcher and its reader live in tests/.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tests.harness import run_with_cost

STRACE = shutil.which("strace")

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

    The command is started through ``tests.harness.run_with_cost`` by ``tests/launch.py``, a
    small process of its own, so that its peak memory is its own and not this one's. Dirty
    pages left by earlier runs are flushed first, untimed: planner's ``syncfs`` flushes the
    whole file system, so it would otherwise pay for the writes of the runs before it.
    """
    os.sync()
    with tempfile.TemporaryFile() as stderr:
        try:
            cost = run_with_cost(
                [str(part) for part in command],
                cwd,
                dict(environment) if environment is not None else None,
                subprocess.DEVNULL,
                stderr,
            )
        except RuntimeError as error:
            raise ChildFailed(f"{error}:\n{_tail(stderr)}") from None
        if cost.code not in exit_codes:
            raise ChildFailed(f"{command[0]} exited {cost.code}:\n{_tail(stderr)}")

    return Measurement(cost.wall_seconds, cost.cpu_seconds, cost.peak_rss_kib)


def _tail(stream: IO[bytes]) -> str:
    stream.seek(0)
    return stream.read().decode(errors="replace")[-3000:]


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
