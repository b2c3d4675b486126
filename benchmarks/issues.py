"""Benchmark: planner versus the naive way for many GitHub issue changes.

What it measures, side by side:

* Applying the same N changes (default 200) to existing issues of one repository: every odd
  issue number is closed with ``state_reason = "completed"``, every even one retitled. Each
  run gets a fresh local fake GitHub (``python -m tests.github_api``, seeded with N issues,
  ``--latency`` seconds per request, default 0.1), and GitHub's pacing of one second between
  mutating requests is on everywhere:

  - planner: a generated ``planner.toml`` adopting the issues by ``number``, then
    ``planner apply --auto-approve`` in a subprocess with ``GH_TOKEN``, ``GITHUB_API_URL`` and
    ``PLANNER_GITHUB_WRITE_INTERVAL=1``: reads by aliased GraphQL queries, writes as aliased
    GraphQL mutations;
  - naive (PyGithub defaults): what the old shell workflow did with ``gh issue close`` and
    ``gh issue edit`` in a loop, as a Python subprocess using PyGithub unchanged:
    ``Github(base_url=..., auth=Auth.Token(...))`` with its default pacing (1 s before every
    write, 0.25 s between requests), then ``repo.get_issue(n).edit(...)`` per issue;
  - naive (no read pacing): the same with ``seconds_between_requests=0``, for fairness; it
    still waits PyGithub's default second between writes.

* For each: wall time of the subprocess (median with min-max spread over ``--repeat`` runs),
  HTTP requests by kind from the server's request log (``/_control/counts``: REST reads and
  writes, GraphQL queries and mutations), mutations per mutating request, and rate-limit
  points: GitHub's secondary-limit points (1 per read request, 5 per mutating request, as
  GitHub publishes them) and the primary-limit points the fake charged.

* The naive ways take about 1.1 s per change, so by default they run on a sample of
  ``--naive-sample`` changes (40) and are extrapolated to N, marked as such: requests that
  address one issue and the time of the per-issue loop scale with the changes, the set-up
  (start-up, ``get_repo``) does not. ``--naive-sample N`` runs them in full.

* Goals, printed as PASS/FAIL lines, against each naive way: at least 20 times fewer HTTP
  requests and 10 times less wall time.

After every run the issues are read back through the fake's REST API to check that the run
made every change. Run it from the repository root:

    .venv/bin/python benchmarks/issues.py [--changes 200] [--latency 0.1] [--repeat 1]
        [--naive-sample 40] [--out RESULTS.md]

Defaults take about two minutes. The result is a Markdown report on stdout (and in
``--out``); progress goes to stderr.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import select
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any

REPOSITORY = Path(__file__).resolve().parent.parent
PLANNER_COMMAND = REPOSITORY / ".venv" / "bin" / "planner"
GITHUB_REPOSITORY = "octo-org/planner-bench"

WRITE_INTERVAL_SECONDS = 1.0
SERVER_START_TIMEOUT_SECONDS = 30.0
SERVER_STOP_TIMEOUT_SECONDS = 5.0

SECONDARY_POINTS_PER_READ = 1
SECONDARY_POINTS_PER_MUTATING_REQUEST = 5

REQUESTS_GOAL_RATIO = 20.0
WALL_TIME_GOAL_RATIO = 10.0

REQUEST_KINDS = ("rest-read", "rest-write", "graphql-query", "graphql-mutation")
MUTATING_KINDS = ("rest-write", "graphql-mutation")
ONE_ISSUE_PATH = re.compile(r"/repos/[^/]+/[^/]+/issues/\d+$")

NAIVE_CHILD = "_naive-child"
NAIVE_DEFAULT_PACING = "default-pacing"
NAIVE_NO_READ_PACING = "no-read-pacing"


# --- the changes -----------------------------------------------------------------------------


def closes(number: int) -> bool:
    """Odd issue numbers are closed as completed, even ones retitled: half and half."""
    return number % 2 == 1


def new_title(number: int) -> str:
    return f"Benchmark retitled issue {number}"


def toml_string(text: str) -> str:
    """A TOML basic string; JSON's escaping of ASCII text is valid TOML."""
    return json.dumps(text, ensure_ascii=True)


def write_planner_config(workdir: Path, changes: int) -> None:
    parts = [f"[github]\nrepo = {toml_string(GITHUB_REPOSITORY)}\n"]
    for number in range(1, changes + 1):
        entry = f'[[issue]]\nkey = "issue-{number}"\nnumber = {number}\n'
        if closes(number):
            entry += 'state = "closed"\nstate_reason = "completed"\n'
        else:
            entry += f"title = {toml_string(new_title(number))}\n"
        parts.append(entry)
    (workdir / "planner.toml").write_text("\n".join(parts), encoding="utf-8")


# --- the naive child: PyGithub, one call per issue ------------------------------------------


def run_naive_workflow(url: str, token: str, changes: int, pacing: str) -> None:
    """``gh issue close`` / ``gh issue edit`` in a loop, through PyGithub; prints the loop's
    seconds as JSON so that the parent can tell set-up from per-issue time."""
    import github

    if pacing == NAIVE_DEFAULT_PACING:
        client = github.Github(base_url=url, auth=github.Auth.Token(token))
    else:
        client = github.Github(
            base_url=url, auth=github.Auth.Token(token), seconds_between_requests=0
        )
    repo = client.get_repo(GITHUB_REPOSITORY)
    started = time.perf_counter()
    for number in range(1, changes + 1):
        issue = repo.get_issue(number)
        if closes(number):
            issue.edit(state="closed", state_reason="completed")
        else:
            issue.edit(title=new_title(number))
    print(json.dumps({"loop_seconds": time.perf_counter() - started}))


# --- the fake GitHub in a subprocess ---------------------------------------------------------


@dataclass(frozen=True)
class FakeGitHubProcess:
    url: str
    token: str

    def control(self, method: str, action: str) -> Any:
        request = urllib.request.Request(f"{self.url}/_control/{action}", method=method)
        with urllib.request.urlopen(request, timeout=30) as response:
            answer = json.load(response)
        return answer["result"]

    def issues(self) -> dict[int, dict[str, Any]]:
        """Every issue of the benchmark repository, by number, through the REST API."""
        found: dict[int, dict[str, Any]] = {}
        page = 1
        while True:
            request = urllib.request.Request(
                f"{self.url}/repos/{GITHUB_REPOSITORY}/issues?state=all&per_page=100&page={page}",
                headers={"Authorization": f"token {self.token}"},
            )
            with urllib.request.urlopen(request, timeout=30) as response:
                chunk = json.load(response)
            found.update({issue["number"]: issue for issue in chunk})
            if len(chunk) < 100:
                return found
            page += 1


def read_banner(process: subprocess.Popen[bytes]) -> dict[str, str]:
    """The ``name: value`` lines the server prints at start, up to its ``control:`` line.

    Read from the pipe's descriptor directly: a buffered reader could hold lines that
    ``select`` no longer sees.
    """
    assert process.stdout is not None
    descriptor = process.stdout.fileno()
    printed = b""
    deadline = time.monotonic() + SERVER_START_TIMEOUT_SECONDS
    while b"\ncontrol:" not in printed or not printed.endswith(b"\n"):
        remaining = deadline - time.monotonic()
        readable, _, _ = select.select([descriptor], [], [], max(remaining, 0))
        chunk = os.read(descriptor, 4096) if readable else b""
        if not chunk:
            raise RuntimeError("the fake GitHub did not start (see its stderr above)")
        printed += chunk
    banner: dict[str, str] = {}
    for line in printed.decode().splitlines():
        name, _, value = line.partition(":")
        banner[name.strip()] = value.strip()
    return banner


@contextmanager
def fake_github(issues: int, latency: float) -> Iterator[FakeGitHubProcess]:
    """A fresh fake GitHub seeded with ``issues`` issues; stopped on leaving, also on Ctrl-C."""
    command = [
        sys.executable,
        "-m",
        "tests.github_api",
        "--port",
        "0",
        "--latency",
        str(latency),
        "--repository",
        GITHUB_REPOSITORY,
        "--seed-issues",
        str(issues),
    ]
    process = subprocess.Popen(command, cwd=REPOSITORY, stdout=subprocess.PIPE)
    try:
        banner = read_banner(process)
        yield FakeGitHubProcess(url=banner["fake GitHub"], token=banner["token"])
    finally:
        process.terminate()
        try:
            process.wait(timeout=SERVER_STOP_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        assert process.stdout is not None
        process.stdout.close()


# --- one run ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class RunFigures:
    """What one apply cost, from the server's request log and the subprocess's wall time."""

    changes: int
    wall_seconds: float
    requests: dict[str, int]
    changes_sent: int
    """Mutations (GraphQL aliases, or REST writes) the mutating requests carried."""
    primary_points: int
    extrapolated: bool = False

    @property
    def total_requests(self) -> int:
        return sum(self.requests.values())

    @property
    def mutating_requests(self) -> int:
        return sum(self.requests[kind] for kind in MUTATING_KINDS)

    @property
    def read_requests(self) -> int:
        return self.total_requests - self.mutating_requests

    @property
    def secondary_points(self) -> int:
        return (
            self.read_requests * SECONDARY_POINTS_PER_READ
            + self.mutating_requests * SECONDARY_POINTS_PER_MUTATING_REQUEST
        )


def run_subprocess(
    command: Sequence[str | Path], cwd: Path, environment: dict[str, str]
) -> tuple[float, str]:
    """Run a command to completion; its wall time and its stdout. Raises if it fails."""
    started = time.perf_counter()
    completed = subprocess.run(
        [str(part) for part in command],
        cwd=cwd,
        env=environment,
        capture_output=True,
        text=True,
        check=False,
    )
    wall = time.perf_counter() - started
    if completed.returncode != 0:
        message = (completed.stderr or completed.stdout)[-2000:]
        raise RuntimeError(f"{command[0]} exited {completed.returncode}:\n{message}")
    return wall, completed.stdout


def child_environment(server: FakeGitHubProcess) -> dict[str, str]:
    environment = {
        name: value
        for name, value in os.environ.items()
        if name not in ("GITHUB_TOKEN", "GITHUB_GRAPHQL_URL", "GITHUB_API_URL")
    }
    environment.update(
        GH_TOKEN=server.token,
        GITHUB_API_URL=server.url,
        PLANNER_GITHUB_WRITE_INTERVAL=str(WRITE_INTERVAL_SECONDS),
    )
    return environment


def check_issues(server: FakeGitHubProcess, changes: int) -> None:
    """Fail loudly when a run did not leave every declared change on the server."""
    issues = server.issues()
    for number in range(1, changes + 1):
        issue = issues.get(number)
        if issue is None:
            raise RuntimeError(f"issue #{number} is missing after the run")
        if closes(number) and (issue["state"], issue["state_reason"]) != ("closed", "completed"):
            raise RuntimeError(f"issue #{number} is not closed as completed after the run")
        if not closes(number) and issue["title"] != new_title(number):
            raise RuntimeError(f"issue #{number} was not retitled by the run")
    violations = server.control("GET", "violations")
    if violations:
        raise RuntimeError(f"the run made requests GitHub would refuse: {violations[:3]}")


def figures_from_log(log: list[dict[str, Any]], changes: int, wall: float) -> RunFigures:
    requests = {kind: 0 for kind in REQUEST_KINDS}
    for entry in log:
        requests[entry["kind"]] += 1
    return RunFigures(
        changes=changes,
        wall_seconds=wall,
        requests=requests,
        changes_sent=sum(
            entry["graphql_fields"] if entry["kind"] == "graphql-mutation" else 1
            for entry in log
            if entry["kind"] in MUTATING_KINDS
        ),
        primary_points=sum(entry["rate_limit_cost"] for entry in log),
    )


def run_planner(changes: int, latency: float, scratch: Path) -> RunFigures:
    workdir = Path(tempfile.mkdtemp(prefix="planner-", dir=scratch))
    write_planner_config(workdir, changes)
    with fake_github(changes, latency) as server:
        server.control("POST", "reset-log")
        command: list[str | Path] = [PLANNER_COMMAND, "--quiet", "apply", "--auto-approve"]
        wall, _ = run_subprocess(command, workdir, child_environment(server))
        log = server.control("GET", "log")
        check_issues(server, changes)
    return figures_from_log(log, changes, wall)


def run_naive(pacing: str, changes: int, sample: int, latency: float, scratch: Path) -> RunFigures:
    """The naive way on ``sample`` changes, extrapolated to ``changes`` when fewer."""
    with fake_github(sample, latency) as server:
        server.control("POST", "reset-log")
        script = Path(__file__).resolve()
        command: list[str | Path] = [
            sys.executable,
            script,
            NAIVE_CHILD,
            server.url,
            server.token,
            str(sample),
        ]
        wall, output = run_subprocess([*command, pacing], scratch, child_environment(server))
        log = server.control("GET", "log")
        check_issues(server, sample)
    measured = figures_from_log(log, sample, wall)
    if sample == changes:
        return measured

    scale = changes / sample
    per_issue = [entry for entry in log if ONE_ISSUE_PATH.search(entry["path"])]
    set_up = [entry for entry in log if not ONE_ISSUE_PATH.search(entry["path"])]
    loop_seconds = float(json.loads(output)["loop_seconds"])
    per_issue_figures = figures_from_log(per_issue, sample, loop_seconds)
    set_up_figures = figures_from_log(set_up, 0, wall - loop_seconds)
    return RunFigures(
        changes=changes,
        wall_seconds=set_up_figures.wall_seconds + per_issue_figures.wall_seconds * scale,
        requests={
            kind: set_up_figures.requests[kind] + round(per_issue_figures.requests[kind] * scale)
            for kind in REQUEST_KINDS
        },
        changes_sent=set_up_figures.changes_sent + round(per_issue_figures.changes_sent * scale),
        primary_points=set_up_figures.primary_points
        + round(per_issue_figures.primary_points * scale),
        extrapolated=True,
    )


@dataclass(frozen=True)
class Workflow:
    """One way of making the N changes: planner, or the naive loop with a PyGithub pacing."""

    name: str
    naive_pacing: str | None = None

    def run(self, changes: int, sample: int, latency: float, scratch: Path) -> RunFigures:
        if self.naive_pacing is None:
            return run_planner(changes, latency, scratch)
        return run_naive(self.naive_pacing, changes, sample, latency, scratch)

    def changes_made(self, changes: int, sample: int) -> int:
        return changes if self.naive_pacing is None else sample


WORKFLOWS = (
    Workflow("planner"),
    Workflow("naive (PyGithub defaults)", NAIVE_DEFAULT_PACING),
    Workflow("naive (no read pacing)", NAIVE_NO_READ_PACING),
)


@dataclass
class WorkflowFigures:
    runs: list[RunFigures] = field(default_factory=list)

    @property
    def last(self) -> RunFigures:
        """Request counts do not vary between runs; the last run's stand for all."""
        return self.runs[-1]

    @property
    def median_wall(self) -> float:
        return statistics.median(run.wall_seconds for run in self.runs)


def progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def time_workflows(
    changes: int, sample: int, latency: float, repeat: int
) -> dict[str, WorkflowFigures]:
    """Each workflow against its own fresh server, round-robin, ``repeat`` times."""
    figures = {workflow.name: WorkflowFigures() for workflow in WORKFLOWS}
    with tempfile.TemporaryDirectory(prefix="planner-bench-issues-") as scratch:
        for attempt in range(1, repeat + 1):
            for workflow in WORKFLOWS:
                count = workflow.changes_made(changes, sample)
                progress(f"  {workflow.name}: {count} changes, run {attempt}/{repeat}")
                run = workflow.run(changes, sample, latency, Path(scratch))
                figures[workflow.name].runs.append(run)
    return figures


# --- the report ------------------------------------------------------------------------------


def ratio(numerator: float, denominator: float) -> str:
    return f"{numerator / denominator:.1f}x" if denominator else "n/a"


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines.extend("| " + " | ".join(row) + " |" for row in rows)
    return lines


def wall_text(figures: WorkflowFigures) -> str:
    walls = [run.wall_seconds for run in figures.runs]
    text = f"{statistics.median(walls):.1f}"
    if len(walls) > 1:
        text += f" ({min(walls):.1f}-{max(walls):.1f})"
    return text + (" *" if figures.last.extrapolated else "")


def figures_table(figures: dict[str, WorkflowFigures]) -> list[str]:
    planner = figures["planner"]
    naive_names = [name for name in figures if name != "planner"]
    header = ["", *figures, *(f"{name} / planner" for name in naive_names)]

    def row(
        label: str, value: Callable[[RunFigures], float], digits: int = 0, compare: bool = True
    ) -> list[str]:
        cells = [label]
        for workflow in figures.values():
            mark = " *" if workflow.last.extrapolated else ""
            cells.append(f"{value(workflow.last):,.{digits}f}{mark}")
        for name in naive_names:
            cells.append(ratio(value(figures[name].last), value(planner.last)) if compare else "")
        return cells

    wall_row = ["wall time (s)", *(wall_text(workflow) for workflow in figures.values())]
    wall_row.extend(ratio(figures[name].median_wall, planner.median_wall) for name in naive_names)
    rows = [
        wall_row,
        row("HTTP requests", lambda run: run.total_requests),
        row("- REST reads", lambda run: run.requests["rest-read"], compare=False),
        row("- REST writes", lambda run: run.requests["rest-write"], compare=False),
        row("- GraphQL queries", lambda run: run.requests["graphql-query"], compare=False),
        row("- GraphQL mutations", lambda run: run.requests["graphql-mutation"], compare=False),
        row("mutating requests", lambda run: run.mutating_requests),
        row(
            "changes per mutating request",
            lambda run: run.changes_sent / max(run.mutating_requests, 1),
            digits=1,
            compare=False,
        ),
        row("secondary-limit points (1/read, 5/write)", lambda run: run.secondary_points),
        row("primary-limit points (as the fake charged)", lambda run: run.primary_points),
    ]
    return markdown_table(header, rows)


def headline(figures: dict[str, WorkflowFigures]) -> list[str]:
    planner = figures["planner"]
    parts = []
    for name, workflow in figures.items():
        if name == "planner":
            continue
        requests = ratio(workflow.last.total_requests, planner.last.total_requests)
        wall = ratio(workflow.median_wall, planner.median_wall)
        points = ratio(workflow.last.secondary_points, planner.last.secondary_points)
        parts.append(
            f"{name} / planner: **{requests}** the requests, **{wall}** the wall time, "
            f"**{points}** the secondary-limit points"
        )
    return ["Headline: " + "; ".join(parts) + ".", ""]


def verdict(passed: bool, text: str) -> str:
    return f"- {'PASS' if passed else 'FAIL'}  {text}"


def goal_lines(figures: dict[str, WorkflowFigures]) -> list[str]:
    planner = figures["planner"]
    lines = ["## Goals", ""]
    for name, workflow in figures.items():
        if name == "planner":
            continue
        mark = " (naive extrapolated)" if workflow.last.extrapolated else ""
        requests = workflow.last.total_requests / planner.last.total_requests
        lines.append(
            verdict(
                requests >= REQUESTS_GOAL_RATIO,
                f"at least {REQUESTS_GOAL_RATIO:.0f}x fewer HTTP requests than {name}: "
                f"{workflow.last.total_requests:,} / {planner.last.total_requests:,} = "
                f"{requests:.1f}x{mark}",
            )
        )
        wall = workflow.median_wall / planner.median_wall
        lines.append(
            verdict(
                wall >= WALL_TIME_GOAL_RATIO,
                f"at least {WALL_TIME_GOAL_RATIO:.0f}x less wall time than {name}: "
                f"{workflow.median_wall:.1f} s / {planner.median_wall:.1f} s = {wall:.1f}x{mark}",
            )
        )
    lines.append("")
    return lines


def report(
    figures: dict[str, WorkflowFigures], changes: int, sample: int, latency: float, repeat: int
) -> str:
    closed = sum(1 for number in range(1, changes + 1) if closes(number))
    lines = [
        "# planner versus naive PyGithub calls: issue changes",
        "",
        f"{changes} changes to existing issues ({closed} closed as completed, "
        f"{changes - closed} retitled) against a fresh fake GitHub per run with "
        f"{latency:g} s latency per request; {WRITE_INTERVAL_SECONDS:g} s between mutating "
        f"requests for everyone (planner: PLANNER_GITHUB_WRITE_INTERVAL; naive: PyGithub's "
        f"default seconds_between_writes). {repeat} run(s) each; wall time is the median "
        f"with (min-max). Python {sys.version.split()[0]}, {os.cpu_count()} CPU(s).",
        "",
    ]
    lines.extend(headline(figures))
    lines.append(f"## Apply {changes} issue changes")
    lines.append("")
    lines.extend(figures_table(figures))
    lines.append("")
    if any(workflow.last.extrapolated for workflow in figures.values()):
        lines.append(
            f"\\* extrapolated: the naive ways ran {sample} of the {changes} changes; their "
            f"per-issue requests and loop time are scaled by {changes / sample:.3g}, their "
            "set-up (start-up, get_repo) is counted once."
        )
        lines.append("")
    lines.extend(goal_lines(figures))
    return "\n".join(lines)


# --- the benchmark ---------------------------------------------------------------------------


def parse_arguments(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Benchmark planner apply of GitHub issue changes against naive PyGithub."
    )
    parser.add_argument("--changes", type=int, default=200, help="issue changes (default 200)")
    parser.add_argument(
        "--latency", type=float, default=0.1, help="server seconds per request (default 0.1)"
    )
    parser.add_argument("--repeat", type=int, default=1, help="timed runs each (default 1)")
    parser.add_argument(
        "--naive-sample",
        type=int,
        default=40,
        help="changes the naive ways really make, extrapolated to --changes (default 40)",
    )
    parser.add_argument("--out", type=Path, help="also write the Markdown report to this file")
    arguments = parser.parse_args(argv)
    if arguments.changes < 2 or arguments.repeat < 1 or arguments.latency < 0:
        parser.error("--changes must be at least 2, --repeat at least 1, --latency not negative")
    if arguments.naive_sample < 2:
        parser.error("--naive-sample must be at least 2")
    arguments.naive_sample = min(arguments.naive_sample, arguments.changes)
    return arguments


def stop_on_sigterm(signal_number: int, frame: FrameType | None) -> None:
    """Turn SIGTERM into an exception, so that servers and folders are cleaned up."""
    raise KeyboardInterrupt


def main(argv: Sequence[str]) -> int:
    if argv and argv[0] == NAIVE_CHILD:
        url, token, changes, pacing = argv[1:5]
        run_naive_workflow(url, token, int(changes), pacing)
        return 0

    arguments = parse_arguments(argv)
    if not PLANNER_COMMAND.exists():
        raise SystemExit(f"{PLANNER_COMMAND} is missing; install the dev virtualenv first")
    signal.signal(signal.SIGTERM, stop_on_sigterm)
    progress(f"Timing pass ({arguments.repeat} run(s) each, round-robin, fresh server each):")
    try:
        figures = time_workflows(
            arguments.changes, arguments.naive_sample, arguments.latency, arguments.repeat
        )
    except KeyboardInterrupt:
        progress("Interrupted; servers stopped and temporary folders removed.")
        return 130
    text = report(
        figures, arguments.changes, arguments.naive_sample, arguments.latency, arguments.repeat
    )
    print(text)
    if arguments.out is not None:
        arguments.out.write_text(text + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
