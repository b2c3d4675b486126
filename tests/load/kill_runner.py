"""Runs the planner CLI and SIGKILLs it just before the N-th I/O step of some kinds.

Unlike ``tests/fault_runner.py`` (which counts every step), this one counts only the steps whose
kind is listed, so a load test can pick a kill point inside the file batches ("rename") or
among the GitHub mutations ("graphql-mutation") without a counting run first.

Environment (read here, never by planner itself):
- PLANNER_LOAD_KILL_KINDS=KIND[,KIND...]: the step kinds to count.
- PLANNER_LOAD_KILL_AT=N: SIGKILL the process just before the N-th counted step.
"""

from __future__ import annotations

import os
import signal
import sys

from planner.cli import main
from planner.effects import effects

kinds = set(os.environ.get("PLANNER_LOAD_KILL_KINDS", "").split(","))
kill_at = int(os.environ.get("PLANNER_LOAD_KILL_AT", "0"))
seen = 0


def observe(kind: str, target: str) -> None:
    global seen
    if kind in kinds:
        seen += 1
        if seen == kill_at:
            os.kill(os.getpid(), signal.SIGKILL)


effects.observe(observe)
sys.exit(main(sys.argv[1:]))
