"""Every benchmark scenario, side by side, in one run: planner against the naive way and Ansible.

Started by ``benchmarks/run`` (which installs what it needs first). Three scenarios, each at
several sizes:

* files: N new small files over 20 folders. planner (``plan`` cold, ``apply`` cold, ``plan``
  warm, i.e. again with nothing to change); the naive way (one open/write/close per file,
  without and with an fsync each); Ansible's ``copy`` module over a ``loop`` on localhost
  (``--check --diff`` cold, for real, ``--check --diff`` warm).
* audit: N audit-log entries. planner (same three runs); the naive way (one open-append/close
  per entry, without and with an fsync each). Ansible has no append-only log resource
  (``lineinfile`` rescans the file per line, ``shell >>`` is the naive way), so it is not run.
* issues: N changes to existing GitHub issues against the local GitHub API server with 100 ms
  latency and GitHub's 1 s pacing between mutating requests. planner (same three runs, as
  aliased GraphQL) and the naive way (PyGithub, one ``get_issue`` and one ``edit`` per issue,
  as ``gh issue edit`` in a loop).

Each run is a child process measured for wall time, CPU time and peak memory (``os.wait4``),
``--repeat`` times round-robin; a separate pass under ``strace -f -c`` counts system calls; the
GitHub server's request log gives HTTP requests by kind. Runs too slow to repeat at every size
(Ansible, the naive issue loop) run for real up to a cap and are extrapolated linearly beyond
it in the report, where they are marked. Raw figures go to ``benchmarks/results.json``;
``benchmarks/report.py`` turns them into ``results.md`` and the PNG charts.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import signal
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any

import files_audit
import issues
import measure
import report

BENCHMARKS = Path(__file__).resolve().parent
REPOSITORY = BENCHMARKS.parent
VENV_BIN = REPOSITORY / ".venv" / "bin"
PLANNER = VENV_BIN / "planner"
ANSIBLE_PLAYBOOK = VENV_BIN / "ansible-playbook"
RESULTS_JSON = BENCHMARKS / "results.json"

DEFAULT_SIZES = (100, 1_000, 10_000, 100_000)
DEFAULT_ISSUE_SIZES = (10, 100, 1_000)
QUICK_SIZES = (100, 1_000)
QUICK_ISSUE_SIZES = (10,)

ANSIBLE_CALIBRATION_SIZE = 10
DEFAULT_ANSIBLE_MAX = 100
QUICK_ANSIBLE_MAX = 30
NAIVE_ISSUES_CALIBRATION_SIZE = 10
DEFAULT_NAIVE_ISSUES_MAX = 100
ISSUE_LATENCY_SECONDS = 0.1
BIG_SIZE = 100_000

PLAN_COLD = "plan (cold)"
APPLY_COLD = "apply (cold)"
PLAN_WARM = "plan (warm)"


def progress(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# --- what was measured ---------------------------------------------------------------------


@dataclass
class Cell:
    """All figures of one run kind (e.g. ``planner apply (cold)``) at one size."""

    scenario: str
    run: str
    size: int
    samples: list[measure.Measurement] = field(default_factory=list)
    syscalls: dict[str, int] | None = None
    requests: dict[str, int] | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "scenario": self.scenario,
            "run": self.run,
            "size": self.size,
            "samples": [sample.as_json() for sample in self.samples],
            "syscalls": self.syscalls,
            "requests": self.requests,
        }


@dataclass
class Results:
    cells: dict[tuple[str, str, int], Cell] = field(default_factory=dict)

    def cell(self, scenario: str, run: str, size: int) -> Cell:
        key = (scenario, run, size)
        if key not in self.cells:
            self.cells[key] = Cell(scenario, run, size)
        return self.cells[key]


# --- local peers: planner, the naive way and Ansible on files and audit entries -----------


@dataclass(frozen=True)
class Workload:
    """What a local scenario asks for at one size."""

    files: int
    entries: int


@dataclass(frozen=True)
class Step:
    """One measured command of a peer, run in the peer's working folder after the ones before."""

    run: str
    command: Callable[[Path], list[str | Path]]
    exit_codes: tuple[int, ...] = (0,)
    leaves_declared_state: bool = False


@dataclass(frozen=True)
class LocalPeer:
    name: str
    prepare: Callable[[Path, Workload], None]
    steps: tuple[Step, ...]
    real_size_cap: int | None = None
    """Sizes above it are not run but extrapolated; None runs every size."""

    def runs(self) -> list[str]:
        return [step.run for step in self.steps]


def planner_command(*arguments: str) -> Callable[[Path], list[str | Path]]:
    def command(workdir: Path) -> list[str | Path]:
        return [PLANNER, "--quiet", *arguments]

    return command


def prepare_planner(workdir: Path, workload: Workload) -> None:
    files_audit.write_planner_config(workdir, workload.files, workload.entries)


def naive_command(workload_mode: str) -> Callable[[Path], list[str | Path]]:
    def command(workdir: Path) -> list[str | Path]:
        files, entries = json.loads((workdir / "workload.json").read_text(encoding="utf-8"))
        child: list[str | Path] = [sys.executable, BENCHMARKS / "files_audit.py"]
        child.append(files_audit.NAIVE_CHILD)
        return [*child, workdir / files_audit.TREE, str(files), str(entries), workload_mode]

    return command


def prepare_naive(workdir: Path, workload: Workload) -> None:
    workload_json = json.dumps([workload.files, workload.entries])
    (workdir / "workload.json").write_text(workload_json, encoding="utf-8")


ANSIBLE_PLAYBOOK_TEXT = """\
# Generated by benchmarks/suite.py: what a user would write to manage many small files.
- name: Files of the benchmark
  hosts: localhost
  gather_facts: false
  vars_files:
    - files.json
  tasks:
    - name: Folders exist
      ansible.builtin.file:
        path: "{{ root }}/{{ item }}"
        state: directory
        mode: "0755"
      loop: "{{ folders }}"

    - name: Files hold their content
      ansible.builtin.copy:
        dest: "{{ root }}/{{ item.path }}"
        content: "{{ item.content }}"
        mode: "0644"
      loop: "{{ files }}"
      loop_control:
        label: "{{ item.path }}"
"""


def prepare_ansible(workdir: Path, workload: Workload) -> None:
    paths = [files_audit.file_path(index) for index in range(workload.files)]
    variables = {
        "root": str(workdir / files_audit.TREE),
        "folders": sorted({os.path.dirname(path) for path in paths}),
        "files": [
            {"path": path, "content": files_audit.file_content(index)}
            for index, path in enumerate(paths)
        ],
    }
    (workdir / "files.json").write_text(json.dumps(variables), encoding="utf-8")
    (workdir / "site.yml").write_text(ANSIBLE_PLAYBOOK_TEXT, encoding="utf-8")


def ansible_command(*arguments: str) -> Callable[[Path], list[str | Path]]:
    def command(workdir: Path) -> list[str | Path]:
        inventory = ["-i", "localhost,", "-c", "local"]
        interpreter = ["-e", f"ansible_python_interpreter={sys.executable}"]
        return [ANSIBLE_PLAYBOOK, *inventory, *interpreter, "site.yml", *arguments]

    return command


def planner_peer() -> LocalPeer:
    return LocalPeer(
        name="planner",
        prepare=prepare_planner,
        steps=(
            Step(f"planner {PLAN_COLD}", planner_command("plan")),
            Step(
                f"planner {APPLY_COLD}",
                planner_command("apply", "--auto-approve"),
                leaves_declared_state=True,
            ),
            Step(f"planner {PLAN_WARM}", planner_command("plan", "--detailed-exitcode")),
        ),
    )


def naive_peers(unit: str) -> list[LocalPeer]:
    return [
        LocalPeer(
            name="naive",
            prepare=prepare_naive,
            steps=(
                Step(
                    f"naive: one write per {unit}",
                    naive_command("no-sync"),
                    leaves_declared_state=True,
                ),
            ),
        ),
        LocalPeer(
            name="naive, fsync each",
            prepare=prepare_naive,
            steps=(
                Step(
                    f"naive: one write + fsync per {unit}",
                    naive_command("fsync-each"),
                    leaves_declared_state=True,
                ),
            ),
        ),
    ]


def ansible_peer(real_size_cap: int) -> LocalPeer:
    return LocalPeer(
        name="ansible",
        prepare=prepare_ansible,
        steps=(
            Step("ansible --check --diff (cold)", ansible_command("--check", "--diff")),
            Step("ansible apply (cold)", ansible_command(), leaves_declared_state=True),
            Step("ansible --check --diff (warm)", ansible_command("--check", "--diff")),
        ),
        real_size_cap=real_size_cap,
    )


def ansible_environment() -> dict[str, str]:
    environment = dict(os.environ)
    environment.update(ANSIBLE_NOCOLOR="1", ANSIBLE_RETRY_FILES_ENABLED="0")
    return environment


@dataclass(frozen=True)
class LocalScenario:
    name: str
    workload: Callable[[int], Workload]
    peers: tuple[LocalPeer, ...]


def check_declared_state(workdir: Path, workload: Workload) -> None:
    files_audit.check_result_tree(workdir, workload.files, workload.entries)


def run_local_peer_once(
    peer: LocalPeer,
    scenario: LocalScenario,
    size: int,
    scratch: Path,
    results: Results,
    traced: bool,
) -> None:
    """The peer's steps in one fresh folder; timed, or counted under strace when ``traced``."""
    workload = scenario.workload(size)
    workdir = Path(tempfile.mkdtemp(prefix=peer.name.split(",")[0] + "-", dir=scratch))
    peer.prepare(workdir, workload)
    environment = ansible_environment() if peer.name == "ansible" else None

    for step in peer.steps:
        command = step.command(workdir)
        cell = results.cell(scenario.name, step.run, size)
        if traced:
            cell.syscalls = measure.count_syscalls(command, workdir, environment, step.exit_codes)
        else:
            cell.samples.append(
                measure.run_measured(command, workdir, environment, step.exit_codes)
            )

        if step.leaves_declared_state:
            check_declared_state(workdir, workload)


def real_sizes(sizes: Sequence[int], cap: int | None, calibration: int) -> list[int]:
    """Sizes a capped peer really runs at: those up to its cap and, when larger sizes must be
    extrapolated, two points to draw the line through (the calibration size and the cap)."""
    if cap is None:
        return list(sizes)

    chosen = {size for size in sizes if size <= cap}
    if any(size > cap for size in sizes):
        chosen |= {calibration, cap}
    return sorted(chosen)


def repeats_for(size: int, is_capped_peer_at_cap: bool, options: argparse.Namespace) -> int:
    """Runs of one peer at one size: fewer for the biggest size and for the slow peers' top
    size, which take minutes each."""
    if size >= BIG_SIZE or is_capped_peer_at_cap:
        return min(int(options.repeat), int(options.slow_repeat))
    return int(options.repeat)


def run_local_scenario(
    scenario: LocalScenario, sizes: Sequence[int], options: argparse.Namespace, results: Results
) -> None:
    plan: dict[int, list[LocalPeer]] = {}
    for peer in scenario.peers:
        for size in real_sizes(sizes, peer.real_size_cap, ANSIBLE_CALIBRATION_SIZE):
            plan.setdefault(size, []).append(peer)

    for size in sorted(plan):
        peers = plan[size]
        with scratch_folder(f"{scenario.name}-{size}", options.scratch_root) as scratch:
            most = max(repeats_for(size, peer.real_size_cap == size, options) for peer in peers)
            for attempt in range(1, most + 1):
                for peer in take_turns(peers, attempt):
                    if attempt > repeats_for(size, peer.real_size_cap == size, options):
                        continue
                    progress(f"{scenario.name} {size:,}: {peer.name}, run {attempt}/{most}")
                    run_local_peer_once(peer, scenario, size, scratch, results, traced=False)

            if options.strace:
                for peer in peers:
                    progress(f"{scenario.name} {size:,}: {peer.name} under strace")
                    run_local_peer_once(peer, scenario, size, scratch, results, traced=True)

        save_results(results, options)


def take_turns(peers: Sequence[LocalPeer], attempt: int) -> list[LocalPeer]:
    """The peers in the order of this attempt: each attempt starts with the next peer, so that
    no peer always runs first, right after the previous size's runs."""
    start = (attempt - 1) % len(peers)
    return [*peers[start:], *peers[:start]]


@contextmanager
def scratch_folder(name: str, scratch_root: Path) -> Iterator[Path]:
    """A folder for one size's runs, inside the run's scratch root, which is removed only when
    the whole run is over.

    On a file system such as this machine's (ext4 without a journal), creating files soon after
    tens of thousands were deleted costs several times more: the kernel's inode allocator skips
    inodes freed in the last seconds, and checks each. Deleting one size's folders before the
    next size runs made whichever peer ran first pay for it (measured: 100,000 files written in
    3.9 s into a quiet file system, 6.6 s right after 100,000 were deleted), so nothing is
    deleted while runs are being timed.
    """
    folder = Path(tempfile.mkdtemp(prefix=f"{name}-", dir=scratch_root))
    yield folder
    os.sync()


# --- GitHub issues: planner against PyGithub on the local GitHub API server ----------------


def request_counts(server: issues.FakeGitHubProcess) -> dict[str, int]:
    log = server.control("GET", "log")
    figures = issues.figures_from_log(log, 0, 0.0)
    return {
        **figures.requests,
        "mutations": figures.changes_sent,
        "primary_points": figures.primary_points,
    }


def run_planner_issues_once(
    size: int, scratch: Path, results: Results, environment_extra: dict[str, str]
) -> None:
    workdir = Path(tempfile.mkdtemp(prefix="planner-", dir=scratch))
    issues.write_planner_config(workdir, size)
    steps = (
        (f"planner {PLAN_COLD}", ["plan"], (0,)),
        (f"planner {APPLY_COLD}", ["apply", "--auto-approve"], (0,)),
        (f"planner {PLAN_WARM}", ["plan", "--detailed-exitcode"], (0,)),
    )

    with issues.fake_github(size, ISSUE_LATENCY_SECONDS) as server:
        environment = {**issues.child_environment(server), **environment_extra}
        for run, arguments, exit_codes in steps:
            server.control("POST", "reset-log")
            command: list[str | Path] = [PLANNER, "--quiet", *arguments]
            sample = measure.run_measured(command, workdir, environment, exit_codes)
            cell = results.cell("issues", run, size)
            cell.samples.append(sample)
            cell.requests = request_counts(server)
            if run.endswith(APPLY_COLD):
                issues.check_issues(server, size)


NAIVE_ISSUES_RUN = "naive: PyGithub get_issue + edit per issue"


def run_naive_issues_once(size: int, scratch: Path, results: Results) -> None:
    with issues.fake_github(size, ISSUE_LATENCY_SECONDS) as server:
        server.control("POST", "reset-log")
        child: list[str | Path] = [sys.executable, BENCHMARKS / "issues.py", issues.NAIVE_CHILD]
        command = [*child, server.url, server.token, str(size), issues.NAIVE_DEFAULT_PACING]
        sample = measure.run_measured(command, scratch, issues.child_environment(server))
        cell = results.cell("issues", NAIVE_ISSUES_RUN, size)
        cell.samples.append(sample)
        cell.requests = request_counts(server)
        issues.check_issues(server, size)


def run_issue_scenario(sizes: Sequence[int], options: argparse.Namespace, results: Results) -> None:
    naive_sizes = real_sizes(sizes, options.naive_issues_max, NAIVE_ISSUES_CALIBRATION_SIZE)
    pacing = {"PLANNER_GITHUB_WRITE_INTERVAL": str(issues.WRITE_INTERVAL_SECONDS)}

    for size in sorted(set(sizes) | set(naive_sizes)):
        with scratch_folder(f"issues-{size}", options.scratch_root) as scratch:
            naive_repeats = repeats_for(size, size == options.naive_issues_max, options)
            planner_repeats = repeats_for(size, False, options) if size in sizes else 0
            most = max(planner_repeats, naive_repeats if size in naive_sizes else 0)
            for attempt in range(1, most + 1):
                if attempt <= planner_repeats:
                    progress(f"issues {size:,}: planner, run {attempt}/{most}")
                    run_planner_issues_once(size, scratch, results, pacing)
                if size in naive_sizes and attempt <= naive_repeats:
                    progress(f"issues {size:,}: naive PyGithub, run {attempt}/{most}")
                    run_naive_issues_once(size, scratch, results)

        save_results(results, options)


# --- the run -------------------------------------------------------------------------------


def local_scenarios(options: argparse.Namespace) -> list[LocalScenario]:
    return [
        LocalScenario(
            name="files",
            workload=lambda size: Workload(files=size, entries=0),
            peers=(
                planner_peer(),
                *naive_peers("file"),
                *([] if options.no_ansible else [ansible_peer(options.ansible_max)]),
            ),
        ),
        LocalScenario(
            name="audit",
            workload=lambda size: Workload(files=0, entries=size),
            peers=(planner_peer(), *naive_peers("entry")),
        ),
    ]


def machine_description(options: argparse.Namespace) -> dict[str, Any]:
    return {
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "kernel": platform.release(),
        "repeat": options.repeat,
        "slow_repeat": options.slow_repeat,
        "sizes": options.sizes,
        "issue_sizes": options.issue_sizes,
        "ansible_max": None if options.no_ansible else options.ansible_max,
        "ansible_calibration": ANSIBLE_CALIBRATION_SIZE,
        "naive_issues_max": options.naive_issues_max,
        "naive_issues_calibration": NAIVE_ISSUES_CALIBRATION_SIZE,
        "latency_seconds": ISSUE_LATENCY_SECONDS,
        "write_interval_seconds": issues.WRITE_INTERVAL_SECONDS,
        "strace": bool(options.strace),
        "quick": bool(options.quick),
        "started": options.started,
    }


def save_results(results: Results, options: argparse.Namespace) -> None:
    """Written after every size, so an interrupted run still leaves what it measured."""
    document = {
        "machine": machine_description(options),
        "elapsed_seconds": round(time.time() - options.started),
        "cells": [cell.as_json() for cell in results.cells.values()],
    }
    options.json_out.write_text(json.dumps(document, indent=1) + "\n", encoding="utf-8")


def size_list(text: str) -> list[int]:
    sizes = sorted({int(part.replace("_", "").replace(",", "")) for part in text.split(",")})
    if not sizes or sizes[0] < 1:
        raise argparse.ArgumentTypeError("sizes must be positive integers, e.g. 100,1000")
    return sizes


def parse_arguments(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="benchmarks/run",
        description="planner against the naive way and Ansible: files, audit entries, issues.",
    )
    parser.add_argument("--quick", action="store_true", help="small sizes, 1 run: a smoke test")
    parser.add_argument("--repeat", type=int, help="timed runs of each peer per size (3)")
    parser.add_argument(
        "--slow-repeat",
        type=int,
        help=f"runs at {BIG_SIZE:,} and at the top real size of Ansible and naive issues "
        "(as many as --repeat)",
    )
    parser.add_argument("--sizes", type=size_list, help="files and audit entries (100,...)")
    parser.add_argument("--issue-sizes", type=size_list, help="issue changes (10,100,1000)")
    parser.add_argument("--max-size", type=int, help="leave out every larger size")
    parser.add_argument(
        "--ansible-max", type=int, help="Ansible's largest real size; larger are extrapolated"
    )
    parser.add_argument(
        "--naive-issues-max",
        type=int,
        default=DEFAULT_NAIVE_ISSUES_MAX,
        help="the naive issue loop's largest real size; larger are extrapolated (100)",
    )
    parser.add_argument("--no-ansible", action="store_true", help="leave Ansible out")
    parser.add_argument("--no-strace", action="store_true", help="do not count system calls")
    parser.add_argument(
        "--scenarios", default="files,audit,issues", help="which to run (files,audit,issues)"
    )
    parser.add_argument(
        "--report-only", action="store_true", help="redraw results.md and charts from JSON"
    )
    parser.add_argument("--json-out", type=Path, default=RESULTS_JSON, help=argparse.SUPPRESS)
    parser.add_argument("--out-dir", type=Path, default=BENCHMARKS, help=argparse.SUPPRESS)
    options = parser.parse_args(argv)

    options.repeat = options.repeat or (1 if options.quick else 3)
    options.slow_repeat = options.slow_repeat or options.repeat
    options.sizes = options.sizes or list(QUICK_SIZES if options.quick else DEFAULT_SIZES)
    options.issue_sizes = options.issue_sizes or list(
        QUICK_ISSUE_SIZES if options.quick else DEFAULT_ISSUE_SIZES
    )
    if options.max_size is not None:
        options.sizes = [size for size in options.sizes if size <= options.max_size]
        options.issue_sizes = [size for size in options.issue_sizes if size <= options.max_size]
    if options.ansible_max is None:
        options.ansible_max = QUICK_ANSIBLE_MAX if options.quick else DEFAULT_ANSIBLE_MAX
    if options.repeat < 1 or options.slow_repeat < 1:
        parser.error("--repeat and --slow-repeat must be at least 1")
    options.strace = not options.no_strace and measure.STRACE is not None
    options.scenarios = [name.strip() for name in options.scenarios.split(",") if name.strip()]
    options.started = time.time()
    return options


def stop_on_sigterm(signal_number: int, frame: FrameType | None) -> None:
    """Turn SIGTERM into an exception, so that servers and folders are cleaned up."""
    raise KeyboardInterrupt


def main(argv: Sequence[str]) -> int:
    options = parse_arguments(argv)
    if options.report_only:
        report.write_report(options.json_out, options.out_dir)
        return 0

    if not PLANNER.exists():
        raise SystemExit(f"{PLANNER} is missing; benchmarks/run installs it")
    if not options.strace:
        progress("strace is missing or --no-strace was given: system calls are not measured")
    signal.signal(signal.SIGTERM, stop_on_sigterm)

    results = Results()
    options.scratch_root = Path(tempfile.mkdtemp(prefix="planner-bench-"))
    try:
        for scenario in local_scenarios(options):
            if scenario.name in options.scenarios and options.sizes:
                run_local_scenario(scenario, options.sizes, options, results)
        if "issues" in options.scenarios and options.issue_sizes:
            run_issue_scenario(options.issue_sizes, options, results)
    except KeyboardInterrupt:
        progress("Interrupted; what was measured so far is in the JSON file.")
        save_results(results, options)
        return 130
    finally:
        progress(f"Removing the scratch folders in {options.scratch_root}")
        shutil.rmtree(options.scratch_root, ignore_errors=True)

    save_results(results, options)
    report.write_report(options.json_out, options.out_dir)
    progress(f"Done in {(time.time() - options.started) / 60:.1f} min: {options.out_dir}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
