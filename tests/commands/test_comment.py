"""``planner comment``: the plan on a pull request, one comment updated in place, end to end.

The fake GitHub has no pull requests; GitHub's issue-comment endpoints take a pull request's
number, which is an issue number, so an issue stands in for the pull request.
"""

from __future__ import annotations

from pathlib import Path

from planner.github.comments import COMMENT_LIMIT, fit_body, marker_for
from tests.github_api import FakeGitHub
from tests.harness import planner, write_config
from tests.kinds.test_issues_support import REPO, github_env

GITHUB_TABLE = f'[github]\nrepo = "{REPO}"\n'


def pull_request(server: FakeGitHub) -> int:
    server.create_repository(REPO)
    return int(server.add_issue(REPO, "Add the docs").number)


def test_second_comment_updates_the_first_in_place(
    tmp_path: Path, github_server: FakeGitHub
) -> None:
    number = pull_request(github_server)
    github_server.add_comment(REPO, number, "Looks good to me")
    env = github_env(github_server)
    write_config(tmp_path, files={"docs/a.md": "first\n"}, audit_path=None, extra=GITHUB_TABLE)

    first = planner("comment", "--pr", str(number), cwd=tmp_path, env=env)
    assert first.code == 0, first.output
    assert first.stdout.startswith(f"Created the plan comment on {REPO}#{number}: http")
    assert "#issuecomment-" in first.stdout

    write_config(
        tmp_path,
        files={"docs/a.md": "second\n", "docs/b.md": "new\n"},
        audit_path=None,
        extra=GITHUB_TABLE,
    )
    second = planner("comment", "--pr", str(number), cwd=tmp_path, env=env)
    assert second.code == 0, second.output
    assert second.stdout.startswith(f"Updated the plan comment on {REPO}#{number}: http")
    assert second.stdout.split(": ", 1)[1] == first.stdout.split(": ", 1)[1]

    human, plan_comment = github_server.issue(REPO, number).comments
    assert human.body == "Looks good to me"
    assert plan_comment.body.startswith("<!-- planner:plan-comment config=planner.toml -->\n")
    assert "Plan: 2 to add, 0 to change, 0 to destroy." in plan_comment.body
    assert "+ file.docs/b.md" in plan_comment.body
    writes = [entry.operation for entry in github_server.log.entries("rest-write")]
    assert writes == ["issues/create-comment", "issues/update-comment"]


def test_plan_comment_past_the_first_page_is_still_found(
    tmp_path: Path, github_server: FakeGitHub
) -> None:
    number = pull_request(github_server)
    env = github_env(github_server)
    write_config(tmp_path, files={"docs/a.md": "a\n"}, audit_path=None, extra=GITHUB_TABLE)
    for index in range(150):
        github_server.add_comment(REPO, number, f"review note {index}")

    for _ in range(2):
        result = planner("comment", "--pr", str(number), cwd=tmp_path, env=env)
        assert result.code == 0, result.output

    comments = github_server.issue(REPO, number).comments
    assert len(comments) == 151
    assert result.stdout.startswith("Updated the plan comment")
    assert github_server.counts()["rest-read"] == 4


def test_a_saved_plan_of_20000_changes_fits_in_one_comment(
    tmp_path: Path, github_server: FakeGitHub
) -> None:
    number = pull_request(github_server)
    env = github_env(github_server)
    files = {f"docs/page-{index:05}.md": "x\n" for index in range(20_000)}
    write_config(tmp_path, files=files, audit_path=None, extra=GITHUB_TABLE)
    planned = planner("plan", "--out", "plan.json", cwd=tmp_path, env=env)
    assert planned.code == 0, planned.output

    posted = planner("comment", "--pr", str(number), "plan.json", cwd=tmp_path, env=env)

    assert posted.code == 0, posted.output
    [plan_comment] = github_server.issue(REPO, number).comments
    assert len(plan_comment.body) < COMMENT_LIMIT
    assert "Plan: 20000 to add, 0 to change, 0 to destroy." in plan_comment.body
    assert "the full plan is in the saved plan file `plan.json`" in plan_comment.body
    assert github_server.counts()["rest-write"] == 1


def test_missing_token_is_one_sentence_and_sends_nothing(
    tmp_path: Path, github_server: FakeGitHub
) -> None:
    number = pull_request(github_server)
    env = {**github_env(github_server), "GH_TOKEN": "", "GITHUB_TOKEN": ""}
    write_config(tmp_path, files={"docs/a.md": "a\n"}, audit_path=None, extra=GITHUB_TABLE)

    result = planner("comment", "--pr", str(number), cwd=tmp_path, env=env)

    assert result.code == 1
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1 and "set GH_TOKEN or GITHUB_TOKEN" in result.stderr
    assert github_server.log.entries() == []
    assert github_server.issue(REPO, number).comments == []


def test_no_repository_anywhere_is_one_sentence(tmp_path: Path, github_server: FakeGitHub) -> None:
    write_config(tmp_path, files={"docs/a.md": "a\n"}, audit_path=None)

    result = planner("comment", "--pr", "1", cwd=tmp_path, env=github_env(github_server))

    assert result.code == 1
    assert result.stderr.count("\n") == 1 and "--repo owner/name" in result.stderr
    assert github_server.log.entries() == []


def test_repo_option_overrides_the_configuration(tmp_path: Path, github_server: FakeGitHub) -> None:
    github_server.create_repository("octo-org/elsewhere")
    number = github_server.add_issue("octo-org/elsewhere", "Elsewhere").number
    write_config(tmp_path, files={"docs/a.md": "a\n"}, audit_path=None)

    result = planner(
        "comment",
        "--pr",
        str(number),
        "--repo",
        "octo-org/elsewhere",
        cwd=tmp_path,
        env=github_env(github_server),
    )

    assert result.code == 0, result.output
    [plan_comment] = github_server.issue("octo-org/elsewhere", number).comments
    assert "Plan: 1 to add" in plan_comment.body


def test_unknown_pull_request_is_one_sentence(tmp_path: Path, github_server: FakeGitHub) -> None:
    github_server.create_repository(REPO)
    write_config(tmp_path, files={"docs/a.md": "a\n"}, audit_path=None, extra=GITHUB_TABLE)

    result = planner("comment", "--pr", "7", cwd=tmp_path, env=github_env(github_server))

    assert result.code == 1
    assert f"{REPO} has no pull request #7" in result.stderr
    assert github_server.counts()["rest-write"] == 0


def test_marker_pushing_past_the_limit_drops_whole_sections() -> None:
    marker = marker_for("planner.toml")
    section = "<details>\n<summary>Batch</summary>\n\n```diff\n" + "+ x\n" * 5000 + "```\n"
    markdown = "### planner plan\n\n" + (section + "</details>\n\n") * 4
    markdown = markdown[: COMMENT_LIMIT - 10]

    body = fit_body(marker, markdown, note="the full plan is in plan.json")

    assert len(body) <= COMMENT_LIMIT
    assert body.startswith(marker + "\n### planner plan\n")
    assert body.count("<details>") == body.count("</details>") == 3
    assert body.endswith("**the full plan is in plan.json**\n")
