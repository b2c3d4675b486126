"""What planner remembers between runs, and the lock that keeps applies one at a time.

The state records what the configuration alone cannot tell: which files planner created
(and may therefore delete), the audit log's head anchor (so truncation is detected), and the
numbers of issues it created. It is written atomically with a checksum, the previous copy is
kept, and only the owner can read it.
"""

from __future__ import annotations

import fcntl
import getpass
import logging
import os
import socket
import time
import uuid
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from planner.effects import effects, write_private_file
from planner.envelope import seal_json, unseal
from planner.errors import LockError, StateError

logger = logging.getLogger(__name__)

STATE_FILE = "state.json"
PREVIOUS_STATE_FILE = "state.json.prev"
LOCK_FILE = "lock"


class StateModel(BaseModel):
    model_config = ConfigDict(extra="forbid")


class FileRecord(StateModel):
    """A file planner manages: whether it created it, and what it last wrote there."""

    created: bool = Field(description="Planner created it, so it deletes it when undeclared.")
    sha256: str | None = None
    mode: int | None = None
    sensitive: bool = Field(
        False, description="Its content was sensitive: old content is never shown either."
    )


class AuditAnchor(StateModel):
    """The audit log's head as of the last apply: truncation or edits before it show."""

    path: str
    size: int
    chain: str
    lines: int


class IssueRecord(StateModel):
    """An issue planner manages: where it lives and what it last saw of it."""

    repo: str
    number: int
    created: bool = False
    node_id: str | None = None
    updated_at: str | None = None
    fields: dict[str, Any] = Field(default_factory=dict)


class LabelRecord(StateModel):
    """A label planner created (and therefore deletes on rollback)."""

    repo: str
    name: str
    created: bool = False


class State(StateModel):
    """Everything planner keeps between runs for one configuration."""

    format_version: int = 1
    lineage: str = Field(default_factory=lambda: str(uuid.uuid4()))
    serial: int = 0
    files: dict[str, FileRecord] = Field(default_factory=dict)
    audit: AuditAnchor | None = None
    issues: dict[str, IssueRecord] = Field(default_factory=dict)
    labels: dict[str, LabelRecord] = Field(default_factory=dict)


def _open_envelope(path: Path) -> State:
    try:
        return State.model_validate(unseal("state", path.read_bytes()))
    except (ValueError, ValidationError) as error:
        raise StateError(
            f"the state file is damaged or not planner's ({error.__class__.__name__}); it was "
            "kept for inspection: restore it from a backup or move it away to start afresh",
            file=path,
        ) from None


class StateStore:
    """Reads and writes the state file of one state folder."""

    def __init__(self, state_dir: Path) -> None:
        self.state_dir = state_dir

    @property
    def path(self) -> Path:
        return self.state_dir / STATE_FILE

    def ensure_dir(self) -> None:
        """Create the state folder (owner-only) if it does not exist yet."""
        if not self.state_dir.exists():
            effects.mkdir(str(self.state_dir), mode=0o700)

    def load(self) -> State:
        """The saved state, the previous good copy if the current one is damaged, or a new one."""
        if not self.path.exists():
            previous = self.state_dir / PREVIOUS_STATE_FILE
            if previous.exists():
                logger.warning("state file missing; using the previous copy %s", previous)
                return _open_envelope(previous)
            return State()
        try:
            return _open_envelope(self.path)
        except StateError:
            previous = self.state_dir / PREVIOUS_STATE_FILE
            if previous.exists():
                logger.warning("state file damaged; using the previous copy %s", previous)
                return _open_envelope(previous)
            raise

    def save(self, state: State) -> State:
        """Write ``state`` with the next serial, keeping the current file as the previous copy."""
        self.ensure_dir()
        saved = state.model_copy(update={"serial": state.serial + 1})
        content = seal_json("state", saved.__pydantic_serializer__.to_json(saved, indent=1))
        if self.path.exists():
            dir_fd = os.open(self.state_dir, os.O_RDONLY | os.O_DIRECTORY)
            try:
                effects.rename(STATE_FILE, PREVIOUS_STATE_FILE, dir_fd=dir_fd)
            finally:
                os.close(dir_fd)
        write_private_file(str(self.path), content)
        return saved


class StateLock:
    """An exclusive lock on a state folder, released by the kernel if the process dies."""

    def __init__(self, state_dir: Path, command: str) -> None:
        self.state_dir = state_dir
        self.command = command
        self._fd: int | None = None

    @property
    def path(self) -> Path:
        return self.state_dir / LOCK_FILE

    def __enter__(self) -> StateLock:
        StateStore(self.state_dir).ensure_dir()
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(fd, 4096).decode("utf-8", "replace").strip() or "another process"
            os.close(fd)
            raise LockError(
                f"the state folder {self.state_dir} is locked by {holder}; wait for it to "
                "finish, or stop that process"
            ) from None
        holder = (
            f"'planner {self.command}' (pid {os.getpid()}, user {getpass.getuser()}, host "
            f"{socket.gethostname()}, since {time.strftime('%Y-%m-%d %H:%M:%S')})"
        )
        os.ftruncate(fd, 0)
        os.pwrite(fd, holder.encode(), 0)
        self._fd = fd
        return self

    def __exit__(self, *exc: object) -> None:
        if self._fd is not None:
            os.ftruncate(self._fd, 0)
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None
