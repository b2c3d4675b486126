"""Benchmark: planner versus the naive way for many small files and audit-log entries.

What it measures, side by side:

* Applying N new small text files (spread over 20 folders) and M audit-log entries into a
  fresh temporary folder, three ways:

  - planner: a generated ``planner.toml`` (``[[file]]`` with ``content``, ``[[audit.entry]]``,
    ``[audit] path = "audit/current.log"``, ``[project] root = "tree"``) and
    ``planner apply --auto-approve`` in a subprocess;
  - naive (no sync): a Python subprocess doing what a shell workflow did, one
    open/write/close per file and one open-append/write/close per audit entry;
  - naive (fsync each): the same, with an fsync after every file and every entry.

  For each: wall time and peak memory (max RSS of the child, from ``os.wait4``), as medians of
  ``--repeat`` runs with their min-max spread; then, in a separate pass because tracing slows
  everything down, system-call counts from ``strace -f -c``. planner's Python start-up opens
  many files (imports), so planner is also run once through a small wrapper that observes
  ``planner.effects.effects`` (the package's single I/O seam) and reports its step counts.

* ``planner plan`` of the N+M unchanged resources after each apply (wall time, peak memory)
  and, with ``--large``, of 100,000 unchanged files (goal: under 20 s and under 1 GiB).

* Goals, printed as PASS/FAIL lines: the audit entries of an apply cost one write and one
  sync; the syncs of the file batches grow with folders touched, not with files; ``planner
  plan`` of the unchanged resources takes under 2 s.

Run it from the repository root (it needs Linux; strace is optional):

    .venv/bin/python benchmarks/files_audit.py [--files N] [--entries M] [--repeat R]
        [--large] [--out RESULTS.md]

Defaults: 10,000 files, 10,000 entries, 3 repeats; a few minutes on a 2-core machine. The
result is a Markdown report on stdout (and in ``--out``); progress goes to stderr.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import posixpath
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import measure
from measure import parse_strace_summary

REPOSITORY = Path(__file__).resolve().parent.parent
PLANNER_COMMAND = REPOSITORY / ".venv" / "bin" / "planner"
STRACE = Path("/usr/bin/strace")

FOLDERS = 20
AUDIT_LOG = "audit/current.log"
TREE = "tree"
LARGE_FILES = 100_000
EXTRA_ENTRIES = 100

PLAN_GOAL_SECONDS = 2.0
LARGE_PLAN_GOAL_SECONDS = 20.0
LARGE_PLAN_GOAL_KIB = 1024 * 1024

NAIVE_CHILD = "_naive-child"
SEAM_CHILD = "_seam-child"

TRACED_SYSCALLS = (
    "write,fsync,fdatasync,syncfs,openat,open,rename,renameat,renameat2,"
    "unlink,unlinkat,mkdir,mkdirat"
)
SYSCALL_GROUPS: dict[str, tuple[str, ...]] = {
    "write": ("write",),
    "fsync / fdatasync / syncfs": ("fsync", "fdatasync", "syncfs"),
    "open / openat": ("open", "openat"),
    "rename / renameat(2)": ("rename", "renameat", "renameat2"),
    "unlink / unlinkat": ("unlink", "unlinkat"),
    "mkdir / mkdirat": ("mkdir", "mkdirat"),
}

SEAM_ORIGINS: dict[str, str] = {
    "planner.kinds.files": "file batches",
    "planner.kinds.audit": "audit batch",
    "planner.apply.checkpoint": "checkpoint",
    "planner.state": "state",
}
SEAM_STEPS: dict[str, str] = {
    "create_file": "write (new file)",
    "append": "write (append)",
    "fsync_file": "sync (fsync of a file)",
    "fsync_dir": "sync (fsync of a folder)",
    "sync_filesystem": "sync (syncfs)",
    "rename": "rename",
    "unlink": "unlink",
    "mkdir": "mkdir",
}


def file_path(index: int) -> str:
    return f"folder{index % FOLDERS:02d}/file{index:06d}.txt"


def file_content(index: int) -> str:
    return f"# File {index}\n\nWritten by the files_audit benchmark; line {index}.\n"


def entry_id(index: int) -> str:
    return f"entry-{index:06d}"


def entry_message(index: int) -> str:
    return f"benchmark entry {index}"


def naive_audit_line(index: int) -> str:
    stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    return f"{stamp} {entry_id(index)} BENCH record {entry_message(index)}\n"


def toml_string(text: str) -> str:
    """A TOML basic string; JSON's escaping of ASCII text is valid TOML."""
    return json.dumps(text, ensure_ascii=True)


def write_planner_config(workdir: Path, files: int, entries: int) -> None:
    parts = [f"[project]\nroot = {toml_string(TREE)}\n"]
    for index in range(files):
        parts.append(
            f"[[file]]\npath = {toml_string(file_path(index))}\n"
            f"content = {toml_string(file_content(index))}\n"
        )
    parts.append(f"[audit]\npath = {toml_string(AUDIT_LOG)}\n")
    for index in range(entries):
        parts.append(
            f"[[audit.entry]]\nid = {toml_string(entry_id(index))}\ncategory = "
            f'"BENCH"\naction = "record"\nmessage = {toml_string(entry_message(index))}\n'
        )
    (workdir / "planner.toml").write_text("\n".join(parts), encoding="utf-8")


def check_result_tree(workdir: Path, files: int, entries: int) -> None:
    """Fail loudly when a run did not leave the declared files and log lines behind."""
    root = workdir / TREE
    for index in {0, files - 1} if files else set():
        written = (root / file_path(index)).read_text(encoding="utf-8")
        if written != file_content(index):
            raise RuntimeError(f"{file_path(index)} holds the wrong content after the run")
    log = root / AUDIT_LOG
    lines = len(log.read_bytes().splitlines()) if log.exists() else 0
    if lines != entries:
        raise RuntimeError(f"the audit log holds {lines} lines after the run, not {entries}")


# --- children: the naive workflow and planner seen through its I/O seam -----------------


def run_naive_workflow(root: Path, files: int, entries: int, fsync_each: bool) -> None:
    """What the shell workflow did: mkdir -p, then one open/write/close per file and entry."""
    folders = {posixpath.dirname(file_path(index)) for index in range(files)}
    folders.add(posixpath.dirname(AUDIT_LOG))
    for folder in sorted(folders):
        os.makedirs(root / folder, exist_ok=True)

    for index in range(files):
        with open(root / file_path(index), "w", encoding="utf-8") as handle:
            handle.write(file_content(index))
            if fsync_each:
                handle.flush()
                os.fsync(handle.fileno())

    log = root / AUDIT_LOG
    for index in range(entries):
        with open(log, "a", encoding="utf-8") as handle:
            handle.write(naive_audit_line(index))
            if fsync_each:
                handle.flush()
                os.fsync(handle.fileno())


def seam_origin(frame_of_step_method: object) -> str:
    """The part of planner that asked for a step: the nearest caller outside the I/O layers."""
    caller = getattr(frame_of_step_method, "f_back", None)
    while caller is not None:
        module = str(caller.f_globals.get("__name__", ""))
        if module not in ("planner.effects", "planner.tree"):
            return SEAM_ORIGINS.get(module, module)
        caller = caller.f_back
    return "unknown"


def run_planner_with_seam_counts(counts_path: Path, planner_args: list[str]) -> int:
    """Run planner's CLI in this process, observing every step that passes its I/O seam."""
    from planner.cli import main as planner_main
    from planner.effects import effects
    from planner.kinds.files import BATCH_SIZE

    steps: Counter[str] = Counter()

    def record_step(kind: str, target: str) -> None:
        # Frames: this observer, Effects.step, then the Effects method (create_file, ...).
        method_frame = sys._getframe(2)
        origin = seam_origin(method_frame)
        steps[f"{origin}\t{kind}\t{method_frame.f_code.co_name}"] += 1

    effects.observe(record_step)
    try:
        exit_code = planner_main(planner_args)
    finally:
        report = {
            "counts": dict(effects.counts),
            "steps": dict(steps),
            "file_batch_size": BATCH_SIZE,
        }
        counts_path.write_text(json.dumps(report), encoding="utf-8")
    return exit_code


# --- running and measuring subprocesses --------------------------------------------------


@dataclass(frozen=True)
class ProcessRun:
    wall_seconds: float
    max_rss_kib: int


def run_measured(command: Sequence[str | Path], cwd: Path) -> ProcessRun:
    """Run a command to completion; its wall time and its own peak RSS (see ``measure``)."""
    figures = measure.run_measured(command, cwd)
    return ProcessRun(wall_seconds=figures.wall_seconds, max_rss_kib=figures.peak_rss_kib)


def count_syscalls(command: Sequence[str | Path], cwd: Path) -> dict[str, int]:
    summary = cwd / "strace-summary.txt"
    traced = [STRACE, "-f", "-c", "-o", summary, "-e", f"trace={TRACED_SYSCALLS}", *command]
    run_measured(traced, cwd)
    calls = parse_strace_summary(summary.read_text(encoding="utf-8"))
    summary.unlink()
    return {
        group: sum(calls.get(name, 0) for name in names) for group, names in SYSCALL_GROUPS.items()
    }


# --- the three ways to apply ----------------------------------------------------------------


@dataclass(frozen=True)
class Workflow:
    """One way of getting N files and M log entries written, as a subprocess command."""

    name: str
    command: Callable[[Path, int, int], list[str | Path]]
    uses_planner: bool = False


def planner_apply_command(workdir: Path, files: int, entries: int) -> list[str | Path]:
    return [PLANNER_COMMAND, "--quiet", "apply", "--auto-approve"]


def naive_command(fsync_each: bool) -> Callable[[Path, int, int], list[str | Path]]:
    def command(workdir: Path, files: int, entries: int) -> list[str | Path]:
        mode = "fsync-each" if fsync_each else "no-sync"
        script = Path(__file__).resolve()
        return [
            sys.executable,
            script,
            NAIVE_CHILD,
            workdir / TREE,
            str(files),
            str(entries),
            mode,
        ]

    return command


WORKFLOWS = (
    Workflow("planner", planner_apply_command, uses_planner=True),
    Workflow("naive (no sync)", naive_command(fsync_each=False)),
    Workflow("naive (fsync each)", naive_command(fsync_each=True)),
)


def progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


class ScratchSpace:
    """Fresh working folders inside one temporary folder that is removed only at the end.

    Removing tens of thousands of files (with online discard) slows the file system for
    seconds afterwards, so no run's folder is deleted while other runs are still timed.
    """

    def __init__(self) -> None:
        self._folder = tempfile.TemporaryDirectory(prefix="planner-bench-")
        self.path = Path(self._folder.name)

    def __enter__(self) -> ScratchSpace:
        return self

    def __exit__(self, *exc: object) -> None:
        progress("Removing the temporary folders")
        self._folder.cleanup()

    def fresh_workdir(self, workflow: Workflow, files: int, entries: int) -> Path:
        workdir = Path(tempfile.mkdtemp(prefix=workflow.name.split()[0] + "-", dir=self.path))
        if workflow.uses_planner:
            write_planner_config(workdir, files, entries)
        return workdir


@dataclass
class ApplyFigures:
    """Everything measured for one workflow."""

    applies: list[ProcessRun] = field(default_factory=list)
    plans: list[ProcessRun] = field(default_factory=list)
    syscalls: dict[str, int] | None = None


def time_workflows(
    scratch: ScratchSpace, files: int, entries: int, repeat: int
) -> dict[str, ApplyFigures]:
    """Timing pass: each workflow applies into a fresh folder, round-robin, ``repeat`` times;
    after planner's apply, ``planner plan`` of the unchanged resources is timed too."""
    figures = {workflow.name: ApplyFigures() for workflow in WORKFLOWS}
    for attempt in range(1, repeat + 1):
        for workflow in WORKFLOWS:
            progress(f"  {workflow.name}: apply {attempt}/{repeat}")
            workdir = scratch.fresh_workdir(workflow, files, entries)
            command = workflow.command(workdir, files, entries)
            figures[workflow.name].applies.append(run_measured(command, workdir))
            check_result_tree(workdir, files, entries)

            if workflow.uses_planner:
                progress(f"  {workflow.name}: plan of the unchanged resources {attempt}/{repeat}")
                plan: list[str | Path] = [PLANNER_COMMAND, "--quiet", "plan", "--detailed-exitcode"]
                figures[workflow.name].plans.append(run_measured(plan, workdir))
    return figures


def trace_workflow(
    scratch: ScratchSpace, workflow: Workflow, files: int, entries: int
) -> dict[str, int]:
    """strace pass: one apply into a fresh folder under ``strace -f -c``."""
    progress(f"  {workflow.name}: apply under strace")
    workdir = scratch.fresh_workdir(workflow, files, entries)
    syscalls = count_syscalls(workflow.command(workdir, files, entries), workdir)
    check_result_tree(workdir, files, entries)
    return syscalls


def apply_with_seam_counts(workdir: Path) -> dict[str, object]:
    """One planner apply through the observing wrapper; the JSON report it leaves."""
    counts_path = workdir / "seam-counts.json"
    script = Path(__file__).resolve()
    wrapper: list[str | Path] = [
        sys.executable,
        script,
        SEAM_CHILD,
        counts_path,
        "--quiet",
        "apply",
        "--auto-approve",
    ]
    run_measured(wrapper, workdir)
    report: dict[str, object] = json.loads(counts_path.read_text(encoding="utf-8"))
    counts_path.unlink()
    return report


def count_planner_seam_steps(
    scratch: ScratchSpace, files: int, entries: int
) -> tuple[dict[str, object], dict[str, object]]:
    """Seam pass: the apply into a fresh folder, then one adding entries to the existing log."""
    workdir = scratch.fresh_workdir(WORKFLOWS[0], files, entries)
    progress("  planner: apply through the seam-counting wrapper")
    fresh = apply_with_seam_counts(workdir)
    check_result_tree(workdir, files, entries)

    progress(f"  planner: apply of {EXTRA_ENTRIES} more entries to the existing log")
    write_planner_config(workdir, files, entries + EXTRA_ENTRIES)
    appended = apply_with_seam_counts(workdir)
    check_result_tree(workdir, files, entries + EXTRA_ENTRIES)
    return fresh, appended


def measure_large_plan(scratch: ScratchSpace, entries: int) -> tuple[ProcessRun, ProcessRun]:
    """Apply, then plan, 100,000 files (and the M entries); both runs' figures."""
    workdir = scratch.fresh_workdir(WORKFLOWS[0], LARGE_FILES, entries)
    progress(f"  planner: apply of {LARGE_FILES:,} files (--large)")
    apply = run_measured(planner_apply_command(workdir, LARGE_FILES, entries), workdir)
    check_result_tree(workdir, LARGE_FILES, entries)
    progress(f"  planner: plan of {LARGE_FILES:,} unchanged files (--large)")
    plan = run_measured([PLANNER_COMMAND, "--quiet", "plan", "--detailed-exitcode"], workdir)
    return apply, plan


# --- the report ------------------------------------------------------------------------------


def median_with_spread(values: Sequence[float], digits: int) -> str:
    middle = statistics.median(values)
    if len(values) == 1:
        return f"{middle:.{digits}f}"
    return f"{middle:.{digits}f} ({min(values):.{digits}f}-{max(values):.{digits}f})"


def ratio(numerator: float, denominator: float) -> str:
    return f"{numerator / denominator:.2f}x" if denominator else "n/a"


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines.extend("| " + " | ".join(row) + " |" for row in rows)
    return lines


def wall_times(runs: Sequence[ProcessRun]) -> list[float]:
    return [run.wall_seconds for run in runs]


def peak_mib(runs: Sequence[ProcessRun]) -> list[float]:
    return [run.max_rss_kib / 1024 for run in runs]


def apply_section(figures: dict[str, ApplyFigures], files: int, entries: int) -> list[str]:
    planner = figures["planner"]
    planner_wall = statistics.median(wall_times(planner.applies))
    planner_rss = statistics.median(peak_mib(planner.applies))
    header = ["", *figures, *(f"{name} / planner" for name in list(figures)[1:])]
    wall_row = ["wall time (s)"]
    rss_row = ["peak RSS (MiB)"]
    for figure in figures.values():
        wall_row.append(median_with_spread(wall_times(figure.applies), 2))
        rss_row.append(median_with_spread(peak_mib(figure.applies), 1))
    for name, figure in figures.items():
        if name == "planner":
            continue
        wall_row.append(ratio(statistics.median(wall_times(figure.applies)), planner_wall))
        rss_row.append(ratio(statistics.median(peak_mib(figure.applies)), planner_rss))

    lines = [f"## Apply {files:,} new files and {entries:,} audit entries", ""]
    lines.extend(markdown_table(header, [wall_row, rss_row]))
    lines.append("")
    if all(figure.syscalls is not None for figure in figures.values()):
        lines.append("System calls of one apply (`strace -f -c`, separate pass; planner's and")
        lines.append("naive's counts include Python start-up, e.g. opens of imported modules):")
        lines.append("")
        rows = []
        for group in SYSCALL_GROUPS:
            counts = [figure.syscalls[group] for figure in figures.values() if figure.syscalls]
            rows.append([group, *(f"{count:,}" for count in counts)])
        lines.extend(markdown_table(["system call", *figures], rows))
    else:
        lines.append(f"(No system-call counts: {STRACE} is missing or --no-strace was given.)")
    lines.append("")
    return lines


def seam_section(report: dict[str, object]) -> list[str]:
    counts = report["counts"]
    assert isinstance(counts, dict)
    origins = ["file batches", "audit batch", "checkpoint", "state"]
    table: dict[str, Counter[str]] = {}
    for key, count in steps_of(report).items():
        origin, _, method = key.split("\t")
        if origin not in origins:
            origins.append(origin)
        table.setdefault(SEAM_STEPS.get(method, method), Counter())[origin] += count
    rows = [
        [
            step,
            *(f"{table[step][origin]:,}" for origin in origins),
            f"{sum(table[step].values()):,}",
        ]
        for step in SEAM_STEPS.values()
        if step in table
    ]
    lines = ["planner's own steps in the same apply, from its I/O seam (`planner.effects`):", ""]
    lines.extend(markdown_table(["step", *origins, "all"], rows))
    lines.append("")
    lines.append(f"`dict(effects.counts)` at exit: `{json.dumps(counts, sort_keys=True)}`")
    lines.append("")
    return lines


def steps_of(report: dict[str, object]) -> dict[str, int]:
    steps = report["steps"]
    assert isinstance(steps, dict)
    return {str(key): int(value) for key, value in steps.items()}


def seam_steps_of(report: dict[str, object], origin: str) -> Counter[str]:
    """Step counts of one origin, keyed by Effects method name."""
    steps: Counter[str] = Counter()
    for key, count in steps_of(report).items():
        step_origin, _, method = key.split("\t")
        if step_origin == origin:
            steps[method] += count
    return steps


def plan_section(
    plans: Sequence[ProcessRun], resources: int, large: tuple[ProcessRun, ProcessRun] | None
) -> list[str]:
    rows = [
        [
            f"plan of {resources:,} unchanged resources",
            median_with_spread(wall_times(plans), 2),
            median_with_spread(peak_mib(plans), 1),
        ]
    ]
    if large is not None:
        apply, plan = large
        rows.append(
            [
                f"apply of {LARGE_FILES:,} new files (--large)",
                f"{apply.wall_seconds:.2f}",
                f"{apply.max_rss_kib / 1024:.1f}",
            ]
        )
        rows.append(
            [
                f"plan of {LARGE_FILES:,} unchanged files (--large)",
                f"{plan.wall_seconds:.2f}",
                f"{plan.max_rss_kib / 1024:.1f}",
            ]
        )
    lines = ["## planner plan after the apply", ""]
    lines.extend(markdown_table(["run", "wall time (s)", "peak RSS (MiB)"], rows))
    lines.append("")
    return lines


def predicted_file_batch_syncs(files: int, batch_size: int) -> int:
    """Syncs if each batch costs one syncfs, one fsync per folder it touches, and one of the
    root when it creates folders: a count that follows folders, not files."""
    paths = sorted(file_path(index) for index in range(files))
    seen: set[str] = set()
    syncs = 0
    for start in range(0, len(paths), batch_size):
        touched = {posixpath.dirname(path) for path in paths[start : start + batch_size]}
        creates_folders = bool(touched - seen)
        seen |= touched
        syncs += 1 + len(touched) + (1 if creates_folders else 0)
    return syncs


def audit_batch_verdict(report: dict[str, object], log_is_new: bool, entries: int) -> str:
    audit = seam_steps_of(report, "audit batch")
    writes = audit["append"] + audit["create_file"]
    log_syncs = audit["fsync_file"] + audit["sync_filesystem"]
    folder_syncs = audit["fsync_dir"]
    # A new log needs its folder synced, and the folder's parent too when the apply made it.
    allowed_folder_syncs = 1 + audit["mkdir"] if log_is_new else 0
    where = "a new log" if log_is_new else "the existing log"
    return verdict(
        writes == 1 and log_syncs == 1 and folder_syncs <= allowed_folder_syncs,
        f"{entries:,} audit entries to {where} cost one write and one sync: {writes} write(s), "
        f"{log_syncs} fsync(s) of the log, {folder_syncs} fsync(s) of its folder "
        f"(allowed: {allowed_folder_syncs}, for a log and folders the apply creates)",
    )


def verdict(passed: bool, text: str) -> str:
    return f"- {'PASS' if passed else 'FAIL'}  {text}"


def goal_lines(
    seam_reports: tuple[dict[str, object], dict[str, object]],
    plans: Sequence[ProcessRun],
    sizes: tuple[int, int],
    large: tuple[ProcessRun, ProcessRun] | None,
) -> list[str]:
    files, entries = sizes
    fresh, appended = seam_reports
    lines = ["## Goals", ""]
    lines.append(audit_batch_verdict(fresh, log_is_new=True, entries=entries))
    lines.append(audit_batch_verdict(appended, log_is_new=False, entries=EXTRA_ENTRIES))

    batch_size = fresh["file_batch_size"]
    assert isinstance(batch_size, int)
    batches = math.ceil(files / batch_size)
    file_steps = seam_steps_of(fresh, "file batches")
    syncs = file_steps["fsync_file"] + file_steps["fsync_dir"] + file_steps["sync_filesystem"]
    predicted = predicted_file_batch_syncs(files, batch_size)
    lines.append(
        verdict(
            syncs <= predicted,
            f"file-batch syncs follow folders touched, not files: {syncs:,} syncs for "
            f"{files:,} files ({files / max(syncs, 1):.0f} files per sync) in {batches} "
            f"batch(es) over {FOLDERS} folders: {file_steps['sync_filesystem']} syncfs + "
            f"{file_steps['fsync_dir']} folder fsyncs + {file_steps['fsync_file']} file "
            f"fsyncs; allowed: one syncfs per batch + one fsync per folder it touches + the "
            f"root when it creates folders = {predicted:,}",
        )
    )

    resources = files + entries
    plan_median = statistics.median(wall_times(plans))
    lines.append(
        verdict(
            plan_median < PLAN_GOAL_SECONDS,
            f"planner plan of {resources:,} unchanged resources under "
            f"{PLAN_GOAL_SECONDS:.0f} s: median {plan_median:.2f} s",
        )
    )
    if large is not None:
        _, plan = large
        lines.append(
            verdict(
                plan.wall_seconds < LARGE_PLAN_GOAL_SECONDS
                and plan.max_rss_kib < LARGE_PLAN_GOAL_KIB,
                f"planner plan of {LARGE_FILES:,} unchanged files under "
                f"{LARGE_PLAN_GOAL_SECONDS:.0f} s and 1 GiB: {plan.wall_seconds:.2f} s, "
                f"{plan.max_rss_kib / 1024:.0f} MiB",
            )
        )
    lines.append("")
    return lines


def headline(figures: dict[str, ApplyFigures]) -> list[str]:
    planner_wall = statistics.median(wall_times(figures["planner"].applies))
    parts = []
    for name, figure in figures.items():
        if name != "planner":
            naive_wall = statistics.median(wall_times(figure.applies))
            parts.append(f"{name} / planner = **{ratio(naive_wall, planner_wall)}**")
    return ["Headline (apply wall time, median): " + "; ".join(parts) + ".", ""]


# --- the benchmark ---------------------------------------------------------------------------


def parse_arguments(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Benchmark planner apply/plan of files and audit entries against naive I/O."
    )
    parser.add_argument("--files", type=int, default=10_000, help="new files (default 10000)")
    parser.add_argument("--entries", type=int, default=10_000, help="audit entries (default 10000)")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs each (default 3)")
    parser.add_argument(
        "--large", action="store_true", help=f"also plan {LARGE_FILES:,} unchanged files"
    )
    parser.add_argument("--no-strace", action="store_true", help="skip the strace pass")
    parser.add_argument("--out", type=Path, help="also write the Markdown report to this file")
    arguments = parser.parse_args(argv)
    if arguments.files < 1 or arguments.entries < 1 or arguments.repeat < 1:
        parser.error("--files, --entries and --repeat must be at least 1")
    return arguments


def run_benchmark(arguments: argparse.Namespace) -> str:
    files, entries, repeat = arguments.files, arguments.entries, arguments.repeat
    if not PLANNER_COMMAND.exists():
        raise SystemExit(f"{PLANNER_COMMAND} is missing; install the dev virtualenv first")

    with ScratchSpace() as scratch:
        progress(f"Timing pass ({repeat} run(s) each, round-robin):")
        figures = time_workflows(scratch, files, entries, repeat)

        if not arguments.no_strace and STRACE.exists():
            progress("strace pass:")
            for workflow in WORKFLOWS:
                figures[workflow.name].syscalls = trace_workflow(scratch, workflow, files, entries)

        progress("Seam pass:")
        seam_reports = count_planner_seam_steps(scratch, files, entries)

        large = measure_large_plan(scratch, entries) if arguments.large else None

    resources = files + entries
    plans = figures["planner"].plans
    lines = [
        "# planner versus naive I/O: files and audit entries",
        "",
        f"{files:,} files over {FOLDERS} folders, {entries:,} audit entries, "
        f"{repeat} run(s) each; medians with (min-max). Python {sys.version.split()[0]}, "
        f"{os.cpu_count()} CPU(s), temporary folders under {tempfile.gettempdir()}.",
        "",
    ]
    lines.extend(headline(figures))
    lines.extend(apply_section(figures, files, entries))
    lines.extend(seam_section(seam_reports[0]))
    lines.extend(plan_section(plans, resources, large))
    lines.extend(goal_lines(seam_reports, plans, (files, entries), large))
    return "\n".join(lines)


def main(argv: Sequence[str]) -> int:
    if argv and argv[0] == NAIVE_CHILD:
        root, files, entries, mode = argv[1:5]
        run_naive_workflow(Path(root), int(files), int(entries), fsync_each=mode == "fsync-each")
        return 0
    if argv and argv[0] == SEAM_CHILD:
        return run_planner_with_seam_counts(Path(argv[1]), list(argv[2:]))

    arguments = parse_arguments(argv)
    text = run_benchmark(arguments)
    print(text)
    if arguments.out is not None:
        arguments.out.write_text(text + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
