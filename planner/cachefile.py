"""Disposable cache files in the state folder: sealed, owner-only, never trusted blindly.

A cache file is one JSON header line (what the body is and its SHA-256) followed by the JSON
body. The checksum covers the body's exact bytes, so checking it costs one hash, not the
canonical re-serialisation ``planner.envelope`` does for the state. Everything here fails
softly: a cache that cannot be read or written costs speed, never correctness, and never an
error the user sees. Not for anything planner cannot rebuild from what is on disk.
"""

from __future__ import annotations

import errno
import hashlib
import json
import logging
import os
from pathlib import Path
from typing import Any

from planner.effects import effects

logger = logging.getLogger(__name__)

_NOT_WRITABLE = frozenset({errno.EACCES, errno.EPERM, errno.EROFS})


def read_sealed(path: Path, expected: dict[str, Any]) -> bytes | None:
    """The body of ``path`` when its header holds every item of ``expected`` and it is intact.

    None (with a log line saying why) when the file is missing, unreadable, damaged or
    describes something else.
    """
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        logger.debug("no cache at %s yet", path)
        return None
    except OSError as error:
        logger.warning("cannot read the cache %s (%s); working without it", path, error.strerror)
        return None

    header_line, _, body = raw.partition(b"\n")
    try:
        header = json.loads(header_line)
    except ValueError:
        header = None
    if not isinstance(header, dict):
        logger.warning("the cache %s is damaged; working without it", path)
        return None
    mismatched = [key for key, value in expected.items() if header.get(key) != value]
    if mismatched:
        logger.info("the cache %s is for another %s; working without it", path, mismatched[0])
        return None
    if hashlib.sha256(body).hexdigest() != header.get("body_sha256"):
        logger.warning("the cache %s is damaged (checksum); working without it", path)
        return None
    return body


def write_sealed(folder: Path, name: str, header: dict[str, Any], body: bytes) -> bool:
    """Replace ``folder/name`` with ``header`` and ``body``; False (logged) when it failed.

    Written only into an existing folder, as an owner-only temporary file renamed into
    place: two steps of the effects seam. No sync: a copy torn by a crash fails its checksum,
    which costs the next run its speed, not its correctness.
    """
    if not folder.is_dir():
        return False
    sealed = {**header, "body_sha256": hashlib.sha256(body).hexdigest()}
    content = json.dumps(sealed, sort_keys=True).encode() + b"\n" + body
    temporary = f".{name}.tmp-{os.getpid()}"
    try:
        dir_fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    except OSError as error:
        logger.warning("cannot write the cache %s (%s)", folder / name, error.strerror)
        return False
    try:
        _remove_if_present(temporary, dir_fd)
        effects.create_file(temporary, content, 0o600, dir_fd=dir_fd)
        effects.rename(temporary, name, dir_fd=dir_fd)
        return True
    except OSError as error:
        # A state folder the user made read-only (a shared checkout, a CI cache) is a choice,
        # not a fault: say so only to those who ask for debug output.
        log = logger.debug if error.errno in _NOT_WRITABLE else logger.warning
        log(
            "cannot write the cache %s (%s); the next run is slower",
            folder / name,
            error.strerror or error,
        )
        _remove_if_present(temporary, dir_fd)
        return False
    finally:
        os.close(dir_fd)


def _remove_if_present(name: str, dir_fd: int) -> None:
    try:
        os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
    except OSError:
        return
    try:
        effects.unlink(name, dir_fd=dir_fd)
    except OSError as error:
        logger.warning("cannot remove the temporary file %s (%s)", name, error.strerror)
