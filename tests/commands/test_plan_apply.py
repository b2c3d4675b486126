"""End to end through the CLI: create, update, drift, delete, no-op, saved and stale plans."""

from __future__ import annotations

import json
import os
from pathlib import Path

from tests.harness import entry, planner, snapshot, write_config


def test_first_apply_creates_files_and_audit_entries_then_second_plan_is_a_no_op(
    tmp_path: Path,
) -> None:
    write_config(
        tmp_path,
        files={"docs/a.md": "alpha\n", "b.txt": {"content": "beta", "mode": "0600"}},
        entries=[entry("step1")],
    )

    plan = planner("plan", cwd=tmp_path)
    assert plan.code == 0, plan.output
    assert "+ file.docs/a.md" in plan.stdout
    assert "Plan: 3 to add, 0 to change, 0 to destroy." in plan.stdout
    assert not (tmp_path / "tree").exists(), "plan must change nothing"

    applied = planner("apply", "--auto-approve", cwd=tmp_path)
    assert applied.code == 0, applied.output
    assert (tmp_path / "tree/docs/a.md").read_text() == "alpha\n"
    assert (tmp_path / "tree/b.txt").stat().st_mode & 0o777 == 0o600
    log = (tmp_path / "tree/audit/current.log").read_text()
    assert log.count("planner:id=step1,") == 1

    before = {
        p: (p.stat().st_ino, p.stat().st_mtime_ns)
        for p in (tmp_path / "tree").rglob("*")
        if p.is_file()
    }
    again = planner("plan", "--detailed-exitcode", cwd=tmp_path)
    assert again.code == 0, again.output
    assert "No changes." in again.stdout
    reapplied = planner("apply", "--auto-approve", cwd=tmp_path)
    assert reapplied.code == 0
    after = {
        p: (p.stat().st_ino, p.stat().st_mtime_ns)
        for p in (tmp_path / "tree").rglob("*")
        if p.is_file()
    }
    assert before == after, "a no-op apply rewrote files"


def test_update_shows_changed_fields_and_drift_is_repaired(tmp_path: Path) -> None:
    write_config(tmp_path, files={"a.md": "one\ntwo\n"}, audit_path=None)
    assert planner("apply", "--auto-approve", cwd=tmp_path).code == 0

    (tmp_path / "tree/a.md").write_text("edited behind planner's back\n")
    drift = planner("plan", "--detailed-exitcode", cwd=tmp_path)
    assert drift.code == 2
    assert "~ file.a.md" in drift.stdout and "~ content" in drift.stdout
    assert "Plan: 0 to add, 1 to change, 0 to destroy." in drift.stdout

    write_config(
        tmp_path, files={"a.md": {"content": "one\ntwo\n", "mode": "0640"}}, audit_path=None
    )
    assert planner("apply", "--auto-approve", cwd=tmp_path).code == 0
    assert (tmp_path / "tree/a.md").read_text() == "one\ntwo\n"
    assert (tmp_path / "tree/a.md").stat().st_mode & 0o777 == 0o640


def test_created_file_leaving_the_config_is_deleted_but_adopted_file_is_only_released(
    tmp_path: Path,
) -> None:
    (tmp_path / "tree").mkdir()
    (tmp_path / "tree/existing.txt").write_text("was here first")
    write_config(
        tmp_path,
        files={"existing.txt": "managed now", "new.txt": "made by planner"},
        audit_path=None,
    )
    assert planner("apply", "--auto-approve", cwd=tmp_path).code == 0

    write_config(tmp_path, files={}, audit_path=None)
    plan = planner("plan", cwd=tmp_path)
    assert "- file.new.txt" in plan.stdout
    assert "# file.existing.txt" in plan.stdout
    assert planner("apply", "--auto-approve", cwd=tmp_path).code == 0
    assert not (tmp_path / "tree/new.txt").exists()
    assert (tmp_path / "tree/existing.txt").read_text() == "managed now"
    assert "No changes." in planner("plan", cwd=tmp_path).stdout


def test_ensure_absent_removes_a_file_planner_never_created(tmp_path: Path) -> None:
    (tmp_path / "tree").mkdir()
    (tmp_path / "tree/old.log").write_text("remove me")
    write_config(tmp_path, files={"old.log": {"ensure": "absent"}}, audit_path=None)
    assert "- file.old.log" in planner("plan", cwd=tmp_path).stdout
    assert planner("apply", "--auto-approve", cwd=tmp_path).code == 0
    assert not (tmp_path / "tree/old.log").exists()


def test_source_file_content_is_copied_byte_for_byte(tmp_path: Path) -> None:
    (tmp_path / "build").mkdir()
    payload = bytes(range(256)) * 100
    (tmp_path / "build/report.bin").write_bytes(payload)
    write_config(
        tmp_path, files={"out/report.bin": {"source": "build/report.bin"}}, audit_path=None
    )
    assert planner("apply", "--auto-approve", cwd=tmp_path).code == 0
    assert (tmp_path / "tree/out/report.bin").read_bytes() == payload


def test_saved_plan_applies_and_a_stale_saved_plan_is_refused(tmp_path: Path) -> None:
    write_config(tmp_path, files={"a.txt": "A", "b.txt": "B"}, entries=[entry("e1")])
    assert planner("plan", "--out", "plan.json", cwd=tmp_path).code == 0
    saved = json.loads((tmp_path / "plan.json").read_text())
    assert saved["format_version"] == "1"
    assert saved["summary"] == {"create": 3, "update": 0, "delete": 0, "no-op": 0, "forget": 0}
    assert {b["kind"] for b in saved["batches"]} == {"file", "audit"}

    shown = planner("show", "plan.json", cwd=tmp_path)
    assert "+ file.a.txt" in shown.stdout

    assert planner("apply", "plan.json", cwd=tmp_path).code == 0, "a saved plan needs no approval"
    assert (tmp_path / "tree/a.txt").read_text() == "A"

    write_config(tmp_path, files={"a.txt": "A2", "b.txt": "B"}, entries=[entry("e1")])
    assert planner("plan", "--out", "plan2.json", cwd=tmp_path).code == 0
    (tmp_path / "tree/a.txt").write_text("changed after planning")
    stale = planner("apply", "plan2.json", cwd=tmp_path)
    assert stale.code == 1
    assert "stale plan" in stale.stderr and "file.a.txt" in stale.stderr
    assert (tmp_path / "tree/a.txt").read_text() == "changed after planning"


def test_saved_plan_is_refused_when_the_configuration_changed_since(tmp_path: Path) -> None:
    write_config(tmp_path, files={"a.txt": "A"}, audit_path=None)
    assert planner("plan", "--out", "plan.json", cwd=tmp_path).code == 0
    write_config(tmp_path, files={"a.txt": "something else"}, audit_path=None)
    refused = planner("apply", "plan.json", cwd=tmp_path)
    assert refused.code == 1 and "stale plan" in refused.stderr
    assert not (tmp_path / "tree/a.txt").exists()


def test_json_format_prints_only_json_with_the_documented_fields(tmp_path: Path) -> None:
    write_config(tmp_path, files={"a.txt": "A"}, entries=[entry("e1")])
    result = planner("plan", "--format", "json", cwd=tmp_path)
    document = json.loads(result.stdout)
    change = next(c for c in document["changes"] if c["address"] == "file.a.txt")
    assert change["kind"] == "file" and change["action"] == "create" and change["batch"] == 1
    assert document["batches"][0] == {
        "index": 1,
        "kind": "file",
        "operations": 1,
        "requests": 1,
        "note": None,
    }


def test_target_limits_the_plan_and_an_unknown_target_is_an_error(tmp_path: Path) -> None:
    write_config(tmp_path, files={"a.txt": "A", "docs/b.txt": "B"}, audit_path=None)
    limited = planner("plan", "--target", "file.docs/*", cwd=tmp_path)
    assert "file.docs/b.txt" in limited.stdout and "file.a.txt" not in limited.stdout
    assert planner("apply", "--auto-approve", "--target", "file.a.txt", cwd=tmp_path).code == 0
    assert (tmp_path / "tree/a.txt").exists() and not (tmp_path / "tree/docs/b.txt").exists()

    unknown = planner("plan", "--target", "file.nope", cwd=tmp_path)
    assert unknown.code == 1 and "--target file.nope" in unknown.stderr


def test_apply_without_terminal_or_auto_approve_refuses_and_changes_nothing(tmp_path: Path) -> None:
    write_config(tmp_path, files={"a.txt": "A"}, audit_path=None)
    refused = planner("apply", cwd=tmp_path)
    assert refused.code == 1
    assert "--auto-approve" in refused.stderr
    assert not (tmp_path / "tree").exists()


def test_markdown_plan_starts_with_the_summary_and_folds_batches(tmp_path: Path) -> None:
    write_config(tmp_path, files={"a.txt": "A"}, entries=[entry("e1")])
    markdown = planner("plan", "--format", "markdown", cwd=tmp_path).stdout
    assert markdown.startswith("### planner apply: Plan: 2 to add")
    assert "<details>" in markdown and "```diff" in markdown and "+ file.a.txt" in markdown


def test_global_options_work_before_and_after_the_command(tmp_path: Path) -> None:
    write_config(tmp_path, files={"a.txt": "A"}, audit_path=None)
    assert planner("-q", "plan", cwd=tmp_path).stdout == ""
    assert planner("plan", "-q", cwd=tmp_path).stdout == ""
    assert planner("--version", cwd=tmp_path).stdout.startswith("planner ")
    assert planner("plan", "--bogus", cwd=tmp_path).code == 1


def test_files_written_by_apply_are_owner_only_in_the_state_folder(tmp_path: Path) -> None:
    write_config(tmp_path, files={"a.txt": "A"}, entries=[entry("e1")])
    assert planner("apply", "--auto-approve", cwd=tmp_path).code == 0
    state_dir = tmp_path / ".planner"
    assert state_dir.stat().st_mode & 0o777 == 0o700
    for path in state_dir.rglob("*"):
        if path.is_file():
            assert path.stat().st_mode & 0o077 == 0, f"{path} is readable by others"


def test_no_temporary_files_are_left_after_apply(tmp_path: Path) -> None:
    write_config(tmp_path, files={f"d{i % 3}/f{i}.txt": str(i) for i in range(30)}, audit_path=None)
    assert planner("apply", "--auto-approve", cwd=tmp_path).code == 0
    names = [p.name for p in (tmp_path / "tree").rglob("*")]
    assert not [n for n in names if n.endswith(".tmp")]
    assert len(snapshot(tmp_path / "tree")) == 30


def test_config_folder_merges_toml_files_by_name(tmp_path: Path) -> None:
    folder = tmp_path / "conf"
    folder.mkdir()
    write_config(
        folder, files={"a.txt": "A"}, audit_path=None, root="../tree", name="10-files.toml"
    )
    (folder / "20-more.toml").write_text('[[file]]\npath = "b.txt"\ncontent = "B"\n')
    assert planner("apply", "-c", "conf", "--auto-approve", cwd=tmp_path).code == 0
    assert (tmp_path / "tree/a.txt").read_text() == "A" and (
        tmp_path / "tree/b.txt"
    ).read_text() == "B"
    assert (folder / ".planner").is_dir(), "state lives beside the configuration"
    assert os.listdir(folder / ".planner")


def test_a_refused_stale_plan_leaves_no_checkpoint_behind(tmp_path: Path) -> None:
    write_config(tmp_path, files={"a.txt": "A"}, audit_path=None)
    assert planner("plan", "--out", "plan.json", cwd=tmp_path).code == 0
    (tmp_path / "tree").mkdir()
    (tmp_path / "tree/a.txt").write_text("appeared after planning")
    assert planner("apply", "plan.json", cwd=tmp_path).code == 1
    leftovers = list((tmp_path / ".planner").rglob("*")) if (tmp_path / ".planner").exists() else []
    assert not [p for p in leftovers if "staging" in p.name or p.name == "header.json"]
