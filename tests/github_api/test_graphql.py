"""GraphQL against the fake: aliased reads and mutations, pagination, GitHub's error shapes."""

from __future__ import annotations

from typing import Any

import pytest

from .server import FakeGitHub

REPOSITORY = "octo-org/planner-demo"


def post_graphql(
    server: FakeGitHub, query: str, variables: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Post a raw document through PyGithub's requester, as planner does."""
    client = server.github()
    requester = client.requester
    _, body = requester.requestJsonAndCheck(
        "POST", requester.graphql_url, input={"query": query, "variables": variables or {}}
    )
    assert isinstance(body, dict)
    return body


@pytest.fixture
def repository(github_server: FakeGitHub) -> FakeGitHub:
    github_server.create_repository(REPOSITORY)
    github_server.add_label(REPOSITORY, "bug", "d73a4a")
    github_server.add_label(REPOSITORY, "docs", "0075ca")
    github_server.add_milestone(REPOSITORY, "v1")
    github_server.add_user("alice")
    return github_server


def test_graphql_url_is_derived_by_pygithub(repository: FakeGitHub) -> None:
    assert repository.github().requester.graphql_url == repository.graphql_url
    enterprise = repository.github(base_url=repository.enterprise_url)
    assert enterprise.requester.graphql_url == f"{repository.url}/api/graphql"

    body = post_graphql(repository, "{ viewer { login } }")

    assert body == {"data": {"viewer": {"login": "planner-bot"}}}


def test_aliased_reads_of_150_issues_by_number(repository: FakeGitHub) -> None:
    for number in range(1, 151):
        repository.add_issue(REPOSITORY, f"Issue {number}", label_names=["bug"])
    aliases = "\n".join(f"i{n}: issue(number: {n}) {{ ...IssueFields }}" for n in range(1, 151))
    query = f"""
        query {{
          repository(owner: "octo-org", name: "planner-demo") {{ id nameWithOwner {aliases} }}
          rateLimit {{ cost limit remaining resetAt used }}
        }}
        fragment IssueFields on Issue {{
          id number title body state stateReason updatedAt createdAt url
          repository {{ nameWithOwner }}
          labels(first: 10) {{ nodes {{ id name }} }}
          assignees(first: 10) {{ nodes {{ id login }} }}
          milestone {{ id title number }}
        }}
    """

    body = post_graphql(repository, query)

    assert "errors" not in body
    issues = body["data"]["repository"]
    assert [issues[f"i{n}"]["number"] for n in range(1, 151)] == list(range(1, 151))
    assert issues["i7"]["labels"]["nodes"][0]["name"] == "bug"
    assert issues["i7"]["state"] == "OPEN" and issues["i7"]["stateReason"] is None
    assert body["data"]["rateLimit"]["cost"] >= 1
    entry = repository.log.entries("graphql-query")[-1]
    assert entry.graphql_fields == 2  # repository + rateLimit at the root


def test_missing_issue_is_null_with_not_found_error(repository: FakeGitHub) -> None:
    repository.add_issue(REPOSITORY, "Only one")

    body = post_graphql(
        repository,
        'query { repository(owner: "octo-org", name: "planner-demo") '
        "{ a: issue(number: 1) { title } b: issue(number: 99) { title } } }",
    )

    assert body["data"]["repository"] == {"a": {"title": "Only one"}, "b": None}
    (error,) = body["errors"]
    assert error["type"] == "NOT_FOUND"
    assert error["path"] == ["repository", "b"]
    assert error["locations"]


def test_aliased_mutations_run_in_order_with_one_failing_alias(repository: FakeGitHub) -> None:
    first = repository.add_issue(REPOSITORY, "First")
    second = repository.add_issue(REPOSITORY, "Second")
    bug = repository.repository(REPOSITORY).label_named("bug")
    assert bug is not None
    query = f"""
        mutation {{
          c1: closeIssue(input: {{issueId: "{first.node_id}", stateReason: NOT_PLANNED}}) {{
            issue {{ number state stateReason updatedAt }}
          }}
          c2: closeIssue(input: {{issueId: "I_doesNotExist"}}) {{ issue {{ number }} }}
          l3: addLabelsToLabelable(input: {{labelableId: "{second.node_id}",
                                            labelIds: ["{bug.node_id}"]}}) {{
            labelable {{ ... on Issue {{ number labels(first: 5) {{ nodes {{ name }} }} }} }}
          }}
        }}
    """
    repository.advance_time(60)

    body = post_graphql(repository, query)

    assert body["data"]["c1"]["issue"]["stateReason"] == "NOT_PLANNED"
    assert body["data"]["c2"] is None
    assert body["data"]["l3"]["labelable"]["labels"]["nodes"] == [{"name": "bug"}]
    (error,) = body["errors"]
    assert error["path"] == ["c2"] and error["type"] == "NOT_FOUND"
    assert first.state == "closed" and first.state_reason == "not_planned"
    assert first.updated_at > first.created_at
    (entry,) = repository.log.entries("graphql-mutation")
    assert entry.graphql_fields == 3


def test_issue_mutations_cover_the_planner_surface(repository: FakeGitHub) -> None:
    repo_id = repository.repository(REPOSITORY).node_id
    milestone = repository.repository(REPOSITORY).milestones[1]
    alice = repository.state.get_user("alice")
    other = repository.create_repository("octo-org/elsewhere")

    created = post_graphql(
        repository,
        "mutation($input: CreateIssueInput!) { createIssue(input: $input) "
        "{ issue { id number title } } }",
        {"input": {"repositoryId": repo_id, "title": "Made by GraphQL", "body": "text"}},
    )["data"]["createIssue"]["issue"]
    label = post_graphql(
        repository,
        f'mutation {{ createLabel(input: {{repositoryId: "{repo_id}", name: "area", '
        'color: "ffffff"}) { label { id name } } }',
    )["data"]["createLabel"]["label"]
    updated = post_graphql(
        repository,
        "mutation($input: UpdateIssueInput!) { updateIssue(input: $input) { issue { "
        "title labels(first: 5) { nodes { name } } assignees(first: 5) { nodes { login } } "
        "milestone { number } } } }",
        {
            "input": {
                "id": created["id"],
                "title": "Renamed",
                "labelIds": [label["id"]],
                "assigneeIds": [alice.node_id],
                "milestoneId": milestone.node_id,
            }
        },
    )["data"]["updateIssue"]["issue"]
    comment = post_graphql(
        repository,
        f'mutation {{ addComment(input: {{subjectId: "{created["id"]}", body: "hi"}}) '
        "{ commentEdge { node { id body } } } }",
    )["data"]["addComment"]["commentEdge"]["node"]
    post_graphql(
        repository,
        f'mutation {{ updateIssueComment(input: {{id: "{comment["id"]}", body: "edited"}}) '
        "{ issueComment { body } } }",
    )
    moved = post_graphql(
        repository,
        f'mutation {{ transferIssue(input: {{issueId: "{created["id"]}", '
        f'repositoryId: "{other.node_id}"}}) {{ issue {{ number repository '
        "{ nameWithOwner } } } }",
    )["data"]["transferIssue"]["issue"]

    assert updated == {
        "title": "Renamed",
        "labels": {"nodes": [{"name": "area"}]},
        "assignees": {"nodes": [{"login": "alice"}]},
        "milestone": {"number": 1},
    }
    assert moved == {"number": 1, "repository": {"nameWithOwner": "octo-org/elsewhere"}}
    assert repository.issue("octo-org/elsewhere", 1).comments[0].body == "edited"

    deleted = post_graphql(
        repository,
        f'mutation {{ deleteIssue(input: {{issueId: "{created["id"]}"}}) '
        "{ repository { nameWithOwner } } }",
    )
    assert deleted["data"]["deleteIssue"]["repository"]["nameWithOwner"] == "octo-org/elsewhere"
    gone = post_graphql(repository, f'{{ node(id: "{created["id"]}") {{ id }} }}')
    assert gone["data"]["node"] is None and gone["errors"][0]["type"] == "NOT_FOUND"


def test_issues_connection_pages_with_since_and_order(repository: FakeGitHub) -> None:
    repository.set_time("2026-01-01T00:00:00Z")
    for number in range(1, 8):
        repository.add_issue(REPOSITORY, f"Issue {number}")
        repository.advance_time(10)
    old = repository.issue(REPOSITORY, 2)
    repository.state.close_issue(old, "completed")
    query = """
        query($after: String) {
          repository(owner: "octo-org", name: "planner-demo") {
            issues(first: 3, after: $after, filterBy: {since: "2026-01-01T00:00:30Z",
                   states: [OPEN, CLOSED]}, orderBy: {field: UPDATED_AT, direction: ASC}) {
              totalCount
              pageInfo { hasNextPage endCursor }
              nodes { number updatedAt }
            }
          }
        }
    """

    seen: list[int] = []
    cursor = None
    while True:
        page = post_graphql(repository, query, {"after": cursor})["data"]["repository"]["issues"]
        seen += [node["number"] for node in page["nodes"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        cursor = page["pageInfo"]["endCursor"]

    assert seen == [4, 5, 6, 7, 2]
    assert page["totalCount"] == 5


def test_users_nodes_and_rate_limit(repository: FakeGitHub) -> None:
    issue = repository.add_issue(REPOSITORY, "A")
    aliases = " ".join(f'u{index}: user(login: "alice") {{ login }}' for index in range(20))

    body = post_graphql(
        repository,
        f'{{ {aliases} nodes(ids: ["{issue.node_id}", "nope"]) {{ id ... on Issue '
        "{ title } } rateLimit { cost limit remaining used resetAt } }",
    )

    assert body["data"]["u19"] == {"login": "alice"}
    assert body["data"]["nodes"][0] == {"id": issue.node_id, "title": "A"}
    assert body["data"]["nodes"][1] is None
    assert body["errors"][0]["path"] == ["nodes", 1]
    rate = body["data"]["rateLimit"]
    assert rate["limit"] == 5000 and rate["used"] == 1 and rate["remaining"] == 4999


def test_document_github_would_refuse_is_a_violation(repository: FakeGitHub) -> None:
    invalid = post_graphql(repository, "{ viewer { login noSuchField } }")
    unbounded = post_graphql(
        repository,
        'query { repository(owner: "octo-org", name: "planner-demo") { issues { totalCount } } }',
    )
    oversized = post_graphql(
        repository,
        'query { repository(owner: "octo-org", name: "planner-demo") '
        "{ labels(first: 101) { totalCount } } }",
    )

    assert "data" not in invalid and "noSuchField" in invalid["errors"][0]["message"]
    assert unbounded["errors"][0]["type"] == "MISSING_PAGINATION_BOUNDARIES"
    assert oversized["errors"][0]["type"] == "EXCESSIVE_PAGINATION"
    reasons = [violation.reason for violation in repository.take_violations()]
    assert len(reasons) == 3
    assert "noSuchField" in reasons[0]
