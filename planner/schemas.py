"""JSON Schemas of the configuration, the saved plan and the checkpoint, from the models.

``python -m planner.schemas`` rewrites ``schemas/``; a test fails when the files there no
longer match the models, so editors and generators never work from a stale contract.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from planner.apply.checkpoint import CheckpointHeader
from planner.config.models import Config
from planner.plan.model import Plan

SCHEMA_DIR = Path(__file__).resolve().parent.parent / "schemas"


def _schema(
    model: type[Config] | type[Plan] | type[CheckpointHeader], title: str, description: str
) -> dict[str, Any]:
    schema = model.model_json_schema(by_alias=True, mode="validation")
    schema = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"https://planner.invalid/schemas/{title}.schema.json",
        **schema,
        "title": title,
        "description": description,
    }
    return schema


def generate() -> dict[str, str]:
    """File name to text of every schema."""
    schemas = {
        "config.schema.json": _schema(
            Config, "config", "A planner configuration file (planner.toml), after merging."
        ),
        "plan.schema.json": _schema(
            Plan, "plan", "A saved plan (planner plan --out) and planner plan --format json."
        ),
        "checkpoint.schema.json": _schema(
            CheckpointHeader, "checkpoint", "The header of an apply's checkpoint."
        ),
    }
    return {
        name: json.dumps(schema, indent=2, sort_keys=True) + "\n"
        for name, schema in schemas.items()
    }


def main() -> int:
    SCHEMA_DIR.mkdir(exist_ok=True)
    for name, text in generate().items():
        (SCHEMA_DIR / name).write_text(text)
        sys.stdout.write(f"wrote schemas/{name}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
