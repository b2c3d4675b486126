"""``planner resume``: continue an interrupted or failed apply from its checkpoint."""

from __future__ import annotations

import argparse

from planner.apply.applier import last_checkpoint, resume
from planner.commands.common import interruptible, open_workspace
from planner.console import Console
from planner.github.observed import discard_observations
from planner.state import StateLock


def run(args: argparse.Namespace, console: Console) -> int:
    workspace = open_workspace(args)
    with StateLock(workspace.state_dir, "resume"):
        checkpoint = last_checkpoint(workspace)
        if checkpoint is None or checkpoint.is_complete:
            console.print("Nothing to resume: the last apply is complete.")
            return 0
        if args.refresh == "full":
            # What the apply reads again is then read issue by issue, not from what moved.
            discard_observations(workspace.state_dir)
        total = len(checkpoint.header.plan.pending())
        with interruptible(console) as interruption, console.progress(total, "Resuming") as tick:
            outcome = resume(workspace, checkpoint, interruption=interruption, on_progress=tick)
    console.print(
        f"Resume complete: {checkpoint.header.operation} {outcome.checkpoint.apply_id} reached "
        "its planned state.",
        style="bold green",
    )
    return 0
