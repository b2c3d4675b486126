"""Request counts, which are deterministic: reads grow per hundred issues, writes per batch."""

from __future__ import annotations

import math
from pathlib import Path

from tests.github_api import FakeGitHub
from tests.kinds.test_issues_support import REPO, Cli, seeded, write_github_config

MUTATIONS_PER_REQUEST = 50


def test_a_thousand_issues_plan_in_13_requests_and_apply_in_batches(
    tmp_path: Path, github_server: FakeGitHub
) -> None:
    seeded(github_server)
    issues = github_server.seed_issues(REPO, 1000, labels=2)
    write_github_config(
        tmp_path,
        issues=[
            {"key": f"i{i.number}", "number": i.number, "title": f"Renamed {i.number}"}
            for i in issues
        ],
    )
    cli = Cli(tmp_path, github_server)

    github_server.reset_log()
    plan = cli("plan", "--detailed-exitcode")
    assert plan.code == 2, plan.output
    assert "Plan: 0 to add, 1000 to change, 0 to destroy." in plan.stdout
    counts = github_server.counts()
    assert counts["graphql-mutation"] == 0
    assert counts["graphql-query"] <= 13, counts

    github_server.reset_log()
    applied = cli("apply", "--auto-approve")
    assert applied.code == 0, applied.output
    mutating = github_server.counts()["graphql-mutation"]
    assert mutating <= math.ceil(1000 / MUTATIONS_PER_REQUEST) + 3, mutating
    assert github_server.log.graphql_field_total("graphql-mutation") == 1000
    assert github_server.issue(REPO, 1000).title == "Renamed 1000"

    github_server.reset_log()
    assert cli("plan", "--detailed-exitcode").code == 0
    assert github_server.counts()["graphql-query"] <= 11


def test_creating_and_closing_issues_costs_a_handful_of_mutating_requests(
    tmp_path: Path, github_server: FakeGitHub
) -> None:
    seeded(github_server)
    write_github_config(
        tmp_path,
        issues=[
            {"key": f"new-{n}", "title": f"New {n}", "labels": ["bug"]}
            | ({"state": "closed", "state_reason": "completed"} if n % 6 == 0 else {})
            for n in range(120)
        ],
    )
    cli = Cli(tmp_path, github_server)

    github_server.reset_log()
    plan = cli("plan")
    assert plan.code == 0, plan.output
    assert github_server.counts()["graphql-query"] == 1, "the marker lookup rides along"

    github_server.reset_log()
    assert cli("apply", "--auto-approve").code == 0
    assert github_server.counts()["graphql-mutation"] == math.ceil(120 / 50) + 1
    assert len(github_server.issues(REPO)) == 120
    assert sum(1 for i in github_server.issues(REPO) if i.state == "closed") == 20
    assert cli("plan", "--detailed-exitcode").code == 0


def test_a_timed_out_mutation_request_is_resent_in_halves(
    tmp_path: Path, github_server: FakeGitHub
) -> None:
    seeded(github_server)
    issues = github_server.seed_issues(REPO, 60, labels=1)
    write_github_config(
        tmp_path,
        issues=[{"key": f"i{i.number}", "number": i.number, "title": "Same"} for i in issues],
    )
    github_server.graphql_timeout(kinds="graphql-mutation")
    cli = Cli(tmp_path, github_server)

    github_server.reset_log()
    applied = cli("apply", "--auto-approve")

    assert applied.code == 0, applied.output
    sizes = [e.graphql_fields for e in github_server.log.entries("graphql-mutation")]
    assert sizes == [50, 25, 25, 10]
    assert {i.title for i in github_server.issues(REPO)} == {"Same"}
