"""Plans that read only the issues that changed since the last plan, and agree with full reads.

Request counts are exact here because the local GitHub API server's clock is frozen and set
by each test: an observation's mark is GitHub's ``Date`` minus five minutes, so a test moves
the clock past that window before it measures a plan of issues that did not change.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.github_api import FakeGitHub
from tests.kinds.test_issues_support import (
    OTHER_REPO,
    REPO,
    Cli,
    actions,
    seeded,
    write_github_config,
)

OBSERVATIONS = ".planner/issues.observed"
START = "2030-01-01T00:00:00Z"
PAST_THE_OVERLAP = 600
"""Seconds that put a plan beyond the five minutes a read looks back over."""


def requests(server: FakeGitHub) -> int:
    return sum(server.counts().values())


def comparable(plan: dict[str, Any]) -> dict[str, Any]:
    """A JSON plan without what differs between two runs of the same plan (its time)."""
    return {key: value for key, value in plan.items() if key != "created_at"}


def agreed_plan(cli: Cli) -> dict[str, Any]:
    """The incremental plan, after checking that a full read plans exactly the same."""
    incremental = comparable(cli.plan_json())
    full = comparable(cli.plan_json("--refresh=full"))
    assert incremental == full
    return incremental


def updated(plan: dict[str, Any]) -> set[str]:
    return {address for address, action in actions(plan).items() if action == "update"}


def set_github_option(config: Path, line: str) -> None:
    text = config.read_text()
    config.write_text(text.replace("[github]\n", f"[github]\n{line}\n", 1))


def test_ten_thousand_unchanged_issues_plan_in_one_request_and_three_edits_show_alone(
    tmp_path: Path, github_server: FakeGitHub
) -> None:
    seeded(github_server)
    github_server.set_time(START)
    issues = github_server.seed_issues(REPO, 10_000, labels=0)
    write_github_config(
        tmp_path,
        issues=[
            {
                "key": f"i{i.number}",
                "number": i.number,
                "title": i.title,
                "state": "open",
                "labels": [],
            }
            for i in issues
        ],
    )
    cli = Cli(tmp_path, github_server)
    github_server.advance_time(3600)

    github_server.reset_log()
    first = cli("plan", "--detailed-exitcode")
    assert first.code == 0, first.output
    assert requests(github_server) == 1 + 10_000 // 100, "the first plan reads every issue"

    github_server.advance_time(PAST_THE_OVERLAP)
    github_server.reset_log()
    unchanged = cli("plan", "--detailed-exitcode")
    assert unchanged.code == 0, unchanged.output
    assert "No changes." in unchanged.stdout
    assert requests(github_server) <= 2
    assert requests(github_server) == 1, github_server.log.entries()

    # The first edit lands in the very second GitHub answered the last plan in.
    github_server.state.edit_issue(github_server.issue(REPO, 17), title="Edited in that second")
    github_server.advance_time(1)
    github_server.state.edit_issue(github_server.issue(REPO, 4242), state="closed")
    github_server.state.edit_issue(github_server.issue(REPO, 9999), label_names=["bug"])
    github_server.advance_time(PAST_THE_OVERLAP)

    github_server.reset_log()
    edited = cli.plan_json()
    assert requests(github_server) <= 3
    assert requests(github_server) == 1, github_server.log.entries()
    assert updated(edited) == {"issue.i17", "issue.i4242", "issue.i9999"}
    assert edited["summary"]["update"] == 3
    changed = {c["address"]: c["changed"] for c in edited["changes"] if c["action"] == "update"}
    assert changed == {"issue.i17": ["title"], "issue.i4242": ["state"], "issue.i9999": ["labels"]}

    assert comparable(cli.plan_json("--refresh=full")) == comparable(edited)


def test_a_deleted_and_a_transferred_issue_are_found_as_a_full_read_finds_them(
    tmp_path: Path, github_server: FakeGitHub
) -> None:
    seeded(github_server, REPO, OTHER_REPO)
    github_server.set_time(START)
    write_github_config(
        tmp_path, issues=[{"key": f"k{n}", "title": f"Issue {n}"} for n in range(1, 7)]
    )
    cli = Cli(tmp_path, github_server)
    assert cli("apply", "--auto-approve").code == 0
    numbers = {key: record["number"] for key, record in cli.state()["issues"].items()}
    github_server.advance_time(PAST_THE_OVERLAP)
    assert cli("plan", "--detailed-exitcode").code == 0

    github_server.advance_time(PAST_THE_OVERLAP)
    github_server.state.delete_issue(github_server.issue(REPO, numbers["k2"]))
    github_server.state.transfer_issue(
        github_server.issue(REPO, numbers["k5"]), github_server.repository(OTHER_REPO)
    )
    github_server.advance_time(PAST_THE_OVERLAP)

    plan = agreed_plan(cli)
    assert actions(plan) == {f"issue.k{n}": "no-op" for n in (1, 3, 4, 6)} | {
        "issue.k2": "create",
        "issue.k5": "create",
    }
    notes = {c["address"]: c.get("note") for c in plan["changes"]}
    assert f"#{numbers['k2']} is gone from {REPO}" in notes["issue.k2"]
    assert f"#{numbers['k5']} is gone from {REPO}" in notes["issue.k5"]


def test_a_deletion_hidden_by_a_new_issue_in_the_count_is_still_found(
    tmp_path: Path, github_server: FakeGitHub
) -> None:
    seeded(github_server)
    github_server.set_time(START)
    issues = github_server.seed_issues(REPO, 5, labels=0)
    write_github_config(
        tmp_path,
        issues=[{"key": f"i{i.number}", "number": i.number, "title": i.title} for i in issues],
    )
    cli = Cli(tmp_path, github_server)
    github_server.advance_time(PAST_THE_OVERLAP)
    assert cli("plan").code == 0

    github_server.advance_time(PAST_THE_OVERLAP)
    github_server.state.delete_issue(github_server.issue(REPO, 3))
    github_server.add_issue(REPO, "Opened by someone else")
    github_server.advance_time(PAST_THE_OVERLAP)

    for refresh in ("auto", "full"):
        plan = cli("plan", f"--refresh={refresh}")
        assert plan.code == 1, plan.output
        assert "issue #3 does not exist in octo-org/octo-repo" in plan.stderr
        assert "issue.i3" in plan.stderr


def test_new_issues_and_edits_of_undeclared_ones_cost_no_full_read(
    tmp_path: Path, github_server: FakeGitHub
) -> None:
    seeded(github_server, REPO, OTHER_REPO)
    github_server.set_time(START)
    issues = github_server.seed_issues(REPO, 300, labels=0)
    write_github_config(
        tmp_path,
        issues=[{"key": f"i{i.number}", "number": i.number, "title": i.title} for i in issues],
    )
    github_server.add_issue(REPO, "Not declared")
    cli = Cli(tmp_path, github_server)
    github_server.advance_time(PAST_THE_OVERLAP)
    assert cli("plan").code == 0

    github_server.advance_time(PAST_THE_OVERLAP)
    github_server.state.edit_issue(github_server.issue(REPO, 301), title="Still not declared")
    github_server.add_issue(REPO, "Opened by someone else")
    github_server.state.transfer_issue(
        github_server.add_issue(OTHER_REPO, "Moved here"), github_server.repository(REPO)
    )
    github_server.advance_time(PAST_THE_OVERLAP)

    github_server.reset_log()
    plan = cli("plan", "--detailed-exitcode")
    assert plan.code == 0, plan.output
    assert requests(github_server) == 1, github_server.log.entries()


def test_missing_or_damaged_observations_fall_back_to_a_full_read_of_the_same_plan(
    tmp_path: Path, github_server: FakeGitHub
) -> None:
    seeded(github_server)
    github_server.set_time(START)
    issues = github_server.seed_issues(REPO, 150, labels=0)
    write_github_config(
        tmp_path,
        issues=[{"key": f"i{i.number}", "number": i.number, "title": "Renamed"} for i in issues],
    )
    cli = Cli(tmp_path, github_server)
    github_server.advance_time(PAST_THE_OVERLAP)
    expected = comparable(cli.plan_json())
    observations = tmp_path / OBSERVATIONS
    assert observations.stat().st_mode & 0o777 == 0o600
    assert github_server.token.encode() not in observations.read_bytes()

    github_server.advance_time(PAST_THE_OVERLAP)
    github_server.reset_log()
    assert comparable(cli.plan_json()) == expected
    assert requests(github_server) == 1

    observations.unlink()
    github_server.reset_log()
    missing = cli("plan", "--format", "json")
    assert comparable(json.loads(missing.stdout)) == expected
    assert missing.stderr == ""
    assert requests(github_server) == 1 + 2, "a full read"

    observations.write_bytes(observations.read_bytes().replace(b"Renamed", b"Tampered", 1))
    observations.write_bytes(observations.read_bytes()[:-40])
    github_server.reset_log()
    damaged = cli("plan", "--format", "json")
    assert damaged.code == 0, damaged.output
    assert comparable(json.loads(damaged.stdout)) == expected
    assert "issue observations" in damaged.stderr and "read again" in damaged.stderr
    assert requests(github_server) == 1 + 2, "a full read"


def test_a_full_read_comes_back_after_full_refresh_after_seconds_on_githubs_clock(
    tmp_path: Path, github_server: FakeGitHub
) -> None:
    seeded(github_server)
    github_server.set_time(START)
    issues = github_server.seed_issues(REPO, 120, labels=0)
    config = write_github_config(
        tmp_path,
        issues=[{"key": f"i{i.number}", "number": i.number, "title": i.title} for i in issues],
    )
    set_github_option(config, "full_refresh_after = 3600")
    cli = Cli(tmp_path, github_server)
    github_server.advance_time(PAST_THE_OVERLAP)
    assert cli("plan").code == 0

    github_server.advance_time(1800)
    github_server.reset_log()
    assert cli("plan").code == 0
    assert requests(github_server) == 1

    github_server.advance_time(1800)
    github_server.reset_log()
    assert cli("plan").code == 0
    assert requests(github_server) == 1 + 2, "an hour after the last full read"

    github_server.advance_time(60)
    github_server.reset_log()
    assert cli("plan").code == 0
    assert requests(github_server) == 1


def test_a_saved_plan_is_refused_when_an_issue_changed_in_the_second_it_was_made(
    tmp_path: Path, github_server: FakeGitHub
) -> None:
    seeded(github_server)
    github_server.set_time(START)
    issues = github_server.seed_issues(REPO, 3, labels=0)
    write_github_config(
        tmp_path,
        issues=[{"key": f"i{i.number}", "number": i.number, "title": "After"} for i in issues],
    )
    cli = Cli(tmp_path, github_server)
    github_server.advance_time(PAST_THE_OVERLAP)
    assert cli("plan").code == 0
    github_server.advance_time(PAST_THE_OVERLAP)

    assert cli("plan", "--out", "saved.plan").code == 0
    github_server.state.edit_issue(github_server.issue(REPO, 2), body="edited in that second")
    stale = cli("apply", "saved.plan")
    assert stale.code == 1, stale.output
    assert "stale plan" in stale.stderr and "issue.i2" in stale.stderr
    assert {i.title for i in github_server.issues(REPO)} == {i.title for i in issues}

    github_server.advance_time(PAST_THE_OVERLAP)
    assert cli("plan", "--out", "fresh.plan").code == 0
    applied = cli("apply", "fresh.plan")
    assert applied.code == 0, applied.output
    assert {i.title for i in github_server.issues(REPO)} == {"After"}
    assert cli("plan", "--detailed-exitcode").code == 0


def test_resume_after_an_interrupted_issue_apply_sees_what_it_changed(
    tmp_path: Path, github_server: FakeGitHub
) -> None:
    seeded(github_server)
    github_server.set_time(START)
    issues = github_server.seed_issues(REPO, 4, labels=0)
    config = write_github_config(
        tmp_path,
        max_wait=0,
        issues=[{"key": f"i{i.number}", "number": i.number, "title": i.title} for i in issues],
    )
    cli = Cli(tmp_path, github_server)
    github_server.advance_time(PAST_THE_OVERLAP)
    assert cli("plan").code == 0
    github_server.advance_time(PAST_THE_OVERLAP)

    config.write_text(config.read_text().replace('title = "Seeded issue', 'title = "Done'))
    dropped = github_server.drop_response_after_apply(operation="updateIssue")
    # Sending the changes again is refused too, so only resume can finish the apply.
    github_server.primary_rate_limit(
        kinds="graphql-mutation", predicate=lambda facts: dropped.fired > 0
    )
    stopped = cli("apply", "--auto-approve")
    assert stopped.code == 3, stopped.output
    github_server.clear_faults()
    github_server.state.edit_issue(github_server.issue(REPO, 1), body="edited meanwhile")

    github_server.advance_time(PAST_THE_OVERLAP)
    resumed = cli("resume")
    assert resumed.code == 0, resumed.output
    assert {i.title for i in github_server.issues(REPO)} == {f"Done {n}" for n in range(1, 5)}
    assert github_server.issue(REPO, 1).body == "edited meanwhile", "body is not managed"
    assert agreed_plan(cli)["summary"]["update"] == 0


def test_rest_reads_ask_only_for_what_moved_since_the_last_plan(
    tmp_path: Path, github_server: FakeGitHub
) -> None:
    seeded(github_server)
    github_server.set_time(START)
    issues = github_server.seed_issues(REPO, 250, labels=0)
    config = write_github_config(
        tmp_path,
        issues=[{"key": f"i{i.number}", "number": i.number, "title": i.title} for i in issues],
    )
    set_github_option(config, 'api = "rest"')
    cli = Cli(tmp_path, github_server)
    github_server.advance_time(PAST_THE_OVERLAP)
    github_server.reset_log()
    assert cli("plan").code == 0
    assert requests(github_server) == 1 + 3, "labels and the whole list"

    github_server.advance_time(PAST_THE_OVERLAP)
    github_server.state.edit_issue(github_server.issue(REPO, 200), title="Edited")
    github_server.reset_log()
    plan = agreed_plan(cli)
    assert updated(plan) == {"issue.i200"}
    issue_reads = [e for e in github_server.log.entries() if e.path.endswith("/issues")]
    assert len(issue_reads) == 1 + 3, "one list of what moved, then the full read's pages"
