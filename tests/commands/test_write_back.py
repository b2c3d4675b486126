"""``planner apply --write-back``: numbers of created issues recorded, every other byte kept."""

from __future__ import annotations

from pathlib import Path

from tests.github_api import FakeGitHub
from tests.kinds.test_issues_support import REPO, Cli, seeded

CONFIG = """#:schema ../schemas/config.schema.json
# Release issues; numbers are written back by planner apply --write-back.

[github]
repo = "octo-org/octo-repo"

[[issue]]
key = "adopted"
number = {adopted}
state = "closed"

[[label]]   # splits the [[issue]] tables; tomlkit alone would regroup them
name = "bug"
color = "d73a4a"

# Created on the first apply.
[[issue]]
  key = "release-checklist"   # keep this comment
  title = "Release checklist"
  body = \"\"\"
- [ ] tag
\"\"\"

[[issue]]
title = "Key written last"
key = "last-key\""""


def _with_inserted(text: str, after: dict[str, str]) -> str:
    """``text`` with a line inserted after each line that ``after`` names."""
    lines = text.splitlines(keepends=True)
    out = []
    for line in lines:
        out.append(line if line.endswith("\n") else line + "\n")
        for anchor, inserted in after.items():
            if line.rstrip("\n") == anchor:
                out.append(inserted)
    return "".join(out)


def test_write_back_records_created_numbers_and_keeps_every_other_byte(
    tmp_path: Path, github_server: FakeGitHub
) -> None:
    seeded(github_server)
    adopted = github_server.add_issue(REPO, "Old bug").number
    config = tmp_path / "planner.toml"
    text = CONFIG.replace("{adopted}", str(adopted))
    config.write_text(text)
    config.chmod(0o640)
    cli = Cli(tmp_path, github_server)

    applied = cli("apply", "--auto-approve", "--write-back")

    assert applied.code == 0, applied.output
    assert "Recorded 2 issue numbers in planner.toml" in applied.stdout
    numbers = {issue.title: issue.number for issue in github_server.issues(REPO)}
    expected = _with_inserted(
        text,
        {
            '  key = "release-checklist"   # keep this comment': (
                f"  number = {numbers['Release checklist']}\n"
            ),
            'key = "last-key"': f"number = {numbers['Key written last']}\n",
        },
    )
    assert config.read_text() == expected
    assert config.stat().st_mode & 0o777 == 0o640

    again = cli("plan", "--detailed-exitcode")
    assert again.code == 0, again.output
    assert "No changes." in again.stdout
    reapplied = cli("apply", "--auto-approve", "--write-back")
    assert reapplied.code == 0, reapplied.output
    assert "Recorded" not in reapplied.stdout
    assert len(github_server.issues(REPO)) == 3
    assert config.read_text() == expected


def test_apply_without_write_back_leaves_the_configuration_alone_until_asked(
    tmp_path: Path, github_server: FakeGitHub
) -> None:
    seeded(github_server)
    config = tmp_path / "planner.toml"
    text = '[github]\nrepo = "octo-org/octo-repo"\n\n[[issue]]\nkey = "one"\ntitle = "One"\n'
    config.write_text(text)
    cli = Cli(tmp_path, github_server)

    applied = cli("apply", "--auto-approve")
    assert applied.code == 0, applied.output
    assert config.read_text() == text

    # Nothing left to apply, but the number the state holds is still recorded when asked.
    recorded = cli("apply", "--auto-approve", "--write-back")
    assert recorded.code == 0, recorded.output
    [issue] = github_server.issues(REPO)
    assert config.read_text() == text.replace(
        'key = "one"\n', f'key = "one"\nnumber = {issue.number}\n'
    )


def test_write_back_finds_each_issue_in_its_own_file_of_a_configuration_folder(
    tmp_path: Path, github_server: FakeGitHub
) -> None:
    seeded(github_server)
    taken = github_server.add_issue(REPO, "Taken").number
    folder = tmp_path / "conf"
    folder.mkdir()
    (folder / "a.toml").write_text(
        '[github]\nrepo = "octo-org/octo-repo"\n\n[[issue]]\nkey = "a1"\ntitle = "A1"\n'
    )
    (folder / "b.toml").write_text(
        f'[[issue]]\nkey = "b1"\nnumber = {taken}\ntitle = "Taken"\n\n'
        '[[issue]]\nkey = "b2"\ntitle = "B2"\n'
    )
    cli = Cli(tmp_path, github_server)

    applied = cli("apply", "-c", "conf", "--auto-approve", "--write-back")

    assert applied.code == 0, applied.output
    assert "Recorded 1 issue number in conf/a.toml" in applied.stdout
    assert "Recorded 1 issue number in conf/b.toml" in applied.stdout
    numbers = {issue.title: issue.number for issue in github_server.issues(REPO)}
    assert (
        (folder / "a.toml")
        .read_text()
        .endswith(f'key = "a1"\nnumber = {numbers["A1"]}\ntitle = "A1"\n')
    )
    assert (
        (folder / "b.toml")
        .read_text()
        .endswith(f'key = "b2"\nnumber = {numbers["B2"]}\ntitle = "B2"\n')
    )
    assert cli("plan", "-c", "conf", "--detailed-exitcode").code == 0
