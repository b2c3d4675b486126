"""The checkpoint of an apply: its plan, before-images and a write-ahead journal.

Layout, one folder per apply under ``<state_dir>/checkpoints/``:

``header.json``
    The plan, the state as it was, and an index of before-images (checksummed envelope).
``before.pack``
    The bytes of every file the apply changes or removes, one after another (owner-only:
    sensitive content lives here, because rollback needs it).
``after.pack``
    Only for a rollback: the bytes it restores, so it can be resumed on its own.
``journal.jsonl``
    One line per event, synced as written: a batch begins, is done, or failed; the apply is
    complete. A batch begun and neither done nor failed is "unknown": resume looks at what is
    really there before doing anything again.

The folder is created under a temporary name and renamed into place, so a checkpoint either
exists whole or not at all.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from planner import __version__
from planner.effects import effects
from planner.envelope import seal_json, unseal
from planner.errors import StateError
from planner.plan.model import Plan
from planner.state import State

logger = logging.getLogger(__name__)

CHECKPOINTS = "checkpoints"
HEADER = "header.json"
BEFORE_PACK = "before.pack"
AFTER_PACK = "after.pack"
JOURNAL = "journal.jsonl"
KEEP = 3


class BeforeImage(BaseModel):
    """How one object was before the apply: enough to put it back."""

    model_config = ConfigDict(extra="forbid")

    address: str
    exists: bool
    offset: int | None = Field(None, description="Where its bytes start in before.pack.")
    size: int | None = None
    sha256: str | None = None
    mode: int | None = None
    missing_dirs: list[str] = Field(
        default_factory=list, description="Folders the apply had to create for it."
    )
    fields: dict[str, Any] = Field(default_factory=dict, description="Other kinds' values.")


class CheckpointHeader(BaseModel):
    """Everything resume, rollback and status need, written before the first change."""

    model_config = ConfigDict(extra="forbid")

    format_version: int = 1
    apply_id: str
    sequence: int
    operation: Literal["apply", "rollback"]
    started_at: str
    planner_version: str = __version__
    config_path: str
    config_sha256: str
    rollback_of: str | None = None
    state_before: State
    plan: Plan
    before: dict[str, BeforeImage]
    restore_state: State | None = Field(
        None, description="Rollback only: the state it puts back when it completes."
    )
    after: dict[str, BeforeImage] | None = Field(
        None, description="Rollback only: index of after.pack, the images it restores."
    )


class BatchStatus(str, Enum):
    PENDING = "pending"
    UNKNOWN = "unknown"
    DONE = "done"
    FAILED = "failed"


@dataclass(frozen=True)
class JournalEvent:
    batch: int | None
    event: str
    at: str
    error: str | None = None
    detail: dict[str, Any] | None = None


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


class PackWriter:
    """Appends before-images to a pack file in large writes, not one write per object."""

    FLUSH_AT = 8 * 1024 * 1024

    def __init__(self, path: Path) -> None:
        self.path = path
        self.offset = 0
        self._buffer: list[bytes] = []
        self._buffered = 0

    def add(self, content: bytes) -> int:
        offset = self.offset
        self._buffer.append(content)
        self._buffered += len(content)
        self.offset += len(content)
        if self._buffered >= self.FLUSH_AT:
            self.flush()
        return offset

    def flush(self) -> None:
        if not self._buffer:
            return
        effects.append(str(self.path), b"".join(self._buffer), mode=0o600)
        self._buffer.clear()
        self._buffered = 0


class PackReader:
    """Reads byte ranges back from a pack."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def read(self, offset: int, size: int) -> bytes:
        with open(self.path, "rb") as handle:
            handle.seek(offset)
            content = handle.read(size)
        if len(content) != size:
            raise StateError(f"the checkpoint pack {self.path} is truncated; it cannot be trusted")
        return content


class Checkpoint:
    """An apply's checkpoint folder: its header, journal and packs."""

    def __init__(self, folder: Path, header: CheckpointHeader) -> None:
        self.folder = folder
        self.header = header
        self._events: list[JournalEvent] | None = None

    @property
    def apply_id(self) -> str:
        return self.header.apply_id

    @property
    def before_pack(self) -> PackReader:
        return PackReader(self.folder / BEFORE_PACK)

    @property
    def after_pack(self) -> PackReader:
        return PackReader(self.folder / AFTER_PACK)

    def events(self) -> list[JournalEvent]:
        if self._events is None:
            self._events = list(_read_journal(self.folder / JOURNAL))
        return self._events

    def record(
        self,
        event: str,
        batch: int | None = None,
        *,
        error: str | None = None,
        detail: dict[str, Any] | None = None,
    ) -> None:
        """Append one journal event and sync it before returning."""
        line: dict[str, Any] = {"event": event, "batch": batch, "at": _now()}
        if error is not None:
            line["error"] = error
        if detail is not None:
            line["detail"] = detail
        encoded = json.dumps(line, sort_keys=True)
        checksum = hashlib.sha256(encoded.encode()).hexdigest()[:16]
        path = str(self.folder / JOURNAL)
        effects.append(path, f"{checksum} {encoded}\n".encode(), mode=0o600)
        effects.fsync_file(path)
        self.events().append(JournalEvent(batch, event, line["at"], error, detail))

    @property
    def is_complete(self) -> bool:
        return any(e.event == "complete" for e in self.events())

    def batch_status(self, index: int) -> BatchStatus:
        status = BatchStatus.PENDING
        for event in self.events():
            if event.batch != index:
                continue
            if event.event == "begin":
                status = BatchStatus.UNKNOWN
            elif event.event == "done":
                status = BatchStatus.DONE
            elif event.event == "failed":
                status = BatchStatus.FAILED
        return status

    def last_error(self) -> str | None:
        for event in reversed(self.events()):
            if event.error:
                return event.error
        return None

    def details(self, index: int) -> Iterator[dict[str, Any]]:
        """Details kinds recorded for a batch (for example, numbers of created issues)."""
        for event in self.events():
            if event.batch == index and event.detail:
                yield event.detail


def _read_journal(path: Path) -> Iterator[JournalEvent]:
    if not path.exists():
        return
    for raw in path.read_bytes().splitlines():
        checksum, _, encoded = raw.decode("utf-8", "replace").partition(" ")
        if hashlib.sha256(encoded.encode()).hexdigest()[:16] != checksum:
            logger.warning("ignoring a torn or damaged journal line in %s", path)
            continue
        line = json.loads(encoded)
        yield JournalEvent(
            line.get("batch"), line["event"], line["at"], line.get("error"), line.get("detail")
        )


class CheckpointStore:
    """The checkpoints of one state folder: create the next, find the last, prune old ones."""

    def __init__(self, state_dir: Path) -> None:
        self.folder = state_dir / CHECKPOINTS

    def _folders(self) -> list[Path]:
        if not self.folder.exists():
            return []
        return sorted(p for p in self.folder.iterdir() if p.is_dir() and not p.name.startswith("."))

    def last(self) -> Checkpoint | None:
        """The most recent checkpoint, or None. A damaged one is refused, not skipped."""
        folders = self._folders()
        if not folders:
            return None
        return self.load(folders[-1])

    def last_is_incomplete(self) -> bool:
        """Whether the last checkpoint's apply stopped partway, reading only its journal."""
        folders = self._folders()
        if not folders:
            return False
        return not any(e.event == "complete" for e in _read_journal(folders[-1] / JOURNAL))

    def load(self, folder: Path) -> Checkpoint:
        path = folder / HEADER
        try:
            header = CheckpointHeader.model_validate(unseal("header", path.read_bytes()))
        except (OSError, ValueError, ValidationError) as error:
            raise StateError(
                f"the checkpoint is damaged or not planner's ({error.__class__.__name__}); it "
                "was kept for inspection: move the folder away once you have checked the files",
                file=folder,
            ) from None
        return Checkpoint(folder, header)

    def next_sequence(self) -> int:
        folders = self._folders()
        if not folders:
            return 1
        return int(folders[-1].name.split("-", 1)[0]) + 1

    def create(
        self,
        *,
        operation: Literal["apply", "rollback"],
        plan: Plan,
        state_before: State,
        before: dict[str, BeforeImage],
        before_pack: PackWriter,
        config_path: str,
        config_sha256: str,
        rollback_of: str | None = None,
        after_pack_source: Path | None = None,
        after_index: dict[str, BeforeImage] | None = None,
        restore_state: State | None = None,
        apply_id: str | None = None,
    ) -> Checkpoint:
        """Write a complete checkpoint folder atomically and return it."""
        sequence = self.next_sequence()
        apply_id = apply_id or uuid.uuid4().hex[:12]
        header = CheckpointHeader(
            apply_id=apply_id,
            sequence=sequence,
            operation=operation,
            started_at=_now(),
            config_path=config_path,
            config_sha256=config_sha256,
            rollback_of=rollback_of,
            state_before=state_before,
            plan=plan,
            before=before,
            after=after_index,
            restore_state=restore_state,
        )
        staging = Path(before_pack.path).parent
        before_pack.flush()
        if not before_pack.path.exists():
            effects.append(str(before_pack.path), b"", mode=0o600)
        effects.fsync_file(str(before_pack.path))
        if after_pack_source is not None:
            _copy_pack(after_pack_source, staging / AFTER_PACK)
        effects.create_file(
            str(staging / HEADER),
            # Encoded straight to bytes: for a large plan, a str and its encoding are two
            # copies of tens of megabytes at the apply's peak of memory.
            seal_json("header", header.__pydantic_serializer__.to_json(header, by_alias=True)),
            0o600,
        )
        effects.fsync_file(str(staging / HEADER))

        final = self.folder / f"{sequence:06d}-{apply_id}"
        effects.rename(str(staging), str(final))
        dir_fd = os.open(self.folder, os.O_RDONLY | os.O_DIRECTORY)
        try:
            effects.fsync_dir(dir_fd, str(self.folder))
        finally:
            os.close(dir_fd)
        self._prune(keep=final)
        return Checkpoint(final, header)

    def staging_folder(self) -> Path:
        """A fresh owner-only folder to build the next checkpoint in."""
        if not self.folder.exists():
            effects.mkdir(str(self.folder), mode=0o700)
        staging = self.folder / f".staging-{uuid.uuid4().hex[:8]}"
        effects.mkdir(str(staging), mode=0o700)
        return staging

    def discard_staging(self, staging: Path) -> None:
        """Remove a staging folder whose checkpoint was never completed (nothing changed yet)."""
        shutil.rmtree(staging, ignore_errors=True)

    def _prune(self, keep: Path) -> None:
        for leftover in self.folder.glob(".staging-*"):
            shutil.rmtree(leftover, ignore_errors=True)
        folders = self._folders()
        for old in folders[:-KEEP]:
            if old != keep:
                shutil.rmtree(old, ignore_errors=True)


def _copy_pack(source: Path, target: Path) -> None:
    with open(source, "rb") as handle:
        content = handle.read()
    effects.create_file(str(target), content, 0o600)
    effects.fsync_file(str(target))
