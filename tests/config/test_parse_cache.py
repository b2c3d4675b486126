"""The parsed-configuration cache: an unchanged configuration is not parsed again, and a hit
never changes what loading means (same configuration, same errors with file and line)."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from planner.config import load_config
from planner.config.cache import PARSED_FILE
from planner.errors import ConfigError

CONFIG = """\
[project]
state_dir = "{state_dir}"
root = "tree"

[[file]]
path = "a.txt"
content = "alpha\\n"

[[file]]
path = "b.txt"
source = "build/b.txt"
mode = "0600"

[audit]
path = "audit/log"

[[audit.entry]]
id = "one"
category = "C"
action = "a"
"""


def _write(folder: Path, state_dir: str = ".planner", content: str = CONFIG) -> Path:
    (folder / "build").mkdir(exist_ok=True)
    (folder / "build/b.txt").write_text("bravo\n")
    (folder / state_dir).mkdir(parents=True, exist_ok=True)
    config = folder / "planner.toml"
    config.write_text(content.format(state_dir=state_dir))
    return config


def _took_parse_from_cache(caplog: pytest.LogCaptureFixture) -> bool:
    return "configuration parse taken from" in caplog.text


def test_unchanged_configuration_is_taken_from_the_cache_and_loads_the_same(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    config = _write(tmp_path)
    first = load_config(config)
    cache = tmp_path / ".planner" / PARSED_FILE
    assert cache.stat().st_mode & 0o777 == 0o600

    with caplog.at_level(logging.DEBUG, logger="planner.config"):
        second = load_config(config)

    assert _took_parse_from_cache(caplog)
    assert second.config == first.config
    assert second.sha256 == first.sha256
    assert second.locations == first.locations


def test_edited_configuration_is_parsed_again(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    config = _write(tmp_path)
    load_config(config)
    config.write_text(config.read_text().replace('content = "alpha\\n"', 'content = "ALPHA\\n"'))

    with caplog.at_level(logging.DEBUG, logger="planner.config"):
        loaded = load_config(config)

    assert not _took_parse_from_cache(caplog)
    assert loaded.config.file[0].content == "ALPHA\n"


def test_error_found_after_a_cache_hit_still_names_file_and_line(tmp_path: Path) -> None:
    config = _write(tmp_path)
    load_config(config)
    (tmp_path / "build/b.txt").unlink()

    with pytest.raises(ConfigError) as raised:
        load_config(config)

    assert raised.value.file == str(config)
    assert raised.value.line == 9
    assert raised.value.address == "file.b.txt"


@pytest.mark.parametrize("damage", [b"", b"{}\n{}", b"\xff\xfe", b'{"format": 1}\n[]'])
def test_damaged_cache_is_ignored(tmp_path: Path, damage: bytes) -> None:
    config = _write(tmp_path)
    expected = load_config(config).config
    (tmp_path / ".planner" / PARSED_FILE).write_bytes(damage)

    assert load_config(config).config == expected


def test_cache_lives_in_the_declared_state_folder(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    config = _write(tmp_path, state_dir="var/state")
    load_config(config)
    assert (tmp_path / "var/state" / PARSED_FILE).exists()

    with caplog.at_level(logging.DEBUG, logger="planner.config"):
        load_config(config)

    assert _took_parse_from_cache(caplog)


def test_nothing_is_cached_without_a_state_folder(tmp_path: Path) -> None:
    config = _write(tmp_path)
    (tmp_path / ".planner").rmdir()

    load_config(config)

    assert not (tmp_path / ".planner").exists()
