"""What planner last saw of each declared file, so that a plan hashes only files that changed.

A plan that reads and hashes a file remembers the file's stat (size, mtime and ctime in
nanoseconds, inode, mode) together with the digest of the bytes it read and the moment it
looked. The next plan stats the file; when the stat is the same and the observation is
*settled*, the remembered digest stands in for reading and hashing the file again.

Settled is the racy-timestamp rule git applies to its index. A file system stamps a change
with a clock that ticks coarsely (2 s on FAT, 1 s on some network file systems, a kernel
timer tick elsewhere), so an edit made in the same tick as the change that came before it
leaves size, mtime and ctime as they were. An observation is only trusted when the file's
mtime and ctime are older than the moment of observation minus ``RACY_MARGIN_NS``: any edit
after the observation then lands in a later tick and shows in the stat. A file changed
shortly before it was observed is hashed again by every plan until one plan observes it
after the margin has passed. ctime matters because ``touch -m`` or ``os.utime`` can put an
old mtime back after an edit, but nothing but the clock sets ctime.

The observations live in ``<state_dir>/files.observed``, written by plans, not in the state
that applies write under the lock. An apply cannot usefully record the files it writes: a
file it wrote is by definition changed less than a margin before the apply could observe it.
The file is a disposable cache: owner-only, replaced atomically through the effects seam,
checksummed, and ignored with a logged warning when missing, damaged, for another root or
from another format. Every observation stands on its own (a stat and the digest of the bytes
seen under it), so two plans racing to write the file cannot make it lie: whichever copy
wins holds only true observations.
"""

from __future__ import annotations

import json
import logging
import os
import stat
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from planner.cachefile import read_sealed, write_sealed
from planner.tree import FileSnapshot

logger = logging.getLogger(__name__)

OBSERVED_FILE = "files.observed"
FORMAT = "planner-files-observed/1"

RACY_MARGIN_NS = 2_000_000_000
"""How much older than its observation a change must be for the stat to vouch for the bytes.

Two seconds covers FAT's 2 s timestamps, one-second network and HFS+ timestamps, the lag of
the kernel's coarse clock behind ``time.time_ns()``, and a network file server whose clock
is up to about a second ahead of ours.
"""

StatKey = tuple[int, int, int, int, int]
"""(size, mtime_ns, ctime_ns, inode, st_mode): what must be unchanged for a cache hit."""


def stat_key(info: os.stat_result) -> StatKey:
    """The parts of a stat that change whenever a file's bytes or mode change."""
    return (info.st_size, info.st_mtime_ns, info.st_ctime_ns, info.st_ino, info.st_mode)


def is_settled(mtime_ns: int, ctime_ns: int, recorded_ns: int) -> bool:
    """Whether a file last changed at mtime/ctime is safely older than its observation."""
    return max(mtime_ns, ctime_ns) < recorded_ns - RACY_MARGIN_NS


class ObservedFiles:
    """The stat observations of one root, as loaded from and saved to the state folder.

    ``digest_if_unchanged`` is the only way a plan may skip reading a file; everything else
    is bookkeeping. Not for apply's stale-plan check, which always re-reads: an apply must
    see the bytes it is about to replace.
    """

    def __init__(self, state_dir: Path, root: Path) -> None:
        self.state_dir = state_dir
        self.root_real = os.path.realpath(root)
        self._entries: dict[str, list[Any]] = {}
        """Path -> [size, mtime_ns, ctime_ns, inode, st_mode, recorded_ns, sha256]."""
        self._is_changed = False

    @property
    def path(self) -> Path:
        return self.state_dir / OBSERVED_FILE

    @classmethod
    def load(cls, state_dir: Path, root: Path) -> ObservedFiles:
        """The saved observations; none (so every file is hashed) when they cannot be trusted."""
        observed = cls(state_dir, root)
        body = read_sealed(observed.path, observed._identity())
        if body is None:
            # Saved again, whole, at the end of this plan.
            observed._is_changed = True
            return observed

        try:
            entries = json.loads(body)
        except ValueError:
            entries = None
        if not isinstance(entries, dict):
            logger.warning("%s holds malformed observations; hashing every file", observed.path)
            observed._is_changed = True
            return observed
        observed._entries = entries
        return observed

    def _identity(self) -> dict[str, str]:
        return {"format": FORMAT, "root": self.root_real}

    def digest_if_unchanged(self, rel_path: str, info: os.stat_result) -> str | None:
        """The SHA-256 of the file's bytes when a settled observation vouches for them."""
        entry = self._entries.get(rel_path)
        if entry is None:
            return None
        try:
            if entry[:5] != [*stat_key(info)] or not is_settled(entry[1], entry[2], entry[5]):
                return None
            digest = entry[6]
        except (TypeError, IndexError, KeyError):
            # A malformed observation (only another writer could have made it) vouches for
            # nothing; it is replaced when the file is read.
            return None
        return digest if isinstance(digest, str) else None

    def record(self, rel_path: str, snapshot: FileSnapshot, sha256: str, recorded_ns: int) -> None:
        """Remember what was read: ``snapshot``'s stat, ``sha256`` its bytes' digest."""
        entry: list[Any] = [
            snapshot.size,
            snapshot.mtime_ns,
            snapshot.ctime_ns,
            snapshot.inode,
            stat.S_IFREG | snapshot.mode,
            recorded_ns,
            sha256,
        ]
        if self._entries.get(rel_path) != entry:
            self._entries[rel_path] = entry
            self._is_changed = True

    def forget(self, rel_path: str) -> None:
        """Drop what was seen of a path that is absent now or no longer a regular file."""
        if self._entries.pop(rel_path, None) is not None:
            self._is_changed = True

    def keep_only(self, rel_paths: Iterable[str]) -> None:
        """Drop observations of paths no longer declared or managed."""
        wanted = set(rel_paths)
        stale = [path for path in self._entries if path not in wanted]
        for path in stale:
            del self._entries[path]
        self._is_changed = self._is_changed or bool(stale)

    def save(self) -> None:
        """Replace the saved observations when they changed; a failure only costs speed later.

        Never creates the state folder: a plan before the first apply leaves no trace.
        """
        if not self._is_changed:
            return
        body = json.dumps(self._entries, separators=(",", ":")).encode()
        if write_sealed(self.state_dir, OBSERVED_FILE, self._identity(), body):
            self._is_changed = False
