"""Incremental file plans: only files whose stat changed since they were observed are hashed.

Most tests run planner in this process with the racy-timestamp margin scaled down from 2 s
to 50 ms, so that an observation settles after a short sleep instead of two seconds; the
rule itself is unchanged. The tests through the command line use the real margin.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from planner import filestat
from planner.cli import main
from planner.filestat import OBSERVED_FILE, ObservedFiles
from planner.plan.builder import build_plan
from planner.plan.model import Action, Plan
from planner.tree import Tree
from planner.workspace import Workspace
from tests.harness import ROOT, entry, planner, write_config

REAL_MARGIN_NS = filestat.RACY_MARGIN_NS
SCALED_MARGIN_NS = 50_000_000
SETTLE_SECONDS = 0.12
"""Long enough after a change for an observation to be settled under the scaled margin."""

_COUNTS = re.compile(r"files: (\d+) stat'ed, (\d+) vouched for by their observation, (\d+) read")


@pytest.fixture(autouse=True)
def scaled_margin(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(filestat, "RACY_MARGIN_NS", SCALED_MARGIN_NS)


@pytest.fixture
def applied(tmp_path: Path) -> Iterator[Path]:
    """A folder where three files were applied and a plan has since observed them, settled."""
    write_config(
        tmp_path,
        files={
            "docs/a.md": "alpha\n",
            "docs/b.md": "bravo\n",
            "c.txt": {"content": "charlie\n", "mode": "0644"},
        },
        audit_path=None,
    )
    assert main(["apply", "--auto-approve", "-q", "-c", str(tmp_path / "planner.toml")]) == 0
    time.sleep(SETTLE_SECONDS)
    planned(tmp_path)
    time.sleep(SETTLE_SECONDS)
    yield tmp_path


def planned(folder: Path, *, refresh: str = "auto") -> tuple[Plan, int]:
    """The plan of ``folder`` and how many files it read and hashed to make it."""
    logger = logging.getLogger("planner.kinds.files")
    found: list[str] = []
    handler = logging.Handler()
    handler.emit = lambda record: found.append(record.getMessage())  # type: ignore[method-assign]
    logger.addHandler(handler)
    previous = logger.level
    logger.setLevel(logging.DEBUG)
    try:
        workspace = Workspace.open(folder / "planner.toml")
        plan = build_plan(workspace, workspace.store.load(), [], refresh=refresh)  # type: ignore[arg-type]
    finally:
        logger.removeHandler(handler)
        logger.setLevel(previous)
    counts = [_COUNTS.search(message) for message in found]
    hashed = [int(match.group(3)) for match in counts if match]
    assert len(hashed) == 1, found
    return plan, hashed[0]


def actions(plan: Plan) -> dict[str, Action]:
    return {change.address: change.action for change in plan.changes}


def comparable(plan: Plan) -> dict[str, object]:
    return plan.model_dump(mode="json", exclude={"created_at"})


def test_second_plan_of_unchanged_files_reads_none_of_them(applied: Path) -> None:
    plan, hashed = planned(applied)

    assert hashed == 0
    assert set(actions(plan).values()) == {Action.NO_OP}
    assert comparable(plan) == comparable(planned(applied, refresh="full")[0])


def test_full_refresh_reads_every_file_and_agrees(applied: Path) -> None:
    full, hashed = planned(applied, refresh="full")

    assert hashed == 3
    assert comparable(full) == comparable(planned(applied)[0])


def test_edit_of_the_same_size_with_mtime_put_back_is_found_through_ctime(
    applied: Path,
) -> None:
    target = applied / "tree/docs/a.md"
    before = target.stat()
    target.write_text("ALPHA\n")
    os.utime(target, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert target.stat().st_size == before.st_size
    assert target.stat().st_mtime_ns == before.st_mtime_ns

    plan, hashed = planned(applied)

    assert hashed == 1
    assert actions(plan)["file.docs/a.md"] is Action.UPDATE
    assert comparable(plan) == comparable(planned(applied, refresh="full")[0])


def test_mode_changed_behind_the_back_is_found(applied: Path) -> None:
    (applied / "tree/c.txt").chmod(0o600)

    plan, hashed = planned(applied)

    assert hashed == 1
    change = next(c for c in plan.changes if c.address == "file.c.txt")
    assert change.action is Action.UPDATE
    assert change.changed == ["mode"]


def test_file_replaced_through_a_rename_is_found(applied: Path) -> None:
    target = applied / "tree/docs/b.md"
    before = target.stat()
    replacement = applied / "tree/docs/b.md.new"
    replacement.write_text("BRAVO\n")
    os.utime(replacement, ns=(before.st_atime_ns, before.st_mtime_ns))
    replacement.rename(target)

    plan, hashed = planned(applied)

    assert hashed == 1
    assert actions(plan)["file.docs/b.md"] is Action.UPDATE


def test_deleted_file_is_planned_again(applied: Path) -> None:
    (applied / "tree/c.txt").unlink()

    plan, hashed = planned(applied)

    assert hashed == 0
    assert actions(plan)["file.c.txt"] is Action.CREATE


def _forge_observation(folder: Path, rel_path: str, old_content: bytes, recorded_ns: int) -> None:
    """Record the file's current stat with the digest of ``old_content``, dated ``recorded_ns``.

    What a plan would have saved had it read the file just before an edit that left size,
    mtime and ctime as they were: an edit in the same clock tick on a file system whose
    timestamps are coarse.
    """
    workspace = Workspace.open(folder / "planner.toml")
    observed = ObservedFiles.load(workspace.state_dir, workspace.root)
    with Tree(workspace.root) as tree:
        snapshot = tree.read(rel_path, f"file.{rel_path}")
    assert snapshot is not None
    observed.record(rel_path, snapshot, hashlib.sha256(old_content).hexdigest(), recorded_ns)
    observed.save()


def test_observation_in_the_same_tick_as_the_last_change_is_not_trusted(applied: Path) -> None:
    target = applied / "tree/docs/a.md"
    target.write_text("ALPHA\n")
    changed_ns = max(target.stat().st_mtime_ns, target.stat().st_ctime_ns)
    _forge_observation(applied, "docs/a.md", b"alpha\n", recorded_ns=changed_ns)
    time.sleep(SETTLE_SECONDS)

    plan, hashed = planned(applied)

    assert hashed == 1
    assert actions(plan)["file.docs/a.md"] is Action.UPDATE


def test_settled_observation_stands_in_for_the_bytes(applied: Path) -> None:
    """The counterpart of the racy test: the same forged record, dated after the margin, is
    believed; so it is the racy rule, not luck, that makes the test above find the edit."""
    target = applied / "tree/docs/a.md"
    target.write_text("ALPHA\n")
    changed_ns = max(target.stat().st_mtime_ns, target.stat().st_ctime_ns)
    _forge_observation(applied, "docs/a.md", b"alpha\n", changed_ns + 2 * SCALED_MARGIN_NS)

    plan, hashed = planned(applied)

    assert hashed == 0
    assert actions(plan)["file.docs/a.md"] is Action.NO_OP


def test_file_changed_just_before_its_observation_is_read_again_until_settled(
    applied: Path,
) -> None:
    (applied / "tree/c.txt").write_text("charlie\n")
    assert planned(applied)[1] == 1
    assert planned(applied)[1] == 1, "a racy observation must not be trusted"

    time.sleep(SETTLE_SECONDS)
    assert planned(applied)[1] == 1, "observed again, now settled"
    assert planned(applied)[1] == 0


@pytest.mark.parametrize("damage", ["missing", "truncated", "flipped", "not-json"])
def test_missing_or_damaged_observations_fall_back_to_reading_every_file(
    applied: Path, damage: str, caplog: pytest.LogCaptureFixture
) -> None:
    observations = applied / ".planner" / OBSERVED_FILE
    raw = observations.read_bytes()
    if damage == "missing":
        observations.unlink()
    elif damage == "truncated":
        observations.write_bytes(raw[: len(raw) // 2])
    elif damage == "flipped":
        observations.write_bytes(raw[:-3] + bytes([raw[-3] ^ 1]) + raw[-2:])
    else:
        observations.write_bytes(b"\x00garbage")
    (applied / "tree/docs/b.md").write_text("bravo, edited\n")

    with caplog.at_level(logging.WARNING):
        plan, hashed = planned(applied)

    assert hashed == 3
    assert actions(plan)["file.docs/b.md"] is Action.UPDATE
    if damage != "missing":
        assert "working without it" in caplog.text
    time.sleep(SETTLE_SECONDS)
    # Saved whole again: from now on only the edited file is read, to show its bytes.
    assert planned(applied)[1] == 1
    assert planned(applied)[1] == 1


def test_observations_are_owner_only_and_a_plan_before_any_apply_writes_nothing(
    tmp_path: Path, applied: Path
) -> None:
    assert (applied / ".planner" / OBSERVED_FILE).stat().st_mode & 0o777 == 0o600

    fresh = tmp_path / "fresh"
    fresh.mkdir()
    write_config(fresh, files={"a.txt": "a\n"}, audit_path=None)
    plan, _ = planned(fresh)
    assert actions(plan) == {"file.a.txt": Action.CREATE}
    assert not (fresh / ".planner").exists()


def test_plan_through_the_command_line_reads_only_what_changed(tmp_path: Path) -> None:
    """End to end, with the real two-second margin: apply, let it settle, plan, edit, plan."""
    write_config(
        tmp_path,
        files={f"docs/{n}.md": f"page {n}\n" for n in range(20)},
        entries=[entry("one")],
    )
    assert planner("apply", "--auto-approve", cwd=tmp_path).code == 0
    time.sleep(REAL_MARGIN_NS / 1e9 + 0.1)
    first = planner("plan", "--debug", "--format", "json", cwd=tmp_path)
    assert first.code == 0, first.output
    second = planner("plan", "--debug", "--format", "json", cwd=tmp_path)
    assert "20 stat'ed, 20 vouched for by their observation, 0 read" in second.stderr

    page = tmp_path / "tree/docs/7.md"
    kept = page.stat()
    page.write_text("PAGE 7\n")
    os.utime(page, ns=(kept.st_atime_ns, kept.st_mtime_ns))
    incremental = planner("plan", "--debug", "--format", "json", cwd=tmp_path)
    full = planner("plan", "--refresh=full", "--format", "json", cwd=tmp_path)

    assert "19 vouched for by their observation, 1 read" in incremental.stderr
    without_time = [
        {k: v for k, v in json.loads(result.stdout).items() if k != "created_at"}
        for result in (incremental, full)
    ]
    assert without_time[0] == without_time[1]
    assert json.loads(incremental.stdout)["summary"]["update"] == 1


def test_plan_of_files_and_audit_entries_does_not_import_the_github_client(
    tmp_path: Path,
) -> None:
    write_config(tmp_path, files={"a.txt": "a\n"}, entries=[entry("x")])
    probe = (
        "import sys\n"
        "from planner.cli import main\n"
        "code = main(['plan', '-q'])\n"
        "clients = ('github', 'requests', 'urllib3')\n"
        "loaded = [m for m in sys.modules if m.split('.')[0] in clients]\n"
        "print(','.join(sorted(loaded)))\n"
        "sys.exit(code)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(ROOT), "NO_COLOR": "1"},
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "", f"imported: {result.stdout}"
