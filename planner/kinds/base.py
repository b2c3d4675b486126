"""The small interface every resource kind implements, and what kinds are handed.

A kind knows one sort of object (files, audit entries, GitHub issues, labels): how to read
the current state of many at once, how to diff it against the declaration, how to group
changes into batches, how to carry a batch out, and how to invert what it did. Adding a kind
means one module with one ``ResourceKind`` subclass and one line in ``planner.kinds``.
"""

from __future__ import annotations

import fnmatch
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Literal, Protocol

from planner.errors import PlanError
from planner.plan.model import Change

if TYPE_CHECKING:
    from planner.apply.checkpoint import BeforeImage, Checkpoint, PackWriter
    from planner.apply.run import ApplyRun
    from planner.state import State
    from planner.workspace import Workspace


class Desired(Protocol):
    """A kind's desired object; its digest is what a saved plan pins."""

    @property
    def digest(self) -> str: ...


class TargetFilter:
    """Which addresses ``--target`` selects: exact addresses, globs, or whole kinds."""

    def __init__(self, patterns: list[str]) -> None:
        self.patterns = list(patterns)
        self._used: set[str] = set()

    @property
    def is_everything(self) -> bool:
        return not self.patterns

    def matches(self, address: str) -> bool:
        if not self.patterns:
            return True
        for pattern in self.patterns:
            if (
                pattern == address
                or pattern == address.split(".", 1)[0]
                or fnmatch.fnmatchcase(address, pattern)
            ):
                self._used.add(pattern)
                return True
        return False

    def check_all_used(self) -> None:
        unused = [p for p in self.patterns if p not in self._used]
        if unused:
            raise PlanError(
                f"no declared or managed resource matches --target {unused[0]}; check the "
                "address (kind.identity, e.g. file.docs/a.md) or use a glob"
            )


@dataclass
class PlanRequest:
    """What a kind needs to plan: the workspace, the state, and the target filter."""

    workspace: Workspace
    state: State
    targets: TargetFilter
    refresh: Literal["auto", "full"] = "auto"
    """``auto``: kinds that keep observations of remote objects may read only what changed
    since; ``full``: read every object again (``--refresh=full``)."""


@dataclass
class BatchShape:
    """How a kind groups its changes: the changes and what the batch will cost."""

    changes: list[Change]
    requests: int | None = None
    note: str | None = None


@dataclass
class Capture:
    """Before-images a kind recorded while checking that a plan is still current."""

    images: dict[str, BeforeImage] = field(default_factory=dict)


class ResourceKind(ABC):
    """One kind of managed object behind the plan/apply engine."""

    name: ClassVar[str]
    order: ClassVar[int]
    """Batches run in ascending order of their kind's ``order``."""

    @abstractmethod
    def desired(self, workspace: Workspace) -> Mapping[str, Desired]:
        """Every declared object of this kind by address, from the configuration."""

    @abstractmethod
    def plan(self, request: PlanRequest) -> list[Change]:
        """Read the current state of declared and managed objects in bulk and diff it."""

    @abstractmethod
    def batches(self, changes: list[Change]) -> list[BatchShape]:
        """Group the changes that touch the world (never no-ops or forgets) into batches."""

    @abstractmethod
    def capture(self, run: ApplyRun, changes: list[Change], pack: PackWriter) -> Capture:
        """Re-read the objects a plan changes, refuse a stale plan, record before-images."""

    @abstractmethod
    def apply_batch(self, run: ApplyRun, changes: list[Change]) -> None:
        """Carry out one batch. When ``run.is_recovering``, look before acting again."""

    @abstractmethod
    def invert(self, run: ApplyRun, original: Checkpoint, changes: list[Change]) -> list[Change]:
        """Changes that put back what ``changes`` (begun by ``original``) altered."""

    @abstractmethod
    def desired_from_images(
        self, images: Mapping[str, BeforeImage], checkpoint: Checkpoint
    ) -> Mapping[str, Desired]:
        """Desired objects that restore before-images (what a rollback applies)."""

    @abstractmethod
    def finish(self, run: ApplyRun, state: State) -> State:
        """The state after the run's changes of this kind are done."""

    def undeclared(self, address: str) -> Desired:
        """What an address that left the configuration should become (released kinds)."""
        raise KeyError(address)

    def sweep(self, run: ApplyRun, original: Checkpoint) -> None:  # noqa: B027
        """Remove debris an interrupted apply may have left (temporary files, torn lines)."""


def display_value(value: Any, sensitive: bool) -> Any:
    from planner.plan.model import SENSITIVE

    return SENSITIVE if sensitive and value is not None else value
