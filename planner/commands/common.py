"""What several commands share: opening the workspace, approval, progress, Ctrl-C."""

from __future__ import annotations

import argparse
import os
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType

from planner.apply.applier import Interruption
from planner.console import Console
from planner.errors import PlannerError
from planner.plan.model import Plan
from planner.render import render_json, render_markdown, render_text
from planner.workspace import Workspace


def open_workspace(args: argparse.Namespace) -> Workspace:
    return Workspace.open(Path(args.config))


def show_plan(console: Console, plan: Plan, output_format: str) -> None:
    if output_format == "json":
        console.raw(render_json(plan))
    elif output_format == "markdown":
        console.raw(render_markdown(plan))
    elif not console.quiet:
        console.print(render_text(plan))


def confirm(console: Console, *, auto_approve: bool, what: str) -> None:
    """Ask for ``yes`` on a terminal; refuse without one unless --auto-approve was given."""
    if auto_approve:
        return
    if not console.is_interactive:
        raise PlannerError(
            f"{what} needs approval and there is no terminal to ask on; pass --auto-approve"
        )
    answer = console.ask(f"\nDo you want to {what}? Only 'yes' will be accepted: ")
    if answer.strip() != "yes":
        raise PlannerError(f"{what} cancelled; nothing was changed")


@contextmanager
def interruptible(console: Console) -> Iterator[Interruption]:
    """First Ctrl-C: finish the batch in flight and stop; second: exit at once (recoverable)."""
    interruption = Interruption()

    def on_sigint(signum: int, frame: FrameType | None) -> None:
        if interruption.is_requested:
            os._exit(130)
        interruption.is_requested = True
        console.warn("interrupted: finishing the step in flight; press Ctrl-C again to stop now")

    previous = signal.signal(signal.SIGINT, on_sigint)
    try:
        yield interruption
    finally:
        signal.signal(signal.SIGINT, previous)
