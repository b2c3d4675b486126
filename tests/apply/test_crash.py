"""An apply killed (SIGKILL) or failed (EIO/ENOSPC) at many I/O steps is always recoverable.

The apply under test updates 900 files, deletes 100 it created, creates 100 in new folders and
appends 100 audit entries (plus one record per file change). From every kill point, ``resume``
must reach exactly the declared state and ``rollback`` (run on a copy of the same wreck) must
restore exactly the previous bytes, with no half-written file and every audit id at most once.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from tests.harness import entry, planner, snapshot, write_config

V1_FILES = {f"d{i % 10}/f{i}.txt": f"version one of file {i}\n" for i in range(1000)}
V1_ENTRIES = [entry(f"v1-step{i}") for i in range(50)]
V2_FILES = {
    **{f"d{i % 10}/f{i}.txt": f"version two of file {i}\n" * 3 for i in range(900)},
    **{f"new{i % 5}/sub/g{i}.txt": f"brand new {i}\n" for i in range(100)},
}
V2_ENTRIES = V1_ENTRIES + [
    entry(f"v2-step{i}", f"message | with pipe\nand newline {i}") for i in range(100)
]


def _configure_v1(folder: Path) -> None:
    write_config(folder, files=V1_FILES, entries=V1_ENTRIES)


def _configure_v2(folder: Path) -> None:
    write_config(folder, files=V2_FILES, entries=V2_ENTRIES, record_changes=True)


@pytest.fixture(scope="module")
def wreck_site(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[Path, dict[str, tuple[bytes, int]], bytes, int]:
    """A folder where v1 is applied and v2 is configured, with the step count of applying v2."""
    base = tmp_path_factory.mktemp("base")
    _configure_v1(base)
    assert planner("apply", "--auto-approve", cwd=base).code == 0
    v1_snapshot = snapshot(base / "tree")
    v1_log = (base / "tree/audit/current.log").read_bytes()
    _configure_v2(base)

    counting = tmp_path_factory.mktemp("count")
    shutil.copytree(base, counting, dirs_exist_ok=True)
    count_file = counting / "steps"
    result = planner("apply", "--auto-approve", cwd=counting, count_to=count_file)
    assert result.code == 0, result.output
    return base, v1_snapshot, v1_log, int(count_file.read_text())


def _expected_v2(v1_log: bytes) -> dict[str, bytes]:
    return {path: content.encode() for path, content in V2_FILES.items()}


def _log_ids(log: bytes) -> list[str]:
    return re.findall(r"planner:id=([^,]+),", log.decode())


def _assert_no_half_written_files(tree: Path) -> None:
    allowed = {p: {c.encode()} for p, c in V1_FILES.items()}
    for path, content in V2_FILES.items():
        allowed.setdefault(path, set()).add(content.encode())
    for path, (content, _) in snapshot(tree).items():
        if path.startswith("audit/") or Path(path).name.startswith(".planner-"):
            continue
        assert content in allowed[path], f"{path} holds bytes that are neither old nor new"


def _assert_audit_sound(folder: Path, v1_log: bytes) -> bytes:
    log = (folder / "tree/audit/current.log").read_bytes()
    assert log.startswith(v1_log), "lines written before the apply were altered"
    ids = _log_ids(log)
    assert len(ids) == len(set(ids)), "an audit id was written twice"
    verified = planner("audit", "verify", cwd=folder)
    assert verified.code == 0, verified.output
    return log


def _apply_checkpoint_exists(folder: Path) -> bool:
    """Whether the killed apply got as far as writing its checkpoint (v1 left the first)."""
    folders = (folder / ".planner/checkpoints").iterdir()
    return len([f for f in folders if not f.name.startswith(".")]) > 1


def _assert_resumed(folder: Path, v1_log: bytes) -> None:
    if _apply_checkpoint_exists(folder):
        resumed = planner("resume", cwd=folder)
        assert resumed.code == 0, resumed.output
    else:
        applied = planner("apply", "--auto-approve", cwd=folder)
        assert applied.code == 0, applied.output

    files = {p: c for p, (c, _) in snapshot(folder / "tree").items() if not p.startswith("audit/")}
    assert files == _expected_v2(v1_log)
    log = _assert_audit_sound(folder, v1_log)
    assert {e["id"] for e in V2_ENTRIES} <= set(_log_ids(log))
    again = planner("plan", "--detailed-exitcode", cwd=folder)
    assert again.code == 0, again.output


def _assert_rolled_back(
    folder: Path, v1_snapshot: dict[str, tuple[bytes, int]], v1_log: bytes
) -> None:
    if _apply_checkpoint_exists(folder):
        rolled = planner("rollback", "--auto-approve", cwd=folder)
        assert rolled.code == 0, rolled.output

    files = {p: v for p, v in snapshot(folder / "tree").items() if not p.startswith("audit/")}
    expected = {p: v for p, v in v1_snapshot.items() if not p.startswith("audit/")}
    assert files == expected
    assert not [d for d in (folder / "tree").iterdir() if d.name.startswith("new")], (
        "created folders stayed"
    )
    _assert_audit_sound(folder, v1_log)
    _configure_v1(folder)
    again = planner("plan", "--detailed-exitcode", cwd=folder)
    assert again.code == 0, again.output


def _kill_points(total: int) -> list[int]:
    early = [1, 3, 8, 12]
    spread = [total * k // 6 for k in range(1, 6)]
    late = [total - 3, total - 1, total]
    return sorted({k for k in early + spread + late if 1 <= k <= total})


def test_apply_killed_at_any_step_resumes_or_rolls_back_exactly(
    wreck_site: tuple[Path, dict[str, tuple[bytes, int]], bytes, int], tmp_path: Path
) -> None:
    base, v1_snapshot, v1_log, total = wreck_site
    assert total > 1000, "the apply should take many I/O steps"

    for kill_at in _kill_points(total):
        wreck = tmp_path / f"kill-{kill_at}"
        shutil.copytree(base, wreck)
        killed = planner("apply", "--auto-approve", cwd=wreck, kill_at=kill_at)
        assert killed.code == -9, f"step {kill_at}: {killed.output}"
        _assert_no_half_written_files(wreck / "tree")

        copy = tmp_path / f"kill-{kill_at}-rollback"
        shutil.copytree(wreck, copy, symlinks=True)
        _assert_resumed(wreck, v1_log)
        _assert_rolled_back(copy, v1_snapshot, v1_log)
        shutil.rmtree(wreck)
        shutil.rmtree(copy)


def test_apply_failing_at_a_step_stops_with_exit_3_and_resumes(
    wreck_site: tuple[Path, dict[str, tuple[bytes, int]], bytes, int], tmp_path: Path
) -> None:
    base, v1_snapshot, v1_log, total = wreck_site

    for fail_at in (total // 3, total // 2, total - 4):
        wreck = tmp_path / f"fail-{fail_at}"
        shutil.copytree(base, wreck)
        failed = planner("apply", "--auto-approve", cwd=wreck, fail_at=fail_at)
        assert failed.code in (1, 3), failed.output
        if failed.code == 3:
            assert "planner resume" in failed.stderr
            status = planner("status", cwd=wreck)
            assert "stopped partway" in status.stdout and "Last error" in status.stdout

        copy = tmp_path / f"fail-{fail_at}-rollback"
        shutil.copytree(wreck, copy, symlinks=True)
        _assert_resumed(wreck, v1_log)
        _assert_rolled_back(copy, v1_snapshot, v1_log)


def test_resume_and_rollback_killed_partway_can_be_resumed_in_turn(
    wreck_site: tuple[Path, dict[str, tuple[bytes, int]], bytes, int], tmp_path: Path
) -> None:
    base, v1_snapshot, v1_log, total = wreck_site
    wreck = tmp_path / "wreck"
    shutil.copytree(base, wreck)
    assert planner("apply", "--auto-approve", cwd=wreck, kill_at=total // 2).code == -9
    copy = tmp_path / "copy"
    shutil.copytree(wreck, copy, symlinks=True)

    assert planner("resume", cwd=wreck, kill_at=400).code == -9
    _assert_resumed(wreck, v1_log)

    assert planner("rollback", "--auto-approve", cwd=copy, kill_at=400).code == -9
    resumed = planner("resume", cwd=copy)
    assert resumed.code == 0, resumed.output
    _assert_rolled_back(copy, v1_snapshot, v1_log)
