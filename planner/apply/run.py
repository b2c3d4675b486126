"""One execution of a plan, as the kinds see it while they carry out batches."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from planner.plan.model import Plan
from planner.tree import Tree

if TYPE_CHECKING:
    from planner.apply.checkpoint import Checkpoint
    from planner.kinds.base import Desired
    from planner.state import State
    from planner.workspace import Workspace


@dataclass
class ApplyRun:
    """The world-changing consumer of a ``Plan``: what it works on and what it did so far."""

    workspace: Workspace
    plan: Plan
    tree: Tree
    desired: Mapping[str, Desired]
    operation: Literal["apply", "rollback"] = "apply"
    is_recovering: bool = False
    checkpoint: Checkpoint | None = None
    rollback_state_before: State | None = None
    on_progress: Callable[[int], None] | None = None

    @property
    def apply_id(self) -> str:
        return self.checkpoint.apply_id if self.checkpoint else "dry-run"

    def advance(self, count: int = 1) -> None:
        if self.on_progress is not None:
            self.on_progress(count)
