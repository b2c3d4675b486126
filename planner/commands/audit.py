"""``planner audit verify``: check the audit log's hash chain and head anchor."""

from __future__ import annotations

import argparse

from planner.auditlog import verify_log
from planner.commands.common import open_workspace
from planner.console import Console
from planner.errors import ConfigError, PlannerError
from planner.kinds.audit import read_log
from planner.tree import Tree


def run(args: argparse.Namespace, console: Console) -> int:
    workspace = open_workspace(args)
    audit = workspace.loaded.config.audit
    if audit is None:
        raise ConfigError(
            "no [audit] table is declared, so there is no log to verify; add [audit] path",
            file=workspace.loaded.files[0],
        )
    state = workspace.store.load()
    anchor = state.audit if state.audit is not None and state.audit.path == audit.path else None

    with Tree(workspace.root) as tree:
        content, _ = read_log(tree, audit.path)
    verdict = verify_log(content, anchor.size if anchor else None, anchor.chain if anchor else None)
    if not verdict.is_intact:
        where = f"line {verdict.line}" if verdict.line else "the log"
        raise PlannerError(f"{audit.path}: {where}: {verdict.reason}")
    console.print(
        f"{audit.path}: intact ({verdict.lines} lines, {verdict.planner_lines} written by "
        f"planner{', head matches the state' if anchor else ', no head recorded yet'})."
    )
    return 0
