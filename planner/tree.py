"""Reading and writing files below one root folder, and never outside it.

Every path is opened component by component relative to an already opened folder, and each
opened folder is checked for where it really is. A symbolic link swapped in between planning
and applying therefore cannot redirect a write: the check happens on the folder actually
opened, and later operations address that folder by descriptor, not by name.
"""

from __future__ import annotations

import hashlib
import logging
import os
import posixpath
import stat
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from planner.effects import effects
from planner.errors import PlanError

logger = logging.getLogger(__name__)

_HAS_PROC_FD = os.path.isdir("/proc/self/fd")

NAME_MAX = 255
"""Longest file or folder name, in bytes, on the file systems planner targets."""

PATH_LIMIT = 3072
"""Longest declared path, in bytes: leaves room below PATH_MAX (4096) for the root itself."""


def normalize_relative_path(path: str) -> str:
    """Return the canonical form of a path relative to a root, or raise ValueError."""
    if not path or "\x00" in path:
        raise ValueError("the path is empty or holds a NUL character")
    if path.startswith("/") or (len(path) > 1 and path[1] == ":"):
        raise ValueError("the path is absolute; give it relative to the root")
    normalized = posixpath.normpath(path)
    # Every declared file passes through here on every load: a path no longer than a name
    # cannot hold a name that is too long, so the names are only measured in longer paths.
    size = len(normalized) if normalized.isascii() else _byte_length(normalized)
    if size > NAME_MAX:
        if any(_byte_length(name) > NAME_MAX for name in normalized.split("/")):
            raise ValueError(f"a name in the path is longer than {NAME_MAX} bytes; shorten it")
        if size > PATH_LIMIT:
            raise ValueError(f"the path is longer than {PATH_LIMIT} bytes; shorten it")
    if normalized == "." or normalized.endswith("/"):
        raise ValueError("the path names the root folder itself, not a file")
    if normalized == ".." or normalized.startswith("../"):
        raise ValueError("the path leaves the root through '..'")
    return normalized


def _byte_length(text: str) -> int:
    return len(text.encode("utf-8", "surrogateescape"))


@dataclass(frozen=True)
class FileSnapshot:
    """What a regular file holds right now: bytes, permission bits and identity."""

    content: bytes
    mode: int
    size: int
    mtime_ns: int
    ctime_ns: int
    inode: int

    @cached_property
    def sha256(self) -> str:
        return hashlib.sha256(self.content).hexdigest()


class Tree:
    """Safe access to the files below ``root``; keeps folder descriptors until closed."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.root_real = os.path.realpath(root)
        self._dir_fds: dict[str, int] = {}
        self._root_missing = False

    def __enter__(self) -> Tree:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close every folder descriptor this tree opened."""
        for fd in self._dir_fds.values():
            os.close(fd)
        self._dir_fds.clear()

    def forget(self, rel_dir: str) -> None:
        """Close the descriptor of a folder that was removed, and of folders below it."""
        for cached in [d for d in self._dir_fds if d == rel_dir or d.startswith(rel_dir + "/")]:
            os.close(self._dir_fds.pop(cached))

    def _check_inside(self, fd: int, rel_dir: str) -> None:
        if not _HAS_PROC_FD:
            return
        try:
            real = os.readlink(f"/proc/self/fd/{fd}")
        except OSError as error:
            os.close(fd)
            raise PlanError(
                f"folder '{rel_dir}' cannot be checked ({error.strerror}); shorten the path"
            ) from None
        if real != self.root_real and not real.startswith(self.root_real.rstrip("/") + "/"):
            os.close(fd)
            raise PlanError(
                f"folder '{rel_dir}' leads outside the root {self.root} through a symbolic "
                f"link (to {real}); remove the link or change the path"
            )

    def _open_component(self, name: str, parent_fd: int) -> int:
        flags = os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC
        if not _HAS_PROC_FD:
            # Limitation: without /proc the opened folder's real location cannot be checked,
            # so every symbolic link in a folder component is refused, even one that stays
            # inside the root.
            flags |= os.O_NOFOLLOW
        return os.open(name, flags, dir_fd=parent_fd)

    def open_dir(
        self, rel_dir: str, *, create: bool = False, created: list[str] | None = None
    ) -> int:
        """Open the folder ``rel_dir`` (relative, normalized; "" is the root).

        Returns a descriptor owned by this tree. With ``create``, missing folders are made
        (each recorded in ``created``). Raises FileNotFoundError when a folder is missing and
        ``create`` is false, PlanError when a component leads outside the root or is not a
        folder.
        """
        cached = self._dir_fds.get(rel_dir)
        if cached is not None:
            return cached
        if rel_dir in ("", "."):
            if create and not self.root.exists():
                self._make_root(created)
                self._root_missing = False
            elif self._root_missing:
                raise FileNotFoundError(2, "the root folder does not exist", str(self.root))
            try:
                fd = os.open(self.root, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
            except FileNotFoundError:
                self._root_missing = True
                raise
            self._root_missing = False
            self._check_inside(fd, ".")
            self._dir_fds[""] = fd
            return fd

        parent_rel, name = posixpath.split(rel_dir)
        parent_fd = self.open_dir(parent_rel, create=create, created=created)
        try:
            fd = self._open_component(name, parent_fd)
        except FileNotFoundError:
            if not create:
                raise
            effects.mkdir(name, dir_fd=parent_fd)
            if created is not None:
                created.append(rel_dir)
            fd = self._open_component(name, parent_fd)
        except NotADirectoryError:
            raise PlanError(
                f"'{rel_dir}' is not a folder, but a declared path needs it to be one"
            ) from None
        except OSError as error:
            if error.errno == 40:  # ELOOP: a link refused by O_NOFOLLOW
                raise PlanError(
                    f"folder '{rel_dir}' is a symbolic link; planner does not follow it"
                ) from None
            raise
        self._check_inside(fd, rel_dir)
        self._dir_fds[rel_dir] = fd
        return fd

    def _make_root(self, created: list[str] | None) -> None:
        missing = []
        folder = self.root.absolute()
        while not folder.exists():
            missing.append(folder)
            folder = folder.parent
        for path in reversed(missing):
            effects.mkdir(str(path))
        self.root_real = os.path.realpath(self.root)

    def lstat(self, rel_path: str) -> os.stat_result | None:
        """Stat a path without following a final link; None when it or a parent is missing."""
        parent_rel, name = posixpath.split(rel_path)
        try:
            parent_fd = self.open_dir(parent_rel)
            return os.stat(name, dir_fd=parent_fd, follow_symlinks=False)
        except (FileNotFoundError, NotADirectoryError):
            return None

    def stat_regular(self, rel_path: str, address: str) -> os.stat_result | None:
        """Stat a regular file without reading it; None when absent. Refuses what ``read`` does.

        The cheap first look of a plan: folders are opened (and checked) once each, files are
        only stat'ed, relative to their folder's descriptor and without following a link.
        """
        parent_rel, name = posixpath.split(rel_path)
        try:
            info = os.stat(name, dir_fd=self.open_dir(parent_rel), follow_symlinks=False)
        except (FileNotFoundError, NotADirectoryError):
            return None
        except PlanError as error:
            error.address = error.address or address
            raise
        except OSError as error:
            raise PlanError(
                f"'{rel_path}' cannot be read ({error.strerror}); correct the path",
                address=address,
            ) from None
        if not stat.S_ISREG(info.st_mode):
            refuse_unless_regular(info, rel_path, address)
        return info

    def read(self, rel_path: str, address: str) -> FileSnapshot | None:
        """Read a regular file; None when absent. Links, folders, FIFOs and devices are refused."""
        if self.stat_regular(rel_path, address) is None:
            return None
        parent_rel, name = posixpath.split(rel_path)
        parent_fd = self.open_dir(parent_rel)

        fd = os.open(
            name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC, dir_fd=parent_fd
        )
        try:
            info = os.fstat(fd)
            refuse_unless_regular(info, rel_path, address)
            chunks = []
            while True:
                chunk = os.read(fd, max(info.st_size, 65536) + 1)
                if not chunk:
                    break
                chunks.append(chunk)
        finally:
            os.close(fd)
        content = chunks[0] if len(chunks) == 1 else b"".join(chunks)
        return FileSnapshot(
            content=content,
            mode=stat.S_IMODE(info.st_mode),
            size=len(content),
            mtime_ns=info.st_mtime_ns,
            ctime_ns=info.st_ctime_ns,
            inode=info.st_ino,
        )


def refuse_unless_regular(info: os.stat_result, rel_path: str, address: str) -> None:
    """Raise PlanError unless ``info`` describes a regular file."""
    if stat.S_ISREG(info.st_mode):
        return
    if stat.S_ISLNK(info.st_mode):
        what = "a symbolic link"
    elif stat.S_ISDIR(info.st_mode):
        what = "a folder"
    else:
        what = "a FIFO, socket or device"
    raise PlanError(
        f"'{rel_path}' is {what}, not a regular file; planner manages regular files only, "
        "so remove it or declare another path",
        address=address,
    )
