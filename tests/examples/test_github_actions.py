"""The example GitHub Actions workflow: valid for GitHub, clean for zizmor, pinned, serialised.

Both tools run offline from the virtual environment running the tests (the ``test`` extras
install them), so the checks need no network and no GitHub.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
EXAMPLE = ROOT / "examples" / "github-actions"
WORKFLOWS = sorted(EXAMPLE.glob("*.yml"))
FULL_SHA_PIN = re.compile(r"^\s*(?:-\s+)?uses:\s+[\w.-]+/[\w./-]+@[0-9a-f]{40} # v\d")


def tool(name: str) -> str:
    path = Path(sys.executable).parent / name
    assert path.exists(), f"{name} is missing; install the test extras: pip install -e '.[test]'"
    return str(path)


def run(*command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        command, cwd=ROOT, capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL
    )


def test_example_folder_has_a_workflow_and_its_readme() -> None:
    assert [path.name for path in WORKFLOWS] == ["planner.yml"]
    assert (EXAMPLE / "README.md").is_file()


def test_workflows_match_githubs_workflow_schema() -> None:
    checked = run(
        tool("check-jsonschema"),
        "--builtin-schema",
        "vendor.github-workflows",
        *map(str, WORKFLOWS),
    )

    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_zizmor_finds_nothing_above_low() -> None:
    audited = run(
        tool("zizmor"),
        "--offline",
        "--min-severity",
        "medium",
        "--format",
        "json",
        *map(str, WORKFLOWS),
    )

    assert audited.returncode == 0, audited.stdout + audited.stderr
    assert json.loads(audited.stdout) == []


def test_every_action_is_pinned_by_full_sha_and_checkout_keeps_no_credentials() -> None:
    text = (EXAMPLE / "planner.yml").read_text()
    uses = [line for line in text.splitlines() if re.match(r"^\s*(?:-\s+)?uses:", line)]

    assert uses and all(FULL_SHA_PIN.match(line) for line in uses), uses
    checkouts = sum("actions/checkout@" in line for line in uses)
    assert checkouts == text.count("persist-credentials: false") == 2


def test_workflow_plans_comments_and_applies_the_saved_plan_one_apply_at_a_time() -> None:
    text = (EXAMPLE / "planner.yml").read_text()

    assert 'planner validate -c "$PLANNER_CONFIG"' in text
    assert 'planner plan -c "$PLANNER_CONFIG" --out plan.json' in text
    assert 'planner comment -c "$PLANNER_CONFIG" --pr "$PR_NUMBER" plan.json' in text
    assert "PR_NUMBER: ${{ github.event.pull_request.number }}" in text
    assert 'planner apply -c "$PLANNER_CONFIG" reviewed/plan.json' in text
    assert "group: planner-apply-" in text and "cancel-in-progress: false" in text
    assert "permissions: {}" in text
