"""``planner show PLANFILE``: render a saved plan."""

from __future__ import annotations

import argparse
from pathlib import Path

from planner.commands.common import show_plan
from planner.console import Console
from planner.plan.planfile import load_plan


def run(args: argparse.Namespace, console: Console) -> int:
    show_plan(console, load_plan(Path(args.planfile)), args.format)
    return 0
