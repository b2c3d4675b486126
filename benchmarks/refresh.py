"""Benchmark: `planner plan` of unchanged files, incremental (stat only) versus full refresh.

A plan's cost should follow what changed, not what is declared. For each size (10,000 and
100,000 files by default, spread over 100 folders) this script applies the files once into a
fresh temporary folder, waits until their timestamps are safely older than the racy-timestamp
margin, runs one plan that records what it saw, and then measures, side by side:

* ``planner plan`` (the default ``--refresh=auto``): every file is stat-ed and compared with
  what the last plan saw; none is read or hashed;
* ``planner plan --refresh=full``: every file is read and hashed again, as a tool without
  observations (Terraform's way) must;
* the Python start-up alone (``python -c pass``) and ``planner --version``, so that the part
  of a plan that is only the interpreter and the imports is visible.

Each figure is the median of ``--repeat`` runs (round-robin, so machine noise hits every side
alike) with its min-max spread; the ratio full/incremental is the headline. Both plans must
find nothing to change (exit 0 with ``--detailed-exitcode``). Goals, printed as PASS/FAIL: an
unchanged plan of 10,000 files under 1 s and of 100,000 under 3 s, start-up included.

    .venv/bin/python benchmarks/refresh.py [--sizes 10000,100000] [--repeat 5]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import measure

REPOSITORY = Path(__file__).resolve().parent.parent
PLANNER = REPOSITORY / ".venv" / "bin" / "planner"
PYTHON = REPOSITORY / ".venv" / "bin" / "python"

FOLDERS = 100
SETTLE_SECONDS = 2.5
"""A little more than ``planner.filestat.RACY_MARGIN_NS``: files changed within that margin of
an observation are hashed again by every plan, so the recording plan waits this long."""

GOAL_SECONDS = {10_000: 1.0, 100_000: 3.0}

INCREMENTAL = "plan (incremental)"
FULL = "plan --refresh=full"
PYTHON_START = "python -c pass"
PLANNER_START = "planner --version"


def progress(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def write_config(workdir: Path, files: int) -> None:
    parts = ['[project]\nroot = "tree"\n']
    for index in range(files):
        path = f"folder{index % FOLDERS:03d}/file{index:06d}.txt"
        content = json.dumps(f"File {index}, written by the refresh benchmark.\n")
        parts.append(f'[[file]]\npath = "{path}"\ncontent = {content}\n')
    (workdir / "planner.toml").write_text("".join(parts), encoding="utf-8")


def run(command: Sequence[str | Path], cwd: Path, exit_code: int = 0) -> tuple[float, int]:
    """Wall seconds and peak RSS (KiB) of one child run, which must exit ``exit_code``."""
    environment = {**os.environ, "NO_COLOR": "1"}
    figures = measure.run_measured(command, cwd, environment, (exit_code,))
    return figures.wall_seconds, figures.peak_rss_kib


def prepare(files: int) -> tempfile.TemporaryDirectory[str]:
    """A folder whose ``files`` declared files are applied and observed by one plan."""
    scratch = tempfile.TemporaryDirectory(prefix=f"planner-refresh-{files}-")
    workdir = Path(scratch.name)
    write_config(workdir, files)
    progress(f"{files:,} files: apply")
    run([PLANNER, "--quiet", "apply", "--auto-approve"], workdir)
    time.sleep(SETTLE_SECONDS)
    progress(f"{files:,} files: the plan that records what it saw")
    run([PLANNER, "--quiet", "plan", "--detailed-exitcode"], workdir)
    return scratch


def measure_size(files: int, repeat: int) -> dict[str, list[tuple[float, int]]]:
    commands: dict[str, tuple[list[str | Path], int]] = {
        PYTHON_START: ([PYTHON, "-c", "pass"], 0),
        PLANNER_START: ([PLANNER, "--version"], 0),
        INCREMENTAL: ([PLANNER, "--quiet", "plan", "--detailed-exitcode"], 0),
        FULL: ([PLANNER, "--quiet", "plan", "--detailed-exitcode", "--refresh=full"], 0),
    }
    figures: dict[str, list[tuple[float, int]]] = {label: [] for label in commands}
    with prepare(files) as folder:
        workdir = Path(folder)
        for round_number in range(1, repeat + 1):
            progress(f"{files:,} files: round {round_number} of {repeat}")
            for label, (command, code) in commands.items():
                figures[label].append(run(command, workdir, code))
    return figures


def spread(values: Sequence[float], digits: int) -> str:
    middle = statistics.median(values)
    if len(values) == 1:
        return f"{middle:.{digits}f}"
    return f"{middle:.{digits}f} ({min(values):.{digits}f}-{max(values):.{digits}f})"


def report(results: dict[int, dict[str, list[tuple[float, int]]]], repeat: int) -> list[str]:
    lines = [
        "# planner plan of unchanged files: incremental versus full refresh",
        "",
        f"Median of {repeat} runs (min-max); wall seconds and peak RSS in MiB. Python "
        f"{sys.version.split()[0]}, {os.cpu_count()} cores.",
        "",
        "| files | " + " | ".join(f"{label} s" for label in (INCREMENTAL, FULL)) + " | full / "
        "incremental | plan MiB (incr / full) | " + f"{PYTHON_START} s | {PLANNER_START} s |",
        "|---|---|---|---|---|---|---|",
    ]
    verdicts = []
    for files, figures in results.items():
        walls = {label: [wall for wall, _ in runs] for label, runs in figures.items()}
        peaks = {label: [rss / 1024 for _, rss in runs] for label, runs in figures.items()}
        incremental = statistics.median(walls[INCREMENTAL])
        full = statistics.median(walls[FULL])
        lines.append(
            f"| {files:,} | {spread(walls[INCREMENTAL], 2)} | {spread(walls[FULL], 2)} | "
            f"{full / incremental:.1f}x | {statistics.median(peaks[INCREMENTAL]):.0f} / "
            f"{statistics.median(peaks[FULL]):.0f} | {spread(walls[PYTHON_START], 3)} | "
            f"{spread(walls[PLANNER_START], 3)} |"
        )
        goal = GOAL_SECONDS.get(files)
        if goal is not None:
            verdict = "PASS" if incremental < goal else "FAIL"
            verdicts.append(
                f"- {verdict}: incremental plan of {files:,} unchanged files in "
                f"{incremental:.2f} s, start-up included (goal: under {goal:g} s)"
            )
    return [*lines, "", *verdicts]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10000,100000", help="comma-separated file counts")
    parser.add_argument("--repeat", type=int, default=5, help="runs of each command per size")
    parser.add_argument("--out", type=Path, help="also write the Markdown report here")
    args = parser.parse_args(argv)

    sizes = [int(size) for size in args.sizes.split(",")]
    results = {files: measure_size(files, args.repeat) for files in sizes}
    text = "\n".join(report(results, args.repeat)) + "\n"
    print(text, end="")
    if args.out:
        args.out.write_text(text, encoding="utf-8")
    return 1 if "FAIL:" in text else 0


if __name__ == "__main__":
    raise SystemExit(main())
