"""One small apply touching every kind of resource, and the checks a faulted run must pass.

The apply under test ("v2") starts from a folder where "v1" (files and one audit entry) was
applied, against a repository on the local GitHub API server holding one open issue. It
creates files in an existing and in a new folder, updates one file (bytes and mode), deletes
one, appends three audit entries with ``record_changes``, creates two issues and updates
and closes the existing one.

Every run gets its own repository on one shared server, so a run's starting point is a copy
of the v1 folder plus a freshly seeded repository: the same start for every injection point
without restarting the server. Holds no tests itself.
"""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from tests.github_api import FakeGitHub
from tests.github_api.github_state import Issue
from tests.harness import Result, entry, planner, snapshot, write_config
from tests.kinds.test_issues_support import github_env, tables

V1_FILES: dict[str, Any] = {
    "docs/index.md": "# Index\n",
    "docs/guide.md": {"content": "guide, first edition\n", "mode": "0644"},
    "docs/old.md": "to be removed\n",
}
V2_FILES: dict[str, Any] = {
    "docs/index.md": "# Index\n",
    "docs/guide.md": {"content": "guide, second edition\n" * 4, "mode": "0600"},
    "docs/old.md": {"ensure": "absent"},
    "docs/new.md": "a new page\n",
    "notes/a.txt": "note a\n",
    "notes/b.txt": {"content": "note b\n", "mode": "0640"},
}
V1_ENTRIES = [entry("v1-setup")]
V2_ENTRIES = [
    *V1_ENTRIES,
    entry("release-start", "release | started"),
    entry("release-files", "files\nwritten"),
    entry("release-issues", "issues filed"),
]

TRACKING_TITLE = "Tracking"
TRACKING_BODY = "Original body"
CREATED_KEYS = ("alpha", "beta")
EXPECTED_ISSUES: dict[str, dict[str, Any]] = {
    "tracking": {"title": "Tracking (done)", "state": "closed", "state_reason": "completed"},
    "alpha": {"title": "Alpha", "state": "open", "labels": ["bug"], "body": "First"},
    "beta": {"title": "Beta", "state": "open", "labels": [], "body": "Second"},
}

HTTP_STEP_KINDS = frozenset({"graphql-query", "graphql-mutation", "rest-read"})
FILE_STEP_KINDS = frozenset({"write", "sync", "rename", "unlink", "mkdir", "rmdir", "truncate"})
_MARKER = re.compile(r"<!-- planner:key=([a-z0-9._-]+) -->")


def expected_files(files: dict[str, Any]) -> dict[str, tuple[bytes, int]]:
    """The bytes and permission bits the declared ``files`` must have on disk."""
    found = {}
    for path, spec in files.items():
        if isinstance(spec, str):
            spec = {"content": spec}
        if spec.get("ensure") == "absent":
            continue
        found[path] = (spec["content"].encode(), int(spec.get("mode", "0644"), 8))
    return found


def _issue_tables(repo: str, tracking_number: int) -> str:
    issues: list[dict[str, Any]] = [
        {
            "key": "tracking",
            "number": tracking_number,
            "title": "Tracking (done)",
            "state": "closed",
            "state_reason": "completed",
        },
        {"key": "alpha", "title": "Alpha", "body": "First", "labels": ["bug"]},
        {"key": "beta", "title": "Beta", "body": "Second", "labels": []},
    ]
    return f'[github]\nrepo = "{repo}"\nmax_wait = 0\n\n' + tables("issue", issues)


def configure_v1(folder: Path) -> None:
    """The configuration in force before the apply under test (no GitHub resources)."""
    write_config(folder, files=V1_FILES, entries=V1_ENTRIES)


def configure_v2(folder: Path, repo: str, tracking_number: int) -> None:
    """The configuration the apply under test reaches."""
    write_config(
        folder,
        files=V2_FILES,
        entries=V2_ENTRIES,
        record_changes=True,
        extra=_issue_tables(repo, tracking_number),
    )


@dataclass(frozen=True)
class IssueView:
    """The fields of a server-side issue the checks compare."""

    number: int
    title: str
    body: str
    state: str
    state_reason: str | None
    labels: tuple[str, ...]

    @classmethod
    def of(cls, issue: Issue) -> IssueView:
        return cls(
            issue.number,
            issue.title,
            issue.body or "",
            issue.state,
            issue.state_reason,
            tuple(sorted(label.name for label in issue.labels)),
        )

    @property
    def marker_key(self) -> str | None:
        found = _MARKER.search(self.body)
        return found.group(1) if found else None


class Site:
    """A starting point: the folder with v1 applied and v2 configured, and its repository."""

    def __init__(self, server: FakeGitHub, v1_folder: Path, folder: Path, repo: str) -> None:
        self.server = server
        self.folder = folder
        self.repo = repo
        server.create_repository(repo)
        server.add_label(repo, "bug", "d73a4a")
        self.tracking_number = server.add_issue(repo, TRACKING_TITLE, body=TRACKING_BODY).number
        shutil.copytree(v1_folder, folder)
        configure_v2(folder, repo, self.tracking_number)
        self.env = github_env(server)
        self.issues_before = self.issues()

    def run(self, *args: str, folder: Path | None = None, **faults: Any) -> Result:
        """Run planner in this site's folder (or ``folder``, a copy) against its repository."""
        env = {**self.env, **faults.pop("env", {})}
        return planner(*args, cwd=folder or self.folder, env=env, timeout=120, **faults)

    def issues(self) -> dict[int, IssueView]:
        return {issue.number: IssueView.of(issue) for issue in self.server.issues(self.repo)}


def log_ids(folder: Path) -> list[str]:
    log = (folder / "tree/audit/current.log").read_bytes().decode()
    return re.findall(r"planner:id=([^,]+),", log)


def checkpoint_count(folder: Path) -> int:
    """Checkpoints in the state folder (staging folders start with a dot and do not count)."""
    checkpoints = folder / ".planner/checkpoints"
    if not checkpoints.exists():
        return 0
    return len([f for f in checkpoints.iterdir() if not f.name.startswith(".")])


def explained_status(site: Site, folder: Path) -> str:
    """What ``planner status`` says about the last checkpoint; it must always be able to say."""
    status = site.run("status", folder=folder)
    assert status.code == 0, f"status cannot explain the checkpoint: {status.output}"
    return status.stdout


def assert_no_half_written_files(folder: Path) -> None:
    """Every managed file holds its old bytes or its new ones, never a mix or a torn copy."""
    allowed: dict[str, set[bytes]] = {}
    for files in (V1_FILES, V2_FILES):
        for path, (content, _) in expected_files(files).items():
            allowed.setdefault(path, set()).add(content)
    for path, (content, _) in snapshot(folder / "tree").items():
        if path.startswith("audit/") or Path(path).name.startswith(".planner-"):
            continue
        assert path in allowed, f"{path} is not a file either configuration declares"
        assert content in allowed[path], f"{path} holds bytes that are neither old nor new"


def assert_audit_sound(site: Site, folder: Path) -> list[str]:
    ids = log_ids(folder)
    assert len(ids) == len(set(ids)), f"an audit id was written twice: {ids}"
    verified = site.run("audit", "verify", folder=folder)
    assert verified.code == 0, verified.output
    return ids


def assert_no_duplicate_issues(site: Site) -> dict[str, IssueView]:
    """Each key's marker is on at most one issue; returns the created issues by key."""
    by_key: dict[str, list[IssueView]] = {}
    for issue in site.issues().values():
        if issue.marker_key:
            by_key.setdefault(issue.marker_key, []).append(issue)
    duplicates = {key: [i.number for i in found] for key, found in by_key.items() if len(found) > 1}
    assert not duplicates, f"issues created twice: {duplicates}"
    return {key: found[0] for key, found in by_key.items()}


def _managed_files(folder: Path) -> dict[str, tuple[bytes, int]]:
    return {
        path: value
        for path, value in snapshot(folder / "tree").items()
        if not path.startswith("audit/")
    }


def assert_at_desired_state(site: Site, folder: Path) -> None:
    """v2 exactly: file bytes and modes, audit ids, the issues' fields, and a clean plan."""
    assert _managed_files(folder) == expected_files(V2_FILES)
    ids = assert_audit_sound(site, folder)
    assert {e["id"] for e in V2_ENTRIES} <= set(ids)

    created = assert_no_duplicate_issues(site)
    assert sorted(created) == sorted(CREATED_KEYS)
    tracking = site.issues()[site.tracking_number]
    for key, issue in [*created.items(), ("tracking", tracking)]:
        wanted = EXPECTED_ISSUES[key]
        assert issue.title == wanted["title"], key
        assert (issue.state, issue.state_reason) == (wanted["state"], wanted.get("state_reason"))
        if "labels" in wanted:
            assert list(issue.labels) == wanted["labels"], key
        if "body" in wanted:
            assert _MARKER.sub("", issue.body).strip() == wanted["body"], key
    assert len(site.issues()) == 1 + len(CREATED_KEYS)

    again = site.run("plan", "--detailed-exitcode", folder=folder)
    assert again.code == 0, again.output


def assert_at_previous_state(site: Site, folder: Path, v1_files: dict[str, Any]) -> None:
    """v1 exactly: file bytes and modes, created issues closed as not planned, the update undone."""
    assert _managed_files(folder) == v1_files
    assert not (folder / "tree/notes").exists(), "the folder the apply created stayed"
    assert_audit_sound(site, folder)

    created = assert_no_duplicate_issues(site)
    for key, issue in created.items():
        assert (issue.state, issue.state_reason) == ("closed", "not_planned"), key
    now = site.issues()
    # GitHub marks an issue opened again as "reopened"; the user sees it open as before.
    tracking = now[site.tracking_number]
    if tracking.state_reason == "reopened":
        tracking = replace(tracking, state_reason=None)
    tracking_before = site.issues_before[site.tracking_number]
    assert tracking == tracking_before, "the updated issue was not restored"
    assert set(now) - set(site.issues_before) == {issue.number for issue in created.values()}

    configure_v1(folder)
    again = site.run("plan", "--detailed-exitcode", folder=folder)
    assert again.code == 0, again.output


def finish_forward(site: Site, folder: Path, status: str | None = None) -> Result:
    """``resume`` when the apply left a checkpoint stopped partway, else a fresh ``apply``."""
    if status is None:
        status = explained_status(site, folder)
    if "stopped partway" in status:
        return site.run("resume", folder=folder)
    return site.run("apply", "--auto-approve", folder=folder)


def finish_backward(site: Site, folder: Path) -> Result | None:
    """``rollback`` when the apply under test got as far as its checkpoint, else nothing."""
    if checkpoint_count(folder) > 1:
        return site.run("rollback", "--auto-approve", folder=folder)
    return None


def read_trace(path: Path) -> list[tuple[str, str]]:
    """The (kind, target) of each step a traced run took, in order."""
    lines = path.read_text().splitlines()
    return [(kind, target) for kind, _, target in (line.partition("\t") for line in lines)]
