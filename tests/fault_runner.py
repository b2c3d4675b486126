"""Runs the planner CLI with an observer on its I/O seam, for fault and crash tests.

Environment (read here, never by planner itself):
- PLANNER_TEST_COUNT_TO=FILE: write the number of I/O steps taken to FILE at exit.
- PLANNER_TEST_KILL_AT=K: SIGKILL the process just before its K-th I/O step.
- PLANNER_TEST_FAIL_AT=K: make the K-th I/O step fail with EIO (ENOSPC for writes).
- PLANNER_TEST_PAUSE_AT=K: before the K-th step, create the file named by
  PLANNER_TEST_PAUSE_SIGNAL and sleep two seconds (time for a test to press Ctrl-C).
- PLANNER_TEST_TRACE_TO=FILE: write one line per I/O step taken, "kind<TAB>target", at exit.
- PLANNER_TEST_FAIL_NETWORK_WITH=reset: a failed network step (graphql-query,
  graphql-mutation, rest-read) raises ConnectionResetError instead of EIO, as a cut
  connection would.
"""

from __future__ import annotations

import atexit
import errno
import os
import signal
import sys
import time
from pathlib import Path

from planner.cli import main
from planner.effects import effects

steps = 0
kill_at = int(os.environ.get("PLANNER_TEST_KILL_AT", "0"))
fail_at = int(os.environ.get("PLANNER_TEST_FAIL_AT", "0"))
count_to = os.environ.get("PLANNER_TEST_COUNT_TO")
pause_at = int(os.environ.get("PLANNER_TEST_PAUSE_AT", "0"))
pause_signal = os.environ.get("PLANNER_TEST_PAUSE_SIGNAL", "")
trace_to = os.environ.get("PLANNER_TEST_TRACE_TO")
fail_network_with = os.environ.get("PLANNER_TEST_FAIL_NETWORK_WITH", "")
NETWORK_STEP_KINDS = frozenset({"graphql-query", "graphql-mutation", "rest-read"})
trace: list[str] = []


def observe(kind: str, target: str) -> None:
    global steps
    steps += 1
    if trace_to:
        trace.append(f"{kind}\t{target}")
    if steps == kill_at:
        os.kill(os.getpid(), signal.SIGKILL)
    if steps == pause_at:
        Path(pause_signal).write_text("paused")
        time.sleep(2)
    if steps == fail_at and kind in NETWORK_STEP_KINDS and fail_network_with == "reset":
        raise ConnectionResetError(errno.ECONNRESET, os.strerror(errno.ECONNRESET), target)
    if steps == fail_at:
        code = errno.ENOSPC if kind == "write" else errno.EIO
        raise OSError(code, os.strerror(code), target)


def write_count() -> None:
    if count_to:
        Path(count_to).write_text(str(steps))
    if trace_to:
        Path(trace_to).write_text("".join(line + "\n" for line in trace))


effects.observe(observe)
atexit.register(write_count)
sys.exit(main(sys.argv[1:]))
