"""The frozen plan: changes, batches and summary, as shown to people and saved to files.

A ``Plan`` is built once and never modified; applying, rendering and saving are consumers of
it. The JSON form of these models is the saved plan format and ``planner plan --format json``;
``schemas/plan.schema.json`` is generated from them.
"""

from __future__ import annotations

from enum import Enum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

SENSITIVE = "(sensitive)"
"""What every renderer and the saved plan show in place of a sensitive value."""


class Action(str, Enum):
    """What a change does to one resource, with the symbol the text plan shows."""

    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"
    NO_OP = "no-op"
    FORGET = "forget"

    @property
    def symbol(self) -> str:
        return {"create": "+", "update": "~", "delete": "-", "no-op": " ", "forget": "#"}[
            self.value
        ]

    @property
    def is_change(self) -> bool:
        """Whether carrying it out touches the world (forget only touches the state)."""
        return self in (Action.CREATE, Action.UPDATE, Action.DELETE)


class FrozenModel(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Change(FrozenModel):
    """One resource's planned change, with the fields it changes and how to trust it later."""

    address: str = Field(description="kind.identity, e.g. file.docs/a.md")
    kind: Literal["file", "audit", "issue", "label"]
    action: Action
    before: dict[str, Any] | None = Field(
        None, description="Current values (sensitive ones hidden); null when absent."
    )
    after: dict[str, Any] | None = Field(
        None, description="Desired values (sensitive ones hidden); null when removed."
    )
    changed: list[str] = Field(default_factory=list, description="Fields that differ.")
    batch: int | None = Field(None, description="Index of the batch that carries it out.")
    fingerprint: str = Field(
        description="Digest of the object as it was read when planning; apply refuses the "
        "plan as stale when the object no longer matches it."
    )
    desired_digest: str | None = Field(
        None,
        description="Digest of the desired values; apply reads them from the configuration "
        "again and refuses when they differ.",
    )
    sensitive: bool = False
    note: str | None = None


class Batch(FrozenModel):
    """A group of changes of one kind carried out together, with its cost."""

    index: int
    kind: Literal["file", "audit", "issue", "label"]
    operations: int = Field(description="How many changes it carries out.")
    requests: int | None = Field(
        None, description="Requests or writes it takes, where that applies."
    )
    note: str | None = None


class Summary(FrozenModel):
    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    create: int = 0
    update: int = 0
    delete: int = 0
    no_op: int = Field(0, alias="no-op")
    forget: int = 0


class Plan(FrozenModel):
    """Everything an apply needs to know and a reviewer needs to see."""

    format_version: Literal["1"] = "1"
    planner_version: str
    operation: Literal["apply", "rollback"] = "apply"
    created_at: str
    config_path: str
    config_sha256: str
    targets: list[str] = Field(default_factory=list)
    changes: list[Change]
    batches: list[Batch]
    summary: Summary
    notes: list[str] = Field(default_factory=list)

    @property
    def has_changes(self) -> bool:
        return any(c.action is not Action.NO_OP for c in self.changes)

    def pending(self) -> list[Change]:
        """Changes that an apply carries out (everything but no-ops)."""
        return [c for c in self.changes if c.action is not Action.NO_OP]

    def changes_by_batch(self) -> dict[int, list[Change]]:
        """Each batch's changes, in plan order, grouped in one pass over the plan."""
        grouped: dict[int, list[Change]] = {batch.index: [] for batch in self.batches}
        for change in self.changes:
            if change.batch is not None and change.batch in grouped:
                grouped[change.batch].append(change)
        return grouped


def summarize(changes: list[Change]) -> Summary:
    counts = {action: 0 for action in Action}
    for change in changes:
        counts[change.action] += 1
    return Summary.model_validate(
        {
            "create": counts[Action.CREATE],
            "update": counts[Action.UPDATE],
            "delete": counts[Action.DELETE],
            "no-op": counts[Action.NO_OP],
            "forget": counts[Action.FORGET],
        }
    )
