"""Each injected fault, seen through PyGithub and raw HTTP as a client would see it."""

from __future__ import annotations

import time

import github
import pytest
import requests

from .server import FakeGitHub

REPOSITORY = "octo-org/planner-demo"


@pytest.fixture
def server(github_server: FakeGitHub) -> FakeGitHub:
    github_server.create_repository(REPOSITORY)
    github_server.add_issue(REPOSITORY, "Existing")
    return github_server


def graphql(server: FakeGitHub, query: str, timeout: float = 5) -> requests.Response:
    return requests.post(
        server.graphql_url,
        json={"query": query},
        headers={"Authorization": f"bearer {server.token}"},
        timeout=timeout,
    )


def close_mutation(server: FakeGitHub) -> str:
    node_id = server.issue(REPOSITORY, 1).node_id
    return f'mutation {{ closeIssue(input: {{issueId: "{node_id}"}}) {{ issue {{ state }} }} }}'


@pytest.mark.parametrize("status", [500, 502, 503])
def test_server_errors_for_the_next_request_only(server: FakeGitHub, status: int) -> None:
    server.fail_next(status=status, kinds={"rest-write"})
    repo = server.github(lazy=True).get_repo(REPOSITORY)

    with pytest.raises(github.GithubException) as failed:
        repo.create_issue("Lost")
    repo.create_issue("Kept")

    assert failed.value.status == status
    assert [issue.title for issue in server.issues(REPOSITORY)] == ["Existing", "Kept"]
    assert [entry.fault for entry in server.log.entries()] == ["server_error", None]


def test_server_error_after_applying(server: FakeGitHub) -> None:
    server.fail_next(status=502, apply_change=True, operation="closeIssue")

    answer = graphql(server, close_mutation(server))

    assert answer.status_code == 502
    assert server.issue(REPOSITORY, 1).state == "closed"


def test_latency_and_delay(server: FakeGitHub) -> None:
    server.set_latency(0.1)
    started = time.monotonic()
    server.github().get_repo(REPOSITORY)
    assert time.monotonic() - started >= 0.1
    server.set_latency(0)

    server.delay_next(1.0, kinds={"rest-read"})
    with pytest.raises(requests.exceptions.ReadTimeout):
        requests.get(
            f"{server.url}/repos/{REPOSITORY}",
            headers={"Authorization": f"token {server.token}"},
            timeout=0.3,
        )


def test_secondary_rate_limit_403_and_429(server: FakeGitHub) -> None:
    server.secondary_rate_limit(status=403, retry_after=7)
    server.secondary_rate_limit(status=429, retry_after=3)
    client = server.github()

    with pytest.raises(github.RateLimitExceededException) as forbidden:
        client.get_repo(REPOSITORY)
    with pytest.raises(github.GithubException) as too_many:
        client.get_repo(REPOSITORY)

    assert forbidden.value.headers is not None and too_many.value.headers is not None
    assert forbidden.value.status == 403
    assert github.Requester.Requester.isSecondaryRateLimitError(forbidden.value.data["message"])
    assert forbidden.value.headers["retry-after"] == "7"
    assert too_many.value.status == 429
    assert too_many.value.headers["retry-after"] == "3"
    assert client.get_repo(REPOSITORY).full_name == REPOSITORY


def test_pygithub_retries_secondary_limit_when_allowed(server: FakeGitHub) -> None:
    server.secondary_rate_limit(status=403, retry_after=0)
    retry = github.GithubRetry(total=2, secondary_rate_wait=0, backoff_factor=0)
    client = server.github(retry=retry)

    repo = client.get_repo(REPOSITORY)

    assert repo.full_name == REPOSITORY
    assert [entry.status for entry in server.log.entries()] == [403, 200]


def test_primary_rate_limit_rest_and_graphql(server: FakeGitHub) -> None:
    server.primary_rate_limit(kinds={"rest-read"}, reset_in_seconds=30)
    server.primary_rate_limit(kinds={"graphql-query"})
    client = server.github()

    with pytest.raises(github.RateLimitExceededException) as exhausted:
        client.get_repo(REPOSITORY)
    answer = graphql(server, "{ viewer { login } }")

    assert exhausted.value.headers is not None
    assert exhausted.value.headers["x-ratelimit-remaining"] == "0"
    assert int(exhausted.value.headers["x-ratelimit-reset"]) > time.time()
    assert answer.json()["errors"][0]["type"] == "RATE_LIMITED"
    assert answer.headers["X-RateLimit-Remaining"] == "0"


def test_budget_exhaustion_is_real(server: FakeGitHub) -> None:
    server.set_rate_limit("core", remaining=1)
    client = server.github()

    client.get_repo(REPOSITORY)
    with pytest.raises(github.RateLimitExceededException):
        client.get_repo(REPOSITORY)


def test_dropped_answer_after_the_change_was_applied(server: FakeGitHub) -> None:
    server.drop_response_after_apply(kinds={"graphql-mutation"})

    with pytest.raises(requests.exceptions.ConnectionError):
        graphql(server, close_mutation(server))

    assert server.issue(REPOSITORY, 1).state == "closed"
    assert server.log.entries()[-1].status is None


def test_graphql_timeout_message(server: FakeGitHub) -> None:
    server.graphql_timeout(kinds={"graphql-mutation"})

    body = graphql(server, close_mutation(server)).json()

    assert body["data"] is None
    assert body["errors"][0]["message"].startswith("Something went wrong while executing")
    assert server.issue(REPOSITORY, 1).state == "open"


def test_predicate_scoped_fault(server: FakeGitHub) -> None:
    server.inject(
        "server_error",
        status=500,
        times=None,
        predicate=lambda facts: facts.method == "PATCH",
    )
    repo = server.github(lazy=True).get_repo(REPOSITORY)
    issue = repo.get_issue(1)

    with pytest.raises(github.GithubException):
        issue.edit(title="Nope")
    with pytest.raises(github.GithubException):
        issue.edit(title="Still nope")
    server.clear_faults()
    issue.edit(title="Yes")

    assert server.issue(REPOSITORY, 1).title == "Yes"


def test_control_endpoint(server: FakeGitHub) -> None:
    control = f"{server.url}/_control"
    server.github().get_repo(REPOSITORY)

    counts = requests.get(f"{control}/counts", timeout=5).json()["result"]
    requests.post(f"{control}/faults", json={"kind": "server_error", "status": 503}, timeout=5)
    failed = requests.get(
        f"{server.url}/repos/{REPOSITORY}",
        headers={"Authorization": f"token {server.token}"},
        timeout=5,
    )
    requests.post(f"{control}/latency", json={"seconds": 0.0}, timeout=5)
    requests.post(f"{control}/reset-log", timeout=5)
    after_reset = requests.get(f"{control}/counts", timeout=5).json()["result"]

    assert counts["rest-read"] == 1
    assert failed.status_code == 503
    assert after_reset == {
        "rest-read": 0,
        "rest-write": 0,
        "graphql-query": 0,
        "graphql-mutation": 0,
    }
