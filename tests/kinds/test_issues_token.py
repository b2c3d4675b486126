"""The token never appears in what planner prints or writes, even with --debug."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.github_api import FakeGitHub
from tests.kinds.test_issues_support import Cli, seeded, write_github_config

CANARY_TOKEN = "ghp_canaryTokenThatMustNeverBeShown0000001"


@pytest.fixture
def github_server_options() -> dict[str, Any]:
    return {"token": CANARY_TOKEN}


def test_the_token_never_appears_in_output_or_files(
    tmp_path: Path, github_server: FakeGitHub
) -> None:
    seeded(github_server)
    write_github_config(tmp_path, issues=[{"key": "a", "title": "A", "body": "text"}])
    cli = Cli(tmp_path, github_server, token=CANARY_TOKEN)
    github_server.fail_next(502, kinds="graphql-mutation")

    results = [
        cli("--debug", "plan", "--out", "saved.plan"),
        cli("--debug", "apply", "saved.plan"),
        cli("--debug", "plan", "--format", "json"),
        Cli(tmp_path, github_server, token=CANARY_TOKEN[:-1] + "2")("--debug", "plan"),
    ]

    assert [r.code for r in results] == [0, 0, 0, 1]
    for result in results:
        assert CANARY_TOKEN not in result.output
        assert CANARY_TOKEN[:-1] not in result.output
    for path in tmp_path.rglob("*"):
        if path.is_file():
            assert CANARY_TOKEN.encode() not in path.read_bytes(), path
