"""The vendored contract loads offline, and requests GitHub would refuse become violations."""

from __future__ import annotations

import json
import socket
from typing import Any

import pytest
import requests

from .contract import OPENAPI_PATH, load_graphql_schema, load_rest_contract
from .server import FakeGitHub
from .vendor import regenerate


def test_vendored_contract_loads_without_network(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*_: Any, **__: Any) -> None:
        raise AssertionError("the contract must load offline")

    monkeypatch.setattr(socket, "create_connection", refuse)
    load_rest_contract.cache_clear()

    contract = load_rest_contract()
    schema = load_graphql_schema()

    implemented = {(op.method, op.template) for op in contract.operations}
    expected = {
        (method.upper(), template)
        for template, methods in regenerate.IMPLEMENTED_OPERATIONS.items()
        for method in methods
    }
    assert implemented == expected
    assert schema.mutation_type is not None
    assert "closeIssue" in schema.mutation_type.fields


def test_trimming_is_stable() -> None:
    vendored = json.loads(OPENAPI_PATH.read_text(encoding="utf-8"))

    again = regenerate.trim_openapi(vendored)

    assert again["paths"] == vendored["paths"]
    assert again["components"] == vendored["components"]
    assert OPENAPI_PATH.stat().st_size < 500_000


def rest(server: FakeGitHub, method: str, path: str, **options: Any) -> requests.Response:
    headers = {"Authorization": f"token {server.token}"}
    return requests.request(method, f"{server.url}{path}", headers=headers, timeout=5, **options)


def test_refused_rest_requests_are_recorded(github_server: FakeGitHub) -> None:
    github_server.create_repository("octo-org/demo")
    github_server.add_issue("octo-org/demo", "One")

    bad_state = rest(
        github_server, "PATCH", "/repos/octo-org/demo/issues/1", json={"state": "gone"}
    )
    bad_query = rest(github_server, "GET", "/repos/octo-org/demo/issues?state=everything")
    unknown = rest(github_server, "GET", "/repos/octo-org/demo/wiki")
    not_json = rest(github_server, "POST", "/repos/octo-org/demo/issues", data=b"{oops")

    assert bad_state.status_code == 422 and bad_state.json()["message"].startswith("Invalid")
    assert bad_query.status_code == 422
    assert unknown.status_code == 404
    assert not_json.status_code == 400
    violations = github_server.take_violations()
    assert [v.method for v in violations] == ["PATCH", "GET", "GET", "POST"]
    assert "state" in violations[0].reason
    assert github_server.issue("octo-org/demo", 1).state == "open"


def test_tolerated_deviations_are_not_violations(github_server: FakeGitHub) -> None:
    github_server.create_repository("octo-org/demo")
    github_server.add_milestone("octo-org/demo", "v1")
    github_server.add_issue("octo-org/demo", "One", milestone_number=1)

    cleared = rest(
        github_server, "PATCH", "/repos/octo-org/demo/issues/1", json={"milestone": None}
    )
    added = rest(github_server, "POST", "/repos/octo-org/demo/issues/1/labels", json=["x", "y"])

    assert cleared.status_code == 200 and cleared.json()["milestone"] is None
    assert [label["name"] for label in added.json()] == ["x", "y"]
    assert github_server.violations == []
    assert len(github_server.tolerated) == 2
