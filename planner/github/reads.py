"""Batched GraphQL reads: repositories with their labels and milestones, users, issues.

Also what every reader gives (``RemoteIssue``, ``RepositoryFacts``, the ``GitHubReader``
interface); the REST reads in ``rest_reads`` produce the same values.

Every read here grows with the number of pages, never with the number of objects: issues by
number go 100 aliases to a request, labels and milestones come in pages of 100, and every
repository and user a plan needs is asked for in one request.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from planner.errors import GitHubError
from planner.github.client import GitHubClient, GraphQLAnswer

logger = logging.getLogger(__name__)

PAGE_SIZE = 100
"""GitHub's largest page and the most issue aliases planner puts in one read."""

ISSUE_FIELDS = """
fragment IssueFields on Issue {
  id number title body state stateReason updatedAt
  labels(first: 100) { nodes { name } }
  assignees(first: 100) { nodes { login } }
  milestone { title }
}
"""
# Limitation: an issue with more than 100 labels or assignees is read as if it had only the
# first 100 (GitHub allows at most 10 assignees; 100 labels on one issue is far beyond what
# the tool is for). A second page per such issue would make reads grow with the issues again.

LABEL_FIELDS = "nodes { id name color description } pageInfo { hasNextPage endCursor }"
MILESTONE_FIELDS = "nodes { id title } pageInfo { hasNextPage endCursor }"
RECENT_ISSUES = (
    "issues(first: 100, orderBy: {field: CREATED_AT, direction: DESC}%s) "
    "{ nodes { ...IssueFields } pageInfo { hasNextPage endCursor } }"
)

COUNTED_ISSUES = (
    "counted: issues(first: 1, orderBy: {field: CREATED_AT, direction: DESC}) "
    "{ totalCount nodes { number } }"
)
MOVED_ISSUES = (
    "moved: issues(first: 100%s, filterBy: {since: %s}, "
    "orderBy: {field: UPDATED_AT, direction: DESC}) "
    "{ totalCount nodes { ...IssueFields } pageInfo { hasNextPage endCursor } }"
)

_MARKER = re.compile(r"(?:\r?\n){0,2}<!-- planner:key=([a-z0-9][a-z0-9._-]*) -->\s*\Z")


def marker_for(key: str) -> str:
    """The hidden comment that ties an issue planner created to its configuration key."""
    # Limitation: the marker names the key only, not the configuration, so two
    # configurations that declare the same key for the same repository would each take the
    # other's issue for their own when their state has no number for it. Keys are meant to
    # be unique per repository; naming a configuration would need an identity that survives
    # a lost state folder, which planner does not have.
    return f"<!-- planner:key={key} -->"


def with_marker(body: str, key: str) -> str:
    """``body`` with the marker appended, as planner writes the body of issues it created."""
    return f"{body}\n\n{marker_for(key)}" if body else marker_for(key)


def split_marker(body: str) -> tuple[str, str | None]:
    """The body without planner's marker, and the key the marker names (None without one)."""
    found = _MARKER.search(body)
    if found is None:
        return body, None
    return body[: found.start()], found.group(1)


def literal(value: str) -> str:
    """A GraphQL string literal (JSON's escapes are a subset of GraphQL's)."""
    return json.dumps(value)


def split_repo(repo: str) -> tuple[str, str]:
    owner, _, name = repo.partition("/")
    return owner, name


@dataclass(frozen=True)
class RemoteIssue:
    """An issue as GitHub returned it; ``body`` still carries planner's marker, if any."""

    repo: str
    number: int
    node_id: str
    title: str
    body: str
    state: str
    state_reason: str | None
    labels: tuple[str, ...]
    assignees: tuple[str, ...]
    milestone: str | None
    updated_at: str

    @property
    def marker_key(self) -> str | None:
        return split_marker(self.body)[1]

    def values(self) -> dict[str, Any]:
        """Every field planner can manage, as the configuration spells them."""
        return {
            "title": self.title,
            "body": split_marker(self.body)[0],
            "state": self.state,
            "state_reason": self.state_reason,
            "labels": sorted(self.labels, key=str.casefold),
            "assignees": sorted(self.assignees, key=str.casefold),
            "milestone": self.milestone,
        }

    @classmethod
    def from_node(cls, repo: str, node: dict[str, Any]) -> RemoteIssue:
        reason = node.get("stateReason")
        milestone = node.get("milestone") or {}
        return cls(
            repo=repo,
            number=int(node["number"]),
            node_id=str(node["id"]),
            title=str(node["title"]),
            body=str(node.get("body") or ""),
            state=str(node["state"]).lower(),
            state_reason=str(reason).lower() if reason else None,
            labels=tuple(n["name"] for n in (node.get("labels") or {}).get("nodes") or []),
            assignees=tuple(n["login"] for n in (node.get("assignees") or {}).get("nodes") or []),
            milestone=milestone.get("title"),
            updated_at=str(node.get("updatedAt") or ""),
        )


@dataclass(frozen=True)
class RemoteLabel:
    node_id: str
    name: str
    color: str
    description: str | None


@dataclass(frozen=True)
class IssueActivity:
    """What one read saw of a repository's issues as a whole: which moved, and how many exist.

    This is what lets a plan read only the issues that changed (see ``observed``): GitHub
    moves an issue's ``updatedAt`` on every change to it, so the issues updated since a
    time are every issue that can differ from what was seen before that time.
    """

    repo: str
    since: str | None
    """The time asked about (GitHub's clock); None when only the counts were asked for."""
    seen_at: str | None
    """GitHub's clock when it answered (the ``Date`` of the first answer)."""
    moved: tuple[RemoteIssue, ...] = ()
    """Every issue updated at or after ``since``, newest first (empty without ``since``)."""
    is_complete: bool = True
    """False when the pages of ``moved`` did not add up to the count GitHub gave for them
    (something moved between two pages), so ``moved`` may lack an issue."""
    total: int | None = None
    """Issues (not pull requests) in the repository when the first answer was made; None
    when the API read through cannot count them."""
    highest_number: int | None = None
    """The highest issue number in the first answer: every issue numbered up to it existed
    before that answer was made, because GitHub never hands out a number twice."""


@dataclass
class RepositoryFacts:
    """What planner needs to know about one repository to plan and write its issues."""

    repo: str
    node_id: str
    """The repository's id, which creating an issue or label needs; empty when it was read
    through REST without ``for_writing``."""
    labels: dict[str, RemoteLabel] = field(default_factory=dict)
    milestones: dict[str, str] = field(default_factory=dict)
    recent: list[RemoteIssue] | None = None
    """The newest 100 issues, when they were asked for (to find issues by marker)."""
    recent_cursor: str | None = None
    activity: IssueActivity | None = None
    """The repository's issue activity, when it was asked for with the facts."""

    def label(self, name: str) -> RemoteLabel | None:
        return self.labels.get(name.casefold())


def read_repositories(
    client: GitHubClient,
    repos: Iterable[str],
    *,
    logins: Iterable[str] = (),
    with_milestones: bool = True,
    recent_for: Iterable[str] = (),
    activity_since: Mapping[str, str | None] | None = None,
) -> tuple[dict[str, RepositoryFacts], dict[str, str | None]]:
    """Repositories (labels, milestones, newest issues if asked) and user ids, in one request.

    Further pages of labels or milestones, where a repository has more than 100, cost one
    request each. Users come back by casefolded login, None for a login GitHub does not know.
    For the repositories in ``activity_since`` the same request also asks for their issue
    activity (see ``read_activity``), which a plan of unchanged issues then needs no more.
    """
    repo_list = sorted(set(repos))
    login_list = sorted({login.casefold(): login for login in logins}.values())
    wants_recent = set(recent_for)
    activity_since = activity_since or {}
    if not repo_list and not login_list:
        return {}, {}

    parts = []
    for index, repo in enumerate(repo_list):
        owner, name = split_repo(repo)
        inner = [f"id nameWithOwner labels(first: 100) {{ {LABEL_FIELDS} }}"]
        if with_milestones:
            inner.append(f"milestones(first: 100, states: [OPEN, CLOSED]) {{ {MILESTONE_FIELDS} }}")
        if repo in wants_recent:
            inner.append("recent: " + RECENT_ISSUES % "")
        if repo in activity_since:
            inner.extend(_activity_fields(activity_since[repo]))
        parts.append(
            f"r{index}: repository(owner: {literal(owner)}, name: {literal(name)}) "
            f"{{ {' '.join(inner)} }}"
        )
    for index, login in enumerate(login_list):
        parts.append(f"u{index}: user(login: {literal(login)}) {{ id login }}")
    document = "query {\n" + "\n".join(parts) + "\n}\n"
    if wants_recent or any(since is not None for since in activity_since.values()):
        document += ISSUE_FIELDS

    answer = client.query(document, purpose=_describe_context(repo_list, login_list))

    facts: dict[str, RepositoryFacts] = {}
    for index, repo in enumerate(repo_list):
        node = answer.data.get(f"r{index}")
        if node is None:
            raise GitHubError(
                f"the repository {repo} does not exist or the token cannot see it "
                f"({_message(answer.error_at(f'r{index}'))}); check the repo setting and the token"
            )
        found = RepositoryFacts(repo=repo, node_id=str(node["id"]))
        _add_labels(found, node["labels"]["nodes"])
        _follow_label_pages(client, found, node["labels"]["pageInfo"])
        if with_milestones:
            found.milestones.update({m["title"]: m["id"] for m in node["milestones"]["nodes"]})
            _follow_milestone_pages(client, found, node["milestones"]["pageInfo"])
        if "recent" in node:
            found.recent = [RemoteIssue.from_node(repo, n) for n in node["recent"]["nodes"]]
            page = node["recent"]["pageInfo"]
            found.recent_cursor = page["endCursor"] if page["hasNextPage"] else None
        if repo in activity_since:
            found.activity = _activity(client, repo, node, activity_since[repo], answer)
        facts[repo] = found

    users: dict[str, str | None] = {}
    for index, login in enumerate(login_list):
        user = answer.data.get(f"u{index}")
        users[login.casefold()] = str(user["id"]) if user else None
    return facts, users


def _describe_context(repos: list[str], logins: list[str]) -> str:
    what = [f"repositor{'ies' if len(repos) != 1 else 'y'} {', '.join(repos)}"] if repos else []
    if logins:
        what.append(f"{len(logins)} user{'s' if len(logins) != 1 else ''}")
    return "reading " + " and ".join(what)


def _add_labels(facts: RepositoryFacts, nodes: list[dict[str, Any]]) -> None:
    for node in nodes:
        label = RemoteLabel(node["id"], node["name"], node["color"], node.get("description"))
        facts.labels[label.name.casefold()] = label


def _follow_label_pages(client: GitHubClient, facts: RepositoryFacts, page: dict[str, Any]) -> None:
    owner, name = split_repo(facts.repo)
    while page["hasNextPage"]:
        answer = client.query(
            f"query($after: String) {{ repository(owner: {literal(owner)}, name: {literal(name)}) "
            f"{{ labels(first: 100, after: $after) {{ {LABEL_FIELDS} }} }} }}",
            {"after": page["endCursor"]},
            purpose=f"reading the labels of {facts.repo}",
        )
        connection = _repository(answer, facts.repo)["labels"]
        _add_labels(facts, connection["nodes"])
        page = connection["pageInfo"]


def _follow_milestone_pages(
    client: GitHubClient, facts: RepositoryFacts, page: dict[str, Any]
) -> None:
    owner, name = split_repo(facts.repo)
    while page["hasNextPage"]:
        answer = client.query(
            f"query($after: String) {{ repository(owner: {literal(owner)}, name: {literal(name)}) "
            f"{{ milestones(first: 100, after: $after, states: [OPEN, CLOSED]) "
            f"{{ {MILESTONE_FIELDS} }} }} }}",
            {"after": page["endCursor"]},
            purpose=f"reading the milestones of {facts.repo}",
        )
        connection = _repository(answer, facts.repo)["milestones"]
        facts.milestones.update({m["title"]: m["id"] for m in connection["nodes"]})
        page = connection["pageInfo"]


def read_activity(
    client: GitHubClient, since_by_repo: Mapping[str, str | None]
) -> dict[str, IssueActivity]:
    """Each repository's issue count and the issues updated since a time, in one request.

    The first 100 moved issues of every repository come in that one request; more cost one
    request per further 100. ``since`` None asks for the counts only.
    """
    repo_list = sorted(since_by_repo)
    if not repo_list:
        return {}
    parts = []
    for index, repo in enumerate(repo_list):
        owner, name = split_repo(repo)
        inner = " ".join(_activity_fields(since_by_repo[repo]))
        parts.append(
            f"r{index}: repository(owner: {literal(owner)}, name: {literal(name)}) {{ {inner} }}"
        )
    document = "query {\n" + "\n".join(parts) + "\n}\n"
    if any(since is not None for since in since_by_repo.values()):
        document += ISSUE_FIELDS
    answer = client.query(document, purpose=f"reading what changed in {', '.join(repo_list)}")

    found: dict[str, IssueActivity] = {}
    for index, repo in enumerate(repo_list):
        node = answer.data.get(f"r{index}")
        if node is None:
            raise GitHubError(
                f"the repository {repo} does not exist or the token cannot see it "
                f"({_message(answer.error_at(f'r{index}'))}); check the repo setting and the token"
            )
        found[repo] = _activity(client, repo, node, since_by_repo[repo], answer)
    return found


def _activity_fields(since: str | None) -> list[str]:
    fields = [COUNTED_ISSUES]
    if since is not None:
        fields.append(MOVED_ISSUES % ("", literal(since)))
    return fields


def _activity(
    client: GitHubClient,
    repo: str,
    node: dict[str, Any],
    since: str | None,
    answer: GraphQLAnswer,
) -> IssueActivity:
    """The activity in one repository's node, following the pages of moved issues."""
    counted = node["counted"]
    numbers = [int(n["number"]) for n in counted["nodes"]]
    if since is None:
        return IssueActivity(
            repo=repo,
            since=None,
            seen_at=answer.server_time,
            total=int(counted["totalCount"]),
            highest_number=max(numbers, default=None),
        )

    connection = node["moved"]
    expected = int(connection["totalCount"])
    moved = [RemoteIssue.from_node(repo, n) for n in connection["nodes"]]
    # Only numbers from this one answer: a later page is read after issues may have arrived.
    numbers.extend(issue.number for issue in moved)
    page = connection["pageInfo"]
    owner, name = split_repo(repo)
    while page["hasNextPage"]:
        later = client.query(
            f"query($after: String) {{ repository(owner: {literal(owner)}, name: {literal(name)}) "
            f"{{ {MOVED_ISSUES % (', after: $after', literal(since))} }} }}\n{ISSUE_FIELDS}",
            {"after": page["endCursor"]},
            purpose=f"reading what changed in {repo}",
        )
        connection = _repository(later, repo)["moved"]
        moved.extend(RemoteIssue.from_node(repo, n) for n in connection["nodes"])
        page = connection["pageInfo"]

    # An issue updated again while the pages are read jumps to the first page, which was
    # read already; the pages then hold fewer distinct issues than GitHub counted.
    distinct = {issue.number: issue for issue in reversed(moved)}
    return IssueActivity(
        repo=repo,
        since=since,
        seen_at=answer.server_time,
        moved=tuple(sorted(distinct.values(), key=lambda i: i.updated_at, reverse=True)),
        is_complete=len(distinct) >= expected,
        total=int(counted["totalCount"]),
        highest_number=max(numbers, default=None),
    )


def read_issues(
    client: GitHubClient, repo: str, numbers: Iterable[int]
) -> dict[int, RemoteIssue | None]:
    """Issues of one repository by number, 100 to a request; None for a number not found."""
    wanted = sorted(set(numbers))
    owner, name = split_repo(repo)
    found: dict[int, RemoteIssue | None] = {}
    for start in range(0, len(wanted), PAGE_SIZE):
        chunk = wanted[start : start + PAGE_SIZE]
        aliases = " ".join(f"i{n}: issue(number: {n}) {{ ...IssueFields }}" for n in chunk)
        answer = client.query(
            f"query {{ repository(owner: {literal(owner)}, name: {literal(name)}) "
            f"{{ {aliases} }} }}\n{ISSUE_FIELDS}",
            purpose=f"reading {len(chunk)} issue{'s' if len(chunk) != 1 else ''} of {repo}",
        )
        repository = _repository(answer, repo)
        for number in chunk:
            node = repository.get(f"i{number}")
            found[number] = RemoteIssue.from_node(repo, node) if node else None
    return found


def find_marked(
    client: GitHubClient,
    facts: RepositoryFacts | None,
    repo: str,
    keys: Iterable[str],
) -> dict[str, RemoteIssue]:
    """Issues planner created for ``keys``, found by the marker in their bodies.

    Looks through the newest issues first (the first page may already have come with
    ``facts``), because an issue whose creation was not recorded was created recently.
    """
    wanted = set(keys)
    if not wanted:
        return {}
    found: dict[str, RemoteIssue] = {}
    # Limitation: only the newest 100 * (1 + ceil(keys / 100)) issues are searched, so an
    # issue whose creation planner lost is missed when more than 100 other issues were
    # opened in the repository between that apply and this lookup (or when the state folder
    # was deleted long after the issues were created). GitHub's search would look further,
    # but its index lags behind new issues, which are exactly the ones looked for here.
    pages_left = 1 + -(-len(wanted) // PAGE_SIZE)
    if facts is not None and facts.recent is not None:
        page_issues, cursor = facts.recent, facts.recent_cursor
        pages_left -= 1
    else:
        page_issues, cursor = _recent_page(client, repo, None)
        pages_left -= 1
    while True:
        for issue in page_issues:
            key = issue.marker_key
            if key in wanted and key not in found:
                found[key] = issue
        if len(found) == len(wanted) or cursor is None or pages_left <= 0:
            return found
        page_issues, cursor = _recent_page(client, repo, cursor)
        pages_left -= 1


def _recent_page(
    client: GitHubClient, repo: str, cursor: str | None
) -> tuple[list[RemoteIssue], str | None]:
    owner, name = split_repo(repo)
    answer = client.query(
        f"query($after: String) {{ repository(owner: {literal(owner)}, name: {literal(name)}) "
        f"{{ recent: {RECENT_ISSUES % ', after: $after'} }} }}\n{ISSUE_FIELDS}",
        {"after": cursor},
        purpose=f"looking for issues planner created in {repo}",
    )
    connection = _repository(answer, repo)["recent"]
    issues = [RemoteIssue.from_node(repo, n) for n in connection["nodes"]]
    page = connection["pageInfo"]
    return issues, page["endCursor"] if page["hasNextPage"] else None


def _repository(answer: GraphQLAnswer, repo: str) -> dict[str, Any]:
    node = answer.data.get("repository")
    if not isinstance(node, dict):
        raise GitHubError(
            f"the repository {repo} does not exist or the token cannot see it "
            f"({_message(answer.error_at('repository'))}); check the repo setting and the token"
        )
    return node


def _message(error: dict[str, Any] | None) -> str:
    if error is None:
        return "GitHub gave no reason"
    return str(error.get("message") or error.get("type") or "GitHub gave no reason")


class GitHubReader(Protocol):
    """What the kinds read from GitHub, whichever API it goes through.

    ``GraphQLReader`` (the default) and ``rest_reads.RestReader`` (``[github] api = "rest"``,
    or no token) give the same answers for the same repository, so plans do not differ.
    """

    def repositories(
        self,
        repos: Iterable[str],
        *,
        logins: Iterable[str] = (),
        with_milestones: bool = True,
        recent_for: Iterable[str] = (),
        for_writing: bool = False,
        activity_since: Mapping[str, str | None] | None = None,
    ) -> tuple[dict[str, RepositoryFacts], dict[str, str | None]]:
        """Repositories' labels and milestones, and user ids by casefolded login.

        With ``activity_since``, each of those repositories' facts also carry its
        ``IssueActivity`` since the given time.
        """
        ...

    def activity(self, since_by_repo: Mapping[str, str | None]) -> dict[str, IssueActivity]:
        """Each repository's ``IssueActivity`` since the given time (None: counts only)."""
        ...

    def issues(self, repo: str, numbers: Iterable[int]) -> dict[int, RemoteIssue | None]:
        """Issues of one repository by number; None for a number not found."""
        ...

    def find_marked(
        self, facts: RepositoryFacts | None, repo: str, keys: Iterable[str]
    ) -> dict[str, RemoteIssue]:
        """Issues planner created for ``keys``, found by the marker in their bodies."""
        ...


class GraphQLReader:
    """The batched GraphQL reads of this module behind the ``GitHubReader`` interface."""

    def __init__(self, client: GitHubClient) -> None:
        self.client = client

    def repositories(
        self,
        repos: Iterable[str],
        *,
        logins: Iterable[str] = (),
        with_milestones: bool = True,
        recent_for: Iterable[str] = (),
        for_writing: bool = False,
        activity_since: Mapping[str, str | None] | None = None,
    ) -> tuple[dict[str, RepositoryFacts], dict[str, str | None]]:
        # The repository's id comes in the same request either way, so for_writing is moot.
        return read_repositories(
            self.client,
            repos,
            logins=logins,
            with_milestones=with_milestones,
            recent_for=recent_for,
            activity_since=activity_since,
        )

    def activity(self, since_by_repo: Mapping[str, str | None]) -> dict[str, IssueActivity]:
        return read_activity(self.client, since_by_repo)

    def issues(self, repo: str, numbers: Iterable[int]) -> dict[int, RemoteIssue | None]:
        return read_issues(self.client, repo, numbers)

    def find_marked(
        self, facts: RepositoryFacts | None, repo: str, keys: Iterable[str]
    ) -> dict[str, RemoteIssue]:
        return find_marked(self.client, facts, repo, keys)
