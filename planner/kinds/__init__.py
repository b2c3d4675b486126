"""The registry of resource kinds, in the order their batches run."""

from __future__ import annotations

from planner.kinds.audit import AuditKind
from planner.kinds.base import ResourceKind
from planner.kinds.files import FileKind
from planner.kinds.issues import IssueKind
from planner.kinds.labels import LabelKind

KINDS: tuple[ResourceKind, ...] = (LabelKind(), IssueKind(), FileKind(), AuditKind())
"""Every kind planner manages, sorted by the order their batches run in."""


def kind_named(name: str) -> ResourceKind:
    for kind in KINDS:
        if kind.name == name:
            return kind
    raise KeyError(name)
