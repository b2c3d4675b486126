"""``planner apply``: plan (or load a saved plan), approve, and carry it out."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Literal

from planner.apply.applier import apply_plan, refuse_if_incomplete
from planner.commands.common import confirm, interruptible, open_workspace, show_plan
from planner.config.rewrite import record_issue_numbers
from planner.console import Console
from planner.errors import PlanError, StalePlanError
from planner.plan.builder import build_plan
from planner.plan.model import Plan
from planner.plan.planfile import load_plan
from planner.state import StateLock
from planner.workspace import Workspace


def _check_saved_plan(
    workspace: Workspace, saved: Plan, planfile: str, refresh: Literal["auto", "full"]
) -> None:
    """Refuse a saved plan whose objects no longer look as they did when it was made."""
    if saved.operation != "apply":
        raise PlanError("this is a rollback plan; run planner rollback instead", file=planfile)
    fresh = build_plan(workspace, workspace.store.load(), saved.targets, refresh=refresh)
    then = {c.address: (c.action, c.fingerprint, c.desired_digest) for c in saved.changes}
    now = {c.address: (c.action, c.fingerprint, c.desired_digest) for c in fresh.changes}
    for address in sorted(then.keys() | now.keys()):
        if then.get(address) != now.get(address):
            raise StalePlanError(
                "stale plan: it no longer matches what is there or what is declared; run "
                "planner plan again",
                address=address,
            )


def _write_back(workspace: Workspace, console: Console) -> None:
    """Record the numbers of issues planner created in the files that declare them."""
    issues = workspace.store.load().issues
    numbers = {key: (record.repo, record.number) for key, record in issues.items()}
    written = record_issue_numbers(workspace.loaded, numbers)
    for recorded in written.recorded:
        count = len(recorded.keys)
        console.print(
            f"Recorded {count} issue number{'s' if count != 1 else ''} in {recorded.file}"
        )
    for sentence in written.skipped:
        console.warn(sentence)


def run(args: argparse.Namespace, console: Console) -> int:
    workspace = open_workspace(args)
    with StateLock(workspace.state_dir, "apply"):
        refuse_if_incomplete(workspace)
        if args.planfile:
            plan = load_plan(Path(args.planfile))
            _check_saved_plan(workspace, plan, args.planfile, args.refresh)
        else:
            plan = build_plan(workspace, workspace.store.load(), args.target, refresh=args.refresh)
        show_plan(console, plan, "text")
        if not plan.has_changes:
            if args.write_back:
                _write_back(workspace, console)
            return 0
        if not args.planfile:
            confirm(console, auto_approve=args.auto_approve, what="perform these actions")

        total = len(plan.pending())
        with interruptible(console) as interruption, console.progress(total, "Applying") as tick:
            outcome = apply_plan(workspace, plan, interruption=interruption, on_progress=tick)

    summary = plan.summary
    console.print(
        f"\nApply complete! Resources: {summary.create} added, {summary.update} changed, "
        f"{summary.delete} destroyed. (checkpoint {outcome.checkpoint.apply_id})",
        style="bold green",
    )
    if args.write_back:
        _write_back(workspace, console)
    return 0
