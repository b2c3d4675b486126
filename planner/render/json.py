"""The plan as one JSON object: the saved plan format and ``--format json``."""

from __future__ import annotations

from planner.plan.model import Plan


def render_json(plan: Plan) -> str:
    return plan.model_dump_json(by_alias=True, indent=1)
