"""Failures the fake GitHub can be told to produce, each scoped to matching requests.

A :class:`Fault` says what goes wrong (``kind``), for which requests (kinds, method, path,
operation, or any predicate), and how many times (``times``; None means until cleared).
The server asks :class:`FaultPlan` once per request and acts on the first fault that matches.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

FaultKind = Literal[
    # A 5xx answer (500/502/503); by default nothing is applied.
    "server_error",
    # Sleep ``delay_seconds`` before handling (the request is then served normally), to
    # provoke client timeouts.
    "delay",
    # 403 (or 429) with GitHub's secondary-limit message and a Retry-After header.
    "secondary_rate_limit",
    # 403/429 with X-RateLimit-Remaining: 0 (REST) or a RATE_LIMITED error (GraphQL).
    "primary_rate_limit",
    # Apply the change, then close the connection without answering.
    "drop_response",
    # GraphQL's "Something went wrong while executing your query. This may be the result of
    # a timeout..." error (HTTP 200 by default, or ``status``).
    "graphql_timeout",
]

FAULT_KINDS: tuple[str, ...] = (
    "server_error",
    "delay",
    "secondary_rate_limit",
    "primary_rate_limit",
    "drop_response",
    "graphql_timeout",
)


@dataclass(frozen=True)
class RequestFacts:
    """What a fault can match on, known before the request is applied."""

    method: str
    path: str
    kind: str
    operation: str | None
    root_fields: tuple[str, ...] = ()


@dataclass
class Fault:
    """One scheduled failure; see the module docstring."""

    kind: FaultKind
    times: int | None = 1
    status: int | None = None
    kinds: frozenset[str] | None = None
    method: str | None = None
    path_contains: str | None = None
    operation: str | None = None
    predicate: Callable[[RequestFacts], bool] | None = None
    delay_seconds: float = 0.0
    retry_after: int | None = 60
    reset_in_seconds: int = 60
    apply_change: bool = False
    fired: int = field(default=0, init=False)

    def matches(self, facts: RequestFacts) -> bool:
        if self.times is not None and self.fired >= self.times:
            return False
        if self.kinds is not None and facts.kind not in self.kinds:
            return False
        if self.method is not None and facts.method.upper() != self.method.upper():
            return False
        if self.path_contains is not None and self.path_contains not in facts.path:
            return False
        if self.operation is not None and not (
            facts.operation == self.operation or self.operation in facts.root_fields
        ):
            return False
        return self.predicate is None or self.predicate(facts)

    @property
    def exhausted(self) -> bool:
        return self.times is not None and self.fired >= self.times

    @classmethod
    def from_json(cls, spec: dict[str, Any]) -> Fault:
        """Build a fault from the control endpoint's JSON (no predicate over HTTP)."""
        if spec.get("kind") not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {spec.get('kind')!r}; one of {FAULT_KINDS}")
        kinds = spec.get("kinds")
        allowed = {
            "times",
            "status",
            "method",
            "path_contains",
            "operation",
            "delay_seconds",
            "retry_after",
            "reset_in_seconds",
            "apply_change",
        }
        unknown = set(spec) - allowed - {"kind", "kinds"}
        if unknown:
            raise ValueError(f"unknown fault fields {sorted(unknown)}")
        options = {key: value for key, value in spec.items() if key in allowed}
        return cls(
            kind=spec["kind"],
            kinds=frozenset(kinds) if kinds else None,
            **options,
        )


class FaultPlan:
    """The faults currently scheduled, consulted once per request."""

    def __init__(self) -> None:
        self._faults: list[Fault] = []
        self._lock = threading.Lock()

    def add(self, fault: Fault) -> Fault:
        with self._lock:
            self._faults.append(fault)
        return fault

    def take(self, facts: RequestFacts) -> Fault | None:
        """The first matching fault, counted as fired; spent faults are forgotten."""
        with self._lock:
            for fault in self._faults:
                if fault.matches(facts):
                    fault.fired += 1
                    if fault.exhausted:
                        self._faults.remove(fault)
                    return fault
        return None

    def pending(self) -> list[Fault]:
        with self._lock:
            return list(self._faults)

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()
