"""The plan for a terminal: one line per change, its changed fields, then the batches."""

from __future__ import annotations

import difflib
from typing import Any

from rich.text import Text

from planner.plan.model import SENSITIVE, Action, Change, Plan

STYLES = {
    Action.CREATE: "green",
    Action.UPDATE: "yellow",
    Action.DELETE: "red",
    Action.FORGET: "cyan",
    Action.NO_OP: "dim",
}
DIFF_LINES = 20


def summary_line(plan: Plan) -> str:
    """``Plan: N to add, N to change, N to destroy.`` or ``No changes.``"""
    summary = plan.summary
    if not plan.has_changes:
        return "No changes."
    line = (
        f"Plan: {summary.create} to add, {summary.update} to change, {summary.delete} to destroy."
    )
    if summary.forget:
        line += f" {summary.forget} to forget."
    return line


def _value(value: Any) -> str:
    if value == SENSITIVE:
        return SENSITIVE
    if isinstance(value, str):
        first = value.split("\n", 1)[0]
        more = " …" if "\n" in value.rstrip("\n") or len(first) > 60 else ""
        return repr(first[:60]) + more
    return repr(value)


def _content_diff(before: Any, after: Any) -> list[str]:
    if not isinstance(before, str) or not isinstance(after, str) or SENSITIVE in (before, after):
        return []
    lines = list(
        difflib.unified_diff(
            before.splitlines(), after.splitlines(), "before", "after", lineterm="", n=1
        )
    )[2:]
    if len(lines) > DIFF_LINES:
        lines = [*lines[:DIFF_LINES], f"… {len(lines) - DIFF_LINES} more diff lines"]
    return lines


def _change_lines(change: Change, out: Text) -> None:
    style = STYLES[change.action]
    out.append(f"  {change.action.symbol} ", style=style)
    out.append(change.address, style="bold")
    if change.note:
        out.append(f"  ({change.note})", style="dim")
    out.append("\n")
    before = change.before or {}
    after = change.after or {}

    if change.action is Action.CREATE:
        for field, value in after.items():
            if field in ("sha256",):
                continue
            out.append(f"      {field}: {_value(value)}\n")
    elif change.action is Action.UPDATE:
        for field in change.changed:
            out.append(
                f"      ~ {field}: {_value(before.get(field))} -> {_value(after.get(field))}\n"
            )
            if field == "content":
                for line in _content_diff(before.get(field), after.get(field)):
                    colour = {"+": "green", "-": "red"}.get(line[:1], "dim")
                    out.append(f"          {line}\n", style=colour)


def render_text(plan: Plan) -> Text:
    """The plan as styled text for the console."""
    out = Text()
    pending = plan.pending()
    if plan.operation == "rollback":
        out.append("planner will roll back with the following actions:\n\n", style="bold")
    elif pending:
        out.append("planner will perform the following actions:\n\n", style="bold")
    for note in plan.notes:
        out.append(f"  note: {note}\n", style="dim")
    if plan.notes:
        out.append("\n")

    for change in pending:
        _change_lines(change, out)

    if plan.batches:
        out.append("\nBatches:\n", style="bold")
        for batch in plan.batches:
            cost = ""
            if batch.requests is not None:
                unit = "write" if batch.kind in ("file", "audit") else "request"
                cost = f", {batch.requests} {unit}{'s' if batch.requests != 1 else ''}"
            note = f" ({batch.note})" if batch.note else ""
            out.append(
                f"  {batch.index}. {batch.kind:<6} {batch.operations} operation"
                f"{'s' if batch.operations != 1 else ''}{cost}{note}\n"
            )
    out.append("\n" if pending or plan.batches else "")
    out.append(summary_line(plan), style="bold")
    if not plan.has_changes:
        out.append(" The configuration matches what is there.")
    return out
