"""A loaded configuration together with its state folder and file tree."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from planner.config import LoadedConfig, load_config
from planner.state import StateStore


@dataclass(frozen=True)
class Workspace:
    """What every command works on: the configuration, where state lives, where files live."""

    loaded: LoadedConfig
    store: StateStore

    @classmethod
    def open(cls, config_path: Path) -> Workspace:
        loaded = load_config(config_path)
        return cls(loaded=loaded, store=StateStore(loaded.state_dir))

    @property
    def root(self) -> Path:
        return self.loaded.root

    @property
    def state_dir(self) -> Path:
        return self.loaded.state_dir
