"""The in-memory world of the fake GitHub: users, repositories, issues, labels, milestones.

REST routes and GraphQL resolvers both change the world only through :class:`GitHubState`, so
the two APIs always agree, the same way they do on GitHub. Nothing here knows about HTTP.
"""

from __future__ import annotations

import base64
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Literal, TypeVar

ErrorKind = Literal["NOT_FOUND", "UNPROCESSABLE", "FORBIDDEN", "GONE"]

NodeT = TypeVar("NodeT")


class GitHubError(Exception):
    """A request GitHub would refuse for reasons of state (missing issue, duplicate label...).

    ``kind`` maps onto a REST status (404/422/403/410) and a GraphQL error ``type``.
    ``resource``/``field``/``code`` fill GitHub's REST ``errors`` array for 422s.
    """

    def __init__(
        self,
        kind: ErrorKind,
        message: str,
        *,
        resource: str | None = None,
        field: str | None = None,
        code: str | None = None,
    ) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.resource = resource
        self.field = field
        self.code = code


def format_timestamp(moment: datetime) -> str:
    """GitHub's timestamp format: ISO 8601, UTC, second resolution, ``Z`` suffix."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_timestamp(text: str) -> datetime:
    """Parse the ISO 8601 forms clients send (``Z`` or an offset, optional fraction)."""
    parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


class ServerClock:
    """The server's notion of now, at GitHub's one-second resolution.

    By default it follows the wall clock. Tests can ``set`` it (which freezes it), ``advance``
    it, and make every write move it forward (``seconds_per_write``) so successive changes get
    distinct ``updated_at`` values even within one real second.
    """

    def __init__(self) -> None:
        self._frozen_at: datetime | None = None
        self._offset = timedelta(0)
        self.seconds_per_write = 0
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            moment = self._frozen_at or (datetime.now(UTC) + self._offset)
        return moment.replace(microsecond=0)

    def set(self, moment: datetime | str, *, frozen: bool = True) -> None:
        """Jump to ``moment``; frozen unless told to keep ticking from there."""
        target = parse_timestamp(moment) if isinstance(moment, str) else moment.astimezone(UTC)
        with self._lock:
            if frozen:
                self._frozen_at = target
            else:
                self._frozen_at = None
                self._offset = target - datetime.now(UTC)

    def advance(self, seconds: float) -> None:
        with self._lock:
            if self._frozen_at is not None:
                self._frozen_at += timedelta(seconds=seconds)
            else:
                self._offset += timedelta(seconds=seconds)

    def tick_for_write(self) -> None:
        """Called once per mutating request, before the change is applied."""
        if self.seconds_per_write:
            self.advance(self.seconds_per_write)


def make_node_id(prefix: str, type_name: str, database_id: int) -> str:
    """An opaque global id in the style of GitHub's newer ids (``I_kwDO...``)."""
    payload = base64.urlsafe_b64encode(f"fake:{type_name}:{database_id}".encode()).decode()
    return f"{prefix}_{payload.rstrip('=')}"


@dataclass
class User:
    login: str
    database_id: int
    node_id: str
    name: str | None
    created_at: datetime
    account_type: str = "User"


@dataclass
class Label:
    database_id: int
    node_id: str
    name: str
    color: str
    description: str | None
    repository: Repository
    created_at: datetime
    updated_at: datetime
    is_default: bool = False


@dataclass
class Milestone:
    database_id: int
    node_id: str
    number: int
    title: str
    description: str | None
    state: str
    due_on: datetime | None
    creator: str
    repository: Repository
    created_at: datetime
    updated_at: datetime
    closed_at: datetime | None = None


@dataclass
class IssueComment:
    database_id: int
    node_id: str
    body: str
    author: str
    issue: Issue
    created_at: datetime
    updated_at: datetime


@dataclass
class Issue:
    database_id: int
    node_id: str
    number: int
    title: str
    body: str | None
    author: str
    repository: Repository
    created_at: datetime
    updated_at: datetime
    state: str = "open"
    state_reason: str | None = None
    closed_at: datetime | None = None
    closed_by: str | None = None
    label_ids: list[int] = field(default_factory=list)
    assignees: list[str] = field(default_factory=list)
    milestone_number: int | None = None
    comments: list[IssueComment] = field(default_factory=list)
    locked: bool = False

    @property
    def labels(self) -> list[Label]:
        return [self.repository.labels[label_id] for label_id in self.label_ids]

    @property
    def milestone(self) -> Milestone | None:
        if self.milestone_number is None:
            return None
        return self.repository.milestones.get(self.milestone_number)


@dataclass
class Repository:
    database_id: int
    node_id: str
    owner: str
    name: str
    private: bool
    description: str | None
    created_at: datetime
    updated_at: datetime
    issues: dict[int, Issue] = field(default_factory=dict)
    labels: dict[int, Label] = field(default_factory=dict)
    milestones: dict[int, Milestone] = field(default_factory=dict)
    # Issue numbers and milestone numbers share GitHub's per-repository sequence only for
    # issues/PRs; milestones have their own.
    next_issue_number: int = 1
    next_milestone_number: int = 1
    deleted_issue_numbers: set[int] = field(default_factory=set)
    # number -> (new repository full name, new number): REST answers 301 for these.
    transferred_issues: dict[int, tuple[str, int]] = field(default_factory=dict)

    @property
    def full_name(self) -> str:
        return f"{self.owner}/{self.name}"

    def label_named(self, name: str) -> Label | None:
        """Label names are case-insensitive on GitHub."""
        wanted = name.casefold()
        for label in self.labels.values():
            if label.name.casefold() == wanted:
                return label
        return None


Node = User | Repository | Issue | Label | Milestone | IssueComment


class GitHubState:
    """Every object the fake serves, plus the operations that change them.

    Callers hold ``lock`` for any sequence of reads and writes that must be consistent; the
    HTTP server takes it once per request.
    """

    def __init__(self, viewer_login: str = "planner-bot") -> None:
        self.lock = threading.RLock()
        self.clock = ServerClock()
        self.users: dict[str, User] = {}
        self.repositories: dict[str, Repository] = {}
        self.nodes: dict[str, Node] = {}
        self._next_database_id = 1000
        self.viewer_login = viewer_login
        self.add_user(viewer_login, name="Planner Bot")

    # ----- identity ---------------------------------------------------------------------

    def _allocate(self, prefix: str, type_name: str) -> tuple[int, str]:
        self._next_database_id += 1
        database_id = self._next_database_id
        return database_id, make_node_id(prefix, type_name, database_id)

    def _register(self, node: Node) -> None:
        self.nodes[node.node_id] = node

    # ----- users and repositories -------------------------------------------------------

    def add_user(self, login: str, *, name: str | None = None, organization: bool = False) -> User:
        with self.lock:
            existing = self.find_user(login)
            if existing is not None:
                return existing
            database_id, node_id = self._allocate("O" if organization else "U", "User")
            user = User(
                login=login,
                database_id=database_id,
                node_id=node_id,
                name=name,
                created_at=self.clock.now(),
                account_type="Organization" if organization else "User",
            )
            self.users[login.casefold()] = user
            self._register(user)
            return user

    def find_user(self, login: str) -> User | None:
        return self.users.get(login.casefold())

    def get_user(self, login: str) -> User:
        user = self.find_user(login)
        if user is None:
            raise GitHubError(
                "NOT_FOUND", f"Could not resolve to a User with the login of '{login}'."
            )
        return user

    def create_repository(
        self, full_name: str, *, private: bool = False, description: str | None = None
    ) -> Repository:
        owner, _, name = full_name.partition("/")
        if not owner or not name:
            raise ValueError(f"repository name must be owner/name, got {full_name!r}")
        with self.lock:
            if full_name.casefold() in self.repositories:
                raise ValueError(f"repository {full_name} already exists")
            self.add_user(owner)
            database_id, node_id = self._allocate("R", "Repository")
            now = self.clock.now()
            repository = Repository(
                database_id=database_id,
                node_id=node_id,
                owner=self.get_user(owner).login,
                name=name,
                private=private,
                description=description,
                created_at=now,
                updated_at=now,
            )
            self.repositories[full_name.casefold()] = repository
            self._register(repository)
            return repository

    def find_repository(self, owner: str, name: str) -> Repository | None:
        return self.repositories.get(f"{owner}/{name}".casefold())

    def get_repository(self, owner: str, name: str) -> Repository:
        repository = self.find_repository(owner, name)
        if repository is None:
            raise GitHubError(
                "NOT_FOUND", f"Could not resolve to a Repository with the name '{owner}/{name}'."
            )
        return repository

    # ----- node lookup -------------------------------------------------------------------

    def find_node(self, node_id: str) -> Node | None:
        return self.nodes.get(node_id)

    def node_of_type(self, node_id: str, node_type: type[NodeT], type_label: str) -> NodeT:
        node = self.nodes.get(node_id)
        if not isinstance(node, node_type):
            raise GitHubError(
                "NOT_FOUND", f"Could not resolve to {type_label} with the global id of '{node_id}'."
            )
        return node

    # ----- labels ------------------------------------------------------------------------

    def create_label(
        self,
        repository: Repository,
        name: str,
        color: str = "ededed",
        description: str | None = None,
    ) -> Label:
        with self.lock:
            if repository.label_named(name) is not None:
                raise GitHubError(
                    "UNPROCESSABLE",
                    "Name has already been taken",
                    resource="Label",
                    field="name",
                    code="already_exists",
                )
            database_id, node_id = self._allocate("LA", "Label")
            now = self.clock.now()
            label = Label(
                database_id=database_id,
                node_id=node_id,
                name=name,
                color=color.lstrip("#").lower(),
                description=description,
                repository=repository,
                created_at=now,
                updated_at=now,
            )
            repository.labels[database_id] = label
            self._register(label)
            return label

    def update_label(
        self,
        label: Label,
        *,
        name: str | None = None,
        color: str | None = None,
        description: str | None = None,
        clear_description: bool = False,
    ) -> Label:
        with self.lock:
            clashing = None
            if name is not None and name.casefold() != label.name.casefold():
                clashing = label.repository.label_named(name)
            if clashing is not None:
                raise GitHubError(
                    "UNPROCESSABLE",
                    "Name has already been taken",
                    resource="Label",
                    field="name",
                    code="already_exists",
                )
            if name is not None:
                label.name = name
            if color is not None:
                label.color = color.lstrip("#").lower()
            if description is not None or clear_description:
                label.description = description
            label.updated_at = self.clock.now()
            return label

    def delete_label(self, label: Label) -> None:
        with self.lock:
            repository = label.repository
            now = self.clock.now()
            for issue in repository.issues.values():
                if label.database_id in issue.label_ids:
                    issue.label_ids.remove(label.database_id)
                    issue.updated_at = now
            del repository.labels[label.database_id]
            self.nodes.pop(label.node_id, None)

    def get_label(self, repository: Repository, name: str) -> Label:
        label = repository.label_named(name)
        if label is None:
            raise GitHubError("NOT_FOUND", f"Could not resolve to a Label with the name '{name}'.")
        return label

    # ----- milestones --------------------------------------------------------------------

    def create_milestone(
        self,
        repository: Repository,
        title: str,
        *,
        state: str = "open",
        description: str | None = None,
        due_on: datetime | None = None,
    ) -> Milestone:
        with self.lock:
            if any(m.title == title for m in repository.milestones.values()):
                raise GitHubError(
                    "UNPROCESSABLE",
                    "Title has already been taken",
                    resource="Milestone",
                    field="title",
                    code="already_exists",
                )
            database_id, node_id = self._allocate("MI", "Milestone")
            now = self.clock.now()
            number = repository.next_milestone_number
            repository.next_milestone_number += 1
            milestone = Milestone(
                database_id=database_id,
                node_id=node_id,
                number=number,
                title=title,
                description=description,
                state=state,
                due_on=due_on,
                creator=self.viewer_login,
                repository=repository,
                created_at=now,
                updated_at=now,
                closed_at=now if state == "closed" else None,
            )
            repository.milestones[number] = milestone
            self._register(milestone)
            return milestone

    def get_milestone(self, repository: Repository, number: int) -> Milestone:
        milestone = repository.milestones.get(number)
        if milestone is None:
            raise GitHubError(
                "NOT_FOUND", f"Could not resolve to a Milestone with the number of {number}."
            )
        return milestone

    # ----- issues ------------------------------------------------------------------------

    def get_issue(self, repository: Repository, number: int) -> Issue:
        issue = repository.issues.get(number)
        if issue is None:
            if number in repository.deleted_issue_numbers:
                raise GitHubError("GONE", "This issue was deleted")
            raise GitHubError(
                "NOT_FOUND",
                f"Could not resolve to an issue or pull request with the number of {number}.",
            )
        return issue

    def create_issue(
        self,
        repository: Repository,
        title: str,
        *,
        body: str | None = None,
        author: str | None = None,
        label_names: list[str] | None = None,
        label_ids: list[int] | None = None,
        assignees: list[str] | None = None,
        milestone_number: int | None = None,
        state: str = "open",
        state_reason: str | None = None,
        created_at: datetime | None = None,
        create_missing_labels: bool = True,
    ) -> Issue:
        """Create an issue. Unknown label names are created on the fly, as REST does."""
        with self.lock:
            resolved_label_ids = list(label_ids or [])
            for name in label_names or []:
                label = repository.label_named(name)
                if label is None:
                    if not create_missing_labels:
                        raise GitHubError("NOT_FOUND", f"Could not resolve label '{name}'.")
                    label = self.create_label(repository, name)
                if label.database_id not in resolved_label_ids:
                    resolved_label_ids.append(label.database_id)
            resolved_assignees = self._resolve_assignees(assignees or [])
            if milestone_number is not None:
                self._require_milestone(repository, milestone_number)

            database_id, node_id = self._allocate("I", "Issue")
            now = (
                created_at.astimezone(UTC).replace(microsecond=0)
                if created_at
                else self.clock.now()
            )
            number = repository.next_issue_number
            repository.next_issue_number += 1
            issue = Issue(
                database_id=database_id,
                node_id=node_id,
                number=number,
                title=title,
                body=body,
                author=author or self.viewer_login,
                repository=repository,
                created_at=now,
                updated_at=now,
                label_ids=resolved_label_ids,
                assignees=resolved_assignees,
                milestone_number=milestone_number,
            )
            if state == "closed":
                issue.state = "closed"
                issue.state_reason = state_reason or "completed"
                issue.closed_at = now
                issue.closed_by = issue.author
            repository.issues[number] = issue
            self._register(issue)
            return issue

    def _resolve_assignees(self, logins: list[str]) -> list[str]:
        resolved: list[str] = []
        for login in logins:
            user = self.find_user(login)
            if user is None:
                raise GitHubError(
                    "UNPROCESSABLE",
                    f"Could not resolve to a User with the login of '{login}'.",
                    resource="Issue",
                    field="assignees",
                    code="invalid",
                )
            if user.login not in resolved:
                resolved.append(user.login)
        return resolved

    def _require_milestone(self, repository: Repository, number: int) -> Milestone:
        milestone = repository.milestones.get(number)
        if milestone is None:
            raise GitHubError(
                "UNPROCESSABLE",
                "Validation Failed",
                resource="Issue",
                field="milestone",
                code="invalid",
            )
        return milestone

    def touch(self, issue: Issue) -> None:
        """Every change to an issue moves its ``updated_at`` to now."""
        issue.updated_at = self.clock.now()

    def edit_issue(
        self,
        issue: Issue,
        *,
        title: str | None = None,
        body: str | None = None,
        set_body: bool = False,
        state: str | None = None,
        state_reason: str | None = None,
        label_names: list[str] | None = None,
        label_ids: list[int] | None = None,
        assignees: list[str] | None = None,
        milestone_number: int | None = None,
        set_milestone: bool = False,
    ) -> Issue:
        """Apply the fields that are given; ``set_*`` flags let callers clear a value."""
        with self.lock:
            # Validate everything before changing anything: GitHub applies a PATCH whole.
            new_label_ids: list[int] | None = None
            if label_names is not None:
                new_label_ids = []
                for name in label_names:
                    label = issue.repository.label_named(name) or self.create_label(
                        issue.repository, name
                    )
                    if label.database_id not in new_label_ids:
                        new_label_ids.append(label.database_id)
            if label_ids is not None:
                new_label_ids = list(dict.fromkeys(label_ids))
            new_assignees = self._resolve_assignees(assignees) if assignees is not None else None
            if set_milestone and milestone_number is not None:
                self._require_milestone(issue.repository, milestone_number)

            if title is not None:
                issue.title = title
            if body is not None or set_body:
                issue.body = body
            if new_label_ids is not None:
                issue.label_ids = new_label_ids
            if new_assignees is not None:
                issue.assignees = new_assignees
            if set_milestone:
                issue.milestone_number = milestone_number
            if state == "closed":
                self._close(issue, state_reason or "completed")
            elif state == "open":
                self._reopen(issue)
            self.touch(issue)
            return issue

    def _close(self, issue: Issue, state_reason: str) -> None:
        if issue.state != "closed":
            issue.closed_at = self.clock.now()
            issue.closed_by = self.viewer_login
        issue.state = "closed"
        issue.state_reason = state_reason

    def _reopen(self, issue: Issue) -> None:
        if issue.state == "closed":
            issue.state_reason = "reopened"
        issue.state = "open"
        issue.closed_at = None
        issue.closed_by = None

    def close_issue(self, issue: Issue, state_reason: str = "completed") -> Issue:
        with self.lock:
            self._close(issue, state_reason)
            self.touch(issue)
            return issue

    def reopen_issue(self, issue: Issue) -> Issue:
        with self.lock:
            self._reopen(issue)
            self.touch(issue)
            return issue

    def add_labels(self, issue: Issue, labels: list[Label]) -> Issue:
        with self.lock:
            for label in labels:
                if label.database_id not in issue.label_ids:
                    issue.label_ids.append(label.database_id)
            self.touch(issue)
            return issue

    def remove_labels(self, issue: Issue, labels: list[Label]) -> Issue:
        with self.lock:
            for label in labels:
                if label.database_id in issue.label_ids:
                    issue.label_ids.remove(label.database_id)
            self.touch(issue)
            return issue

    def add_assignees(self, issue: Issue, logins: list[str]) -> Issue:
        with self.lock:
            for login in self._resolve_assignees(logins):
                if login not in issue.assignees:
                    issue.assignees.append(login)
            self.touch(issue)
            return issue

    def remove_assignees(self, issue: Issue, logins: list[str]) -> Issue:
        with self.lock:
            wanted = {login.casefold() for login in logins}
            issue.assignees = [a for a in issue.assignees if a.casefold() not in wanted]
            self.touch(issue)
            return issue

    def delete_issue(self, issue: Issue) -> Repository:
        with self.lock:
            repository = issue.repository
            del repository.issues[issue.number]
            repository.deleted_issue_numbers.add(issue.number)
            self.nodes.pop(issue.node_id, None)
            for comment in issue.comments:
                self.nodes.pop(comment.node_id, None)
            return repository

    def transfer_issue(self, issue: Issue, destination: Repository) -> Issue:
        """Move an issue: it gets the next number in ``destination`` and keeps its node id.

        Labels are carried over by name when the destination has them (GitHub drops the
        others); milestones are dropped. The old number answers 301 over REST.
        """
        with self.lock:
            if destination is issue.repository:
                raise GitHubError("UNPROCESSABLE", "Issue is already in that repository.")
            source = issue.repository
            del source.issues[issue.number]
            old_number = issue.number

            carried: list[int] = []
            for label in issue.labels:
                match = destination.label_named(label.name)
                if match is not None:
                    carried.append(match.database_id)
            issue.label_ids = carried
            issue.milestone_number = None
            issue.repository = destination
            issue.number = destination.next_issue_number
            destination.next_issue_number += 1
            destination.issues[issue.number] = issue
            source.transferred_issues[old_number] = (destination.full_name, issue.number)
            self.touch(issue)
            return issue

    # ----- comments ----------------------------------------------------------------------

    def add_comment(self, issue: Issue, body: str, author: str | None = None) -> IssueComment:
        with self.lock:
            database_id, node_id = self._allocate("IC", "IssueComment")
            now = self.clock.now()
            comment = IssueComment(
                database_id=database_id,
                node_id=node_id,
                body=body,
                author=author or self.viewer_login,
                issue=issue,
                created_at=now,
                updated_at=now,
            )
            issue.comments.append(comment)
            self._register(comment)
            self.touch(issue)
            return comment

    def find_comment(self, repository: Repository, database_id: int) -> IssueComment:
        for issue in repository.issues.values():
            for comment in issue.comments:
                if comment.database_id == database_id:
                    return comment
        raise GitHubError("NOT_FOUND", "Not Found")

    def update_comment(self, comment: IssueComment, body: str) -> IssueComment:
        with self.lock:
            comment.body = body
            comment.updated_at = self.clock.now()
            self.touch(comment.issue)
            return comment

    def delete_comment(self, comment: IssueComment) -> None:
        with self.lock:
            comment.issue.comments.remove(comment)
            self.nodes.pop(comment.node_id, None)
            self.touch(comment.issue)
