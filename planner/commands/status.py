"""``planner status``: what the last apply's checkpoint says was done, and what is left."""

from __future__ import annotations

import argparse
from collections import Counter

from planner.apply.applier import last_checkpoint
from planner.apply.checkpoint import BatchStatus
from planner.commands.common import open_workspace
from planner.console import Console

ADVICE = {
    BatchStatus.FAILED: "failed",
    BatchStatus.UNKNOWN: "unknown (begun, outcome not recorded; resume looks before acting)",
    BatchStatus.PENDING: "pending",
    BatchStatus.DONE: "done",
}


def run(args: argparse.Namespace, console: Console) -> int:
    workspace = open_workspace(args)
    checkpoint = last_checkpoint(workspace)
    if checkpoint is None:
        console.print("No apply has run yet for this state folder.")
        return 0

    header = checkpoint.header
    state = "complete" if checkpoint.is_complete else "stopped partway"
    console.print(
        f"Last {header.operation} {header.apply_id}, started {header.started_at}: {state}."
    )
    steps: Counter[BatchStatus] = Counter()
    for batch in header.plan.batches:
        status = checkpoint.batch_status(batch.index)
        steps[status] += batch.operations
        console.print(
            f"  batch {batch.index} ({batch.kind}, {batch.operations} operations): {ADVICE[status]}"
        )
    console.print(
        "Steps: "
        + ", ".join(
            f"{steps[s]} {s.value}" for s in BatchStatus if steps[s] or s is BatchStatus.DONE
        )
        + "."
    )
    error = checkpoint.last_error()
    if error and not checkpoint.is_complete:
        console.print(f"Last error: {error}")
    if not checkpoint.is_complete:
        console.print("Next: planner resume to finish it, or planner rollback to undo it.")
    return 0
