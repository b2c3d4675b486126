"""Status, resume, rollback, the lock, Ctrl-C, and sensitive values, through the CLI."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.harness import FAULT_RUNNER, ROOT, entry, planner, snapshot, write_config

CANARY = "CANARY-5e1f0c-secret"
OLD_CANARY = "CANARY-old-77aa1"


def test_nothing_to_do_is_said_in_one_line_with_exit_0(tmp_path: Path) -> None:
    write_config(tmp_path, files={"a.txt": "A"})
    for command in ("status", "resume", "rollback"):
        result = planner(command, cwd=tmp_path)
        assert result.code == 0, result.output
        assert len(result.stdout.strip().splitlines()) == 1, result.stdout


def test_rollback_of_a_complete_apply_restores_bytes_modes_and_absence(tmp_path: Path) -> None:
    (tmp_path / "tree").mkdir()
    (tmp_path / "tree/keep.txt").write_text("original")
    os.chmod(tmp_path / "tree/keep.txt", 0o640)
    (tmp_path / "tree/remove.txt").write_text("to be removed")
    before = snapshot(tmp_path / "tree")
    write_config(
        tmp_path,
        files={
            "keep.txt": {"content": "changed", "mode": "0600"},
            "remove.txt": {"ensure": "absent"},
            "new/dir/x.txt": "new",
        },
        entries=[entry("e1")],
    )
    assert planner("apply", "--auto-approve", cwd=tmp_path).code == 0

    refused = planner("rollback", cwd=tmp_path)
    assert refused.code == 1 and "--auto-approve" in refused.stderr
    plan = planner("rollback", "--auto-approve", cwd=tmp_path)
    assert plan.code == 0, plan.output
    assert "audit entries are permanent" in plan.stdout

    after = {p: v for p, v in snapshot(tmp_path / "tree").items() if not p.startswith("audit/")}
    assert after == before
    assert not (tmp_path / "tree/new").exists()
    assert planner("audit", "verify", cwd=tmp_path).code == 0
    assert "Rollback complete" in plan.stdout
    assert "complete" in planner("status", cwd=tmp_path).stdout


def test_a_second_apply_is_refused_while_the_first_holds_the_lock(tmp_path: Path) -> None:
    write_config(tmp_path, files={"a.txt": "A"})
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from pathlib import Path; from planner.state import StateLock; import time\n"
            "with StateLock(Path('.planner'), 'apply'):\n"
            "    print('locked', flush=True); time.sleep(30)",
        ],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        refused = planner("apply", "--auto-approve", cwd=tmp_path)
        assert refused.code == 1
        assert (
            "is locked by 'planner apply'" in refused.stderr
            and f"pid {holder.pid}" in refused.stderr
        )
        assert not (tmp_path / "tree/a.txt").exists()
    finally:
        holder.kill()
        holder.wait()
    assert planner("apply", "--auto-approve", cwd=tmp_path).code == 0, (
        "a dead holder leaves no lock"
    )


def test_first_ctrl_c_finishes_the_batch_keeps_the_checkpoint_and_exits_130(tmp_path: Path) -> None:
    write_config(
        tmp_path, files={f"f{i:04d}.txt": str(i) for i in range(1500)}, entries=[entry("e1")]
    )
    paused = tmp_path / "paused"
    process = subprocess.Popen(
        [sys.executable, str(FAULT_RUNNER), "apply", "--auto-approve"],
        cwd=tmp_path,
        env={
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "NO_COLOR": "1",
            "PLANNER_TEST_PAUSE_AT": "200",
            "PLANNER_TEST_PAUSE_SIGNAL": str(paused),
        },
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 60
    while not paused.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    if not paused.exists():
        process.kill()
        raise AssertionError(f"the apply never reached the pause point: {process.communicate()[1]}")
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=120)

    assert process.returncode == 130, stderr
    assert "interrupted after batch 1" in stderr
    status = planner("status", cwd=tmp_path)
    assert (
        "stopped partway" in status.stdout
        and "batch 1 (file, 1000 operations): done" in status.stdout
    )
    assert planner("resume", cwd=tmp_path).code == 0
    assert len([p for p in (tmp_path / "tree").iterdir() if p.name.endswith(".txt")]) == 1500


def test_a_new_apply_is_refused_until_the_stopped_one_is_resumed_or_rolled_back(
    tmp_path: Path,
) -> None:
    write_config(tmp_path, files={f"f{i}.txt": str(i) for i in range(20)})
    assert planner("apply", "--auto-approve", cwd=tmp_path, kill_at=15).code == -9
    refused = planner("apply", "--auto-approve", cwd=tmp_path)
    assert refused.code == 1 and "stopped partway" in refused.stderr
    assert "stopped partway" in planner("plan", cwd=tmp_path).stderr
    assert planner("resume", cwd=tmp_path).code == 0
    assert planner("apply", "--auto-approve", cwd=tmp_path).code == 0


def test_sensitive_content_never_reaches_output_plans_logs_or_state(tmp_path: Path) -> None:
    (tmp_path / "tree").mkdir()
    (tmp_path / "tree/old.env").write_text(f"TOKEN={OLD_CANARY}\n")
    files = {
        "secret.env": {"content": f"KEY={CANARY}\n", "sensitive": True, "mode": "0600"},
        "old.env": {"content": f"TOKEN={CANARY}-v2\n", "sensitive": True},
    }
    write_config(tmp_path, files=files, entries=[entry("e1")], record_changes=True)

    outputs = [
        planner("plan", cwd=tmp_path),
        planner("plan", "--format", "json", cwd=tmp_path),
        planner("plan", "--format", "markdown", cwd=tmp_path),
        planner("plan", "--out", "saved.json", cwd=tmp_path),
        planner("show", "saved.json", cwd=tmp_path),
        planner("--debug", "apply", "saved.json", cwd=tmp_path),
        planner("-v", "status", cwd=tmp_path),
        planner("--debug", "rollback", "--auto-approve", cwd=tmp_path),
    ]
    assert all(r.code == 0 for r in outputs), [r.output for r in outputs if r.code]
    for result in outputs:
        assert CANARY not in result.output and OLD_CANARY not in result.output
    assert "(sensitive)" in outputs[0].stdout

    written = [
        tmp_path / "saved.json",
        tmp_path / "tree/audit/current.log",
        tmp_path / ".planner/state.json",
    ]
    written += [p for p in (tmp_path / ".planner/checkpoints").rglob("*.json")]
    for path in written:
        text = path.read_text()
        assert CANARY not in text and OLD_CANARY not in text, f"leaked into {path}"
    for pack in (tmp_path / ".planner/checkpoints").rglob("*.pack"):
        assert pack.stat().st_mode & 0o077 == 0, "before-images with secrets must be owner-only"


def test_damaged_state_falls_back_to_the_previous_copy_or_is_refused_and_kept(
    tmp_path: Path,
) -> None:
    write_config(tmp_path, files={"a.txt": "A"})
    assert planner("apply", "--auto-approve", cwd=tmp_path).code == 0
    write_config(tmp_path, files={"a.txt": "A", "b.txt": "B"})
    assert planner("apply", "--auto-approve", cwd=tmp_path).code == 0
    state = tmp_path / ".planner/state.json"
    state.write_text(state.read_text().replace('"created": true', '"created": false', 1))

    assert planner("plan", cwd=tmp_path).code == 0, "the previous good copy is used"
    (tmp_path / ".planner/state.json.prev").write_text("{not json")
    refused = planner("plan", cwd=tmp_path)
    assert refused.code == 1
    assert "state file is damaged" in refused.stderr and "kept for inspection" in refused.stderr
    assert state.exists()


def test_damaged_checkpoint_is_refused_with_one_sentence(tmp_path: Path) -> None:
    write_config(tmp_path, files={"a.txt": "A"})
    assert planner("apply", "--auto-approve", cwd=tmp_path).code == 0
    header = next((tmp_path / ".planner/checkpoints").glob("*/header.json"))
    header.write_bytes(header.read_bytes()[:-40])
    refused = planner("rollback", "--auto-approve", cwd=tmp_path)
    assert refused.code == 1 and "checkpoint is damaged" in refused.stderr
    assert header.exists()


FOREIGN_STATE = b'{"version": 4, "terraform_version": "1.9.0", "resources": []}\n'


def _truncated(raw: bytes) -> bytes:
    return raw[: len(raw) // 2]


def _flipped(raw: bytes) -> bytes:
    middle = len(raw) // 2
    return raw[:middle] + bytes([raw[middle] ^ 0x01]) + raw[middle + 1 :]


def _foreign(raw: bytes) -> bytes:
    return FOREIGN_STATE


DAMAGES = {"truncated": _truncated, "one bit flipped": _flipped, "foreign": _foreign}


def _applied_then_damaged(tmp_path: Path, pattern: str, damage: str) -> tuple[Path, bytes]:
    """Apply one file, then damage the state-folder file matching ``pattern``."""
    write_config(tmp_path, files={"a.txt": "A"})
    assert planner("apply", "--auto-approve", cwd=tmp_path).code == 0
    target = next((tmp_path / ".planner").glob(pattern))
    damaged = DAMAGES[damage](target.read_bytes())
    target.write_bytes(damaged)
    return target, damaged


@pytest.mark.parametrize("damage", DAMAGES)
def test_a_damaged_state_without_a_good_copy_is_refused_kept_and_changes_nothing(
    tmp_path: Path, damage: str
) -> None:
    state, damaged = _applied_then_damaged(tmp_path, "state.json", damage)
    (tmp_path / ".planner/state.json.prev").unlink(missing_ok=True)
    write_config(tmp_path, files={"a.txt": "changed"})
    before = snapshot(tmp_path / "tree")

    for command in (("plan",), ("apply", "--auto-approve")):
        refused = planner(*command, cwd=tmp_path)
        assert refused.code == 1, (command, refused.output)
        assert "state file is damaged or not planner's" in refused.stderr
        assert "kept for inspection" in refused.stderr
        assert len(refused.stderr.strip().splitlines()) == 1, refused.stderr

    assert state.read_bytes() == damaged, "the damaged file is kept as it was"
    assert snapshot(tmp_path / "tree") == before


@pytest.mark.parametrize("damage", DAMAGES)
def test_a_damaged_checkpoint_is_refused_by_status_resume_and_rollback_and_kept(
    tmp_path: Path, damage: str
) -> None:
    header, damaged = _applied_then_damaged(tmp_path, "checkpoints/*/header.json", damage)
    before = snapshot(tmp_path / "tree")

    for command in (("status",), ("resume",), ("rollback", "--auto-approve")):
        refused = planner(*command, cwd=tmp_path)
        assert refused.code == 1, (command, refused.output)
        assert "checkpoint is damaged or not planner's" in refused.stderr

    assert header.read_bytes() == damaged
    assert snapshot(tmp_path / "tree") == before
