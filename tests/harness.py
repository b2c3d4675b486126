"""Running planner the way users do (a subprocess in a temporary folder) and inspecting results."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
FAULT_RUNNER = Path(__file__).resolve().parent / "fault_runner.py"
LAUNCHER = Path(__file__).resolve().parent / "launch.py"


@dataclass
class Result:
    code: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


def planner(
    *args: str,
    cwd: Path,
    kill_at: int | None = None,
    count_to: Path | None = None,
    fail_at: int | None = None,
    env: dict[str, str] | None = None,
    timeout: float = 300,
) -> Result:
    """Run ``python -m planner ARGS`` in ``cwd``; optionally kill or fail it at I/O step k."""
    environment = {**os.environ, "NO_COLOR": "1", "PYTHONPATH": str(ROOT), **(env or {})}
    if kill_at is not None or count_to is not None or fail_at is not None:
        command = [sys.executable, str(FAULT_RUNNER), *args]
        if kill_at is not None:
            environment["PLANNER_TEST_KILL_AT"] = str(kill_at)
        if fail_at is not None:
            environment["PLANNER_TEST_FAIL_AT"] = str(fail_at)
        if count_to is not None:
            environment["PLANNER_TEST_COUNT_TO"] = str(count_to)
    else:
        command = [sys.executable, "-m", "planner", *args]
    completed = subprocess.run(
        command,
        cwd=cwd,
        env=environment,
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )
    return Result(completed.returncode, completed.stdout, completed.stderr)


@dataclass(frozen=True)
class ChildCost:
    """What one measured child cost: its exit code and figures from ``tests/launch.py``."""

    code: int
    wall_seconds: float
    cpu_seconds: float
    peak_rss_kib: int


def run_with_cost(
    command: list[str],
    cwd: Path,
    env: dict[str, str] | None,
    stdout: Any,
    stderr: Any,
    timeout: float | None = None,
) -> ChildCost:
    """Run ``command`` through ``tests/launch.py`` and return what it cost.

    The launcher is a small process of its own, so the peak memory is the command's and not
    this test process's (Linux charges a new process the size of the one that spawned it).
    After ``timeout`` seconds, when given, the launcher and the command are killed together.
    """
    with tempfile.NamedTemporaryFile(prefix="launch-", suffix=".txt") as report:
        process = subprocess.Popen(
            [sys.executable, "-I", "-S", str(LAUNCHER), report.name, *command],
            cwd=cwd,
            env=env,
            stdout=stdout,
            stderr=stderr,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        watchdog = threading.Timer(timeout or 0, os.killpg, (process.pid, signal.SIGKILL))
        if timeout is not None:
            watchdog.start()
        try:
            launcher_code = process.wait()
        finally:
            watchdog.cancel()
        figures = Path(report.name).read_text(encoding="utf-8").split()

    if launcher_code != 0 or len(figures) != 4:
        raise RuntimeError(f"{command[0]} was killed or could not start (launcher {launcher_code})")
    code, wall, cpu, peak = figures
    return ChildCost(int(code), float(wall), float(cpu), int(peak))


def planner_with_peak_memory(*args: str, cwd: Path, timeout: float = 300) -> tuple[Result, int]:
    """Run ``python -m planner ARGS`` like ``planner``; also return its peak RSS in KiB."""
    environment = {**os.environ, "NO_COLOR": "1", "PYTHONPATH": str(ROOT)}
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        command = [sys.executable, "-m", "planner", *args]
        cost = run_with_cost(command, cwd, environment, out, err, timeout)
        out.seek(0)
        err.seek(0)
        result = Result(cost.code, out.read().decode(), err.read().decode())
    return result, cost.peak_rss_kib


def toml_string(value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


def write_config(
    folder: Path,
    *,
    files: dict[str, Any] | None = None,
    entries: list[dict[str, str]] | None = None,
    audit_path: str | None = "audit/current.log",
    record_changes: bool = False,
    root: str = "tree",
    extra: str = "",
    name: str = "planner.toml",
) -> Path:
    """Write a configuration; ``files`` maps path to content or to a dict of file keys."""
    lines = ["[project]", f'root = "{root}"', ""]
    for path, spec in (files or {}).items():
        lines.append("[[file]]")
        lines.append(f"path = {toml_string(path)}")
        if isinstance(spec, str):
            spec = {"content": spec}
        for key, value in spec.items():
            rendered = (
                ("true" if value else "false")
                if isinstance(value, bool)
                else toml_string(str(value))
            )
            lines.append(f"{key} = {rendered}")
        lines.append("")
    if audit_path is not None:
        lines += ["[audit]", f"path = {toml_string(audit_path)}"]
        if record_changes:
            lines.append("record_changes = true")
        lines.append("")
        for entry in entries or []:
            lines.append("[[audit.entry]]")
            for key, value in entry.items():
                lines.append(f"{key} = {toml_string(value)}")
            lines.append("")
    lines.append(extra)
    config_path = folder / name
    config_path.write_text("\n".join(lines))
    return config_path


def snapshot(root: Path) -> dict[str, tuple[bytes, int]]:
    """Every regular file below ``root``: its bytes and permission bits."""
    found: dict[str, tuple[bytes, int]] = {}
    if not root.exists():
        return found
    for path in sorted(root.rglob("*")):
        if path.is_file() and not path.is_symlink():
            found[path.relative_to(root).as_posix()] = (
                path.read_bytes(),
                path.stat().st_mode & 0o7777,
            )
    return found


def entry(identity: str, message: str = "done") -> dict[str, str]:
    return {"id": identity, "category": "WORKFLOW", "action": identity, "message": message}
