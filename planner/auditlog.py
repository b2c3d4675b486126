"""The audit log's line format, its hash chain and its verification.

Two kinds of line live in one log. Lines of existing shell tooling,
``timestamp|category|action|context|ref|message``, are kept byte for byte and count as
entries. Lines planner writes add a seventh field, ``planner:id=<id>,prev=<chain>``, where
``chain`` is the running SHA-256 over every line before it (each hash covers the previous
hash and the line's bytes). Editing, removing or reordering any earlier line therefore breaks
the next planner line, and the head anchor kept in the state catches truncation and edits of
the last lines. In planner's lines ``\\``, ``|``, CR, LF and other control characters inside
values are escaped, so every value round-trips.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field

GENESIS = hashlib.sha256(b"planner audit log v1").hexdigest()
_TRAILER = re.compile(r"^planner:id=([a-z0-9][a-z0-9._-]*),prev=([0-9a-f]{64})$")
_FIELD = re.compile(r"(?:[^\\|]|\\.)*", re.DOTALL)
_ESCAPES = {"\\": "\\\\", "|": "\\|", "\n": "\\n", "\r": "\\r", "\t": "\\t"}
_UNESCAPE = re.compile(r"\\(x[0-9a-f]{2}|.)", re.DOTALL)


def chain_next(chain: str, line: bytes) -> str:
    """The chain value after ``line`` (with its newline) follows the chain value ``chain``."""
    return hashlib.sha256(bytes.fromhex(chain) + line).hexdigest()


_NEEDS_ESCAPE = re.compile(r"[\\|\x00-\x1f\x7f]")


def _escaped(match: re.Match[str]) -> str:
    char = match.group(0)
    return _ESCAPES.get(char) or f"\\x{ord(char):02x}"


def escape(value: str) -> str:
    """Make a value safe for one field of a planner line; ``unescape`` reverses it."""
    # Most values need nothing: one scan in C finds that, instead of a loop per character.
    return _NEEDS_ESCAPE.sub(_escaped, value)


def unescape(value: str) -> str:
    def replace(match: re.Match[str]) -> str:
        token = match.group(1)
        if token.startswith("x") and len(token) == 3:
            return chr(int(token[1:], 16))
        return {"n": "\n", "r": "\r", "t": "\t"}.get(token, token)

    return _UNESCAPE.sub(replace, value)


def _split_escaped(text: str) -> list[str] | None:
    fields = []
    position = 0
    while True:
        match = _FIELD.match(text, position)
        assert match is not None
        fields.append(match.group(0))
        position = match.end()
        if position >= len(text):
            return fields
        if text[position] != "|":
            return None
        position += 1


@dataclass(frozen=True)
class EntryFields:
    """The five fields that identify an entry's content (the timestamp is not one of them)."""

    category: str
    action: str
    context: str
    ref: str
    message: str


@dataclass(frozen=True)
class LogLine:
    """One complete line of the log, as found."""

    number: int
    raw: bytes
    entry_id: str | None = None
    prev: str | None = None
    fields: EntryFields | None = None

    @property
    def is_planner_line(self) -> bool:
        return self.entry_id is not None


def encode_line(timestamp: str, entry_id: str, fields: EntryFields, prev: str) -> bytes:
    """One planner line, newline included."""
    values = (timestamp, fields.category, fields.action, fields.context, fields.ref, fields.message)
    body = "|".join(escape(value) for value in values)
    return f"{body}|planner:id={entry_id},prev={prev}\n".encode()


def parse_line(number: int, raw: bytes) -> LogLine:
    """Recognise a planner line or a pipe-format shell line; anything else is kept as is."""
    text = raw.rstrip(b"\n").decode("utf-8", "surrogateescape")
    parts = None
    if "planner:id=" in text:
        # Without a backslash nothing is escaped and every pipe separates two fields.
        parts = _split_escaped(text) if "\\" in text else text.split("|")
    if parts is not None and len(parts) == 7:
        trailer = _TRAILER.match(parts[6])
        if trailer is not None:
            values = [unescape(part) for part in parts[1:6]]
            return LogLine(number, raw, trailer.group(1), trailer.group(2), EntryFields(*values))
    shell = text.split("|", 5)
    if len(shell) == 6:
        return LogLine(number, raw, fields=EntryFields(*shell[1:6]))
    return LogLine(number, raw)


@dataclass
class AuditLog:
    """A parsed log: its lines, the ids and shell entries it holds, and its chain head."""

    lines: list[LogLine] = field(default_factory=list)
    ids: set[str] = field(default_factory=set)
    shell_entries: set[EntryFields] = field(default_factory=set)
    chain: str = GENESIS
    size: int = 0
    torn_tail: bytes = b""
    chains: list[str] = field(default_factory=list)
    """The chain value before each line (``chains[i]`` precedes ``lines[i]``)."""

    def has_entry(self, entry_id: str, fields: EntryFields) -> bool:
        """Whether an entry with this id, or a shell line with these five fields, is present."""
        return entry_id in self.ids or fields in self.shell_entries


def parse_log(content: bytes) -> AuditLog:
    """Parse a whole log. A last line without a newline is reported as ``torn_tail``."""
    log = AuditLog()
    position = 0
    number = 0
    chain = GENESIS
    length = len(content)
    while position < length:
        end = content.find(b"\n", position)
        if end < 0:
            log.torn_tail = content[position:]
            break
        raw = content[position : end + 1]
        number += 1
        line = parse_line(number, raw)
        log.lines.append(line)
        log.chains.append(chain)
        if line.entry_id is not None:
            log.ids.add(line.entry_id)
        elif line.fields is not None:
            log.shell_entries.add(line.fields)
        chain = chain_next(chain, raw)
        position = end + 1
    log.chain = chain
    log.size = position
    return log


def log_head(content: bytes) -> tuple[int, str, int]:
    """Size, chain value and number of the complete lines of a log, without parsing them.

    The same as ``parse_log``'s ``size``, ``chain`` and ``len(lines)``, for the state's
    anchor after an apply appended to a log already checked.
    """
    size = content.rfind(b"\n") + 1
    chain = GENESIS
    lines = content[:size].split(b"\n")[:-1]
    for raw in lines:
        chain = chain_next(chain, raw + b"\n")
    return size, chain, len(lines)


@dataclass(frozen=True)
class Verdict:
    """The outcome of verifying a log: fine, or the first line at fault and why."""

    is_intact: bool
    line: int | None = None
    reason: str = ""
    lines: int = 0
    planner_lines: int = 0


def verify_log(content: bytes, anchor_size: int | None, anchor_chain: str | None) -> Verdict:
    """Check every planner line's chain value and the head anchor kept in the state."""
    return verify_parsed(parse_log(content), anchor_size, anchor_chain)


def verify_parsed(log: AuditLog, anchor_size: int | None, anchor_chain: str | None) -> Verdict:
    """``verify_log`` for a log already parsed (a torn last line counts as a line)."""
    lines = list(log.lines)
    chains = list(log.chains)
    if log.torn_tail:
        lines.append(parse_line(len(lines) + 1, log.torn_tail))
        chains.append(log.chain)

    seen_ids: set[str] = set()
    planner_lines = 0
    position = 0
    anchor_seen = anchor_size is None or anchor_size == 0
    for line, chain in zip(lines, chains, strict=True):
        if line.entry_id is not None:
            planner_lines += 1
            if line.prev != chain:
                return Verdict(
                    False,
                    line.number,
                    "its hash does not match the lines before it: a line before it was edited, "
                    "removed or reordered",
                )
            if line.entry_id in seen_ids:
                return Verdict(False, line.number, f"entry id '{line.entry_id}' appears twice")
            seen_ids.add(line.entry_id)
        position += len(line.raw)
        if anchor_size is not None and position == anchor_size:
            anchor_seen = True
            if chain_next(chain, line.raw) != anchor_chain:
                return Verdict(
                    False,
                    line.number,
                    "the log up to here differs from what the last apply recorded: a line up to "
                    "here was edited or removed",
                )

    if not anchor_seen:
        if anchor_size is not None and position < anchor_size:
            return Verdict(
                False,
                len(lines) + 1,
                f"the log is shorter ({position} bytes) than the last apply left it "
                f"({anchor_size} bytes): it was truncated",
            )
        return Verdict(
            False,
            None,
            "no line ends where the last apply's head was recorded: lines before it were edited",
        )
    return Verdict(True, lines=len(lines), planner_lines=planner_lines)
