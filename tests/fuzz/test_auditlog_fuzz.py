"""The audit log parser survives any bytes, and planner lines round-trip any text exactly.

``parse_log`` and ``verify_log`` read a file other tools also write, so they must accept any
bytes; planner's own lines must bring back every value, whatever characters it holds, and an
append must leave every earlier byte where it was.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from planner.auditlog import (
    GENESIS,
    EntryFields,
    chain_next,
    encode_line,
    escape,
    parse_line,
    parse_log,
    unescape,
    verify_log,
)
from planner.cli import main

FAST = settings(max_examples=200, deadline=None)
SLOW = settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)

# Any character but surrogates, with the ones the escaping is about drawn often.
HOSTILE = st.sampled_from(["\\", "|", "\n", "\r", "\t", "\x00", "\x1b", "\x7f", "\\x41", "\\|"])
VALUES = st.lists(st.one_of(st.characters(exclude_categories=["Cs"]), HOSTILE), max_size=30).map(
    "".join
)
IDS = st.from_regex(r"[a-z0-9][a-z0-9._-]{0,30}", fullmatch=True)
FIELDS = st.builds(EntryFields, VALUES, VALUES, VALUES, VALUES, VALUES)
# Bytes shaped like logs: pipes, newlines, backslashes and planner trailers, mixed with noise.
LOG_PIECES = st.sampled_from(
    [
        b"|",
        b"\n",
        b"\\",
        b"\\|",
        b"planner:id=",
        b"planner:id=e1,prev=" + GENESIS.encode(),
        b",prev=",
        b"2024-01-01T00:00:00Z|WORKFLOW|step|ctx|ref|message\n",
        b"\xff\xfe",
        b"\r\n",
    ]
)
LOG_BYTES = st.one_of(
    st.binary(max_size=300), st.lists(st.one_of(LOG_PIECES, st.binary(max_size=8))).map(b"".join)
)


@FAST
@given(VALUES)
def test_unescape_reverses_escape_for_any_text(value: str) -> None:
    escaped = escape(value)

    assert unescape(escaped) == value
    assert "\n" not in escaped and "\r" not in escaped
    assert "|" not in escaped.replace("\\\\", "").replace("\\|", ""), "a bare pipe splits fields"


@FAST
@given(st.text(alphabet=st.characters(exclude_categories=["Cs"]), max_size=30), IDS, FIELDS)
def test_all_five_fields_and_the_id_round_trip_through_a_planner_line(
    timestamp: str, entry_id: str, fields: EntryFields
) -> None:
    line = encode_line(timestamp, entry_id, fields, GENESIS)

    assert line.endswith(b"\n") and line.count(b"\n") == 1
    parsed = parse_line(7, line)
    assert parsed.is_planner_line
    assert (parsed.number, parsed.entry_id, parsed.prev, parsed.fields) == (
        7,
        entry_id,
        GENESIS,
        fields,
    )
    assert parsed.raw == line


@FAST
@given(st.lists(st.tuples(IDS, FIELDS), max_size=6, unique_by=lambda item: item[0]))
def test_a_log_of_planner_lines_parses_back_to_the_same_entries_and_verifies(
    entries: list[tuple[str, EntryFields]],
) -> None:
    content = b""
    chain = GENESIS
    for entry_id, fields in entries:
        line = encode_line("t", entry_id, fields, chain)
        chain = chain_next(chain, line)
        content += line

    log = parse_log(content)

    assert [(line.entry_id, line.fields) for line in log.lines] == entries
    assert log.chain == chain and log.size == len(content) and log.torn_tail == b""
    assert verify_log(content, log.size, log.chain).is_intact


@FAST
@given(LOG_BYTES, st.one_of(st.none(), st.integers(min_value=0, max_value=400)), st.booleans())
def test_any_bytes_parse_and_verify_without_crashing(
    content: bytes, anchor_size: int | None, real_chain: bool
) -> None:
    log = parse_log(content)

    assert b"".join(line.raw for line in log.lines) + log.torn_tail == content
    assert log.size == len(content) - len(log.torn_tail)
    assert [line.number for line in log.lines] == list(range(1, len(log.lines) + 1))
    chain = log.chain if real_chain else GENESIS
    verdict = verify_log(content, anchor_size, chain if anchor_size is not None else None)
    assert verdict.is_intact or verdict.reason
    if verify_log(content, None, None).is_intact:
        assert verify_log(content, log.size, log.chain).is_intact


def _append(content: bytes, entries: list[tuple[str, EntryFields]]) -> bytes:
    """Append the way the audit kind does: a torn last line is closed with a newline first."""
    log = parse_log(content)
    prefix = b""
    if log.torn_tail:
        prefix = b"\n"
        log = parse_log(content + prefix)
    chain = log.chain
    lines = []
    for entry_id, fields in entries:
        line = encode_line("t", entry_id, fields, chain)
        chain = chain_next(chain, line)
        lines.append(line)
    return content + prefix + b"".join(lines)


@FAST
@given(
    LOG_BYTES, st.lists(st.tuples(IDS, FIELDS), min_size=1, max_size=4, unique_by=lambda i: i[0])
)
def test_appending_keeps_every_earlier_byte_and_verifies_with_the_new_anchor(
    existing: bytes, entries: list[tuple[str, EntryFields]]
) -> None:
    before = verify_log(existing, None, None)

    appended = _append(existing, entries)

    assert appended.startswith(existing)
    log = parse_log(appended)
    assert log.torn_tail == b""
    assert [line.entry_id for line in log.lines[-len(entries) :]] == [e for e, _ in entries]
    if before.is_intact:
        assert verify_log(appended, log.size, log.chain).is_intact
        old = parse_log(existing)
        if not old.torn_tail:
            assert verify_log(appended, old.size, old.chain).is_intact


ENTRY_VALUES = st.text(
    alphabet=st.characters(exclude_categories=["Cs"], exclude_characters="\x00"),
    min_size=1,
    max_size=20,
)


def _toml(value: str) -> str:
    return (
        '"'
        + "".join(
            f"\\u{ord(c):04x}" if c in '"\\' or ord(c) < 0x20 or ord(c) == 0x7F else c
            for c in value
        )
        + '"'
    )


@SLOW
@given(LOG_BYTES.filter(lambda b: verify_log(b, None, None).is_intact), ENTRY_VALUES, VALUES)
def test_apply_appends_after_any_existing_log_and_audit_verify_passes(
    existing: bytes, category: str, message: str
) -> None:
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        log_path = folder / "tree/audit/current.log"
        log_path.parent.mkdir(parents=True)
        log_path.write_bytes(existing)
        config = folder / "planner.toml"
        config.write_text(
            '[project]\nroot = "tree"\n\n[audit]\npath = "audit/current.log"\n\n'
            f'[[audit.entry]]\nid = "fuzz-entry"\ncategory = {_toml(category)}\n'
            f'action = "act"\nmessage = {_toml(message)}\n',
            encoding="utf-8",
        )

        assert main(["apply", "-c", str(config), "--auto-approve", "-q"]) == 0

        written = log_path.read_bytes()
        assert written.startswith(existing)
        log = parse_log(written)
        assert log.lines[-1].entry_id == "fuzz-entry"
        assert log.lines[-1].fields == EntryFields(category, "act", "", "", message)
        assert main(["audit", "verify", "-c", str(config), "-q"]) == 0
        assert main(["plan", "-c", str(config), "--detailed-exitcode", "-q"]) == 0
