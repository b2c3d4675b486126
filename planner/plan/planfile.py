"""Saving a plan to a file and loading it back for ``apply`` and ``show``."""

from __future__ import annotations

from pathlib import Path

from pydantic import ValidationError

from planner.effects import write_private_file
from planner.errors import PlanError
from planner.plan.model import Plan
from planner.render.json import render_json


def save_plan(plan: Plan, path: Path) -> None:
    """Write the plan atomically; it holds no sensitive value, so others may read it."""
    write_private_file(str(path), render_json(plan).encode() + b"\n", mode=0o644)


def load_plan(path: Path) -> Plan:
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise PlanError(f"cannot read the plan file: {error.strerror}", file=path) from None
    try:
        return Plan.model_validate_json(raw)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "the document"
        raise PlanError(
            f"not a planner plan file ({where}: {first['msg']}); make one with planner plan --out",
            file=path,
        ) from None
