"""The GitHub client in-process: pacing, retries and rate limits, with waiting recorded."""

from __future__ import annotations

import pytest

from planner.errors import GitHubError
from planner.github.client import GitHubClient, RateLimitTooLong
from planner.github.settings import ConnectionSettings, graphql_url_for
from tests.github_api import DEFAULT_TOKEN, FakeGitHub
from tests.kinds.test_issues_support import REPO, seeded

REPOSITORY_ID = 'query { repository(owner: "octo-org", name: "octo-repo") { id } }'
CREATE_LABEL = "mutation($input: CreateLabelInput!) { createLabel(input: $input) { label { id } } }"


def _client(server: FakeGitHub, max_wait: int = 600) -> tuple[GitHubClient, list[float]]:
    settings = ConnectionSettings(
        api_url=server.url,
        graphql_url=server.graphql_url,
        token=DEFAULT_TOKEN,
        write_interval=1.0,
        max_wait=max_wait,
    )
    client = GitHubClient(settings)
    waits: list[float] = []
    client.sleep = waits.append
    client.monotonic = lambda: 1000.0
    return client, waits


def _create_label(client: GitHubClient, repository_id: str, name: str) -> None:
    client.mutate(
        CREATE_LABEL,
        {"input": {"repositoryId": repository_id, "name": name, "color": "ededed"}},
        purpose=f"creating {name}",
    )


def test_mutations_are_paced_and_reads_are_not(github_server: FakeGitHub) -> None:
    seeded(github_server)
    client, waits = _client(github_server)

    repository_id = client.query(REPOSITORY_ID, purpose="x").data["repository"]["id"]
    _create_label(client, repository_id, "one")
    client.query(REPOSITORY_ID, purpose="x")
    _create_label(client, repository_id, "two")

    assert waits == [1.0], "one full interval before the second write, none for reads"
    assert {label.name for label in github_server.labels(REPO)} >= {"one", "two"}


def test_reads_are_retried_with_backoff_and_limits_waited_as_told(
    github_server: FakeGitHub,
) -> None:
    seeded(github_server)
    client, waits = _client(github_server)
    github_server.fail_next(502, times=2, kinds="graphql-query")
    github_server.secondary_rate_limit(kinds="graphql-query", retry_after=30)

    client.query(REPOSITORY_ID, purpose="x")

    assert len(waits) == 3
    assert 0.5 <= waits[0] <= 1.0 and 1.0 <= waits[1] <= 2.0, "exponential, with jitter"
    assert waits[2] == 30


def test_5xx_gives_up_after_five_attempts(github_server: FakeGitHub) -> None:
    seeded(github_server)
    client, waits = _client(github_server)
    github_server.fail_next(503, times=5, kinds="graphql-query")

    with pytest.raises(GitHubError, match="failed 5 times"):
        client.query(REPOSITORY_ID, purpose="reading octo-org/octo-repo")
    assert len(waits) == 4


def test_a_primary_limit_beyond_max_wait_is_not_waited_for(github_server: FakeGitHub) -> None:
    seeded(github_server)
    client, waits = _client(github_server, max_wait=60)
    github_server.primary_rate_limit(kinds="graphql-query", reset_in_seconds=3600)

    with pytest.raises(RateLimitTooLong, match=r"max_wait = 60 s\); try again after"):
        client.query(REPOSITORY_ID, purpose="x")
    assert waits == []


def test_graphql_address_follows_the_rest_address(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GITHUB_GRAPHQL_URL", raising=False)
    assert graphql_url_for("https://api.github.com") == "https://api.github.com/graphql"
    assert graphql_url_for("https://ghe.example/api/v3") == "https://ghe.example/api/graphql"
    assert graphql_url_for("http://127.0.0.1:9") == "http://127.0.0.1:9/graphql"
    monkeypatch.setenv("GITHUB_GRAPHQL_URL", "https://elsewhere/graphql")
    assert graphql_url_for("https://api.github.com") == "https://elsewhere/graphql"
