"""The Markdown plan a reviewer reads in a pull request: snapshots, limits, redaction."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from planner.plan.model import Plan
from planner.render.markdown import LIMIT, render_markdown
from tests.harness import entry, planner, write_config

SNAPSHOTS = Path(__file__).resolve().parent / "snapshots"
UPDATE = os.environ.get("PLANNER_UPDATE_SNAPSHOTS") == "1"


def _plan_of(folder: Path) -> Plan:
    result = planner("plan", "--format", "json", cwd=folder)
    assert result.code == 0, result.output
    return Plan.model_validate(json.loads(result.stdout))


def _small(folder: Path) -> None:
    write_config(folder, files={"docs/a.md": "alpha\n", "b.txt": "beta"}, entries=[entry("e1")])


def _mixed(folder: Path) -> None:
    write_config(folder, files={"keep.txt": "one", "gone.txt": "two", "edit.txt": "old line\n"})
    assert planner("apply", "--auto-approve", cwd=folder).code == 0
    write_config(
        folder,
        files={
            "keep.txt": "one",
            "edit.txt": {"content": "new line\n" + "x" * 300 + "\n", "mode": "0600"},
            "new/file.txt": "fresh",
        },
        entries=[entry("e1"), entry("e2", "a message with | a pipe")],
        record_changes=True,
    )


def _sensitive(folder: Path) -> None:
    write_config(folder, files={"secret.env": "KEY=abc"})
    assert planner("apply", "--auto-approve", cwd=folder).code == 0
    write_config(folder, files={"secret.env": {"content": "KEY=CANARY-md-42", "sensitive": True}})


@pytest.mark.parametrize(
    "name, scenario", [("small", _small), ("mixed", _mixed), ("sensitive", _sensitive)]
)
def test_markdown_matches_its_snapshot(name: str, scenario: object, tmp_path: Path) -> None:
    assert callable(scenario)
    scenario(tmp_path)
    markdown = render_markdown(_plan_of(tmp_path))

    snapshot = SNAPSHOTS / f"{name}.md"
    if UPDATE:
        snapshot.write_text(markdown)
    assert markdown == snapshot.read_text(), (
        f"rerun with PLANNER_UPDATE_SNAPSHOTS=1 if {name}.md should change"
    )
    assert "CANARY" not in markdown


def test_summary_comes_first_then_counts_then_folded_batches(tmp_path: Path) -> None:
    _mixed(tmp_path)
    markdown = render_markdown(_plan_of(tmp_path))
    lines = markdown.splitlines()
    assert lines[0].startswith("### planner apply: Plan: 3 to add, 1 to change, 1 to destroy.")
    assert lines[2] == "| kind | add | change | destroy | forget | unchanged |"
    assert markdown.index("| file |") < markdown.index("<details>")
    assert (
        "! file.edit.txt" in markdown
        and "- file.gone.txt" in markdown
        and "+ file.new/file.txt" in markdown
    )
    assert "are shortened with …" in markdown


def test_a_20000_change_plan_stays_under_the_limit_and_says_what_it_left_out(
    tmp_path: Path,
) -> None:
    write_config(
        tmp_path,
        files={f"dir{i % 50}/file-{i:05d}.txt": str(i) for i in range(20_000)},
        audit_path=None,
    )
    markdown = render_markdown(_plan_of(tmp_path), full_plan_location="the plan-json artifact")
    assert len(markdown) < LIMIT
    assert markdown.startswith("### planner apply: Plan: 20000 to add, 0 to change, 0 to destroy.")
    assert "| file | 20000 | 0 | 0 | 0 | 0 |" in markdown
    assert "the full plan is in the plan-json artifact" in markdown
    assert markdown.count("<details>") == 20, "every batch keeps its section and first changes"
    assert "+ dir0/file-00000.txt" in markdown or "+ file.dir0/file-00000.txt" in markdown
