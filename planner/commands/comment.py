"""``planner comment --pr N [PLANFILE]``: the plan as one pull-request comment, kept current."""

from __future__ import annotations

import argparse
import os
import re
from pathlib import Path

from planner.apply.checkpoint import CheckpointStore
from planner.commands.common import open_workspace
from planner.config.models import REPO_PATTERN
from planner.console import Console
from planner.errors import GitHubError, PlannerError
from planner.github import connect
from planner.github.client import OutcomeUnknown
from planner.github.comments import fit_body, marker_for, post_plan_comment
from planner.plan.builder import build_plan
from planner.plan.planfile import load_plan
from planner.render import render_markdown
from planner.workspace import Workspace

NO_TOKEN_FOR_COMMENTS = (
    "commenting on a pull request needs a token: set GH_TOKEN or GITHUB_TOKEN to a token that "
    "may write the repository's pull requests, then run the command again"
)


def run(args: argparse.Namespace, console: Console) -> int:
    if args.pr < 1:
        raise PlannerError(f"--pr {args.pr} is not a pull request number; give one from 1 up")
    workspace = open_workspace(args)
    repo = _repository(args.repo, workspace)
    client = connect(workspace)
    if not client.settings.token:
        raise GitHubError(NO_TOKEN_FOR_COMMENTS)

    if args.planfile:
        plan = load_plan(Path(args.planfile))
        location = _saved_plan_location(args.planfile)
    else:
        if CheckpointStore(workspace.state_dir).last_is_incomplete():
            console.warn("the last apply stopped partway; this plan ignores it (planner status)")
        plan = build_plan(workspace, workspace.store.load(), [])
        location = None

    marker = marker_for(Path(args.config).as_posix())
    markdown = render_markdown(plan, full_plan_location=location)
    body = fit_body(
        marker,
        markdown,
        note=f"Some batches are not shown here; the full plan is in {location or 'planner plan'}.",
    )
    try:
        posted = post_plan_comment(client, repo, args.pr, marker=marker, body=body)
    except OutcomeUnknown:
        raise GitHubError(
            f"GitHub's answer to the comment on {repo}#{args.pr} was lost; run the command "
            "again, it finds the comment by its hidden marker and updates it"
        ) from None

    verb = "Created" if posted.is_new else "Updated"
    console.print(f"{verb} the plan comment on {repo}#{args.pr}: {posted.url}")
    return 0


def _repository(given: str | None, workspace: Workspace) -> str:
    """``--repo``, else ``[github].repo``; one sentence when neither names one."""
    if given is not None:
        if not re.fullmatch(REPO_PATTERN, given):
            raise PlannerError(f"--repo {given!r} is not owner/name; give e.g. octo-org/octo-repo")
        return given
    github = workspace.loaded.config.github
    if github is None or github.repo is None:
        raise PlannerError(
            "no repository to comment on: pass --repo owner/name or set [github].repo in the "
            "configuration"
        )
    return github.repo


def _saved_plan_location(planfile: str) -> str:
    """Where the comment says the full plan is: the file, and the workflow run that made it."""
    location = f"the saved plan file `{planfile}`"
    run_id = os.environ.get("GITHUB_RUN_ID")
    server = os.environ.get("GITHUB_SERVER_URL")
    repository = os.environ.get("GITHUB_REPOSITORY")
    if os.environ.get("GITHUB_ACTIONS") == "true" and run_id and server and repository:
        location += f" of workflow run {server}/{repository}/actions/runs/{run_id}"
    return location
