"""Loading a configuration file or folder into a validated ``Config``.

TOML is parsed with the standard library for speed. Line numbers, which neither tomllib nor
pydantic report for validation errors, come from one scan of each file's table headers: the
n-th ``[[file]]`` header of a file is the n-th file entry that file declares.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from pydantic import ValidationError

from planner.config.cache import ParsedConfigCache
from planner.config.models import Config
from planner.errors import ConfigError, PlannerError

logger = logging.getLogger(__name__)

ARRAY_SECTIONS = ("label", "issue", "file")
TABLE_SECTIONS = ("project", "github", "audit")
_HEADER = re.compile(r"^[ \t]*\[(\[)?[ \t]*([A-Za-z0-9_.\"' -]+?)[ \t]*\]", re.MULTILINE)
_TOML_LINE = re.compile(r"line (\d+)")


@dataclass(frozen=True)
class Origin:
    """Where something was declared."""

    file: Path
    line: int | None

    def __str__(self) -> str:
        return f"{self.file}:{self.line}" if self.line else str(self.file)


@dataclass
class _SourceFile:
    path: Path
    text: str
    headers: dict[str, list[int]] = field(default_factory=dict)

    def header_line(self, section: str, index: int) -> int | None:
        lines = self.headers.get(section, [])
        return lines[index] if index < len(lines) else None

    def key_line(self, start: int | None, key: str) -> int | None:
        """The line of ``key = ...`` in the table that starts at line ``start``."""
        lines = self.text.splitlines()
        pattern = re.compile(rf"^[ \t]*\"?{re.escape(key)}\"?[ \t]*=")
        first = start or 1
        for number in range(first, len(lines) + 1):
            text = lines[number - 1]
            if number > first and _HEADER.match(text):
                break
            if pattern.match(text):
                return number
        return start


@dataclass(frozen=True)
class LoadedConfig:
    """A validated configuration with the facts needed to report on it and to act on it."""

    config: Config
    path: Path
    folder: Path
    files: tuple[Path, ...]
    sha256: str
    locations: dict[str, tuple[int | str, ...]]
    """Each address's place in the merged document; ``origin`` turns it into file and line."""
    locator: Callable[[tuple[int | str, ...]], tuple[Origin | None, str | None]]

    @property
    def state_dir(self) -> Path:
        return self.folder / self.config.project.state_dir

    @property
    def root(self) -> Path:
        return self.folder / self.config.project.root

    def origin(self, address: str) -> Origin | None:
        """Where an address was declared (found on demand: only errors need it)."""
        location = self.locations.get(address)
        return self.locator(location)[0] if location is not None else None


def _scan_headers(text: str) -> dict[str, list[int]]:
    headers: dict[str, list[int]] = {}
    line = 1
    position = 0
    for match in _HEADER.finditer(text):
        line += text.count("\n", position, match.start())
        position = match.start()
        name = re.sub(r"[\"' \t]", "", match.group(2))
        headers.setdefault(name, []).append(line)
    return headers


def _config_files(path: Path) -> tuple[Path, list[Path]]:
    if path.is_dir():
        files = sorted(p for p in path.glob("*.toml") if p.is_file())
        if not files:
            raise ConfigError(
                f"the configuration folder {path} holds no *.toml file; add one or pass -c FILE"
            )
        return path, files
    if not path.exists():
        raise ConfigError(
            f"no configuration at {path}; create it or pass -c with a TOML file or folder"
        )
    return path.parent, [path]


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as error:
        raise ConfigError(f"cannot read the configuration: {error.strerror}", file=path) from None


def _parse(path: Path, raw: bytes) -> tuple[_SourceFile, dict[str, Any]]:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise ConfigError(
            f"the file is not UTF-8 (byte {error.start}); save it as UTF-8", file=path
        ) from None
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        message = str(error)
        found = _TOML_LINE.search(message)
        reason = re.sub(r"\s*\(at (line \d+, column \d+|end of document)\)", "", message)
        raise ConfigError(
            f"TOML syntax error: {reason[0].lower() + reason[1:]}; fix the TOML syntax there",
            file=path,
            line=int(found.group(1)) if found else None,
        ) from None
    return _SourceFile(path, text, _scan_headers(text)), document


class _Merger:
    """Merges parsed documents and remembers where each item came from."""

    def __init__(self) -> None:
        self.merged: dict[str, Any] = {}
        self.table_origin: dict[str, _SourceFile] = {}
        self.key_origin: dict[tuple[str, str], _SourceFile] = {}
        self.item_origin: dict[tuple[str, int], tuple[_SourceFile, int]] = {}

    def add(self, source: _SourceFile, document: dict[str, Any]) -> None:
        for key, value in document.items():
            if key in ARRAY_SECTIONS and isinstance(value, list):
                self._extend(key, key, source, value, self.merged)
            elif key == "audit" and isinstance(value, dict):
                self._merge_audit(source, value)
            elif key in self.merged:
                first = self.table_origin[key]
                raise ConfigError(
                    f"[{key}] is declared both here and in {first.path}:"
                    f"{first.header_line(key, 0) or 1}; keep one of them",
                    file=source.path,
                    line=source.header_line(key, 0),
                )
            else:
                self.merged[key] = value
                self.table_origin[key] = source

    def _extend(
        self,
        section: str,
        key: str,
        source: _SourceFile,
        items: list[Any],
        target: dict[str, Any],
    ) -> None:
        existing = target.setdefault(key, [])
        if not isinstance(existing, list):
            self._refuse_mixed_forms(section, source)
        for local_index, item in enumerate(items):
            self.item_origin[(section, len(existing))] = (source, local_index)
            existing.append(item)
        self.table_origin.setdefault(section, source)

    def _refuse_mixed_forms(self, section: str, source: _SourceFile) -> None:
        first = self.table_origin.get(section.split(".")[0])
        where = f" and in {first.path}" if first is not None and first is not source else ""
        raise ConfigError(
            f"{section} is given here{where} in two different forms (a value and a table); "
            "declare it one way",
            file=source.path,
            line=source.header_line(section, 0),
        )

    def _merge_audit(self, source: _SourceFile, table: dict[str, Any]) -> None:
        audit = self.merged.setdefault("audit", {})
        if not isinstance(audit, dict):
            self._refuse_mixed_forms("audit", source)
        self.table_origin.setdefault("audit", source)
        for key, value in table.items():
            if key == "entry" and isinstance(value, list):
                self._extend("audit.entry", "entry", source, value, audit)
                continue
            if key in audit:
                first = self.key_origin[("audit", key)]
                raise ConfigError(
                    f"audit.{key} is set both here and in {first.path}; keep one of them",
                    file=source.path,
                    line=source.key_line(source.header_line("audit", 0), key),
                )
            audit[key] = value
            self.key_origin[("audit", key)] = source

    def locate(self, loc: tuple[int | str, ...]) -> tuple[Origin | None, str | None]:
        """Map a pydantic error location to where it was written, and its address if known."""
        if not loc:
            return None, None
        section = str(loc[0])
        rest = loc[1:]
        if section == "audit" and len(loc) >= 3 and loc[1] == "entry" and isinstance(loc[2], int):
            section, rest = "audit.entry", loc[2:]
        if section in (*ARRAY_SECTIONS, "audit.entry") and rest and isinstance(rest[0], int):
            found = self.item_origin.get((section, rest[0]))
            if found is None:
                return None, None
            source, local_index = found
            header = source.header_line(section, local_index)
            line = source.key_line(header, str(rest[1])) if len(rest) > 1 else header
            return Origin(source.path, line), self._address(section, rest[0])
        source_file = self.table_origin.get(section)
        if source_file is None:
            return None, None
        header = source_file.header_line(section, 0)
        if rest:
            return Origin(source_file.path, source_file.key_line(header, str(rest[0]))), None
        return Origin(source_file.path, header or source_file.key_line(1, section)), None

    def _address(self, section: str, index: int) -> str | None:
        container = self.merged.get("audit", {}) if section == "audit.entry" else self.merged
        items = container.get("entry" if section == "audit.entry" else section, [])
        item = items[index] if index < len(items) else None
        if not isinstance(item, dict):
            return None
        identity = {"file": "path", "issue": "key", "label": "name", "audit.entry": "id"}[section]
        value = item.get(identity)
        if not isinstance(value, str):
            return None
        kind = "audit" if section == "audit.entry" else section
        return f"{kind}.{value}"


PATTERN_HINTS = {
    "mode": 'octal permission bits such as "0644"',
    "color": 'six hex digits without "#", such as "0e8a16"',
    "id": "lowercase letters, digits, '.', '_' or '-', starting with a letter or digit",
    "key": "lowercase letters, digits, '.', '_' or '-', starting with a letter or digit",
    "repo": 'a repository as "owner/name"',
}


def _describe(error: dict[str, Any]) -> str:
    loc = error["loc"]
    key = str(loc[-1]) if loc else "value"
    kind = error["type"]
    if kind == "string_pattern_mismatch" and key in PATTERN_HINTS:
        return f"'{key}' = {error.get('input')!r} is invalid; write {PATTERN_HINTS[key]}"
    if kind == "extra_forbidden":
        return f"unknown key '{key}'; remove it or correct its spelling"
    if kind == "missing":
        return f"the required key '{key}' is missing; add it"
    message = str(error["msg"])
    if message.startswith("Value error, "):
        message = message.removeprefix("Value error, ")
        return f"{message}; correct the entry"
    shown = repr(error.get("input"))
    if len(shown) > 60:
        shown = shown[:57] + "..."
    return f"'{key}' = {shown} is invalid ({message[0].lower() + message[1:]}); correct it"


def load_config(path: Path) -> LoadedConfig:
    """Load, merge and validate a configuration file or folder; ConfigError on any fault."""
    folder, paths = _config_files(path)
    raws = [_read(file_path) for file_path in paths]
    digest = hashlib.sha256()
    for file_path, raw in zip(paths, raws, strict=True):
        digest.update(str(file_path.name).encode() + b"\0" + raw + b"\0")

    cache = ParsedConfigCache(folder / _likely_state_dir(raws), digest.hexdigest())
    document = cache.load()
    locator: _Locator
    if document is None:
        merger = _merge(paths, raws)
        document = merger.merged
        locator = merger
    else:
        locator = _DeferredLocator(paths, raws)

    config = _validate(document, locator, paths)
    locations = _check_addresses(config, locator)
    loaded = LoadedConfig(
        config=config,
        path=path,
        folder=folder,
        files=tuple(paths),
        sha256=digest.hexdigest(),
        locations=locations,
        locator=locator.locate,
    )
    _check_references(loaded)
    if isinstance(locator, _Merger) and loaded.state_dir == cache.state_dir:
        cache.store(document)
    logger.debug("loaded %d configuration file(s) from %s", len(paths), path)
    return loaded


def _merge(paths: list[Path], raws: list[bytes]) -> _Merger:
    merger = _Merger()
    for file_path, raw in zip(paths, raws, strict=True):
        source, document = _parse(file_path, raw)
        merger.add(source, document)
    return merger


def _validate(document: dict[str, Any], locator: _Locator, paths: list[Path]) -> Config:
    try:
        return Config.model_validate(document)
    except ValidationError as error:
        found: list[PlannerError] = []
        for problem in error.errors():
            origin, address = locator.locate(tuple(problem["loc"]))
            found.append(
                ConfigError(
                    _describe(dict(problem)),
                    file=origin.file if origin else paths[0],
                    line=origin.line if origin else None,
                    address=address,
                )
            )
        first = found[0]
        first.related = found[1:]
        raise first from None


class _Locator(Protocol):
    def locate(self, loc: tuple[int | str, ...]) -> tuple[Origin | None, str | None]: ...


class _DeferredLocator:
    """Places errors in a configuration whose parse came from the cache.

    Lines are known only to a real parse, so the files are parsed when the first error needs
    a place: an unchanged configuration that loads cleanly is never parsed at all.
    """

    def __init__(self, paths: list[Path], raws: list[bytes]) -> None:
        self._paths = paths
        self._raws = raws
        self._merger: _Merger | None = None

    def locate(self, loc: tuple[int | str, ...]) -> tuple[Origin | None, str | None]:
        if self._merger is None:
            self._merger = _merge(self._paths, self._raws)
        return self._merger.locate(loc)


_PROJECT_TABLE = re.compile(
    r"^[ \t]*\[[ \t]*project[ \t]*\][ \t]*(?:#[^\n]*)?\n(.*?)(?=^[ \t]*\[|\Z)",
    re.MULTILINE | re.DOTALL,
)


def _likely_state_dir(raws: list[bytes]) -> str:
    """``[project].state_dir`` found without parsing everything: where the parse cache lives.

    Only the ``[project]`` table is parsed. A guess is enough: the cache is keyed by the
    digest of every byte, so a wrong folder costs a miss, never a wrong configuration, and
    the cache is only stored where the full parse says the state folder is.
    """
    for raw in raws:
        found = _PROJECT_TABLE.search(raw.decode("utf-8", "replace"))
        if found is None:
            continue
        try:
            table = tomllib.loads(found.group(1))
        except tomllib.TOMLDecodeError:
            break
        state_dir = table.get("state_dir")
        if isinstance(state_dir, str) and state_dir and "\0" not in state_dir:
            return state_dir
        return ".planner"
    return ".planner"


def _check_addresses(config: Config, locator: _Locator) -> dict[str, tuple[int | str, ...]]:
    """Every address declared once; returns where each was declared in the merged document."""
    locations: dict[str, tuple[int | str, ...]] = {}
    default_repo = config.github.repo if config.github else None

    def remember(address: str, section: str, index: int) -> None:
        location = (section, index) if section != "audit.entry" else ("audit", "entry", index)
        if address in locations:
            here = locator.locate(location)[0] or Origin(Path("?"), None)
            first = locator.locate(locations[address])[0]
            raise ConfigError(
                f"{address} is declared twice, here and at {first}; keep one",
                file=here.file,
                line=here.line,
                address=address,
            )
        locations[address] = location

    for index, file_spec in enumerate(config.file):
        remember(f"file.{file_spec.path}", "file", index)
    for index, issue in enumerate(config.issue):
        remember(f"issue.{issue.key}", "issue", index)
        if (issue.repo or default_repo) is None:
            origin, _ = locator.locate(("issue", index))
            raise ConfigError(
                "the issue names no repository; set repo here or [github].repo",
                file=origin.file if origin else None,
                line=origin.line if origin else None,
                address=f"issue.{issue.key}",
            )
    for index, label in enumerate(config.label):
        repo = label.repo or default_repo
        if repo is None:
            origin, _ = locator.locate(("label", index))
            raise ConfigError(
                "the label names no repository; set repo here or [github].repo",
                file=origin.file if origin else None,
                line=origin.line if origin else None,
                address=f"label.{label.name}",
            )
        remember(f"label.{repo}/{label.name}", "label", index)
    if config.audit is not None:
        for index, entry in enumerate(config.audit.entry):
            remember(f"audit.{entry.id}", "audit.entry", index)
    return locations


def _check_references(loaded: LoadedConfig) -> None:
    """Files named by ``source`` and ``body_file`` exist; declared paths avoid planner's own."""
    config = loaded.config
    state_rel = os.path.relpath(loaded.state_dir.resolve(), loaded.root.resolve())
    for file_spec in config.file:
        address = f"file.{file_spec.path}"
        if file_spec.source is not None:
            _require_file(loaded, loaded.folder / file_spec.source, "source", address)
        if config.audit is not None and file_spec.path == config.audit.path:
            raise ConfigError(
                "this path is also the audit log's path; declare the log only in [audit]",
                file=_origin_file(loaded, address),
                line=_origin_line(loaded, address),
                address=address,
            )
        if file_spec.path == state_rel or file_spec.path.startswith(state_rel + "/"):
            raise ConfigError(
                "this path lies inside planner's state folder; choose a path outside it",
                file=_origin_file(loaded, address),
                line=_origin_line(loaded, address),
                address=address,
            )
    for issue in config.issue:
        if issue.body_file is not None:
            _require_file(
                loaded, loaded.folder / issue.body_file, "body_file", f"issue.{issue.key}"
            )


def _origin_file(loaded: LoadedConfig, address: str) -> Path | None:
    origin = loaded.origin(address)
    return origin.file if origin else None


def _origin_line(loaded: LoadedConfig, address: str) -> int | None:
    origin = loaded.origin(address)
    return origin.line if origin else None


def _require_file(loaded: LoadedConfig, path: Path, key: str, address: str) -> None:
    if path.is_file():
        return
    what = "is missing" if not path.exists() else "is not a regular file"
    raise ConfigError(
        f"{key} {path} {what}; create it first or correct the path",
        file=_origin_file(loaded, address),
        line=_origin_line(loaded, address),
        address=address,
    )
