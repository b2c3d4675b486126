"""For any edits made behind planner's back, a plan that reads what moved equals a full plan.

Two folders declare the same issues: one only ever plans with ``--refresh=auto`` (so each of
its plans builds on the observations of the one before), the other only with
``--refresh=full``. Between plans, random edits hit declared and undeclared issues alike,
often within the same second of GitHub's clock as the plan before, sometimes after the
five minutes a read looks back over. The two plans must agree after every step, errors
included. Plans are built in this process (``build_plan``), which is what the CLI runs.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from unittest import mock

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from planner.errors import PlannerError
from planner.plan.builder import build_plan
from planner.render import render_json
from planner.workspace import Workspace
from tests.github_api import FakeGitHub, start_server
from tests.kinds.test_issues_support import (
    OTHER_REPO,
    REPO,
    github_env,
    seeded,
    write_github_config,
)

ISSUES = 6
DECLARED = range(1, 5)
"""Issues #1 to #4 are declared; #5 and #6, and any opened later, are not."""

Edit = tuple[Any, ...]

edits = st.one_of(
    st.tuples(st.just("title"), st.integers(1, ISSUES), st.sampled_from(["A", "Declared 1"])),
    st.tuples(st.just("body"), st.integers(1, ISSUES), st.sampled_from(["", "changed"])),
    st.tuples(
        st.just("close"), st.integers(1, ISSUES), st.sampled_from(["completed", "not_planned"])
    ),
    st.tuples(st.just("reopen"), st.integers(1, ISSUES)),
    st.tuples(st.just("labels"), st.integers(1, ISSUES), st.sampled_from([[], ["bug"], ["docs"]])),
    st.tuples(st.just("assignees"), st.integers(1, ISSUES), st.sampled_from([[], ["alice"]])),
    st.tuples(st.just("comment"), st.integers(1, ISSUES)),
    st.tuples(st.just("delete"), st.integers(1, ISSUES)),
    st.tuples(st.just("transfer"), st.integers(1, ISSUES)),
    st.tuples(st.just("open")),
    st.tuples(st.just("nothing")),
)
clock_steps = st.sampled_from([0, 0, 1, 2, 400])
"""Seconds GitHub's clock moves between a plan and the edits after it: mostly none or a
second (edits within the same second as the plan), sometimes past the overlap window."""


@contextmanager
def folders(server: FakeGitHub) -> Iterator[tuple[Path, Path]]:
    issues = [
        {
            "key": f"i{n}",
            "number": n,
            "title": f"Declared {n}",
            "state": "open",
            "labels": ["bug"],
            "assignees": ["alice"],
        }
        for n in DECLARED
    ]
    with tempfile.TemporaryDirectory() as top:
        auto, full = Path(top) / "auto", Path(top) / "full"
        for folder in (auto, full):
            folder.mkdir()
            write_github_config(folder, issues=issues)
        yield auto, full


def planned(folder: Path, refresh: str) -> Any:
    """The JSON plan without what differs between two folders, or the error's sentence."""
    try:
        workspace = Workspace.open(folder / "planner.toml")
        plan = build_plan(workspace, workspace.store.load(), [], refresh=refresh)  # type: ignore[arg-type]
    except PlannerError as error:
        return str(error)
    rendered = json.loads(render_json(plan))
    return {k: v for k, v in rendered.items() if k not in ("created_at", "config_path")}


def make(server: FakeGitHub, edit: Edit) -> None:
    kind = edit[0]
    if kind == "open":
        server.add_issue(REPO, "Opened by someone else")
        return
    if kind == "nothing":
        return
    issue = server.repository(REPO).issues.get(edit[1])
    if issue is None:
        return
    state = server.state
    if kind == "title":
        state.edit_issue(issue, title=edit[2])
    elif kind == "body":
        state.edit_issue(issue, body=edit[2], set_body=True)
    elif kind == "close":
        state.close_issue(issue, edit[2])
    elif kind == "reopen":
        state.reopen_issue(issue)
    elif kind == "labels":
        state.edit_issue(issue, label_names=edit[2])
    elif kind == "assignees":
        state.edit_issue(issue, assignees=edit[2])
    elif kind == "comment":
        state.add_comment(issue, "a comment")
    elif kind == "delete":
        state.delete_issue(issue)
    elif kind == "transfer":
        state.transfer_issue(issue, server.repository(OTHER_REPO))


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(st.lists(st.tuples(st.lists(edits, max_size=3), clock_steps), min_size=1, max_size=5))
def test_the_incremental_plan_equals_the_full_plan_after_any_edits(
    steps: list[tuple[list[Edit], int]],
) -> None:
    with start_server() as server, mock.patch.dict(os.environ, github_env(server)):
        seeded(server, REPO, OTHER_REPO)
        server.add_label(REPO, "docs")
        server.set_time("2030-01-01T00:00:00Z")
        for number in range(1, ISSUES + 1):
            server.add_issue(REPO, f"Declared {number}", label_names=["bug"], assignees=["alice"])
        server.advance_time(3600)

        with folders(server) as (auto, full):
            assert planned(auto, "auto") == planned(full, "full")
            for batch, seconds in steps:
                server.advance_time(seconds)
                for edit in batch:
                    make(server, edit)
                assert planned(auto, "auto") == planned(full, "full"), (batch, seconds)
