"""Labels end to end: created and updated by name, only declared fields managed, released."""

from __future__ import annotations

from pathlib import Path

from tests.github_api import FakeGitHub
from tests.kinds.test_issues_support import REPO, Cli, actions, seeded, write_github_config


def test_labels_are_created_updated_and_left_alone_where_undeclared(
    tmp_path: Path, github_server: FakeGitHub
) -> None:
    seeded(github_server)
    github_server.add_label(REPO, "docs", "0075ca", "Documentation")
    write_github_config(
        tmp_path,
        labels=[
            {"name": "release", "color": "0E8A16", "description": "Release work"},
            {"name": "bug", "color": "ff0000"},
            {"name": "docs"},
        ],
    )
    cli = Cli(tmp_path, github_server)

    plan = cli.plan_json()
    assert actions(plan) == {
        "label.octo-org/octo-repo/release": "create",
        "label.octo-org/octo-repo/bug": "update",
        "label.octo-org/octo-repo/docs": "no-op",
    }
    github_server.reset_log()
    applied = cli("apply", "--auto-approve")
    assert applied.code == 0, applied.output
    assert github_server.counts()["graphql-mutation"] == 1

    labels = {label.name: label for label in github_server.labels(REPO)}
    assert (labels["release"].color, labels["release"].description) == ("0e8a16", "Release work")
    assert labels["bug"].color == "ff0000"
    assert (labels["docs"].color, labels["docs"].description) == ("0075ca", "Documentation")
    assert cli.state()["labels"] == {
        "octo-org/octo-repo/release": {
            "repo": REPO,
            "name": "release",
            "created": True,
        }
    }
    assert cli("plan", "--detailed-exitcode").code == 0

    write_github_config(tmp_path, labels=[])
    released = cli.plan_json()
    assert actions(released) == {"label.octo-org/octo-repo/release": "forget"}
    assert cli("apply", "--auto-approve").code == 0
    assert cli.state()["labels"] == {}
    assert "release" in {label.name for label in github_server.labels(REPO)}
