"""The ETag cache of REST reads: what GitHub answered for a URL, and the ETag that names it.

Each REST read sends the cached ETag in ``If-None-Match``; GitHub answers an unchanged
resource with 304 and no body, which costs nothing against the rate limit, and the cached
body stands in for it. A repeated plan of an unchanged repository is therefore free, which
matters most without a token (GitHub allows 60 anonymous requests an hour).

The cache lives in the state folder as ``github-etags.json``, owner-only. It is keyed by URL
without credentials and holds response bodies reduced to the fields planner reads; the token
is never part of it. It is only a cache: unreadable means empty, and a failed write is
logged at debug level and forgotten, so a plan on a read-only state folder still works.
"""

from __future__ import annotations

import json
import logging
import os
import urllib.parse
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from planner.effects import effects, write_private_file

logger = logging.getLogger(__name__)

CACHE_FILE = "github-etags.json"
FORMAT_VERSION = 1


@dataclass(frozen=True)
class CachedAnswer:
    """A REST answer as kept: its ETag, its reduced body, and the next page's URL, if any."""

    etag: str
    body: Any
    next_url: str | None


class EtagCache:
    """The cached answers of one state folder, loaded once and saved when they changed."""

    def __init__(self, path: Path, entries: dict[str, CachedAnswer] | None = None) -> None:
        self.path = path
        self._entries = dict(entries or {})
        self._has_changed = False

    @classmethod
    def load(cls, path: Path) -> EtagCache:
        """The cache at ``path``; empty when it is missing, unreadable or of another format."""
        try:
            stored = json.loads(path.read_bytes())
            if stored.get("version") != FORMAT_VERSION:
                return cls(path)
            entries = {
                str(url): CachedAnswer(str(item["etag"]), item["body"], item.get("next"))
                for url, item in stored["entries"].items()
            }
        except FileNotFoundError:
            return cls(path)
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as error:
            logger.debug("ignoring the ETag cache %s: %s", path, error)
            return cls(path)
        return cls(path, entries)

    def get(self, url: str) -> CachedAnswer | None:
        return self._entries.get(cache_key(url))

    # Limitation: entries are replaced, never dropped, so URLs no longer asked for (a
    # repository removed from the configuration, a page past the end after issues were
    # transferred away) stay in the file. They cost disk, not requests; deleting the file is
    # always safe and only makes the next plan pay full price once.
    def put(self, url: str, answer: CachedAnswer) -> None:
        key = cache_key(url)
        if self._entries.get(key) != answer:
            self._entries[key] = answer
            self._has_changed = True

    def save(self) -> None:
        """Write the cache if it changed; a failure is logged at debug level, never raised.

        This is the one write ``planner plan`` makes: a plan changes nothing that matters,
        but remembering ETags is what lets the next plan cost no rate limit.
        """
        if not self._has_changed:
            return
        stored = {
            "version": FORMAT_VERSION,
            "entries": {
                url: {"etag": entry.etag, "next": entry.next_url, "body": entry.body}
                for url, entry in sorted(self._entries.items())
            },
        }
        content = json.dumps(stored, separators=(",", ":")).encode()
        try:
            if not self.path.parent.is_dir():
                effects.mkdir(str(self.path.parent), mode=0o700)
            write_private_file(str(self.path), content)
        except OSError as error:
            logger.debug("could not write the ETag cache %s: %s", self.path, error)
            return
        self._has_changed = False


def cache_key(url: str) -> str:
    """``url`` without any user or password, so that no credential can become a key."""
    parts = urllib.parse.urlsplit(url)
    host = parts.hostname or ""
    if parts.port is not None:
        host = f"{host}:{parts.port}"
    return urllib.parse.urlunsplit((parts.scheme, host, parts.path, parts.query, ""))


_caches: dict[str, EtagCache] = {}


def cache_for(state_dir: Path) -> EtagCache:
    """The process's cache for a state folder, loaded on first use."""
    path = state_dir / CACHE_FILE
    key = os.path.abspath(path)
    cache = _caches.get(key)
    if cache is None:
        cache = EtagCache.load(path)
        _caches[key] = cache
    return cache
