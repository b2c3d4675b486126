"""A record of every GitHub API request the fake served, for tests and benchmarks to count."""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import asdict, dataclass
from typing import Any, Literal

RequestKind = Literal["rest-read", "rest-write", "graphql-query", "graphql-mutation"]
REQUEST_KINDS: tuple[RequestKind, ...] = (
    "rest-read",
    "rest-write",
    "graphql-query",
    "graphql-mutation",
)


@dataclass(frozen=True)
class LoggedRequest:
    """One request as the server saw and answered it.

    ``operation`` is the REST ``operationId`` or the GraphQL root field names joined by
    commas; ``graphql_fields`` counts root fields (aliases) in a GraphQL document, so a
    document with 40 aliased ``closeIssue`` mutations has 40. ``fault`` names the injected
    fault that shaped the answer, if any; ``status`` is None when the connection was dropped.
    """

    method: str
    path: str
    kind: RequestKind
    status: int | None
    operation: str | None = None
    graphql_fields: int = 0
    fault: str | None = None
    rate_limit_cost: int = 0
    seconds: float = 0.0

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


class RequestLog:
    """Thread-safe, append-only until ``reset``."""

    def __init__(self) -> None:
        self._entries: list[LoggedRequest] = []
        self._lock = threading.Lock()

    def record(self, entry: LoggedRequest) -> None:
        with self._lock:
            self._entries.append(entry)

    def entries(self, kind: RequestKind | None = None) -> list[LoggedRequest]:
        with self._lock:
            return [e for e in self._entries if kind is None or e.kind == kind]

    def counts(self) -> dict[str, int]:
        """Requests per kind, every kind present (zero when none)."""
        with self._lock:
            counted = Counter(entry.kind for entry in self._entries)
        return {kind: counted.get(kind, 0) for kind in REQUEST_KINDS}

    def graphql_field_total(self, kind: RequestKind | None = None) -> int:
        """Aliases/mutations summed over GraphQL requests (optionally of one kind)."""
        return sum(entry.graphql_fields for entry in self.entries(kind))

    def reset(self) -> None:
        with self._lock:
            self._entries.clear()
