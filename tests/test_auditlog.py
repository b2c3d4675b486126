"""The audit line format round-trips any text, and verification finds every kind of tampering."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from planner.auditlog import (
    GENESIS,
    EntryFields,
    chain_next,
    encode_line,
    parse_line,
    parse_log,
    verify_log,
)
from planner.cli import main
from planner.effects import effects
from tests.harness import entry, planner, write_config

SHELL_LOG = (
    b"2024-01-01T10:00:00Z|WORKFLOW|step1|ctx|ref1|Step 1 complete\n"
    b"2024-01-01T10:05:00Z|WORKFLOW|step2|ctx|ref2|Step 2 | with a pipe\n"
)


@given(
    st.lists(st.text(), min_size=5, max_size=5),
    st.from_regex(r"[a-z0-9][a-z0-9._-]{0,20}", fullmatch=True),
)
def test_any_text_round_trips_through_a_planner_line(values: list[str], entry_id: str) -> None:
    fields = EntryFields(*values)
    line = encode_line("2026-01-01T00:00:00Z", entry_id, fields, GENESIS)
    assert line.count(b"\n") == 1 and line.endswith(b"\n")
    parsed = parse_line(1, line)
    assert parsed.entry_id == entry_id
    assert parsed.fields == fields


def _log_of(count: int) -> bytes:
    content = SHELL_LOG
    chain = parse_log(content).chain
    for index in range(count):
        line = encode_line("t", f"e{index}", EntryFields("C", "a", "", "", f"m{index}"), chain)
        chain = chain_next(chain, line)
        content += line
    return content


def test_an_intact_log_verifies_with_and_without_the_head_anchor() -> None:
    content = _log_of(5)
    log = parse_log(content)
    assert verify_log(content, None, None).is_intact
    assert verify_log(content, log.size, log.chain).is_intact


def test_an_edited_line_is_found_at_the_next_planner_line() -> None:
    content = _log_of(5).replace(b"m2", b"mX")
    verdict = verify_log(content, None, None)
    assert not verdict.is_intact and verdict.line == 6


def test_an_edited_shell_line_before_planner_lines_is_found() -> None:
    content = _log_of(3).replace(b"Step 1 complete", b"Step 1 skipped!")
    assert verify_log(content, None, None).line == 3


def test_a_deleted_line_is_found() -> None:
    lines = _log_of(5).splitlines(keepends=True)
    del lines[3]
    assert not verify_log(b"".join(lines), None, None).is_intact


def test_reordered_lines_are_found() -> None:
    lines = _log_of(5).splitlines(keepends=True)
    lines[3], lines[4] = lines[4], lines[3]
    assert not verify_log(b"".join(lines), None, None).is_intact


def test_truncation_is_found_through_the_head_anchor() -> None:
    content = _log_of(5)
    log = parse_log(content)
    truncated = content[: -len(log.lines[-1].raw)]
    assert verify_log(truncated, None, None).is_intact, "without an anchor a cut tail looks fine"
    verdict = verify_log(truncated, log.size, log.chain)
    assert not verdict.is_intact and "truncated" in verdict.reason


def test_edit_of_the_last_line_is_found_through_the_head_anchor() -> None:
    content = _log_of(5)
    log = parse_log(content)
    edited = content.replace(b"m4", b"mZ")
    assert not verify_log(edited, log.size, log.chain).is_intact


def test_existing_shell_log_is_kept_byte_for_byte_and_its_entries_count_as_present(
    tmp_path: Path,
) -> None:
    (tmp_path / "tree/audit").mkdir(parents=True)
    (tmp_path / "tree/audit/current.log").write_bytes(SHELL_LOG)
    adopted = {
        "id": "step1",
        "category": "WORKFLOW",
        "action": "step1",
        "context": "ctx",
        "ref": "ref1",
        "message": "Step 1 complete",
    }
    write_config(tmp_path, entries=[adopted, entry("step3", "pipe | and\nnewline")])

    plan = planner("plan", cwd=tmp_path)
    assert "+ audit.step3" in plan.stdout and "audit.step1" not in plan.stdout
    assert planner("apply", "--auto-approve", cwd=tmp_path).code == 0

    log = (tmp_path / "tree/audit/current.log").read_bytes()
    assert log.startswith(SHELL_LOG)
    assert log.count(b"\n") == 3, "the value's newline must be escaped"
    assert parse_log(log).lines[2].fields == EntryFields(
        "WORKFLOW", "step3", "", "", "pipe | and\nnewline"
    )
    assert planner("audit", "verify", cwd=tmp_path).code == 0
    assert "No changes." in planner("plan", cwd=tmp_path).stdout


def test_audit_verify_exits_1_naming_the_first_bad_line(tmp_path: Path) -> None:
    write_config(tmp_path, entries=[entry(f"e{i}") for i in range(4)])
    assert planner("apply", "--auto-approve", cwd=tmp_path).code == 0
    path = tmp_path / "tree/audit/current.log"
    path.write_bytes(path.read_bytes().replace(b"|e1|", b"|eX|"))

    verified = planner("audit", "verify", cwd=tmp_path)
    assert verified.code == 1
    assert "line 3" in verified.stderr
    refused = planner("plan", cwd=tmp_path)
    assert refused.code == 1 and "fails verification" in refused.stderr


def test_truncated_log_is_detected_by_verify_and_plan(tmp_path: Path) -> None:
    write_config(tmp_path, entries=[entry(f"e{i}") for i in range(4)])
    assert planner("apply", "--auto-approve", cwd=tmp_path).code == 0
    path = tmp_path / "tree/audit/current.log"
    lines = path.read_bytes().splitlines(keepends=True)
    path.write_bytes(b"".join(lines[:-1]))
    assert planner("audit", "verify", cwd=tmp_path).code == 1
    assert "truncated" in planner("plan", cwd=tmp_path).stderr


def test_all_entries_of_an_apply_take_one_write_and_one_sync(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_config(tmp_path, entries=[entry("first")])
    assert planner("apply", "--auto-approve", cwd=tmp_path).code == 0
    write_config(tmp_path, entries=[entry("first")] + [entry(f"e{i}") for i in range(200)])
    monkeypatch.chdir(tmp_path)

    seen: list[tuple[str, str]] = []
    remove = effects.observe(lambda kind, target: seen.append((kind, target)))
    try:
        assert main(["apply", "--auto-approve", "-q"]) == 0
    finally:
        remove()

    log_steps = [kind for kind, target in seen if target.endswith("current.log")]
    assert log_steps == ["write", "sync"]
    assert parse_log((tmp_path / "tree/audit/current.log").read_bytes()).ids >= {"e0", "e199"}
