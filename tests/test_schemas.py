"""The JSON Schemas in schemas/ match the models, and every example configuration loads."""

from __future__ import annotations

from pathlib import Path

import pytest

from planner.config import load_config
from planner.schemas import SCHEMA_DIR, generate

EXAMPLES = sorted({p.parent for p in Path(__file__).parent.parent.glob("examples/*/*.toml")})


@pytest.mark.parametrize("name", sorted(generate()))
def test_schema_file_is_up_to_date_with_the_models(name: str) -> None:
    on_disk = (SCHEMA_DIR / name).read_text()
    assert on_disk == generate()[name], f"schemas/{name} is stale: run python -m planner.schemas"


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.name)
def test_example_configuration_loads_and_names_its_schema(example: Path) -> None:
    configs = sorted(example.glob("*.toml"))
    assert configs, f"{example} holds no configuration"
    for config in configs:
        assert config.read_text().startswith("#:schema ")
    load_config(example if len(configs) > 1 else configs[0])
