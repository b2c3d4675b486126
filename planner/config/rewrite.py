"""Rewriting configuration files in place: the canonical layout, and recording issue numbers.

Two users, two promises. ``planner fmt`` lays a file out canonically so that files other tools
generate read well in review; ``planner apply --write-back`` adds ``number = N`` to issues it
created and changes no other byte. Both work on tomlkit's parse tree, so comments survive,
and both refuse to write a file whose rewritten text would not read back as the same TOML
data (hence the same ``Config``). Nothing here prints; the commands report.

The canonical layout:

- Sections follow the fields of ``Config``: ``[project]``, ``[github]``, every ``[[label]]``,
  every ``[[issue]]``, every ``[[file]]``, ``[audit]``, then every ``[[audit.entry]]``, so the
  audit entries stay under their ``[audit]`` table. Entries of one array keep their order.
- Keys within a section follow the fields of its model (``planner.config.models``), written
  bare and as ``key = value``, without indentation. Values are kept exactly as written
  (quote style, multi-line strings and arrays, number spelling), and so are comments.
- One blank line between sections, none inside one; no trailing whitespace outside values;
  the file ends with one newline.
- Comments move with what they describe: lines right above a key go with the key, lines right
  above a header go with that section, comments after a section's last key that a blank line
  sets apart from the next header stay at the end of the section. Comments before the first
  header that a blank line sets apart from it (and any ``#:schema`` line) stay at the top.

Not for: files written with top-level dotted keys or inline tables as sections
(``audit.path = ...``, ``project = {...}``); they are refused with a sentence saying so.
"""

from __future__ import annotations

import difflib
import logging
import os
import re
import stat
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import tomlkit
import tomlkit.exceptions
from pydantic import BaseModel
from tomlkit.container import Container
from tomlkit.items import AoT, Comment, Item, Key, Table, Whitespace
from tomlkit.parser import Parser

from planner.config.loader import LoadedConfig
from planner.config.models import (
    AuditEntrySpec,
    AuditSettings,
    FileSpec,
    GitHubSettings,
    IssueSpec,
    LabelSpec,
    ProjectSettings,
)
from planner.effects import write_private_file
from planner.errors import ConfigError

logger = logging.getLogger(__name__)

_SECTION_MODELS: dict[str, type[BaseModel]] = {
    "project": ProjectSettings,
    "github": GitHubSettings,
    "label": LabelSpec,
    "issue": IssueSpec,
    "file": FileSpec,
    "audit": AuditSettings,
    "audit.entry": AuditEntrySpec,
}
SECTION_ORDER = tuple(_SECTION_MODELS)
"""The canonical order of sections; see the module docstring."""

_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")
_SCHEMA_COMMENT = "#:schema"
_NUMBER_LINE = re.compile(r"[ \t]*number = \d+\r?\n")


@dataclass
class _Entry:
    """One ``key = value`` line and the comment lines written right above it."""

    name: str
    line: str
    comments: list[str]


@dataclass
class _Section:
    """One ``[table]`` or ``[[array]]`` element as it will be written."""

    name: str
    is_array: bool
    header_comment: str
    leading: list[str]
    entries: list[_Entry] = field(default_factory=list)
    footer: list[str] = field(default_factory=list)

    def render(self) -> list[str]:
        header = f"[[{self.name}]]" if self.is_array else f"[{self.name}]"
        order = list(_SECTION_MODELS[self.name].model_fields)
        rank = {name: index for index, name in enumerate(order)}
        entries = sorted(self.entries, key=lambda entry: rank.get(entry.name, len(order)))
        lines = [*self.leading, header + self.header_comment]
        for entry in entries:
            lines += [*entry.comments, entry.line]
        return lines + self.footer


@dataclass(frozen=True)
class Layout:
    """A configuration file's current text and its canonical text."""

    path: Path
    current: str
    canonical: str

    @property
    def is_changed(self) -> bool:
        return self.current != self.canonical


# Events of the flattened parse tree: ("header", name, is_array, comment), ("key", name, line),
# ("comment", text) and ("blank",). Flattening first makes nesting ([audit] holding
# [[audit.entry]]) and tomlkit's habit of keeping comments inside the table before them one
# problem: a single pass decides what each comment belongs to.
_Event = tuple[Any, ...]


def _comment_suffix(trivia_ws: str, comment: str) -> str:
    comment = comment.rstrip()
    return f"{trivia_ws or ' '}{comment}" if comment else ""


def _top_level(text: str) -> list[tuple[int, Key | None, Item]]:
    """The top-level items of a TOML text in the order written, each with its start offset.

    ``tomlkit.parse`` merges the elements of an array of tables that other tables split up
    into its first place, so a comment written above a later element would end up next to the
    wrong table, and a document edited and rendered again would move those elements. Parsing
    table by table keeps the order as written, and the offsets cut the text into pieces that
    can each be edited on their own.
    """
    # Limitation: this drives tomlkit's parser through its private steps (the loop of
    # Parser.parse without the merging); a tomlkit release that renames them breaks fmt and
    # --write-back loudly (AttributeError), never silently, and every result is checked.
    parser = Parser(text)
    items: list[tuple[int, Key | None, Item]] = []
    while not parser.end() and parser._current != "[":
        start = parser._idx
        item = parser._parse_item()
        if not item:
            break
        items.append((start, *item))
        parser.mark()
    while not parser.end():
        start = parser._idx
        items.append((start, *parser._parse_table()))
    return items


def _flatten(
    body: Iterable[tuple[Key | None, Item]], prefix: str | None, path: Path, events: list[_Event]
) -> None:
    under_header = prefix is not None
    for key, item in body:
        if isinstance(item, Comment):
            events.append(("comment", item.trivia.comment.rstrip()))
            continue
        if isinstance(item, Whitespace):
            if "\n" in item.s:
                events.append(("blank",))
            continue
        if key is None:
            raise ConfigError("fmt cannot place an item it does not recognise", file=path)
        name = f"{prefix}.{key.key}" if prefix else key.key
        if isinstance(item, AoT):
            for table in item.body:
                events.append(("header", name, True, _header_comment(table)))
                _flatten(table.value.body, name, path, events)
        elif isinstance(item, Table) and item.is_super_table():
            _flatten_implicit(item, name, path, events)
        elif isinstance(item, Table):
            events.append(("header", name, False, _header_comment(item)))
            _flatten(item.value.body, name, path, events)
        elif not under_header:
            raise ConfigError(
                f"fmt lays out only [table] and [[array]] sections; rewrite '{name}' as such "
                "sections first",
                file=path,
            )
        else:
            spelled = key.key if _BARE_KEY.match(key.key) else key.as_string().strip()
            line = f"{spelled} = {item.as_string()}"
            line += _comment_suffix(item.trivia.comment_ws, item.trivia.comment)
            events.append(("key", key.key, line))


def _flatten_implicit(table: Table, name: str, path: Path, events: list[_Event]) -> None:
    """A table only implied by its sub-tables (``[[audit.entry]]`` without ``[audit]``)."""
    for key, item in table.value.body:
        if isinstance(item, Comment | Whitespace):
            continue
        if key is None or not isinstance(item, AoT | Table):
            raise ConfigError(
                f"fmt lays out only [table] and [[array]] sections; write the dotted keys of "
                f"'{name}' under a [{name}] header first",
                file=path,
            )
    _flatten(table.value.body, name, path, events)


def _header_comment(table: Table) -> str:
    return _comment_suffix(table.trivia.comment_ws, table.trivia.comment)


def _split_preamble(lines: list[str]) -> tuple[list[str], list[str]]:
    """Lines before the first header: (what stays at the top, what belongs to that header)."""
    start = len(lines)
    while start > 0 and lines[start - 1] and not lines[start - 1].startswith(_SCHEMA_COMMENT):
        start -= 1
    return lines[:start], lines[start:]


def _sections(events: list[_Event]) -> tuple[list[str], list[_Section]]:
    top: list[str] = []
    sections: list[_Section] = []
    groups: list[list[str]] = []  # comment groups since the last key, split by blank lines
    is_closed = False  # a blank line follows the last group

    for event in events:
        kind = event[0]
        if kind == "comment":
            if not groups or is_closed:
                groups.append([])
            groups[-1].append(event[1])
            is_closed = False
        elif kind == "blank":
            if not sections:
                groups.append([])
            is_closed = True
        elif kind == "key":
            sections[-1].entries.append(
                _Entry(event[1], event[2], [line for group in groups for line in group])
            )
            groups, is_closed = [], False
        else:
            if not sections:
                lines = [line for group in groups for line in (*group, "")]
                if not is_closed and lines:
                    lines.pop()
                top, leading = _split_preamble(lines)
            elif is_closed:
                sections[-1].footer += _joined(groups)
                leading = []
            else:
                sections[-1].footer += _joined(groups[:-1])
                leading = groups[-1] if groups else []
            sections.append(_Section(event[1], event[2], event[3], leading))
            groups, is_closed = [], False

    if sections:
        sections[-1].footer += _joined(groups)
    else:
        top = [line for group in groups for line in (*group, "")]
    return top, sections


def _joined(groups: list[list[str]]) -> list[str]:
    lines: list[str] = []
    for group in groups:
        if group:
            lines += [*([""] if lines else []), *group]
    return lines


def _collapse_blank_lines(lines: list[str]) -> list[str]:
    kept: list[str] = []
    for line in lines:
        if line or (kept and kept[-1]):
            kept.append(line)
    while kept and not kept[-1]:
        kept.pop()
    return kept


def canonical_text(text: str, path: Path) -> str:
    """``text`` laid out canonically; ConfigError when it cannot be done faithfully."""
    try:
        items = _top_level(text)
    except tomlkit.exceptions.ParseError as error:
        raise ConfigError(
            f"tomlkit cannot read the file ({error}); fmt left it untouched", file=path
        ) from None
    events: list[_Event] = []
    _flatten([(key, item) for _, key, item in items], None, path, events)
    top, sections = _sections(events)

    rank = {name: index for index, name in enumerate(SECTION_ORDER)}
    ordered = sorted(sections, key=lambda section: rank.get(section.name, len(rank)))
    unknown = [section.name for section in ordered if section.name not in rank]
    if unknown:
        raise ConfigError(f"fmt does not know the section [{unknown[0]}]", file=path)

    lines = _collapse_blank_lines(top)
    for section in ordered:
        if lines:
            lines.append("")
        lines += section.render()
    canonical = "\n".join(lines) + "\n" if lines else ""

    _require_same_data(text, canonical, path, "fmt")
    return canonical


def _require_same_data(before: str, after: str, path: Path, what: str) -> None:
    try:
        is_same = tomllib.loads(before) == tomllib.loads(after)
    except tomllib.TOMLDecodeError:
        is_same = False
    if not is_same:
        raise ConfigError(
            f"{what} would change what this file declares, so it left the file untouched; "
            "please report this with the file",
            file=path,
        )


def layout(path: Path) -> Layout:
    """The file at ``path`` and its canonical layout (checked to declare the same data)."""
    current = path.read_bytes().decode("utf-8")
    return Layout(path=path, current=current, canonical=canonical_text(current, path))


def write_config_file(path: Path, text: str) -> None:
    """Replace a configuration file atomically, keeping its permission bits (and symlinks)."""
    real = path.resolve()
    mode = stat.S_IMODE(os.stat(real).st_mode)
    write_private_file(str(real), text.encode("utf-8"), mode=mode)
    logger.info("rewrote %s", path)


@dataclass(frozen=True)
class RecordedNumbers:
    """Issue numbers written back into one configuration file."""

    file: Path
    keys: tuple[str, ...]


@dataclass(frozen=True)
class WriteBack:
    """What ``record_issue_numbers`` wrote, and the sentences saying what it could not."""

    recorded: list[RecordedNumbers]
    skipped: list[str]


def _issue_places(loaded: LoadedConfig) -> list[tuple[Path, int]]:
    """(file, index among that file's ``[[issue]]`` tables) of each merged issue, in order.

    Mirrors the loader's merge: files in the same sorted order, each file's issues appended.
    """
    places: list[tuple[Path, int]] = []
    for path in loaded.files:
        issues = tomllib.loads(path.read_bytes().decode("utf-8")).get("issue", [])
        places += [(path, index) for index in range(len(issues))]
    return places


def record_issue_numbers(loaded: LoadedConfig, numbers: Mapping[str, tuple[str, int]]) -> WriteBack:
    """Add ``number = N`` after ``key = ...`` of each declared issue that lacks a number.

    ``numbers`` maps an issue key to the (repository, number) the state holds for it; an issue
    whose repository no longer matches is left alone. Every other byte of each file is kept:
    the result is checked to differ only by the inserted lines before it is written.
    """
    config = loaded.config
    default_repo = config.github.repo if config.github else None
    wanted: dict[int, tuple[str, int]] = {}
    for index, issue in enumerate(config.issue):
        known = numbers.get(issue.key)
        if issue.number is None and known is not None and known[0] == (issue.repo or default_repo):
            wanted[index] = (issue.key, known[1])
    if not wanted:
        return WriteBack([], [])

    places = _issue_places(loaded)
    if len(places) != len(config.issue):
        return WriteBack(
            [],
            [
                "the configuration changed during the apply, so no issue number was written "
                "back; run planner apply --write-back again to record them"
            ],
        )
    by_file: dict[Path, dict[int, tuple[str, int]]] = {}
    for index, target in wanted.items():
        path, local_index = places[index]
        by_file.setdefault(path, {})[local_index] = target

    recorded: list[RecordedNumbers] = []
    skipped: list[str] = []
    for path, targets in by_file.items():
        try:
            keys = _write_numbers(path, targets)
        except ConfigError as error:
            skipped.append(str(error))
            continue
        except OSError as error:
            skipped.append(
                f"{path}: cannot write the issue numbers back ({error.strerror}); run planner "
                "apply --write-back again once it is writable"
            )
            continue
        recorded.append(RecordedNumbers(path, keys))
    return WriteBack(recorded, skipped)


def _write_numbers(path: Path, targets: dict[int, tuple[str, int]]) -> tuple[str, ...]:
    text = path.read_bytes().decode("utf-8")
    listing = ", ".join(f"issue.{key}: number = {number}" for key, number in targets.values())
    expected = tomllib.loads(text)
    items = _top_level(text)
    ends = [start for start, _, _ in items[1:]] + [len(text)]

    pieces = [text[: items[0][0]]] if items else []
    seen = 0
    for (start, key, item), end in zip(items, ends, strict=True):
        piece = text[start:end]
        if key is not None and key.key == "issue" and isinstance(item, AoT):
            count = len(item.body)
            here = {i - seen: target for i, target in targets.items() if seen <= i < seen + count}
            piece = _numbered(piece, here, path, listing) if here else piece
            seen += count
        pieces.append(piece)
    if seen != len(expected.get("issue", [])):
        raise ConfigError(
            f"its issues are not all [[issue]] tables, so no number was written back; add them "
            f"by hand ({listing})",
            file=path,
        )
    for local_index, (_, number) in targets.items():
        expected["issue"][local_index]["number"] = number

    updated = "".join(pieces)
    if tomllib.loads(updated) != expected or not _differs_by_insertions(
        text, updated, len(targets)
    ):
        raise ConfigError(
            f"writing the numbers back would change more than those lines, so the file was "
            f"left untouched; add them by hand ({listing})",
            file=path,
        )
    write_config_file(path, updated)
    return tuple(key for _, (key, _) in sorted(targets.items()))


def _numbered(piece: str, targets: dict[int, tuple[str, int]], path: Path, listing: str) -> str:
    """A run of consecutive ``[[issue]]`` tables with ``number = N`` added to the targets."""
    document = tomlkit.parse(piece)
    tables = document["issue"]
    for local_index, (key, number) in targets.items():
        table = tables[local_index]
        if table.get("key") != key or "number" in table:
            raise ConfigError(
                f"the file changed during the apply, so no number was written back; add them "
                f"by hand ({listing})",
                file=path,
            )
        _insert_after_key(table.value, number)
    return document.as_string()


def _insert_after_key(body: Container, number: int) -> None:
    index = next(i for i, (key, _) in enumerate(body.body) if key is not None and key.key == "key")
    key_item = body.body[index][1]
    item: Item = tomlkit.integer(number)
    item.trivia.indent = key_item.trivia.indent
    if key_item.trivia.trail.endswith("\n"):
        item.trivia.trail = key_item.trivia.trail
    if index + 1 < len(body.body):
        # Limitation: tomlkit has no public "insert after"; _insert_at is its own helper, and
        # _differs_by_insertions checks the outcome, so a change in tomlkit cannot go unseen.
        body._insert_at(index + 1, "number", item)
    else:
        body.append("number", item)


def _differs_by_insertions(before: str, after: str, count: int) -> bool:
    """Whether ``after`` is ``before`` plus ``count`` inserted ``number = N`` lines.

    A file whose last line had no newline may gain one when the number goes after it.
    """
    new_lines = after.splitlines(keepends=True)
    for old_text in {before, before if before.endswith("\n") else before + "\n"}:
        old_lines = old_text.splitlines(keepends=True)
        opcodes = difflib.SequenceMatcher(a=old_lines, b=new_lines, autojunk=False).get_opcodes()
        inserted = [
            line
            for tag, _, _, start, end in opcodes
            if tag == "insert"
            for line in new_lines[start:end]
        ]
        if (
            all(tag in ("equal", "insert") for tag, *_ in opcodes)
            and len(inserted) == count
            and all(_NUMBER_LINE.fullmatch(line) for line in inserted)
        ):
            return True
    return False
