"""``planner rollback``: plan and apply the inverse of what the last apply changed."""

from __future__ import annotations

import argparse

from planner.apply.applier import last_checkpoint, plan_rollback, rollback
from planner.commands.common import confirm, interruptible, open_workspace, show_plan
from planner.console import Console
from planner.state import StateLock


def run(args: argparse.Namespace, console: Console) -> int:
    workspace = open_workspace(args)
    with StateLock(workspace.state_dir, "rollback"):
        original = last_checkpoint(workspace)
        if original is None:
            console.print("Nothing to roll back: no apply has run for this state folder.")
            return 0
        plan = plan_rollback(workspace, original)
        show_plan(console, plan, "text")
        if plan.has_changes:
            confirm(console, auto_approve=args.auto_approve, what="roll back these changes")
        elif original.is_complete:
            console.print("Nothing to roll back: everything is as it was before that apply.")
            return 0
        else:
            console.print("The stopped apply changed nothing yet; clearing what it left behind.")

        total = len(plan.pending())
        with (
            interruptible(console) as interruption,
            console.progress(total, "Rolling back") as tick,
        ):
            outcome = rollback(
                workspace, original, plan, interruption=interruption, on_progress=tick
            )
    console.print(
        f"\nRollback complete: apply {original.apply_id} undone "
        f"(checkpoint {outcome.checkpoint.apply_id}).",
        style="bold green",
    )
    return 0
