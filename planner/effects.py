"""The one door through which planner changes anything outside its own memory.

Every write, sync, rename, unlink, directory creation and network request passes through the
module-level ``effects`` object, one call per step. That gives three things from one place:
counts for the benchmarks (writes and syncs per batch), a hook for the test suite to fail or
kill the process at any chosen step, and a single spot to audit for durability. Reads are
not steps: they change nothing and may be repeated freely.

Do not call ``os.write``/``os.rename``/``os.fsync`` elsewhere in the package; call these.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import os
from collections import Counter
from collections.abc import Callable

logger = logging.getLogger(__name__)

StepObserver = Callable[[str, str], None]
"""Called with (step kind, target) before each step; may raise to fail the step."""

_libc_syncfs: Callable[[int], int] | None = None


def _load_syncfs() -> Callable[[int], int] | None:
    name = ctypes.util.find_library("c")
    if name is None:
        return None
    try:
        libc = ctypes.CDLL(name, use_errno=True)
        syncfs = libc.syncfs
    except (OSError, AttributeError):
        return None
    syncfs.argtypes = [ctypes.c_int]
    syncfs.restype = ctypes.c_int
    return syncfs  # type: ignore[no-any-return, unused-ignore]


_libc_syncfs = _load_syncfs()


class Effects:
    """Performs and counts side effects; observers may fail or stop any step on purpose."""

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()
        self._observers: list[StepObserver] = []

    @property
    def has_syncfs(self) -> bool:
        """Whether one call can flush a whole file system (Linux ``syncfs``)."""
        return _libc_syncfs is not None

    def observe(self, observer: StepObserver) -> Callable[[], None]:
        """Add an observer and return the function that removes it again."""
        self._observers.append(observer)
        return lambda: self._observers.remove(observer)

    def step(self, kind: str, target: str) -> None:
        """Announce a step about to happen: count it and let the observers see it first."""
        self.counts[kind] += 1
        for observer in list(self._observers):
            observer(kind, target)

    def create_file(self, name: str, content: bytes, mode: int, dir_fd: int | None = None) -> None:
        """Create a new file (it must not exist) holding ``content``; one write step."""
        self.step("write", name)
        fd = os.open(
            name, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600, dir_fd=dir_fd
        )
        try:
            view = memoryview(content)
            while view:
                written = os.write(fd, view)
                view = view[written:]
            os.fchmod(fd, mode)
        finally:
            os.close(fd)

    def append(
        self, path: str, content: bytes, dir_fd: int | None = None, mode: int = 0o644
    ) -> None:
        """Append ``content`` to a file in one write call, creating it (with ``mode``) if needed."""
        self.step("write", path)
        flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW
        fd = os.open(path, flags, mode, dir_fd=dir_fd)
        try:
            view = memoryview(content)
            while view:
                written = os.write(fd, view)
                view = view[written:]
        finally:
            os.close(fd)

    def truncate(self, path: str, size: int, dir_fd: int | None = None) -> None:
        """Cut a file back to ``size`` bytes (used to drop a torn tail the tool wrote)."""
        self.step("truncate", path)
        fd = os.open(path, os.O_WRONLY | os.O_NOFOLLOW, dir_fd=dir_fd)
        try:
            os.ftruncate(fd, size)
        finally:
            os.close(fd)

    def fsync_file(self, name: str, dir_fd: int | None = None) -> None:
        """Flush one file's bytes to stable storage."""
        self.step("sync", name)
        fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW, dir_fd=dir_fd)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

    def fsync_dir(self, dir_fd: int, label: str) -> None:
        """Flush a folder's entries (creations, renames, removals) to stable storage."""
        self.step("sync", label)
        os.fsync(dir_fd)

    def sync_filesystem(self, fd: int, label: str) -> None:
        """Flush every dirty page of the file system holding ``fd`` in one call.

        Used to make a whole batch of temporary files durable at once instead of one fsync
        per file. Falls back to fsync of ``fd`` alone when syncfs is missing, so callers must
        only rely on it where they also know ``has_syncfs``.
        """
        self.step("sync", label)
        if _libc_syncfs is None:
            os.fsync(fd)
            return
        if _libc_syncfs(fd) != 0:
            errno = ctypes.get_errno()
            raise OSError(errno, os.strerror(errno), label)

    def rename(self, source: str, target: str, dir_fd: int | None = None) -> None:
        """Atomically put ``source`` in place of ``target`` within one folder."""
        self.step("rename", target)
        os.rename(source, target, src_dir_fd=dir_fd, dst_dir_fd=dir_fd)

    def unlink(self, name: str, dir_fd: int | None = None) -> None:
        """Remove a file entry."""
        self.step("unlink", name)
        os.unlink(name, dir_fd=dir_fd)

    def mkdir(self, name: str, dir_fd: int | None = None, mode: int = 0o777) -> None:
        """Create one folder."""
        self.step("mkdir", name)
        os.mkdir(name, mode, dir_fd=dir_fd)

    def rmdir(self, name: str, dir_fd: int | None = None) -> None:
        """Remove one empty folder."""
        self.step("rmdir", name)
        os.rmdir(name, dir_fd=dir_fd)

    def request(self, kind: str, target: str) -> None:
        """Announce a network request; the GitHub client calls this before each one."""
        self.step(kind, target)


effects = Effects()
"""The process-wide instance; tests observe it, the package performs through it."""


def write_private_file(path: str, content: bytes, mode: int = 0o600) -> None:
    """Replace a small file atomically (owner-only unless ``mode`` says otherwise).

    Temporary file, sync, rename, folder sync: a reader sees the old bytes or the new ones.
    """
    folder, name = os.path.split(path)
    folder = folder or "."
    temporary = f".{name}.tmp-{os.getpid()}"
    dir_fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        try:
            os.unlink(temporary, dir_fd=dir_fd)
        except FileNotFoundError:
            pass
        effects.create_file(temporary, content, mode, dir_fd=dir_fd)
        effects.fsync_file(temporary, dir_fd=dir_fd)
        effects.rename(temporary, name, dir_fd=dir_fd)
        effects.fsync_dir(dir_fd, folder)
    finally:
        os.close(dir_fd)
