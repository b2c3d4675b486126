"""PyGithub, unchanged, against the fake's REST API (responses checked against the schemas)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import github
import pytest
import requests

from .server import FakeGitHub

REPOSITORY = "octo-org/planner-demo"


@pytest.fixture
def github_server_options() -> dict[str, Any]:
    # Keep the fake's own response shapes honest in these tests.
    return {"validate_responses": True}


@pytest.fixture
def server(github_server: FakeGitHub) -> FakeGitHub:
    github_server.create_repository(REPOSITORY)
    github_server.add_label(REPOSITORY, "bug", "d73a4a", "Something is broken")
    github_server.add_user("alice")
    return github_server


def test_lazy_repository_costs_no_request(server: FakeGitHub) -> None:
    client = server.github(lazy=True)

    repo = client.get_repo(REPOSITORY)

    assert server.counts()["rest-read"] == 0
    assert repo.full_name == REPOSITORY
    assert repo.node_id.startswith("R_")
    assert repo.url == f"{server.url}/repos/{REPOSITORY}"


def test_issue_listing_paginates_with_link_headers(server: FakeGitHub) -> None:
    for number in range(1, 46):
        server.add_issue(REPOSITORY, f"Issue {number}", label_names=["bug"] if number % 3 else [])
    closed = server.issue(REPOSITORY, 5)
    server.state.close_issue(closed)
    client = server.github(per_page=10, lazy=True)
    repo = client.get_repo(REPOSITORY)

    everything = [issue.number for issue in repo.get_issues(state="all")]
    open_bugs = list(repo.get_issues(state="open", labels=["bug"]))
    oldest_first = repo.get_issues(state="all", sort="created", direction="asc")
    # totalCount first: once a page is read, PyGithub drops the filters from its count request.
    total = oldest_first.totalCount

    assert everything == list(range(45, 0, -1))
    assert server.counts()["rest-read"] >= 5
    assert 5 not in {issue.number for issue in open_bugs}
    assert all(issue.labels[0].name == "bug" for issue in open_bugs)
    assert oldest_first[0].number == 1
    assert total == 45


def test_since_filter_uses_updated_at(server: FakeGitHub) -> None:
    server.set_time("2026-02-01T10:00:00Z")
    server.add_issue(REPOSITORY, "Old")
    server.advance_time(3600)
    server.add_issue(REPOSITORY, "New")
    repo = server.github(lazy=True).get_repo(REPOSITORY)

    recent = list(repo.get_issues(state="all", since=datetime(2026, 2, 1, 10, 30, tzinfo=UTC)))

    assert [issue.title for issue in recent] == ["New"]


def test_create_edit_close_issue_with_labels_and_milestone(server: FakeGitHub) -> None:
    server.clock.seconds_per_write = 1
    repo = server.github(lazy=True).get_repo(REPOSITORY)
    milestone = repo.create_milestone("v1", description="First")

    issue = repo.create_issue("Broken", body="Steps", labels=["bug"], assignees=["alice"])
    created_at = issue.updated_at
    issue.edit(milestone=milestone, title="Still broken")
    issue.edit(state="closed", state_reason="not_planned")
    issue.add_to_labels("triage")
    issue.remove_from_labels("bug")
    issue.edit(milestone=None)

    fetched = repo.get_issue(issue.number)
    assert fetched.title == "Still broken"
    assert fetched.state == "closed" and fetched.state_reason == "not_planned"
    assert [label.name for label in fetched.labels] == ["triage"]
    assert fetched.assignees[0].login == "alice"
    assert fetched.milestone is None
    assert fetched.updated_at > created_at
    assert [m.title for m in repo.get_milestones(state="all")] == ["v1"]
    stored = server.issue(REPOSITORY, issue.number)
    assert stored.closed_at is not None

    fetched.edit(state="open")
    assert server.issue(REPOSITORY, issue.number).state_reason == "reopened"
    fetched.set_labels("bug", "docs")
    assert [label.name for label in fetched.get_labels()] == ["bug", "docs"]
    fetched.set_labels()
    assert server.issue(REPOSITORY, issue.number).labels == []


def test_labels_crud(server: FakeGitHub) -> None:
    repo = server.github(lazy=True).get_repo(REPOSITORY)

    created = repo.create_label("needs info", "fbca04", "Waiting on the reporter")
    created.edit("needs-info", "ffffff", "Renamed")
    listed = [label.name for label in repo.get_labels()]
    repo.get_label("needs-info").delete()

    assert listed == ["bug", "needs-info"]
    assert [label.name for label in server.labels(REPOSITORY)] == ["bug"]
    with pytest.raises(github.GithubException) as refused:
        repo.create_label("BUG", "000000")
    assert refused.value.status == 422
    assert refused.value.data["errors"][0]["code"] == "already_exists"


def test_comments_and_assignees(server: FakeGitHub) -> None:
    repo = server.github(lazy=True).get_repo(REPOSITORY)
    issue = repo.create_issue("Discuss")

    comment = issue.create_comment("First!")
    comment.edit("First, edited")
    issue.add_to_assignees("alice")
    comments = [c.body for c in issue.get_comments()]
    comment.delete()
    issue.remove_from_assignees("alice")

    assert comments == ["First, edited"]
    assert server.issue(REPOSITORY, issue.number).comments == []
    assert server.issue(REPOSITORY, issue.number).assignees == []


def test_users_and_rate_limit(server: FakeGitHub) -> None:
    client = server.github()

    me = client.get_user()
    alice = client.get_user("alice")
    limits = client.get_rate_limit()

    assert me.login == "planner-bot"
    assert alice.login == "alice"
    assert limits.resources.core.limit == 5000
    # Only GET /users/alice had run (PyGithub loads the viewer lazily; /rate_limit is free).
    assert limits.resources.core.remaining == 4999


def test_bad_token_gets_401(server: FakeGitHub) -> None:
    client = server.github(auth=github.Auth.Token("ghp_wrong"))

    with pytest.raises(github.BadCredentialsException) as refused:
        client.get_repo(REPOSITORY)

    assert refused.value.status == 401
    assert refused.value.data["message"] == "Bad credentials"


def test_anonymous_reads_public_but_not_private(server: FakeGitHub) -> None:
    server.create_repository("octo-org/secret", private=True)
    anonymous = server.github(auth=None)

    public = anonymous.get_repo(REPOSITORY)
    with pytest.raises(github.UnknownObjectException):
        anonymous.get_repo("octo-org/secret")
    with pytest.raises(github.GithubException) as refused:
        public.create_issue("Nope")

    assert public.private is False
    assert refused.value.status == 401
    answer = requests.get(f"{server.url}/repos/{REPOSITORY}", timeout=5)
    assert answer.headers["X-RateLimit-Limit"] == "60"


def test_etag_repeat_gets_304_without_rate_limit_cost(server: FakeGitHub) -> None:
    repo = server.github().get_repo(REPOSITORY)
    remaining_before = server.log.entries()[-1].rate_limit_cost

    unchanged = repo.update()
    server.add_issue(REPOSITORY, "Changes open_issues_count")
    changed = repo.update()

    assert remaining_before == 1
    assert unchanged is False
    assert changed is True
    statuses = [entry.status for entry in server.log.entries()]
    costs = [entry.rate_limit_cost for entry in server.log.entries()]
    assert statuses == [200, 304, 200]
    assert costs == [1, 0, 1]


def test_enterprise_layout(server: FakeGitHub) -> None:
    client = server.github(base_url=server.enterprise_url)

    repo = client.get_repo(REPOSITORY)
    issue = repo.create_issue("Via /api/v3")

    assert repo.url == f"{server.enterprise_url}/repos/{REPOSITORY}"
    assert issue.number == 1


def test_transferred_and_deleted_issues(server: FakeGitHub) -> None:
    other = server.create_repository("octo-org/elsewhere")
    moved = server.add_issue(REPOSITORY, "Moves")
    doomed = server.add_issue(REPOSITORY, "Vanishes")
    server.state.transfer_issue(moved, other)
    server.state.delete_issue(doomed)
    repo = server.github().get_repo(REPOSITORY)

    followed = repo.get_issue(1)
    with pytest.raises(github.GithubException) as gone:
        repo.get_issue(2)

    assert followed.repository.full_name == "octo-org/elsewhere"
    assert gone.value.status == 410
