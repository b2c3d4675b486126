"""Load tests: 100,000 files with 50,000 audit entries, and 5,000 GitHub issues.

Each planner command runs as a child process whose wall time and peak memory (``ru_maxrss``,
reaped by ``tests/launch.py`` so that the test process's own size is not counted) are
recorded, printed (``pytest -s``) and attached to the test with ``record_property``. Every
command must stay under 1 GiB; an apply killed (SIGKILL) in the middle of its I/O must be
resumable to exactly the declared state.
"""

from __future__ import annotations

import math
import os
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from tests.github_api import FakeGitHub
from tests.harness import ROOT, entry, run_with_cost, write_config
from tests.kinds.test_issues_support import (
    OTHER_REPO,
    REPO,
    github_env,
    seeded,
    write_github_config,
)

KILL_RUNNER = Path(__file__).resolve().parent / "kill_runner.py"
MEMORY_LIMIT_KIB = 1024 * 1024  # 1 GiB

FILE_COUNT = 100_000
FOLDER_COUNT = 100
ENTRY_COUNT = 50_000
CHANGED_FILES = FILE_COUNT // 10
ADDED_ENTRIES = 1_000

ISSUE_COUNT = 5_000
MUTATIONS_PER_REQUEST = 50
MUTATING_REQUESTS_ALLOWED = math.ceil(ISSUE_COUNT / MUTATIONS_PER_REQUEST) + 3


@dataclass
class Measured:
    label: str
    code: int
    stdout: str
    stderr: str
    seconds: float
    cpu_seconds: float
    max_rss_kib: int

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


class Recorder:
    """Runs planner commands, measuring each, and keeps the figures for the report."""

    def __init__(self, record_property: Callable[[str, object], None]) -> None:
        self.record_property = record_property
        self.figures: list[Measured] = []

    def run(
        self,
        label: str,
        *args: str,
        cwd: Path,
        env: dict[str, str] | None = None,
        kill_kinds: str | None = None,
        kill_at: int | None = None,
        timeout: float = 600,
    ) -> Measured:
        environment = {**os.environ, "NO_COLOR": "1", "PYTHONPATH": str(ROOT), **(env or {})}
        if kill_at is not None:
            command = [sys.executable, str(KILL_RUNNER), *args]
            environment["PLANNER_LOAD_KILL_KINDS"] = kill_kinds or ""
            environment["PLANNER_LOAD_KILL_AT"] = str(kill_at)
        else:
            command = [sys.executable, "-m", "planner", *args]
        out_path = cwd / f".load-{len(self.figures)}.out"
        err_path = cwd / f".load-{len(self.figures)}.err"
        with out_path.open("wb") as out, err_path.open("wb") as err:
            cost = run_with_cost(command, cwd, environment, out, err, timeout)
        seconds = cost.wall_seconds
        measured = Measured(
            label,
            cost.code,
            out_path.read_text(errors="replace"),
            err_path.read_text(errors="replace"),
            seconds,
            cost.cpu_seconds,
            cost.peak_rss_kib,  # KiB on Linux
        )
        out_path.unlink()
        err_path.unlink()
        self.figures.append(measured)
        self.record_property(f"{label} wall seconds", round(seconds, 2))
        self.record_property(f"{label} CPU seconds", round(measured.cpu_seconds, 2))
        self.record_property(f"{label} max RSS MiB", round(measured.max_rss_kib / 1024, 1))
        print(
            f"\n[load] {label}: exit {measured.code}, {seconds:.1f} s wall, "
            f"{measured.cpu_seconds:.1f} s CPU, "
            f"max RSS {measured.max_rss_kib / 1024:.0f} MiB",
            flush=True,
        )
        return measured

    def assert_memory_bounded(self) -> None:
        over = [
            f"{m.label}: {m.max_rss_kib / 1024:.0f} MiB"
            for m in self.figures
            if m.max_rss_kib >= MEMORY_LIMIT_KIB
        ]
        assert not over, f"planner processes over 1 GiB of peak memory: {over}"


def _file_path(index: int) -> str:
    return f"d{index % FOLDER_COUNT}/f{index}.txt"


def _v1_content(index: int) -> str:
    return f"file {index} version one\n"


def _v2_content(index: int) -> str:
    return f"file {index} version two\n" if index % 10 == 0 else _v1_content(index)


def _log_ids(log: str) -> list[str]:
    return re.findall(r"planner:id=([^,]+),", log)


def test_100k_files_and_50k_audit_entries_apply_kill_resume_within_1_gib(
    tmp_path: Path, record_property: Callable[[str, object], None]
) -> None:
    recorder = Recorder(record_property)
    tree = tmp_path / "tree"
    v1_entries = [entry(f"load-{i}") for i in range(ENTRY_COUNT)]
    write_config(
        tmp_path,
        files={_file_path(i): _v1_content(i) for i in range(FILE_COUNT)},
        entries=v1_entries,
    )

    applied = recorder.run("files: apply v1", "apply", "--auto-approve", cwd=tmp_path)
    assert applied.code == 0, applied.output
    assert (tree / _file_path(FILE_COUNT - 1)).read_text() == _v1_content(FILE_COUNT - 1)

    v2_entries = v1_entries + [entry(f"load-more-{i}") for i in range(ADDED_ENTRIES)]
    write_config(
        tmp_path,
        files={_file_path(i): _v2_content(i) for i in range(FILE_COUNT)},
        entries=v2_entries,
    )
    # Every changed file is renamed into place once: the middle rename is mid-batch.
    killed = recorder.run(
        "files: apply v2 (SIGKILL at rename 5,000)",
        "apply",
        "--auto-approve",
        cwd=tmp_path,
        kill_kinds="rename",
        kill_at=CHANGED_FILES // 2,
    )
    assert killed.code == -9, killed.output
    changed = range(0, FILE_COUNT, 10)
    done = sum(1 for i in changed if (tree / _file_path(i)).read_text() == _v2_content(i))
    assert 0 < done < CHANGED_FILES, f"the kill was not in the middle: {done} files changed"

    resumed = recorder.run("files: resume", "resume", cwd=tmp_path)
    assert resumed.code == 0, resumed.output
    wrong = [i for i in range(FILE_COUNT) if (tree / _file_path(i)).read_text() != _v2_content(i)]
    assert not wrong, f"{len(wrong)} files differ from the configuration, e.g. {wrong[:5]}"
    ids = _log_ids((tree / "audit/current.log").read_text())
    assert len(ids) == len(set(ids)), "an audit id was written twice"
    assert set(ids) == {e["id"] for e in v2_entries}

    verified = recorder.run("files: audit verify", "audit", "verify", cwd=tmp_path)
    assert verified.code == 0, verified.output
    again = recorder.run(
        "files: plan --detailed-exitcode", "plan", "--detailed-exitcode", cwd=tmp_path
    )
    assert again.code == 0, again.output

    recorder.assert_memory_bounded()


def test_5000_issues_apply_in_batches_and_resume_after_a_kill_within_1_gib(
    tmp_path: Path, github_server: FakeGitHub, record_property: Callable[[str, object], None]
) -> None:
    recorder = Recorder(record_property)
    seeded(github_server, REPO, OTHER_REPO)
    env = github_env(github_server)

    # A clean apply: 5,000 adopted issues, 5,000 titles changed, in batches of 50.
    clean = tmp_path / "clean"
    clean.mkdir()
    issues = github_server.seed_issues(REPO, ISSUE_COUNT, labels=2)
    write_github_config(
        clean,
        repo=REPO,
        issues=[
            {"key": f"i{i.number}", "number": i.number, "title": f"Renamed {i.number}"}
            for i in issues
        ],
    )
    github_server.reset_log()
    applied = recorder.run("issues: apply", "apply", "--auto-approve", cwd=clean, env=env)
    assert applied.code == 0, applied.output
    mutating = github_server.counts().get("graphql-mutation", 0)
    print(f"[load] issues: apply sent {mutating} mutating requests", flush=True)
    record_property("issues: apply mutating requests", mutating)
    assert mutating <= MUTATING_REQUESTS_ALLOWED, mutating
    assert github_server.log.graphql_field_total("graphql-mutation") == ISSUE_COUNT
    assert [i.title for i in github_server.issues(REPO)] == [f"Renamed {i.number}" for i in issues]

    # The same apply in another repository, killed before its middle mutating request.
    wreck = tmp_path / "wreck"
    wreck.mkdir()
    others = github_server.seed_issues(OTHER_REPO, ISSUE_COUNT, labels=2)
    write_github_config(
        wreck,
        repo=OTHER_REPO,
        issues=[
            {"key": f"i{i.number}", "number": i.number, "title": f"Renamed {i.number}"}
            for i in others
        ],
    )
    middle = math.ceil(ISSUE_COUNT / MUTATIONS_PER_REQUEST) // 2
    github_server.reset_log()
    killed = recorder.run(
        f"issues: apply (SIGKILL at mutating request {middle})",
        "apply",
        "--auto-approve",
        cwd=wreck,
        env=env,
        kill_kinds="graphql-mutation",
        kill_at=middle,
    )
    assert killed.code == -9, killed.output
    sent_before = github_server.counts().get("graphql-mutation", 0)
    fields_before = github_server.log.graphql_field_total("graphql-mutation")
    assert sent_before == middle - 1, sent_before
    renamed = sum(1 for i in github_server.issues(OTHER_REPO) if i.title.startswith("Renamed"))
    assert 0 < renamed < ISSUE_COUNT, renamed

    github_server.reset_log()
    resumed = recorder.run("issues: resume", "resume", cwd=wreck, env=env)
    assert resumed.code == 0, resumed.output
    sent_after = github_server.counts().get("graphql-mutation", 0)
    fields_after = github_server.log.graphql_field_total("graphql-mutation")
    print(
        f"[load] issues: killed apply sent {sent_before} mutating requests ({fields_before} "
        f"mutations), resume {sent_after} ({fields_after})",
        flush=True,
    )
    record_property("issues: resume mutating requests", sent_after)
    assert sent_before + sent_after <= MUTATING_REQUESTS_ALLOWED
    assert fields_before + fields_after == ISSUE_COUNT, "a title was sent twice"
    final = github_server.issues(OTHER_REPO)
    assert len(final) == ISSUE_COUNT, "an issue was created"
    assert [i.title for i in final] == [f"Renamed {i.number}" for i in others]

    again = recorder.run(
        "issues: plan --detailed-exitcode", "plan", "--detailed-exitcode", cwd=wreck, env=env
    )
    assert again.code == 0, again.output

    recorder.assert_memory_bounded()
