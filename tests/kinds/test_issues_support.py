"""Shared set-up for the issue and label tests: configuration, environment, server seeding.

Holds no tests itself; the ``test_`` prefix only keeps it among the files of this folder.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.github_api import DEFAULT_TOKEN, FakeGitHub
from tests.harness import Result, planner, toml_string, write_config

REPO = "octo-org/octo-repo"
OTHER_REPO = "octo-org/other-repo"


def github_env(server: FakeGitHub, token: str = DEFAULT_TOKEN) -> dict[str, str]:
    """The environment a user sets: token, API address, and no pause between writes."""
    return {
        "GH_TOKEN": token,
        "GITHUB_TOKEN": "",
        "GITHUB_API_URL": server.url,
        "GITHUB_GRAPHQL_URL": "",
        "PLANNER_GITHUB_WRITE_INTERVAL": "0",
    }


def toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(item) for item in value) + "]"
    return toml_string(str(value))


def tables(name: str, items: list[dict[str, Any]]) -> str:
    lines = []
    for item in items:
        lines.append(f"[[{name}]]")
        lines.extend(f"{key} = {toml_value(value)}" for key, value in item.items())
        lines.append("")
    return "\n".join(lines)


def write_github_config(
    folder: Path,
    *,
    issues: list[dict[str, Any]] | None = None,
    labels: list[dict[str, Any]] | None = None,
    repo: str = REPO,
    max_wait: int | None = None,
) -> Path:
    github = ["[github]", f"repo = {toml_string(repo)}"]
    if max_wait is not None:
        github.append(f"max_wait = {max_wait}")
    extra = (
        "\n".join(github) + "\n\n" + tables("label", labels or []) + tables("issue", issues or [])
    )
    return write_config(folder, audit_path=None, extra=extra)


def seeded(server: FakeGitHub, *repos: str) -> FakeGitHub:
    """Repositories with a label, a milestone and two users, as most tests need."""
    server.add_user("alice")
    server.add_user("bob")
    for repo in repos or (REPO,):
        server.create_repository(repo)
        server.add_label(repo, "bug", "d73a4a")
        server.add_milestone(repo, "v1.0")
    return server


class Cli:
    """Runs planner in one folder against one fake GitHub."""

    def __init__(self, folder: Path, server: FakeGitHub, token: str = DEFAULT_TOKEN) -> None:
        self.folder = folder
        self.server = server
        self.env = github_env(server, token)

    def __call__(self, *args: str) -> Result:
        return planner(*args, cwd=self.folder, env=self.env)

    def plan_json(self, *args: str) -> dict[str, Any]:
        result = self("plan", "--format", "json", *args)
        assert result.code in (0, 2), result.output
        parsed = json.loads(result.stdout)
        assert isinstance(parsed, dict)
        return parsed

    def state(self) -> dict[str, Any]:
        envelope = json.loads((self.folder / ".planner/state.json").read_text())
        state = envelope["state"]
        assert isinstance(state, dict)
        return state


def actions(plan: dict[str, Any]) -> dict[str, str]:
    return {change["address"]: change["action"] for change in plan["changes"]}
