"""``planner fmt``: lay every configuration file out canonically, keeping comments.

``--check`` changes nothing: it names each file that would change and exits 1, for CI and
pre-commit. The layout is described in ``planner.config.rewrite``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from rich.text import Text

from planner.config import load_config
from planner.config.rewrite import layout, write_config_file
from planner.console import Console


def _files(count: int) -> str:
    return f"{count} file{'s' if count != 1 else ''}"


def run(args: argparse.Namespace, console: Console) -> int:
    loaded = load_config(Path(args.config))
    layouts = [layout(path) for path in loaded.files]
    changed = [found for found in layouts if found.is_changed]
    unchanged = len(layouts) - len(changed)

    if args.check:
        for found in changed:
            console.err.print(Text(f"Would reformat: {found.path}"))
        console.print(
            f"{_files(len(changed))} would be reformatted, {_files(unchanged)} already formatted"
        )
        return 1 if changed else 0

    for found in changed:
        write_config_file(found.path, found.canonical)
    console.print(f"{_files(len(changed))} reformatted, {_files(unchanged)} left unchanged")
    return 0
