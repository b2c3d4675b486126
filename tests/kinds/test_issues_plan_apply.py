"""Issues end to end through the CLI against the local GitHub API: create, update, adopt, drift."""

from __future__ import annotations

from pathlib import Path

from tests.github_api import FakeGitHub
from tests.kinds.test_issues_support import (
    OTHER_REPO,
    REPO,
    Cli,
    actions,
    seeded,
    write_github_config,
)


def test_create_then_second_plan_is_a_no_op(tmp_path: Path, github_server: FakeGitHub) -> None:
    seeded(github_server)
    write_github_config(
        tmp_path,
        issues=[
            {
                "key": "release-checklist",
                "title": "Release checklist",
                "body": "- [ ] tag\n",
                "labels": ["bug"],
                "assignees": ["alice"],
                "milestone": "v1.0",
            }
        ],
    )
    cli = Cli(tmp_path, github_server)

    plan = cli("plan")
    assert plan.code == 0, plan.output
    assert "+ issue.release-checklist" in plan.stdout
    assert "Plan: 1 to add, 0 to change, 0 to destroy." in plan.stdout
    assert "planner:key" not in plan.stdout
    assert github_server.issues(REPO) == []

    applied = cli("apply", "--auto-approve")
    assert applied.code == 0, applied.output
    [issue] = github_server.issues(REPO)
    assert issue.title == "Release checklist"
    assert issue.body.startswith("- [ ] tag\n") and "<!-- planner:key=release-checklist -->" in (
        issue.body
    )
    assert [label.name for label in issue.labels] == ["bug"]
    assert issue.assignees == ["alice"]
    assert issue.milestone is not None and issue.milestone.title == "v1.0"
    record = cli.state()["issues"]["release-checklist"]
    assert record["number"] == issue.number and record["created"] is True

    again = cli("plan", "--detailed-exitcode")
    assert again.code == 0, again.output
    assert "No changes." in again.stdout


def test_close_with_each_reason_then_reopen_touches_only_declared_fields(
    tmp_path: Path, github_server: FakeGitHub
) -> None:
    seeded(github_server)
    number = github_server.add_issue(REPO, "Keep my title", body="keep my body").number
    cli = Cli(tmp_path, github_server)

    for state, reason in (("closed", "completed"), ("closed", "not_planned")):
        write_github_config(
            tmp_path,
            issues=[{"key": "old", "number": number, "state": state, "state_reason": reason}],
        )
        applied = cli("apply", "--auto-approve")
        assert applied.code == 0, applied.output
        issue = github_server.issue(REPO, number)
        assert (issue.state, issue.state_reason) == (state, reason)
    assert "~ state_reason: 'completed' -> 'not_planned'" in applied.stdout

    write_github_config(tmp_path, issues=[{"key": "old", "number": number, "state": "open"}])
    reopened = cli("apply", "--auto-approve")
    assert reopened.code == 0, reopened.output
    issue = github_server.issue(REPO, number)
    assert issue.state == "open"
    assert (issue.title, issue.body) == ("Keep my title", "keep my body")
    assert cli.state()["issues"]["old"]["created"] is False


def test_labels_assignees_and_milestone_are_exact_sets_on_an_adopted_issue(
    tmp_path: Path, github_server: FakeGitHub
) -> None:
    seeded(github_server)
    github_server.add_label(REPO, "docs")
    number = github_server.add_issue(
        REPO, "Adopted", label_names=["bug", "docs"], assignees=["alice"]
    ).number
    write_github_config(
        tmp_path,
        labels=[{"name": "release", "color": "0e8a16"}],
        issues=[
            {
                "key": "adopted",
                "number": number,
                "labels": ["docs", "release"],
                "assignees": ["bob"],
                "milestone": "v1.0",
            }
        ],
    )
    cli = Cli(tmp_path, github_server)

    plan = cli("plan")
    assert plan.code == 0, plan.output
    assert "+ label.octo-org/octo-repo/release" in plan.stdout
    assert "~ labels: ['bug', 'docs'] -> ['docs', 'release']" in plan.stdout
    assert "~ assignees: ['alice'] -> ['bob']" in plan.stdout
    applied = cli("apply", "--auto-approve")
    assert applied.code == 0, applied.output

    issue = github_server.issue(REPO, number)
    assert sorted(label.name for label in issue.labels) == ["docs", "release"]
    assert issue.assignees == ["bob"]
    assert issue.milestone is not None and issue.milestone.title == "v1.0"
    assert issue.title == "Adopted"

    write_github_config(
        tmp_path,
        labels=[{"name": "release", "color": "0e8a16"}],
        issues=[{"key": "adopted", "number": number, "labels": [], "milestone": ""}],
    )
    assert cli("apply", "--auto-approve").code == 0
    issue = github_server.issue(REPO, number)
    assert issue.labels == [] and issue.milestone is None
    assert issue.assignees == ["bob"], "assignees were left out, so they are not managed"


def test_issues_in_two_repositories(tmp_path: Path, github_server: FakeGitHub) -> None:
    seeded(github_server, REPO, OTHER_REPO)
    write_github_config(
        tmp_path,
        issues=[
            {"key": "here", "title": "In the default repository"},
            {"key": "there", "repo": OTHER_REPO, "title": "In the other one", "labels": ["bug"]},
        ],
    )
    cli = Cli(tmp_path, github_server)

    applied = cli("apply", "--auto-approve")

    assert applied.code == 0, applied.output
    assert [i.title for i in github_server.issues(REPO)] == ["In the default repository"]
    assert [i.title for i in github_server.issues(OTHER_REPO)] == ["In the other one"]
    assert cli.state()["issues"]["there"]["repo"] == OTHER_REPO
    assert cli("plan", "--detailed-exitcode").code == 0


def test_drift_is_shown_and_repaired(tmp_path: Path, github_server: FakeGitHub) -> None:
    seeded(github_server)
    write_github_config(
        tmp_path, issues=[{"key": "tracked", "title": "Tracked", "body": "declared body"}]
    )
    cli = Cli(tmp_path, github_server)
    assert cli("apply", "--auto-approve").code == 0
    [issue] = github_server.issues(REPO)

    github_server.state.edit_issue(issue, title="Edited on GitHub", state="closed")
    drift = cli("plan", "--detailed-exitcode")
    assert drift.code == 2, drift.output
    assert "~ issue.tracked" in drift.stdout
    assert "~ title: 'Edited on GitHub' -> 'Tracked'" in drift.stdout
    assert "Plan: 0 to add, 1 to change, 0 to destroy." in drift.stdout

    repaired = cli("apply", "--auto-approve")
    assert repaired.code == 0, repaired.output
    issue = github_server.issue(REPO, issue.number)
    assert issue.title == "Tracked" and issue.state == "closed", "state is not managed"
    assert issue.body.startswith("declared body") and "planner:key=tracked" in issue.body
    assert len(github_server.issues(REPO)) == 1


def test_saved_plan_applies_and_a_stale_one_is_refused(
    tmp_path: Path, github_server: FakeGitHub
) -> None:
    seeded(github_server)
    number = github_server.add_issue(REPO, "Before").number
    write_github_config(tmp_path, issues=[{"key": "a", "number": number, "title": "After"}])
    cli = Cli(tmp_path, github_server)

    assert cli("plan", "--out", "first.plan").code == 0
    github_server.state.edit_issue(github_server.issue(REPO, number), body="edited meanwhile")
    stale = cli("apply", "first.plan")
    assert stale.code == 1, stale.output
    assert "stale plan" in stale.stderr and "issue.a" in stale.stderr
    assert github_server.issue(REPO, number).title == "Before"

    assert cli("plan", "--out", "second.plan").code == 0
    applied = cli("apply", "second.plan")
    assert applied.code == 0, applied.output
    assert github_server.issue(REPO, number).title == "After"


def test_an_undeclared_issue_is_forgotten_not_closed(
    tmp_path: Path, github_server: FakeGitHub
) -> None:
    seeded(github_server)
    write_github_config(tmp_path, issues=[{"key": "temporary", "title": "Temporary"}])
    cli = Cli(tmp_path, github_server)
    assert cli("apply", "--auto-approve").code == 0

    write_github_config(tmp_path, issues=[])
    plan = cli.plan_json()
    assert actions(plan) == {"issue.temporary": "forget"}
    applied = cli("apply", "--auto-approve")
    assert applied.code == 0, applied.output

    assert cli.state()["issues"] == {}
    [issue] = github_server.issues(REPO)
    assert issue.state == "open"


def test_unknown_label_milestone_or_user_is_a_one_sentence_error(
    tmp_path: Path, github_server: FakeGitHub
) -> None:
    seeded(github_server)
    cli = Cli(tmp_path, github_server)
    for field, value, says in (
        ("labels", ["nope"], "the label 'nope' does not exist in octo-org/octo-repo"),
        ("milestone", "v9", "the milestone 'v9' does not exist"),
        ("assignees", ["ghost"], "the assignee 'ghost' is not a GitHub user"),
    ):
        write_github_config(tmp_path, issues=[{"key": "x", "title": "X", field: value}])
        plan = cli("plan")
        assert plan.code == 1, plan.output
        assert says in plan.stderr and "issue.x" in plan.stderr
        assert len(plan.stderr.strip().splitlines()) == 1
    assert github_server.issues(REPO) == []
