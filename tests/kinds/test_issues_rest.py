"""Reading issues and labels through REST: with ``[github] api = "rest"``, or with no token.

Plans must not depend on the API they were read through; repeated plans are answered with
304s from the ETag cache, which cost no rate limit; without a token planner plans public
repositories and refuses to apply.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import shutil
import subprocess
import urllib.request
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.github_api import FakeGitHub
from tests.kinds.test_issues_support import REPO, Cli, seeded, write_github_config

ISSUES_PATH = f"/repos/{REPO}/issues"
LABELS_PATH = f"/repos/{REPO}/labels"
MILESTONES_PATH = f"/repos/{REPO}/milestones"
CACHE = ".planner/github-etags.json"


def use_rest(config: Path) -> None:
    """Switch a configuration written by ``write_github_config`` to REST reads."""
    text = config.read_text()
    config.write_text(text.replace("[github]\n", '[github]\napi = "rest"\n', 1))


def without_token(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> Cli:
    """The same CLI with no GH_TOKEN or GITHUB_TOKEN anywhere in its environment."""
    for name in ("GH_TOKEN", "GITHUB_TOKEN"):
        monkeypatch.delenv(name, raising=False)
        cli.env.pop(name, None)
    return cli


def core_remaining(server: FakeGitHub) -> int:
    """The token's REST budget, asked of ``/rate_limit``, which itself costs nothing."""
    request = urllib.request.Request(
        f"{server.url}/rate_limit", headers={"Authorization": f"token {server.token}"}
    )
    with urllib.request.urlopen(request, timeout=10) as answer:
        return int(json.load(answer)["resources"]["core"]["remaining"])


def paths(server: FakeGitHub) -> Counter[str]:
    return Counter(entry.path for entry in server.log.entries())


def varied_repository(server: FakeGitHub) -> list[dict[str, Any]]:
    """Issues in every shape the reads map (closed with reasons, marker, milestone, people),
    and the declarations whose plan covers creates, updates, no-ops and a marker match."""
    seeded(server)
    server.add_label(REPO, "docs", "0075ca", "Documentation")
    first = server.add_issue(REPO, "First", body="one", label_names=["bug"], assignees=["alice"])
    server.add_issue(
        REPO,
        "Second",
        body="two\r\nlines",
        milestone_number=1,
        state="closed",
        state_reason="not_planned",
    )
    third = server.add_issue(REPO, "Third", body="three")
    server.state.close_issue(third, "completed")
    server.state.reopen_issue(third)
    server.add_issue(REPO, "Made by planner", body="kept\n\n<!-- planner:key=found -->")
    return [
        {"key": "first", "number": first.number, "title": "First", "labels": ["bug", "docs"]},
        {"key": "second", "number": 2, "state": "closed", "state_reason": "completed"},
        {"key": "third", "number": 3, "title": "Third", "milestone": "v1.0",
         "assignees": ["bob"], "body": "three"},
        {"key": "found", "title": "Made by planner", "body": "kept"},
        {"key": "fresh", "title": "Brand new", "labels": ["bug"]},
    ]  # fmt: skip


def test_a_rest_plan_equals_the_graphql_plan_of_the_same_repository(
    tmp_path: Path, github_server: FakeGitHub
) -> None:
    issues = varied_repository(github_server)
    labels = [{"name": "bug", "color": "d73a4a"}, {"name": "release", "color": "0e8a16"}]
    graphql_folder, rest_folder = tmp_path / "graphql", tmp_path / "rest"
    graphql_folder.mkdir()
    rest_folder.mkdir()
    write_github_config(graphql_folder, issues=issues, labels=labels)
    use_rest(write_github_config(rest_folder, issues=issues, labels=labels))

    github_server.reset_log()
    through_graphql = Cli(graphql_folder, github_server).plan_json()
    assert github_server.counts()["rest-read"] == 0
    github_server.reset_log()
    through_rest = Cli(rest_folder, github_server).plan_json()
    assert github_server.counts()["graphql-query"] == 0
    assert github_server.counts()["rest-read"] > 0

    for part in ("changes", "batches", "summary"):
        assert through_rest[part] == through_graphql[part], part
    assert through_rest["summary"] | {"forget": 0} == {
        "create": 2,
        "update": 3,
        "delete": 0,
        "no-op": 2,
        "forget": 0,
    }
    text = [Cli(folder, github_server)("plan").stdout for folder in (graphql_folder, rest_folder)]
    assert text[0] == text[1]


def test_a_second_rest_plan_is_answered_with_304s_that_cost_no_rate_limit(
    tmp_path: Path, github_server: FakeGitHub
) -> None:
    seeded(github_server)
    github_server.seed_issues(REPO, 150, labels=2)
    use_rest(
        write_github_config(
            tmp_path,
            issues=[{"key": f"i{n}", "number": n, "title": f"Seeded issue {n}"} for n in (1, 150)]
            + [{"key": "new", "title": "New", "milestone": "v1.0"}],
        )
    )
    cli = Cli(tmp_path, github_server)
    first = cli("plan")
    assert first.code == 0, first.output
    cache = tmp_path / CACHE
    assert cache.stat().st_mode & 0o777 == 0o600
    assert github_server.token.encode() not in cache.read_bytes()
    written = cache.stat().st_mtime_ns

    budget = core_remaining(github_server)
    github_server.reset_log()
    second = cli("plan")

    assert second.code == 0, second.output
    assert second.stdout == first.stdout
    entries = github_server.log.entries()
    assert len(entries) == 4, [e.path for e in entries]  # issues x2, labels, milestones
    assert {(e.kind, e.status, e.rate_limit_cost) for e in entries} == {("rest-read", 304, 0)}
    assert core_remaining(github_server) == budget
    assert cache.stat().st_mtime_ns == written, "an unchanged cache is not written again"
    github_server.reset_log()

    github_server.issue(REPO, 150).title = "Renamed on GitHub"
    github_server.state.touch(github_server.issue(REPO, 150))
    github_server.reset_log()
    third = cli("plan", "--format", "json")
    assert json.loads(third.stdout)["summary"]["update"] == 1
    statuses = Counter((e.path, e.status) for e in github_server.log.entries())
    assert statuses[(ISSUES_PATH, 200)] == 1, statuses  # the page holding #150 changed
    assert statuses[(ISSUES_PATH, 304)] == 1, statuses


def test_a_rest_plan_of_250_issues_lists_them_in_three_requests(
    tmp_path: Path, github_server: FakeGitHub
) -> None:
    seeded(github_server)
    github_server.seed_issues(REPO, 250, labels=2)
    use_rest(
        write_github_config(
            tmp_path,
            issues=[
                {"key": f"i{n}", "number": n, "title": f"Renamed {n}", "milestone": "v1.0"}
                for n in range(1, 251)
            ],
        )
    )
    cli = Cli(tmp_path, github_server)

    github_server.reset_log()
    plan = cli("plan")

    assert plan.code == 0, plan.output
    assert "Plan: 0 to add, 250 to change, 0 to destroy." in plan.stdout
    assert github_server.counts() == {
        "rest-read": math.ceil(250 / 100) + 2,
        "rest-write": 0,
        "graphql-query": 0,
        "graphql-mutation": 0,
    }
    assert paths(github_server) == {ISSUES_PATH: 3, LABELS_PATH: 1, MILESTONES_PATH: 1}


def test_rest_reads_and_graphql_writes_apply_and_then_plan_no_changes(
    tmp_path: Path, github_server: FakeGitHub
) -> None:
    seeded(github_server)
    github_server.add_issue(REPO, "Old title")
    use_rest(
        write_github_config(
            tmp_path,
            labels=[{"name": "release", "color": "0e8a16"}],
            issues=[
                {"key": "old", "number": 1, "title": "New title", "labels": ["release"]},
                {"key": "new", "title": "Created", "state": "closed", "assignees": ["alice"]},
            ],
        )
    )
    cli = Cli(tmp_path, github_server)

    applied = cli("apply", "--auto-approve")

    assert applied.code == 0, applied.output
    assert github_server.counts()["graphql-query"] == 0
    assert github_server.counts()["graphql-mutation"] > 0
    assert github_server.issue(REPO, 1).title == "New title"
    assert github_server.issue(REPO, 2).state == "closed"
    assert cli("plan", "--detailed-exitcode").code == 0


def test_without_a_token_a_public_repository_is_planned_and_apply_is_refused(
    tmp_path: Path, github_server: FakeGitHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    seeded(github_server)
    github_server.add_issue(REPO, "Old title")
    write_github_config(
        tmp_path,
        labels=[{"name": "bug", "color": "d73a4a"}],
        issues=[{"key": "old", "number": 1, "title": "New title"}],
    )
    cli = without_token(Cli(tmp_path, github_server), monkeypatch)

    plan = cli("plan", "--detailed-exitcode")
    assert plan.code == 2, plan.output
    assert "Plan: 0 to add, 1 to change, 0 to destroy." in plan.stdout
    assert github_server.counts()["graphql-query"] == 0

    github_server.reset_log()
    applied = cli("apply", "--auto-approve")

    assert applied.code == 1, applied.output
    message = applied.stderr.strip()
    assert "set GH_TOKEN or GITHUB_TOKEN" in message
    assert len(message.splitlines()) == 1 and message.count(". ") == 0, message
    assert github_server.counts()["graphql-mutation"] == 0
    assert github_server.counts()["rest-write"] == 0
    assert github_server.issue(REPO, 1).title == "Old title"
    checkpoints = tmp_path / ".planner/checkpoints"
    recorded = [p for p in checkpoints.glob("*") if not p.name.startswith(".staging")]
    assert recorded == [], "refused before the checkpoint"


def test_without_a_token_a_private_repository_is_named_in_one_sentence(
    tmp_path: Path, github_server: FakeGitHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    github_server.create_repository(REPO, private=True)
    write_github_config(tmp_path, issues=[{"key": "a", "title": "A"}])
    cli = without_token(Cli(tmp_path, github_server), monkeypatch)

    plan = cli("plan")

    assert plan.code == 1, plan.output
    assert REPO in plan.stderr and "GH_TOKEN" in plan.stderr
    assert len(plan.stderr.strip().splitlines()) == 1


@contextlib.contextmanager
def read_only(folder: Path) -> Iterator[None]:
    """Make a folder unwritable, also for root (an immutable attribute), while in the block."""
    if os.geteuid() != 0:
        folder.chmod(0o555)
        try:
            yield
        finally:
            folder.chmod(0o755)
        return
    chattr = shutil.which("chattr")
    if chattr is None or subprocess.run([chattr, "+i", str(folder)], check=False).returncode:
        pytest.skip("cannot make a folder read-only for root here (no chattr +i)")
    try:
        yield
    finally:
        subprocess.run([chattr, "-i", str(folder)], check=True)


def test_a_rest_plan_works_on_a_read_only_state_folder(
    tmp_path: Path, github_server: FakeGitHub
) -> None:
    seeded(github_server)
    github_server.add_issue(REPO, "Old title")
    use_rest(write_github_config(tmp_path, issues=[{"key": "old", "number": 1, "title": "New"}]))
    state_folder = tmp_path / ".planner"
    state_folder.mkdir()
    cli = Cli(tmp_path, github_server)

    with read_only(state_folder):
        plans = [cli("plan"), cli("plan")]

    assert [p.code for p in plans] == [0, 0], plans[0].output
    assert plans[0].stdout == plans[1].stdout
    assert "Plan: 0 to add, 1 to change, 0 to destroy." in plans[0].stdout
    assert plans[0].stderr == ""
    assert list(state_folder.iterdir()) == []


def test_a_number_missing_from_the_list_is_asked_for_once_before_it_is_called_gone(
    tmp_path: Path, github_server: FakeGitHub
) -> None:
    seeded(github_server)
    github_server.add_issue(REPO, "Only")
    use_rest(write_github_config(tmp_path, issues=[{"key": "gone", "number": 7, "title": "X"}]))
    cli = Cli(tmp_path, github_server)

    github_server.reset_log()
    plan = cli("plan")

    assert plan.code == 1
    assert "issue #7 does not exist in octo-org/octo-repo" in plan.stderr
    assert paths(github_server) == {ISSUES_PATH: 1, LABELS_PATH: 1, f"{ISSUES_PATH}/7": 1}
