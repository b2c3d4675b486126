"""The plan as a pull-request comment: summary first, each batch folded, under GitHub's limit."""

from __future__ import annotations

from collections import Counter

from planner.plan.model import SENSITIVE, Action, Change, Plan
from planner.render.text import summary_line

LIMIT = 65_536
"""GitHub's maximum comment length, in characters."""

VALUE_WIDTH = 120
DIFF_SYMBOL = {Action.CREATE: "+", Action.DELETE: "-", Action.UPDATE: "!", Action.FORGET: "#"}


def _short(value: object) -> str:
    text = SENSITIVE if value == SENSITIVE else repr(value)
    if len(text) > VALUE_WIDTH:
        return text[: VALUE_WIDTH - 1] + "…"
    return text


def _is_shortened(change: Change) -> bool:
    values = [*(change.before or {}).values(), *(change.after or {}).values()]
    return any(len(repr(v)) > VALUE_WIDTH for v in values if v != SENSITIVE)


def _diff_line(change: Change) -> str:
    line = f"{DIFF_SYMBOL.get(change.action, ' ')} {change.address}"
    if change.action is Action.UPDATE and change.changed:
        parts = []
        for field in change.changed:
            before = (change.before or {}).get(field)
            after = (change.after or {}).get(field)
            parts.append(f"{field}: {_short(before)} -> {_short(after)}")
        line += "  (" + "; ".join(parts) + ")"
    elif change.note:
        line += f"  ({change.note})"
    return line.replace("```", "'''")


def render_markdown(plan: Plan, *, full_plan_location: str | None = None) -> str:
    """Markdown under 65,536 characters; beyond that, each batch keeps its first changes."""
    counts: Counter[tuple[str, Action]] = Counter((c.kind, c.action) for c in plan.changes)
    kinds = sorted({c.kind for c in plan.changes})
    head = [f"### planner {plan.operation}: {summary_line(plan)}", ""]
    if kinds:
        head += [
            "| kind | add | change | destroy | forget | unchanged |",
            "|---|---:|---:|---:|---:|---:|",
        ]
        for kind in kinds:
            row = [
                counts[(kind, a)]
                for a in (Action.CREATE, Action.UPDATE, Action.DELETE, Action.FORGET, Action.NO_OP)
            ]
            head.append(f"| {kind} | " + " | ".join(str(n) for n in row) + " |")
        head.append("")
    for note in plan.notes:
        head.append(f"> {note}")
    if any(_is_shortened(c) for c in plan.changes if c.action is Action.UPDATE):
        head.append(
            f"_Values longer than {VALUE_WIDTH} characters are shortened with …; "
            "`planner show PLANFILE` prints them whole._"
        )
        head.append("")

    sections: list[tuple[str, list[str]]] = []
    changes_by_batch = plan.changes_by_batch()
    for batch in plan.batches:
        title = f"Batch {batch.index}: {batch.kind}, {batch.operations} operation(s)"
        if batch.note:
            title += f", {batch.note}"
        sections.append((title, [_diff_line(c) for c in changes_by_batch[batch.index]]))
    released = [c for c in plan.changes if c.action is Action.FORGET]
    if released:
        sections.append(("Released from management", [_diff_line(c) for c in released]))

    def assemble(keep: int | None) -> tuple[str, int]:
        parts = list(head)
        omitted = 0
        for title, lines in sections:
            shown = lines if keep is None else lines[:keep]
            omitted += len(lines) - len(shown)
            parts += ["<details>", f"<summary>{title}</summary>", "", "```diff", *shown, "```"]
            if len(shown) < len(lines):
                parts.append(f"_{len(lines) - len(shown)} more changes in this batch not shown._")
            parts += ["</details>", ""]
        if omitted:
            where = full_plan_location or "the saved plan file (planner plan --out FILE)"
            parts.append(f"**{omitted} changes are not shown here; the full plan is in {where}.**")
        return "\n".join(parts) + "\n", omitted

    text, _ = assemble(None)
    keep = max((len(lines) for _, lines in sections), default=0)
    while len(text) > LIMIT and keep > 0:
        keep //= 2
        text, _ = assemble(keep)
    return text[:LIMIT]
