"""Issues when things go wrong: lost answers, resume, rollback, GitHub faults, the token."""

from __future__ import annotations

from pathlib import Path

from tests.github_api import FakeGitHub
from tests.kinds.test_issues_support import REPO, Cli, seeded, write_github_config


def test_a_lost_create_answer_is_looked_up_on_resume_and_not_created_twice(
    tmp_path: Path, github_server: FakeGitHub
) -> None:
    seeded(github_server)
    write_github_config(
        tmp_path,
        max_wait=0,
        issues=[
            {"key": "one", "title": "One", "state": "closed", "state_reason": "not_planned"},
            {"key": "two", "title": "Two"},
        ],
    )
    cli = Cli(tmp_path, github_server)
    dropped = github_server.drop_response_after_apply(operation="createIssue")
    # The lookup that would find the created issues at once is refused too, so the apply
    # stops and only resume can find them.
    github_server.primary_rate_limit(
        kinds="graphql-query", predicate=lambda facts: dropped.fired > 0
    )

    stopped = cli("apply", "--auto-approve")
    assert stopped.code == 3, stopped.output
    assert "rate limit" in stopped.stderr and "planner resume" in stopped.stderr
    assert len(github_server.issues(REPO)) == 2, "the request was applied, its answer lost"

    resumed = cli("resume")
    assert resumed.code == 0, resumed.output
    issues = {i.title: i for i in github_server.issues(REPO)}
    assert sorted(issues) == ["One", "Two"], "no duplicate was created"
    assert (issues["One"].state, issues["One"].state_reason) == ("closed", "not_planned")
    state = cli.state()["issues"]
    assert {key: record["number"] for key, record in state.items()} == {
        "one": issues["One"].number,
        "two": issues["Two"].number,
    }
    assert cli("plan", "--detailed-exitcode").code == 0


def test_a_lost_answer_is_recovered_within_the_apply(
    tmp_path: Path, github_server: FakeGitHub
) -> None:
    seeded(github_server)
    write_github_config(tmp_path, issues=[{"key": "only", "title": "Only once"}])
    github_server.drop_response_after_apply(operation="createIssue")

    applied = Cli(tmp_path, github_server)("apply", "--auto-approve")

    assert applied.code == 0, applied.output
    assert [i.title for i in github_server.issues(REPO)] == ["Only once"]


def test_a_plan_after_an_abandoned_apply_finds_the_issue_it_created(
    tmp_path: Path, github_server: FakeGitHub
) -> None:
    seeded(github_server)
    write_github_config(tmp_path, issues=[{"key": "found", "title": "Found"}])
    number = github_server.add_issue(
        REPO, "Created, answer lost", body="<!-- planner:key=found -->"
    ).number
    cli = Cli(tmp_path, github_server)

    plan = cli("plan")

    assert plan.code == 0, plan.output
    assert "~ issue.found" in plan.stdout and "found by the marker" in plan.stdout
    assert "Plan: 0 to add, 1 to change, 0 to destroy." in plan.stdout
    assert cli("apply", "--auto-approve").code == 0
    record = cli.state()["issues"]["found"]
    assert (record["number"], record["created"]) == (number, True)
    [issue] = github_server.issues(REPO)
    assert issue.title == "Found" and issue.body == "<!-- planner:key=found -->"


def test_rollback_restores_updates_closes_creations_and_deletes_created_labels(
    tmp_path: Path, github_server: FakeGitHub
) -> None:
    seeded(github_server)
    number = github_server.add_issue(REPO, "Original title", label_names=["bug"]).number
    write_github_config(
        tmp_path,
        labels=[{"name": "new-label", "color": "112233"}, {"name": "bug", "color": "000000"}],
        issues=[
            {"key": "adopted", "number": number, "title": "Changed", "labels": ["new-label"]},
            {"key": "fresh", "title": "Fresh", "labels": ["new-label"]},
        ],
    )
    cli = Cli(tmp_path, github_server)
    assert cli("apply", "--auto-approve").code == 0
    fresh = next(i for i in github_server.issues(REPO) if i.title == "Fresh")

    plan = cli("rollback", "--auto-approve")

    assert plan.code == 0, plan.output
    assert "closed as not planned" in plan.stdout and "admins" in plan.stdout
    adopted = github_server.issue(REPO, number)
    assert adopted.title == "Original title"
    assert [label.name for label in adopted.labels] == ["bug"]
    fresh = github_server.issue(REPO, fresh.number)
    assert (fresh.state, fresh.state_reason) == ("closed", "not_planned")
    labels = {label.name: label.color for label in github_server.labels(REPO)}
    assert labels == {"bug": "d73a4a"}
    state = cli.state()
    assert state["issues"] == {} and state["labels"] == {}
    assert len(github_server.issues(REPO)) == 2


def test_a_502_is_retried_and_a_secondary_limit_is_waited_out(
    tmp_path: Path, github_server: FakeGitHub
) -> None:
    seeded(github_server)
    write_github_config(tmp_path, issues=[{"key": "a", "title": "A"}])
    github_server.fail_next(502, kinds="graphql-query")
    github_server.fail_next(502, kinds="graphql-mutation")
    github_server.secondary_rate_limit(kinds="graphql-mutation", retry_after=1)

    applied = Cli(tmp_path, github_server)("apply", "--auto-approve")

    assert applied.code == 0, applied.output
    assert [i.title for i in github_server.issues(REPO)] == ["A"]
    faults = [e.fault for e in github_server.log.entries() if e.fault]
    assert faults == ["server_error", "server_error", "secondary_rate_limit"]


def test_a_primary_limit_beyond_max_wait_stops_resumably(
    tmp_path: Path, github_server: FakeGitHub
) -> None:
    seeded(github_server)
    write_github_config(tmp_path, max_wait=5, issues=[{"key": "a", "title": "A"}])
    github_server.primary_rate_limit(kinds="graphql-mutation", reset_in_seconds=3600)
    cli = Cli(tmp_path, github_server)

    stopped = cli("apply", "--auto-approve")

    assert stopped.code == 3, stopped.output
    assert "primary rate limit" in stopped.stderr and "max_wait = 5 s" in stopped.stderr
    assert "try again after" in stopped.stderr
    assert github_server.issues(REPO) == []
    resumed = cli("resume")
    assert resumed.code == 0, resumed.output
    assert [i.title for i in github_server.issues(REPO)] == ["A"]


def test_a_bad_token_or_missing_repository_fails_at_once_in_one_sentence(
    tmp_path: Path, github_server: FakeGitHub
) -> None:
    seeded(github_server)
    write_github_config(tmp_path, issues=[{"key": "a", "title": "A"}])

    refused = Cli(tmp_path, github_server, token="ghp_wrong")("plan")
    assert refused.code == 1, refused.output
    assert "GitHub refused the token (HTTP 401" in refused.stderr
    assert len(refused.stderr.strip().splitlines()) == 1
    assert github_server.counts()["graphql-query"] == 1, "a 401 is not retried"

    write_github_config(tmp_path, repo="octo-org/missing", issues=[{"key": "a", "title": "A"}])
    missing = Cli(tmp_path, github_server)("plan")
    assert missing.code == 1, missing.output
    assert "the repository octo-org/missing does not exist" in missing.stderr
    assert github_server.counts()["graphql-query"] == 2
    github_server.take_violations()


def test_rollback_of_an_apply_stopped_partway_closes_only_what_it_created(
    tmp_path: Path, github_server: FakeGitHub
) -> None:
    seeded(github_server)
    write_github_config(
        tmp_path, max_wait=0, issues=[{"key": f"n{n}", "title": f"N{n}"} for n in range(60)]
    )
    mutations_seen: list[object] = []

    def second_mutation(facts: object) -> bool:
        mutations_seen.append(facts)
        return len(mutations_seen) == 2

    github_server.primary_rate_limit(kinds="graphql-mutation", predicate=second_mutation)
    cli = Cli(tmp_path, github_server)

    stopped = cli("apply", "--auto-approve")
    assert stopped.code == 3, stopped.output
    assert len(github_server.issues(REPO)) == 50
    status = cli("status")
    assert status.code == 0, status.output

    rolled_back = cli("rollback", "--auto-approve")

    assert rolled_back.code == 0, rolled_back.output
    issues = github_server.issues(REPO)
    assert len(issues) == 50, "rollback creates nothing"
    assert {(i.state, i.state_reason) for i in issues} == {("closed", "not_planned")}
    assert cli("resume").code == 0 and "Nothing to resume" in cli("resume").stdout
