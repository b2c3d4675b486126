"""``planner validate``: load and check the configuration; no network, no writes."""

from __future__ import annotations

import argparse

from planner.commands.common import open_workspace
from planner.console import Console


def run(args: argparse.Namespace, console: Console) -> int:
    workspace = open_workspace(args)
    if args.format == "json":
        console.raw("[]")
        return 0
    config = workspace.loaded.config
    entries = len(config.audit.entry) if config.audit else 0
    console.print(
        f"The configuration is valid: {len(config.file)} files, {entries} audit entries, "
        f"{len(config.issue)} issues, {len(config.label)} labels "
        f"({len(workspace.loaded.files)} file{'s' if len(workspace.loaded.files) != 1 else ''})."
    )
    return 0
