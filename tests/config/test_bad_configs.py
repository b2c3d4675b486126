"""Every bad input exits 1 with one sentence naming the file and line at fault, changing nothing."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.harness import planner, snapshot

GOOD_FILE = '[[file]]\npath = "ok.txt"\ncontent = "fine"\n'
AUDIT = '[audit]\npath = "log"\n\n'
ENTRY = '[[audit.entry]]\nid = "e1"\ncategory = "C"\naction = "a"\n'
ISSUE = '[github]\nrepo = "o/r"\n\n[[issue]]\nkey = "k"\ntitle = "t"\n'

# name: (files to write, text the error must contain)
CASES: dict[str, tuple[dict[str, str], list[str]]] = {
    "toml syntax": (
        {"planner.toml": GOOD_FILE + 'path = "x" y\n'},
        ["planner.toml:4", "TOML syntax"],
    ),
    "duplicate toml key": ({"planner.toml": GOOD_FILE + 'content = "again"\n'}, ["planner.toml:4"]),
    "unknown top-level key": (
        {"planner.toml": GOOD_FILE + "\n[bogus]\nx = 1\n"},
        ["planner.toml:5", "unknown key 'bogus'"],
    ),
    "unknown file key": (
        {"planner.toml": GOOD_FILE + 'colour = "red"\n'},
        ["planner.toml:4", "unknown key 'colour'", "file.ok.txt"],
    ),
    "content of wrong type": (
        {"planner.toml": '[[file]]\npath = "a"\ncontent = 5\n'},
        ["planner.toml:3", "'content'"],
    ),
    "mode as a number": (
        {"planner.toml": GOOD_FILE + "mode = 644\n"},
        ["planner.toml:4", "'mode'"],
    ),
    "mode not octal": (
        {"planner.toml": GOOD_FILE + 'mode = "0999"\n'},
        ["planner.toml:4", "'mode'"],
    ),
    "absolute path": (
        {"planner.toml": '[[file]]\npath = "/etc/passwd"\ncontent = "x"\n'},
        ["planner.toml:2", "absolute"],
    ),
    "dot-dot escape": (
        {"planner.toml": '[[file]]\npath = "a/../../x"\ncontent = "x"\n'},
        ["planner.toml:2", "'..'"],
    ),
    "path is the root": (
        {"planner.toml": '[[file]]\npath = "."\ncontent = "x"\n'},
        ["planner.toml:2", "root folder"],
    ),
    "content and source": (
        {"planner.toml": '[[file]]\npath = "a"\ncontent = "x"\nsource = "s"\n', "s": "s"},
        ["planner.toml:1", "exactly one of content or source"],
    ),
    "neither content nor source": (
        {"planner.toml": '[[file]]\npath = "a"\n'},
        ["planner.toml:1", "exactly one"],
    ),
    "missing source": (
        {"planner.toml": '[[file]]\npath = "a"\nsource = "build/missing.md"\n'},
        ["planner.toml:1", "missing", "file.a"],
    ),
    "absent with content": (
        {"planner.toml": '[[file]]\npath = "a"\nensure = "absent"\ncontent = "x"\n'},
        ["planner.toml:1", "absent"],
    ),
    "bad ensure": (
        {"planner.toml": '[[file]]\npath = "a"\nensure = "gone"\n'},
        ["planner.toml:3", "'ensure'"],
    ),
    "duplicate path across files": (
        {"conf/a.toml": GOOD_FILE, "conf/b.toml": "\n\n" + GOOD_FILE.replace("ok.txt", "./ok.txt")},
        ["b.toml:3", "a.toml:1", "declared twice"],
    ),
    "duplicate audit id": (
        {"planner.toml": AUDIT + ENTRY + "\n" + ENTRY},
        ["planner.toml:9", "audit.e1", "twice"],
    ),
    "project declared twice": (
        {"conf/a.toml": '[project]\nroot = "."\n', "conf/b.toml": '[project]\nroot = "x"\n'},
        ["b.toml:1", "[project]", "a.toml"],
    ),
    "audit id pattern": (
        {"planner.toml": AUDIT + ENTRY.replace("e1", "Bad ID")},
        ["planner.toml:5", "'id'"],
    ),
    "audit entry without category": (
        {"planner.toml": '[audit]\npath = "log"\n\n[[audit.entry]]\nid = "e1"\naction = "a"\n'},
        ["planner.toml:4", "'category' is missing"],
    ),
    "state_reason on an open issue": (
        {"planner.toml": ISSUE + 'state_reason = "completed"\n'},
        ["planner.toml:4", "state_reason needs state"],
    ),
    "body and body_file": (
        {"planner.toml": ISSUE + 'body = "b"\nbody_file = "b.md"\n'},
        ["planner.toml:4", "body or body_file"],
    ),
    "issue without repository": (
        {"planner.toml": '[[issue]]\nkey = "k"\ntitle = "t"\n'},
        ["planner.toml:1", "names no repository", "issue.k"],
    ),
    "bad label colour": (
        {"planner.toml": '[github]\nrepo = "o/r"\n\n[[label]]\nname = "x"\ncolor = "#00ff00"\n'},
        ["planner.toml:6", "'color'"],
    ),
    "bad repository name": (
        {"planner.toml": '[github]\nrepo = "not a repo"\n'},
        ["planner.toml:2", "'repo'"],
    ),
    "path inside the state folder": (
        {"planner.toml": '[[file]]\npath = ".planner/state.json"\ncontent = "{}"\n'},
        ["planner.toml:1", "state folder"],
    ),
    "audit log declared as a file": (
        {"planner.toml": '[audit]\npath = "log"\n\n[[file]]\npath = "log"\ncontent = "x"\n'},
        ["planner.toml:4", "audit log"],
    ),
    "not utf-8": ({"planner.toml": "# caf\xe9\n"}, ["planner.toml", "UTF-8"]),
}


def _write(folder: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if name == "planner.toml" and "\xe9" in text:
            path.write_bytes(text.encode("latin-1"))
        else:
            path.write_text(text)


@pytest.mark.parametrize("name", sorted(CASES))
def test_bad_configuration_exits_1_with_one_sentence_and_changes_nothing(
    name: str, tmp_path: Path
) -> None:
    files, expected = CASES[name]
    _write(tmp_path, files)
    config = "conf" if any(n.startswith("conf/") for n in files) else "planner.toml"
    before = snapshot(tmp_path)

    result = planner("apply", "-c", config, "--auto-approve", cwd=tmp_path)

    assert result.code == 1, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, f"expected one sentence, got: {result.stderr}"
    for fragment in expected:
        assert fragment in lines[0], f"{fragment!r} missing from: {lines[0]}"
    assert "Traceback" not in result.output
    assert snapshot(tmp_path) == before
    assert not (tmp_path / ".planner").exists() and not (tmp_path / "conf/.planner").exists()


def test_missing_configuration_names_the_path(tmp_path: Path) -> None:
    result = planner("plan", cwd=tmp_path)
    assert result.code == 1 and "no configuration at planner.toml" in result.stderr


def _hostile(tmp_path: Path, outside: Path, make: str) -> None:
    root = tmp_path / "tree"
    root.mkdir()
    if make == "link to a folder outside":
        os.symlink(outside, root / "docs")
        path = "docs/a.txt"
    elif make == "link as the file":
        os.symlink(outside / "target.txt", root / "a.txt")
        path = "a.txt"
    else:
        os.mkfifo(root / "a.txt")
        path = "a.txt"
    (tmp_path / "planner.toml").write_text(
        f'[project]\nroot = "tree"\n\n[[file]]\npath = "{path}"\ncontent = "x"\n'
    )


@pytest.mark.parametrize(
    "make", ["link to a folder outside", "link as the file", "fifo at the path"]
)
def test_hostile_paths_are_refused_at_plan_and_nothing_is_written_outside(
    make: str, tmp_path: Path
) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "target.txt").write_text("do not touch")
    _hostile(tmp_path, outside, make)

    for command in (["plan"], ["apply", "--auto-approve"]):
        result = planner(*command, cwd=tmp_path)
        assert result.code == 1, result.output
        assert len(result.stderr.strip().splitlines()) == 1
        assert "file." in result.stderr
    assert (outside / "target.txt").read_text() == "do not touch"
    assert sorted(p.name for p in outside.iterdir()) == ["target.txt"]
