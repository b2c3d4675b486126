"""``planner plan``: read what is there, diff it against the declaration, show the batches."""

from __future__ import annotations

import argparse
from pathlib import Path

from planner.apply.checkpoint import CheckpointStore
from planner.commands.common import open_workspace, show_plan
from planner.console import Console
from planner.plan.builder import build_plan
from planner.plan.planfile import save_plan


def run(args: argparse.Namespace, console: Console) -> int:
    workspace = open_workspace(args)
    if CheckpointStore(workspace.state_dir).last_is_incomplete():
        console.warn("the last apply stopped partway; this plan ignores it (see planner status)")
    plan = build_plan(workspace, workspace.store.load(), args.target, refresh=args.refresh)

    show_plan(console, plan, args.format)
    if args.out:
        save_plan(plan, Path(args.out))
        if args.format == "text":
            console.print(
                f"\nSaved the plan to {args.out}; apply it with: planner apply {args.out}"
            )
    if args.detailed_exitcode and plan.has_changes:
        return 2
    return 0
