"""What tools that generate configuration read: JSON error lists, and a schema for every field."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import jsonschema
import pytest

from planner.schemas import SCHEMA_DIR
from tests.harness import planner

ROOT = Path(__file__).resolve().parent.parent.parent
BAD = '[[file]]\npath = "a"\nmode = "999"\ncontent = 5\n\n[[file]]\npath = "/abs"\ncontent = "x"\n'


@pytest.mark.parametrize("command", ["validate", "plan"])
def test_json_errors_list_every_problem_with_file_line_and_address(
    command: str, tmp_path: Path
) -> None:
    (tmp_path / "planner.toml").write_text(BAD)
    result = planner(command, "--format", "json", cwd=tmp_path)
    assert result.code == 1
    problems = json.loads(result.stdout)
    assert {(p["line"], p["address"]) for p in problems} == {
        (3, "file.a"),
        (4, "file.a"),
        (7, "file./abs"),
    }
    assert all(p["file"] == "planner.toml" and p["message"] for p in problems)
    assert "octal permission bits" in next(p["message"] for p in problems if p["line"] == 3)


def test_validate_json_of_a_good_configuration_is_an_empty_list(tmp_path: Path) -> None:
    (tmp_path / "planner.toml").write_text('[[file]]\npath = "a"\ncontent = "x"\n')
    result = planner("validate", "--format", "json", cwd=tmp_path)
    assert result.code == 0 and json.loads(result.stdout) == []


def _properties(schema: dict[str, object]) -> list[tuple[str, str, dict[str, object]]]:
    found = []
    definitions = schema.get("$defs", {})
    assert isinstance(definitions, dict)
    for name, definition in [("Config", schema), *definitions.items()]:
        for prop, spec in definition.get("properties", {}).items():
            found.append((name, prop, spec))
    return found


def test_every_configuration_field_has_a_description_and_an_example() -> None:
    schema = json.loads((SCHEMA_DIR / "config.schema.json").read_text())
    lacking = [
        f"{n}.{p}"
        for n, p, spec in _properties(schema)
        if "description" not in spec or "examples" not in spec
    ]
    assert lacking == []


@pytest.mark.parametrize(
    "config", sorted(ROOT.glob("examples/**/*.toml")), ids=lambda p: str(p.relative_to(ROOT))
)
def test_every_example_configuration_validates_against_the_schema(config: Path) -> None:
    schema = json.loads((SCHEMA_DIR / "config.schema.json").read_text())
    jsonschema.validate(tomllib.loads(config.read_text()), schema)
