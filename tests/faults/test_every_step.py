"""An apply failed or killed at EVERY one of its I/O steps is always recoverable.

The apply of ``tests/faults/scenario.py`` (files in two folders, audit entries with
``record_changes``, two issue creations and an issue update against the local GitHub API
server) is run once to count its steps N and learn their kinds. Then, for every k in 1..N, it
is rerun from the same starting point with step k

- failed as an error (ENOSPC for writes, EIO for other file steps, a reset connection for
  HTTP requests), and
- stopped hard (SIGKILL just before the step),

and from each wreck ``status`` must explain the checkpoint, ``resume`` (or a fresh ``apply``
when the wreck left no checkpoint) must reach exactly the declared state, and a second
``plan --detailed-exitcode`` must find nothing to do. For every ``ROLLBACK_EVERY``-th k the
same wreck is replayed on a fresh repository and folder and rolled back, which must restore
exactly the previous state. Each HTTP mutation step also gets its answer dropped by the
server after the change was applied. Finally resume and rollback are themselves killed and
failed partway and must be resumable in turn.
"""

from __future__ import annotations

import itertools
import shutil
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.faults.scenario import (
    FILE_STEP_KINDS,
    HTTP_STEP_KINDS,
    Site,
    assert_at_desired_state,
    assert_at_previous_state,
    assert_no_duplicate_issues,
    assert_no_half_written_files,
    configure_v1,
    explained_status,
    finish_backward,
    finish_forward,
    read_trace,
)
from tests.github_api import FakeGitHub, start_server
from tests.harness import Result, planner, snapshot

ROLLBACK_EVERY = 3
"""The rollback branch (a replay on a fresh repository, then rollback) runs for every third k."""

WORKERS = 2
"""Injection points checked at once; each is a chain of subprocesses, so threads suffice."""

NETWORK_FAILURE = {"PLANNER_TEST_FAIL_NETWORK_WITH": "reset"}


@dataclass(frozen=True)
class Start:
    """What every run starts from: the v1 folder, its files, and the traced steps of v2."""

    server: FakeGitHub
    v1_folder: Path
    v1_files: dict[str, tuple[bytes, int]]
    steps: list[tuple[str, str]]

    @property
    def mutation_steps(self) -> list[int]:
        return [k for k, (kind, _) in enumerate(self.steps, 1) if kind == "graphql-mutation"]


_repositories = itertools.count(1)


def _new_site(start: Start, workdir: Path, label: str) -> Site:
    number = next(_repositories)
    return Site(start.server, start.v1_folder, workdir / f"{label}-{number}", f"o/{label}-{number}")


@pytest.fixture(scope="module")
def github() -> Iterator[FakeGitHub]:
    """One server for the module; every run gets a repository of its own."""
    with start_server() as server:
        yield server
        problems = [str(v) for v in server.violations] + list(server.internal_errors)
    assert not problems, problems


@pytest.fixture(scope="module")
def start(github: FakeGitHub, tmp_path_factory: pytest.TempPathFactory) -> Start:
    v1_folder = tmp_path_factory.mktemp("v1")
    configure_v1(v1_folder)
    applied = planner("apply", "--auto-approve", cwd=v1_folder)
    assert applied.code == 0, applied.output
    v1_files = {p: v for p, v in snapshot(v1_folder / "tree").items() if not p.startswith("audit/")}

    workdir = tmp_path_factory.mktemp("count")
    site = Site(github, v1_folder, workdir / "site", "o/counting")
    trace = workdir / "trace"
    counted = site.run(
        "apply",
        "--auto-approve",
        count_to=workdir / "count",
        env={"PLANNER_TEST_TRACE_TO": str(trace)},
    )
    assert counted.code == 0, counted.output
    assert_at_desired_state(site, site.folder)
    steps = read_trace(trace)
    assert len(steps) == int((workdir / "count").read_text())
    return Start(github, v1_folder, v1_files, steps)


def _faulted_apply(site: Site, variant: str, k: int, kind: str) -> Result:
    if variant == "kill":
        return site.run("apply", "--auto-approve", kill_at=k)
    env = NETWORK_FAILURE if kind in HTTP_STEP_KINDS else {}
    return site.run("apply", "--auto-approve", fail_at=k, env=env)


def _assert_wreck_explained(
    site: Site, variant: str, result: Result, *, is_bookkeeping: bool
) -> str:
    """The run stopped the way the fault says, left no torn file and no duplicate issue.

    A failed step of planner's own bookkeeping (the journal, the state save) cannot be
    journaled, so only a failed resource step must show up as "Last error" in ``status``.
    """
    if variant == "kill":
        assert result.code == -9, result.output
    else:
        # 0 too: a failed read (a connection reset at the request seam) is retried and the
        # run may finish anyway; the invariants below hold either way.
        assert result.code in (0, 1, 3), result.output
        assert "Traceback" not in result.stderr, result.stderr
        if result.code == 3:
            assert "planner resume" in result.stderr, result.stderr
    assert_no_half_written_files(site.folder)
    assert_no_duplicate_issues(site)
    status = explained_status(site, site.folder)
    if "stopped partway" in status:
        assert "Next: planner resume" in status, status
        if variant == "error" and not is_bookkeeping:
            assert "Last error" in status, status
    return status


def _check_injection(start: Start, workdir: Path, variant: str, k: int) -> str | None:
    """Fail step k one way, recover forward (and backward when sampled); None when all held."""
    kind, target = start.steps[k - 1]
    try:
        site = _new_site(start, workdir, f"{variant}{k}")
        wrecked = _faulted_apply(site, variant, k, kind)
        is_bookkeeping = target.startswith(".planner") or "state.json" in target
        status = _assert_wreck_explained(site, variant, wrecked, is_bookkeeping=is_bookkeeping)
        forward = finish_forward(site, site.folder, status)
        assert forward.code == 0, forward.output
        assert_at_desired_state(site, site.folder)
        shutil.rmtree(site.folder)

        if k % ROLLBACK_EVERY == 0:
            replay = _new_site(start, workdir, f"{variant}{k}-back")
            again = _faulted_apply(replay, variant, k, kind)
            assert again.code == wrecked.code, again.output
            backward = finish_backward(replay, replay.folder)
            assert backward is None or backward.code == 0, backward.output if backward else ""
            assert_at_previous_state(replay, replay.folder, start.v1_files)
            shutil.rmtree(replay.folder)
    except AssertionError as failure:
        return f"{variant} at step {k} ({kind} {target}): {str(failure)[:1500]}"
    return None


def _check_every_step(start: Start, workdir: Path, variant: str) -> None:
    began = time.monotonic()
    points = list(range(1, len(start.steps) + 1))
    with ThreadPoolExecutor(WORKERS) as pool:
        outcomes = list(pool.map(lambda k: _check_injection(start, workdir, variant, k), points))
    failures = [outcome for outcome in outcomes if outcome]
    rollbacks = len([k for k in points if k % ROLLBACK_EVERY == 0])
    print(
        f"\n{variant}: {len(points)} injection points (resume branch), {rollbacks} with the "
        f"rollback branch, {len(failures)} failed, {time.monotonic() - began:.0f} s"
    )
    assert len(points) == len(start.steps) > 0
    assert not failures, "\n\n".join(failures)


def test_the_counted_apply_touches_files_audit_and_github(start: Start) -> None:
    kinds = {kind for kind, _ in start.steps}
    assert {"write", "sync", "rename", "unlink", "mkdir", "graphql-mutation"} <= kinds
    assert kinds <= FILE_STEP_KINDS | HTTP_STEP_KINDS
    assert start.mutation_steps, "the apply sends no mutation"


def test_apply_killed_before_any_step_resumes_or_rolls_back_exactly(
    start: Start, tmp_path: Path
) -> None:
    _check_every_step(start, tmp_path, "kill")


def test_apply_failing_at_any_step_resumes_or_rolls_back_exactly(
    start: Start, tmp_path: Path
) -> None:
    _check_every_step(start, tmp_path, "error")


def test_apply_whose_mutation_answer_is_dropped_reaches_the_declared_state_once(
    start: Start, tmp_path: Path
) -> None:
    covered = 0
    for ordinal, _ in enumerate(start.mutation_steps, 1):
        for branch in ("forward", "backward"):
            site = _new_site(start, tmp_path, f"drop{ordinal}-{branch}")
            seen = itertools.count(1)
            start.server.drop_response_after_apply(
                kinds="graphql-mutation", predicate=lambda _, n=ordinal, seen=seen: next(seen) == n
            )
            applied = site.run("apply", "--auto-approve")
            start.server.clear_faults()
            assert applied.code in (0, 3), applied.output
            assert_no_duplicate_issues(site)

            if branch == "forward":
                if applied.code == 3:
                    assert finish_forward(site, site.folder).code == 0
                assert_at_desired_state(site, site.folder)
            else:
                rolled = finish_backward(site, site.folder)
                assert rolled is not None and rolled.code == 0, rolled.output if rolled else ""
                assert_at_previous_state(site, site.folder, start.v1_files)
        covered += 1
    print(f"\ndropped answers: {covered} mutation steps, forward and rollback branch each")
    assert covered == len(start.mutation_steps) > 0


def _wreck_step(start: Start) -> int:
    """A step in the middle of the file batch, after GitHub was changed: the first rename."""
    first_mutation = start.mutation_steps[0]
    return next(
        k for k, (kind, _) in enumerate(start.steps, 1) if k > first_mutation and kind == "rename"
    )


def _count_steps(site: Site, *args: str) -> int:
    count = site.folder / "recovery-steps"
    counted = site.run(*args, count_to=count)
    assert counted.code == 0, counted.output
    return int(count.read_text())


def _points(total: int) -> list[int]:
    """Where resume and rollback are themselves stopped: early, middle, late."""
    return sorted({1, total // 2, total - 2} - {0})


def test_resume_killed_or_failed_partway_can_be_resumed_in_turn(
    start: Start, tmp_path: Path
) -> None:
    wreck_at = _wreck_step(start)
    counting = _new_site(start, tmp_path, "resume-count")
    assert counting.run("apply", "--auto-approve", kill_at=wreck_at).code == -9
    total = _count_steps(counting, "resume")
    assert_at_desired_state(counting, counting.folder)

    covered = 0
    for variant, point in itertools.product(("kill", "error"), _points(total)):
        site = _new_site(start, tmp_path, f"resume-{variant}{point}")
        assert site.run("apply", "--auto-approve", kill_at=wreck_at).code == -9
        if variant == "kill":
            stopped = site.run("resume", kill_at=point)
            assert stopped.code == -9, stopped.output
        else:
            stopped = site.run("resume", fail_at=point, env=NETWORK_FAILURE)
            assert stopped.code in (0, 1, 3), stopped.output
        assert_no_half_written_files(site.folder)
        resumed = finish_forward(site, site.folder)
        assert resumed.code == 0, f"{variant} at resume step {point}: {resumed.output}"
        assert_at_desired_state(site, site.folder)
        covered += 1
    print(f"\nresume faulted at {covered} points of {total} steps")
    assert covered == 2 * len(_points(total))


def test_rollback_killed_or_failed_partway_can_be_resumed_in_turn(
    start: Start, tmp_path: Path
) -> None:
    wreck_at = _wreck_step(start)
    counting = _new_site(start, tmp_path, "rollback-count")
    assert counting.run("apply", "--auto-approve", kill_at=wreck_at).code == -9
    total = _count_steps(counting, "rollback", "--auto-approve")
    assert_at_previous_state(counting, counting.folder, start.v1_files)

    covered = 0
    for variant, point in itertools.product(("kill", "error"), _points(total)):
        site = _new_site(start, tmp_path, f"rollback-{variant}{point}")
        assert site.run("apply", "--auto-approve", kill_at=wreck_at).code == -9
        if variant == "kill":
            stopped = site.run("rollback", "--auto-approve", kill_at=point)
            assert stopped.code == -9, stopped.output
        else:
            stopped = site.run("rollback", "--auto-approve", fail_at=point, env=NETWORK_FAILURE)
            assert stopped.code in (0, 1, 3), stopped.output
        assert_no_half_written_files(site.folder)
        status = explained_status(site, site.folder)
        if "Last rollback" in status and "stopped partway" in status:
            finished = site.run("resume")
        else:
            # The rollback stopped before its own checkpoint: the apply's is still the last.
            finished = site.run("rollback", "--auto-approve")
        assert finished.code == 0, f"{variant} at rollback step {point}: {finished.output}"
        assert_at_previous_state(site, site.folder, start.v1_files)
        covered += 1
    print(f"\nrollback faulted at {covered} points of {total} steps")
    assert covered == 2 * len(_points(total))
