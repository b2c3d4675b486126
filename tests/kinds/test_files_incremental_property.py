"""Property: whatever is done to the files behind planner's back, the incremental plan equals
the plan made by reading every file (``--refresh=full``).

Hypothesis draws sequences of edits (same length, another length, same length with the
mtime put back, same length in the clock tick of the last plan, mode changes, replacement
through a rename, deletion, the declared bytes put back, nothing), pauses long enough for
observations to settle, and applies. After each step both plans are made and compared.
Edits follow the previous plan within milliseconds. The racy margin is scaled down from 2 s
to 50 ms, as in ``test_files_incremental.py``, so that settling takes a short pause.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import time
from pathlib import Path
from unittest import mock

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from planner import filestat
from planner.cli import main
from planner.filestat import OBSERVED_FILE, ObservedFiles
from planner.plan.builder import build_plan
from planner.tree import Tree
from planner.workspace import Workspace
from tests.harness import write_config

SCALED_MARGIN_NS = 50_000_000
SETTLE_SECONDS = 0.12

DECLARED = {
    "a.txt": {"content": "aaaa\n"},
    "d/b.txt": {"content": "bbbb\n", "mode": "0644"},
    "d/e/c.txt": {"content": "cccc\n", "mode": "0600"},
}
PATHS = sorted(DECLARED)

EDITS = (
    "same-length",
    "other-length",
    "same-length-mtime-restored",
    "same-length-in-the-tick-of-the-last-plan",
    "chmod",
    "replace-by-rename",
    "delete",
    "put-back-declared",
    "nothing",
    "settle",
    "apply",
)


def _edit(root: Path, edit: str, rel_path: str, serial: int) -> None:
    target = root / rel_path
    if edit in ("settle", "apply", "nothing"):
        return
    if not target.exists() and edit != "put-back-declared":
        return
    if edit == "put-back-declared":
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(DECLARED[rel_path]["content"])
        return

    kept = target.stat()
    if edit == "same-length":
        target.write_bytes(_same_length(target.read_bytes(), serial))
    elif edit == "other-length":
        target.write_bytes(target.read_bytes() + f"{serial}\n".encode())
    elif edit == "same-length-mtime-restored":
        target.write_bytes(_same_length(target.read_bytes(), serial))
        os.utime(target, ns=(kept.st_atime_ns, kept.st_mtime_ns))
    elif edit == "same-length-in-the-tick-of-the-last-plan":
        before = hashlib.sha256(target.read_bytes()).hexdigest()
        target.write_bytes(_same_length(target.read_bytes(), serial))
        _pretend_observed_in_the_same_tick(root.parent / "planner.toml", rel_path, before)
    elif edit == "chmod":
        target.chmod(0o600 if kept.st_mode & 0o777 != 0o600 else 0o644)
    elif edit == "replace-by-rename":
        replacement = target.with_name(target.name + ".new")
        replacement.write_bytes(_same_length(target.read_bytes(), serial))
        os.utime(replacement, ns=(kept.st_atime_ns, kept.st_mtime_ns))
        replacement.chmod(kept.st_mode & 0o777)
        replacement.rename(target)
    elif edit == "delete":
        target.unlink()


def _pretend_observed_in_the_same_tick(config: Path, rel_path: str, old_sha256: str) -> None:
    """What a file system with a coarse clock leaves when a plan reads a file and an edit
    follows in the same tick: the observation's stat equals the file's stat after the edit,
    but its digest is of the bytes before it. (This kernel stamps changes finely once a stat
    has looked, so the situation has to be written down rather than provoked.)"""
    workspace = Workspace.open(config)
    observed = ObservedFiles.load(workspace.state_dir, workspace.root)
    with Tree(workspace.root) as tree:
        snapshot = tree.read(rel_path, f"file.{rel_path}")
    assert snapshot is not None
    tick = max(snapshot.mtime_ns, snapshot.ctime_ns)
    observed.record(rel_path, snapshot, old_sha256, recorded_ns=tick)
    observed.save()


def _same_length(content: bytes, serial: int) -> bytes:
    marker = bytes([ord("a") + serial % 26])
    changed = marker + content[1:]
    return changed if changed != content else bytes([ord("z")]) + content[1:]


def _plan_json(config: Path, refresh: str) -> dict[str, object]:
    workspace = Workspace.open(config)
    plan = build_plan(workspace, workspace.store.load(), [], refresh=refresh)  # type: ignore[arg-type]
    return plan.model_dump(mode="json", exclude={"created_at"})


def _full_plan_json(config: Path) -> dict[str, object]:
    """The full plan, leaving the observations as the incremental plans left them."""
    observations = config.parent / ".planner" / OBSERVED_FILE
    kept = observations.read_bytes() if observations.exists() else None
    try:
        return _plan_json(config, "full")
    finally:
        if kept is not None:
            observations.write_bytes(kept)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(
    steps=st.lists(
        st.tuples(st.sampled_from(EDITS), st.sampled_from(PATHS)), min_size=1, max_size=12
    )
)
def test_incremental_plan_equals_full_plan_after_any_edits(steps: list[tuple[str, str]]) -> None:
    with (
        tempfile.TemporaryDirectory() as folder_name,
        mock.patch.object(filestat, "RACY_MARGIN_NS", SCALED_MARGIN_NS),
    ):
        folder = Path(folder_name)
        config = write_config(folder, files=DECLARED, audit_path=None)
        assert main(["apply", "--auto-approve", "-q", "-c", str(config)]) == 0
        _plan_json(config, "auto")

        for serial, (edit, rel_path) in enumerate(steps):
            _edit(folder / "tree", edit, rel_path, serial)
            if edit == "settle":
                time.sleep(SETTLE_SECONDS)
            if edit == "apply":
                assert main(["apply", "--auto-approve", "-q", "-c", str(config)]) == 0

            incremental = _plan_json(config, "auto")
            full = _full_plan_json(config)
            assert incremental == full, f"after step {serial + 1}: {edit} {rel_path}"
