"""GitHub's GraphQL API over the fake's state, executed by graphql-core on GitHub's own schema.

Root fields and mutations get resolvers installed on the (shared, cached) schema; everything
below them is served by small view objects whose attribute and method names are the GraphQL
field names, which graphql-core's default resolver looks up. Errors follow GitHub's shape:
``{"type": "NOT_FOUND", "path": [...], "locations": [...], "message": ...}``.
"""

from __future__ import annotations

import base64
import functools
import json
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar

from graphql import (
    ExecutionResult,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLAbstractType,
    GraphQLError,
    GraphQLInterfaceType,
    GraphQLObjectType,
    GraphQLResolveInfo,
    GraphQLSchema,
    GraphQLUnionType,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    VariableNode,
    execute,
    get_named_type,
)

from .contract import GraphQLRequestCheck, load_graphql_schema
from .github_state import (
    GitHubError,
    GitHubState,
    Issue,
    IssueComment,
    Label,
    Milestone,
    Repository,
    User,
    format_timestamp,
    parse_timestamp,
)
from .rest_json import web_root

logger = logging.getLogger(__name__)

Item = TypeVar("Item")

MAX_PAGE_SIZE = 100
MAX_NODES_PER_QUERY = 500_000


@dataclass
class GraphQLContext:
    """What resolvers need from the server for one request."""

    state: GitHubState
    api_root: str
    viewer: User
    rate_limit: Callable[[], dict[str, Any]]
    cost: int = 1

    @property
    def web(self) -> str:
        return web_root(self.api_root)


class GitHubGraphQLError(Exception):
    """An error GitHub reports with a top-level ``type`` (e.g. ``NOT_FOUND``)."""

    def __init__(self, error_type: str, message: str) -> None:
        super().__init__(message)
        self.error_type = error_type
        self.message = message


def _github_failure(error: GitHubError) -> GitHubGraphQLError:
    return GitHubGraphQLError(error.kind if error.kind != "GONE" else "NOT_FOUND", error.message)


def _context(info: GraphQLResolveInfo[Any]) -> GraphQLContext:
    context = info.context
    assert isinstance(context, GraphQLContext)
    return context


# ----- connections -------------------------------------------------------------------------


def _encode_cursor(key: Sequence[Any]) -> str:
    return base64.b64encode(("cursor:v2:" + json.dumps(list(key))).encode()).decode()


def _decode_cursor(cursor: str) -> list[Any]:
    try:
        text = base64.b64decode(cursor.encode()).decode()
        if not text.startswith("cursor:v2:"):
            raise ValueError(text)
        decoded = json.loads(text.removeprefix("cursor:v2:"))
    except (ValueError, UnicodeDecodeError):
        raise GitHubGraphQLError(
            "INVALID_CURSOR_ARGUMENTS", f"`{cursor}` does not appear to be a valid cursor."
        ) from None
    assert isinstance(decoded, list)
    return decoded


@dataclass
class PageInfoView:
    hasNextPage: bool
    hasPreviousPage: bool
    startCursor: str | None
    endCursor: str | None


@dataclass
class EdgeView:
    cursor: str
    node: Any


@dataclass
class ConnectionView:
    """Any ``...Connection`` type: nodes, edges, pageInfo and totalCount."""

    nodes: list[Any]
    edges: list[EdgeView]
    pageInfo: PageInfoView
    totalCount: int


def _connection(
    items: list[Item],
    arguments: dict[str, Any],
    sort_key: Callable[[Item], list[Any]],
    make_view: Callable[[Item], Any],
    descending: bool = False,
) -> ConnectionView:
    """Slice ``items`` (already filtered) by first/after/last/before with key-based cursors.

    Cursors hold the sort key of an item, so an item moving (e.g. its updatedAt changing)
    while a client pages does not shift every later page, as with GitHub's cursors.
    """
    ordered = sorted(items, key=sort_key, reverse=descending)
    keyed = [(sort_key(item), item) for item in ordered]

    def comes_after(key: list[Any], cursor: list[Any]) -> bool:
        return key < cursor if descending else key > cursor

    after = arguments.get("after")
    if after:
        cursor_key = _decode_cursor(after)
        keyed = [(k, item) for k, item in keyed if comes_after(k, cursor_key)]
    before = arguments.get("before")
    if before:
        cursor_key = _decode_cursor(before)
        keyed = [(k, item) for k, item in keyed if comes_after(cursor_key, k)]

    total_window = len(keyed)
    first = arguments.get("first")
    last = arguments.get("last")
    if first is not None:
        keyed = keyed[:first]
    if last is not None:
        keyed = keyed[-last:] if last else []

    edges = [EdgeView(_encode_cursor(k), make_view(item)) for k, item in keyed]
    page_info = PageInfoView(
        hasNextPage=first is not None and total_window > len(keyed),
        hasPreviousPage=bool(after) or (last is not None and total_window > len(keyed)),
        startCursor=edges[0].cursor if edges else None,
        endCursor=edges[-1].cursor if edges else None,
    )
    return ConnectionView(
        nodes=[edge.node for edge in edges],
        edges=edges,
        pageInfo=page_info,
        totalCount=len(items),
    )


# ----- views -------------------------------------------------------------------------------


class NodeView:
    """Base of every view: knows its GraphQL type name for interface/union resolution."""

    graphql_type = "Node"

    def __init__(self, context: GraphQLContext) -> None:
        self.context = context

    @property
    def __typename(self) -> str:
        return self.graphql_type


class UserView(NodeView):
    def __init__(self, context: GraphQLContext, user: User) -> None:
        super().__init__(context)
        self.user = user
        self.graphql_type = "Organization" if user.account_type == "Organization" else "User"
        self.id = user.node_id
        self.databaseId = user.database_id
        self.login = user.login
        self.name = user.name
        self.url = f"{context.web}/{user.login}"
        self.resourcePath = f"/{user.login}"
        self.createdAt = format_timestamp(user.created_at)
        self.updatedAt = format_timestamp(user.created_at)
        self.email = ""

    def avatarUrl(self, info: GraphQLResolveInfo[Any], size: int | None = None) -> str:
        return f"{self.context.web}/avatars/{self.user.login}"


class LabelView(NodeView):
    graphql_type = "Label"

    def __init__(self, context: GraphQLContext, label: Label) -> None:
        super().__init__(context)
        self.label = label
        self.id = label.node_id
        self.name = label.name
        self.color = label.color
        self.description = label.description
        self.isDefault = label.is_default
        self.createdAt = format_timestamp(label.created_at)
        self.updatedAt = format_timestamp(label.updated_at)
        self.url = f"{context.web}/{label.repository.full_name}/labels/{label.name}"
        self.resourcePath = f"/{label.repository.full_name}/labels/{label.name}"

    @property
    def repository(self) -> RepositoryView:
        return RepositoryView(self.context, self.label.repository)


class MilestoneView(NodeView):
    graphql_type = "Milestone"

    def __init__(self, context: GraphQLContext, milestone: Milestone) -> None:
        super().__init__(context)
        self.milestone = milestone
        self.id = milestone.node_id
        self.number = milestone.number
        self.title = milestone.title
        self.description = milestone.description
        self.state = milestone.state.upper()
        self.closed = milestone.state == "closed"
        self.dueOn = format_timestamp(milestone.due_on) if milestone.due_on else None
        self.closedAt = format_timestamp(milestone.closed_at) if milestone.closed_at else None
        self.createdAt = format_timestamp(milestone.created_at)
        self.updatedAt = format_timestamp(milestone.updated_at)
        path = f"/{milestone.repository.full_name}/milestone/{milestone.number}"
        self.url = f"{context.web}{path}"
        self.resourcePath = path

    @property
    def repository(self) -> RepositoryView:
        return RepositoryView(self.context, self.milestone.repository)


class IssueCommentView(NodeView):
    graphql_type = "IssueComment"

    def __init__(self, context: GraphQLContext, comment: IssueComment) -> None:
        super().__init__(context)
        self.comment = comment
        self.id = comment.node_id
        self.databaseId = comment.database_id
        self.fullDatabaseId = str(comment.database_id)
        self.body = comment.body
        self.createdAt = format_timestamp(comment.created_at)
        self.updatedAt = format_timestamp(comment.updated_at)
        path = (
            f"/{comment.issue.repository.full_name}/issues/{comment.issue.number}"
            f"#issuecomment-{comment.database_id}"
        )
        self.url = f"{context.web}{path}"
        self.resourcePath = path

    @property
    def author(self) -> UserView | None:
        user = self.context.state.find_user(self.comment.author)
        return None if user is None else UserView(self.context, user)

    @property
    def issue(self) -> IssueView:
        return IssueView(self.context, self.comment.issue)


def _require_page_size(arguments: dict[str, Any]) -> None:
    # The document check refuses missing/oversized bounds before execution; this guards
    # resolvers reached through variables that were not literal.
    if arguments.get("first") is None and arguments.get("last") is None:
        raise GitHubGraphQLError(
            "MISSING_PAGINATION_BOUNDARIES",
            "You must provide a `first` or `last` value to properly paginate the connection.",
        )


class IssueView(NodeView):
    graphql_type = "Issue"

    def __init__(self, context: GraphQLContext, issue: Issue) -> None:
        super().__init__(context)
        self.issue = issue
        self.id = issue.node_id
        self.databaseId = issue.database_id
        self.fullDatabaseId = str(issue.database_id)
        self.number = issue.number
        self.title = issue.title
        self.body = issue.body or ""
        self.state = issue.state.upper()
        self.stateReason = issue.state_reason.upper() if issue.state_reason else None
        self.closed = issue.state == "closed"
        self.closedAt = format_timestamp(issue.closed_at) if issue.closed_at else None
        self.createdAt = format_timestamp(issue.created_at)
        self.updatedAt = format_timestamp(issue.updated_at)
        self.locked = issue.locked
        path = f"/{issue.repository.full_name}/issues/{issue.number}"
        self.url = f"{context.web}{path}"
        self.resourcePath = path

    @property
    def repository(self) -> RepositoryView:
        return RepositoryView(self.context, self.issue.repository)

    @property
    def author(self) -> UserView | None:
        user = self.context.state.find_user(self.issue.author)
        return None if user is None else UserView(self.context, user)

    @property
    def milestone(self) -> MilestoneView | None:
        current = self.issue.milestone
        return None if current is None else MilestoneView(self.context, current)

    def labels(self, info: GraphQLResolveInfo[Any], **arguments: Any) -> ConnectionView:
        _require_page_size(arguments)
        return _connection(
            self.issue.labels,
            arguments,
            lambda item: [item.name.casefold(), item.database_id],
            lambda item: LabelView(self.context, item),
        )

    def assignees(self, info: GraphQLResolveInfo[Any], **arguments: Any) -> ConnectionView:
        _require_page_size(arguments)
        users = [self.context.state.get_user(login) for login in self.issue.assignees]
        return _connection(
            users,
            arguments,
            lambda item: [item.login.casefold()],
            lambda item: UserView(self.context, item),
        )

    def comments(self, info: GraphQLResolveInfo[Any], **arguments: Any) -> ConnectionView:
        _require_page_size(arguments)
        return _connection(
            self.issue.comments,
            arguments,
            lambda item: [format_timestamp(item.created_at), item.database_id],
            lambda item: IssueCommentView(self.context, item),
        )


ISSUE_ORDER_KEYS: dict[str, Callable[[Issue], list[Any]]] = {
    "CREATED_AT": lambda issue: [format_timestamp(issue.created_at), issue.database_id],
    "UPDATED_AT": lambda issue: [format_timestamp(issue.updated_at), issue.database_id],
    "COMMENTS": lambda issue: [len(issue.comments), issue.database_id],
}

MILESTONE_ORDER_KEYS: dict[str, Callable[[Milestone], list[Any]]] = {
    "CREATED_AT": lambda m: [format_timestamp(m.created_at), m.number],
    "UPDATED_AT": lambda m: [format_timestamp(m.updated_at), m.number],
    "NUMBER": lambda m: [m.number],
    "DUE_DATE": lambda m: [format_timestamp(m.due_on) if m.due_on else "~", m.number],
}


class RepositoryView(NodeView):
    graphql_type = "Repository"

    def __init__(self, context: GraphQLContext, repository: Repository) -> None:
        super().__init__(context)
        self.repo = repository
        self.id = repository.node_id
        self.databaseId = repository.database_id
        self.name = repository.name
        self.nameWithOwner = repository.full_name
        self.description = repository.description
        self.isPrivate = repository.private
        self.visibility = "PRIVATE" if repository.private else "PUBLIC"
        self.hasIssuesEnabled = True
        self.createdAt = format_timestamp(repository.created_at)
        self.updatedAt = format_timestamp(repository.updated_at)
        self.url = f"{context.web}/{repository.full_name}"
        self.resourcePath = f"/{repository.full_name}"

    @property
    def owner(self) -> UserView:
        return UserView(self.context, self.context.state.get_user(self.repo.owner))

    def issue(self, info: GraphQLResolveInfo[Any], number: int) -> IssueView | None:
        found = self.repo.issues.get(number)
        if found is None:
            raise GitHubGraphQLError(
                "NOT_FOUND", f"Could not resolve to an Issue with the number of {number}."
            )
        return IssueView(self.context, found)

    def issues(self, info: GraphQLResolveInfo[Any], **arguments: Any) -> ConnectionView:
        _require_page_size(arguments)
        issues = list(self.repo.issues.values())
        filter_by = arguments.get("filterBy") or {}

        states = arguments.get("states") or filter_by.get("states")
        if states:
            wanted = {value.lower() for value in states}
            issues = [i for i in issues if i.state in wanted]
        label_names = arguments.get("labels") or filter_by.get("labels")
        if label_names:
            wanted_labels = {name.casefold() for name in label_names}
            issues = [i for i in issues if wanted_labels & {lb.name.casefold() for lb in i.labels}]
        since = filter_by.get("since")
        if since:
            cutoff = parse_timestamp(since)
            issues = [i for i in issues if i.updated_at >= cutoff]
        if filter_by.get("milestoneNumber"):
            number = filter_by["milestoneNumber"]
            issues = [i for i in issues if str(i.milestone_number) == str(number)]
        if filter_by.get("assignee"):
            login = filter_by["assignee"].casefold()
            issues = [i for i in issues if login in {a.casefold() for a in i.assignees}]
        if filter_by.get("createdBy"):
            issues = [i for i in issues if i.author.casefold() == filter_by["createdBy"].casefold()]

        order = arguments.get("orderBy") or {"field": "CREATED_AT", "direction": "ASC"}
        return _connection(
            issues,
            arguments,
            ISSUE_ORDER_KEYS[order["field"]],
            lambda item: IssueView(self.context, item),
            descending=order["direction"] == "DESC",
        )

    def label(self, info: GraphQLResolveInfo[Any], name: str) -> LabelView | None:
        found = self.repo.label_named(name)
        return None if found is None else LabelView(self.context, found)

    def labels(self, info: GraphQLResolveInfo[Any], **arguments: Any) -> ConnectionView:
        _require_page_size(arguments)
        labels = list(self.repo.labels.values())
        query = arguments.get("query")
        if query:
            labels = [lb for lb in labels if query.casefold() in lb.name.casefold()]
        order = arguments.get("orderBy") or {"field": "CREATED_AT", "direction": "ASC"}
        key: Callable[[Label], list[Any]] = (
            (lambda lb: [lb.name.casefold(), lb.database_id])
            if order["field"] == "NAME"
            else (lambda lb: [lb.database_id])
        )
        return _connection(
            labels,
            arguments,
            key,
            lambda item: LabelView(self.context, item),
            descending=order["direction"] == "DESC",
        )

    def milestone(self, info: GraphQLResolveInfo[Any], number: int) -> MilestoneView | None:
        found = self.repo.milestones.get(number)
        return None if found is None else MilestoneView(self.context, found)

    def milestones(self, info: GraphQLResolveInfo[Any], **arguments: Any) -> ConnectionView:
        _require_page_size(arguments)
        milestones = list(self.repo.milestones.values())
        states = arguments.get("states")
        if states:
            wanted = {value.lower() for value in states}
            milestones = [m for m in milestones if m.state in wanted]
        query = arguments.get("query")
        if query:
            milestones = [m for m in milestones if query.casefold() in m.title.casefold()]
        order = arguments.get("orderBy") or {"field": "NUMBER", "direction": "ASC"}
        return _connection(
            milestones,
            arguments,
            MILESTONE_ORDER_KEYS[order["field"]],
            lambda item: MilestoneView(self.context, item),
            descending=order["direction"] == "DESC",
        )


def view_of(context: GraphQLContext, node: Any) -> NodeView:
    """Wrap a state object in the view for its GraphQL type."""
    views: dict[type, Callable[[GraphQLContext, Any], NodeView]] = {
        User: UserView,
        Repository: RepositoryView,
        Issue: IssueView,
        Label: LabelView,
        Milestone: MilestoneView,
        IssueComment: IssueCommentView,
    }
    return views[type(node)](context, node)


# ----- root query fields -------------------------------------------------------------------


def _readable_repository(context: GraphQLContext, owner: str, name: str) -> Repository:
    try:
        return context.state.get_repository(owner, name)
    except GitHubError as error:
        raise _github_failure(error) from None


def resolve_repository(
    _root: Any, info: GraphQLResolveInfo[Any], owner: str, name: str, **_: Any
) -> RepositoryView:
    context = _context(info)
    return RepositoryView(context, _readable_repository(context, owner, name))


def resolve_user(_root: Any, info: GraphQLResolveInfo[Any], login: str) -> UserView:
    context = _context(info)
    user = context.state.find_user(login)
    if user is None:
        raise GitHubGraphQLError(
            "NOT_FOUND", f"Could not resolve to a User with the login of '{login}'."
        )
    return UserView(context, user)


def resolve_viewer(_root: Any, info: GraphQLResolveInfo[Any]) -> UserView:
    context = _context(info)
    return UserView(context, context.viewer)


def _node_or_error(context: GraphQLContext, node_id: str) -> NodeView:
    node = context.state.find_node(node_id)
    if node is None:
        raise GitHubGraphQLError(
            "NOT_FOUND", f"Could not resolve to a node with the global id of '{node_id}'"
        )
    return view_of(context, node)


def resolve_node(_root: Any, info: GraphQLResolveInfo[Any], id: str) -> NodeView:
    return _node_or_error(_context(info), id)


def resolve_nodes(_root: Any, info: GraphQLResolveInfo[Any], ids: list[str]) -> list[Any]:
    context = _context(info)
    # Unknown ids become null entries plus one error each, like GitHub.
    results: list[Any] = []
    for node_id in ids:
        try:
            results.append(_node_or_error(context, node_id))
        except GitHubGraphQLError as error:
            results.append(GraphQLError(error.message, original_error=error))
    return results


def resolve_rate_limit(
    _root: Any, info: GraphQLResolveInfo[Any], dryRun: bool = False
) -> dict[str, Any]:
    context = _context(info)
    budget = context.rate_limit()
    return {
        "cost": context.cost,
        "limit": budget["limit"],
        "remaining": budget["remaining"],
        "used": budget["used"],
        "resetAt": format_timestamp_epoch(budget["reset"]),
        "nodeCount": 0,
    }


def format_timestamp_epoch(epoch: int) -> str:
    return format_timestamp(datetime.fromtimestamp(epoch, UTC))


# ----- mutations ---------------------------------------------------------------------------


def _issue_by_id(context: GraphQLContext, node_id: str) -> Issue:
    return context.state.node_of_type(node_id, Issue, "an Issue")


def _labels_for(
    context: GraphQLContext, repository: Repository, label_ids: list[str]
) -> list[Label]:
    labels = [context.state.node_of_type(label_id, Label, "a Label") for label_id in label_ids]
    for label in labels:
        if label.repository is not repository:
            raise GitHubError(
                "UNPROCESSABLE", f"Label '{label.name}' does not belong to {repository.full_name}."
            )
    return labels


def _logins_for(context: GraphQLContext, user_ids: list[str]) -> list[str]:
    return [context.state.node_of_type(user_id, User, "a User").login for user_id in user_ids]


def _payload(
    context: GraphQLContext, mutation_input: dict[str, Any], **fields: Any
) -> dict[str, Any]:
    return {"clientMutationId": mutation_input.get("clientMutationId"), **fields}


def _mutation(
    apply: Callable[[GraphQLContext, dict[str, Any]], dict[str, Any]],
) -> Callable[..., dict[str, Any]]:
    """Wrap a mutation body: translate state errors into GitHub-typed GraphQL errors."""

    @functools.wraps(apply)
    def resolve(_root: Any, info: GraphQLResolveInfo[Any], input: dict[str, Any]) -> dict[str, Any]:
        context = _context(info)
        try:
            with context.state.lock:
                return apply(context, input)
        except GitHubError as error:
            raise _github_failure(error) from None

    return resolve


@_mutation
def create_issue(context: GraphQLContext, given: dict[str, Any]) -> dict[str, Any]:
    repository = context.state.node_of_type(given["repositoryId"], Repository, "a Repository")
    if not given["title"].strip():
        raise GitHubError("UNPROCESSABLE", "Title can't be blank")
    labels = _labels_for(context, repository, given.get("labelIds") or [])
    milestone_number = None
    if given.get("milestoneId"):
        milestone_number = context.state.node_of_type(
            given["milestoneId"], Milestone, "a Milestone"
        ).number
    issue = context.state.create_issue(
        repository,
        given["title"],
        body=given.get("body"),
        label_ids=[label.database_id for label in labels],
        assignees=_logins_for(context, given.get("assigneeIds") or []),
        milestone_number=milestone_number,
    )
    return _payload(context, given, issue=IssueView(context, issue))


@_mutation
def update_issue(context: GraphQLContext, given: dict[str, Any]) -> dict[str, Any]:
    issue = _issue_by_id(context, given["id"])
    label_ids = None
    if given.get("labelIds") is not None:
        label_ids = [
            lb.database_id for lb in _labels_for(context, issue.repository, given["labelIds"])
        ]
    assignees = None
    if given.get("assigneeIds") is not None:
        assignees = _logins_for(context, given["assigneeIds"])
    milestone_number = None
    if given.get("milestoneId"):
        milestone = context.state.node_of_type(given["milestoneId"], Milestone, "a Milestone")
        milestone_number = milestone.number
    if given.get("title") is not None and not given["title"].strip():
        raise GitHubError("UNPROCESSABLE", "Title can't be blank")
    state_value = given.get("state")
    context.state.edit_issue(
        issue,
        title=given.get("title"),
        body=given.get("body"),
        set_body="body" in given,
        state=state_value.lower() if state_value else None,
        label_ids=label_ids,
        assignees=assignees,
        milestone_number=milestone_number,
        set_milestone="milestoneId" in given,
    )
    return _payload(context, given, issue=IssueView(context, issue))


@_mutation
def close_issue(context: GraphQLContext, given: dict[str, Any]) -> dict[str, Any]:
    issue = _issue_by_id(context, given["issueId"])
    reason = (given.get("stateReason") or "COMPLETED").lower()
    if reason == "duplicate" and given.get("duplicateIssueId"):
        _issue_by_id(context, given["duplicateIssueId"])
    context.state.close_issue(issue, reason)
    return _payload(context, given, issue=IssueView(context, issue))


@_mutation
def reopen_issue(context: GraphQLContext, given: dict[str, Any]) -> dict[str, Any]:
    issue = _issue_by_id(context, given["issueId"])
    context.state.reopen_issue(issue)
    return _payload(context, given, issue=IssueView(context, issue))


@_mutation
def add_labels(context: GraphQLContext, given: dict[str, Any]) -> dict[str, Any]:
    issue = _issue_by_id(context, given["labelableId"])
    context.state.add_labels(issue, _labels_for(context, issue.repository, given["labelIds"]))
    return _payload(context, given, labelable=IssueView(context, issue))


@_mutation
def remove_labels(context: GraphQLContext, given: dict[str, Any]) -> dict[str, Any]:
    issue = _issue_by_id(context, given["labelableId"])
    context.state.remove_labels(issue, _labels_for(context, issue.repository, given["labelIds"]))
    return _payload(context, given, labelable=IssueView(context, issue))


@_mutation
def add_assignees(context: GraphQLContext, given: dict[str, Any]) -> dict[str, Any]:
    issue = _issue_by_id(context, given["assignableId"])
    context.state.add_assignees(issue, _logins_for(context, given["assigneeIds"]))
    return _payload(context, given, assignable=IssueView(context, issue))


@_mutation
def remove_assignees(context: GraphQLContext, given: dict[str, Any]) -> dict[str, Any]:
    issue = _issue_by_id(context, given["assignableId"])
    context.state.remove_assignees(issue, _logins_for(context, given["assigneeIds"]))
    return _payload(context, given, assignable=IssueView(context, issue))


@_mutation
def create_label(context: GraphQLContext, given: dict[str, Any]) -> dict[str, Any]:
    repository = context.state.node_of_type(given["repositoryId"], Repository, "a Repository")
    label = context.state.create_label(
        repository, given["name"], given["color"], given.get("description")
    )
    return _payload(context, given, label=LabelView(context, label))


@_mutation
def update_label(context: GraphQLContext, given: dict[str, Any]) -> dict[str, Any]:
    label = context.state.node_of_type(given["id"], Label, "a Label")
    context.state.update_label(
        label,
        name=given.get("name"),
        color=given.get("color"),
        description=given.get("description"),
        clear_description="description" in given,
    )
    return _payload(context, given, label=LabelView(context, label))


@_mutation
def delete_label(context: GraphQLContext, given: dict[str, Any]) -> dict[str, Any]:
    context.state.delete_label(context.state.node_of_type(given["id"], Label, "a Label"))
    return _payload(context, given)


@_mutation
def delete_issue(context: GraphQLContext, given: dict[str, Any]) -> dict[str, Any]:
    repository = context.state.delete_issue(_issue_by_id(context, given["issueId"]))
    return _payload(context, given, repository=RepositoryView(context, repository))


@_mutation
def transfer_issue(context: GraphQLContext, given: dict[str, Any]) -> dict[str, Any]:
    issue = _issue_by_id(context, given["issueId"])
    destination = context.state.node_of_type(given["repositoryId"], Repository, "a Repository")
    if given.get("createLabelsIfMissing"):
        for label in issue.labels:
            if destination.label_named(label.name) is None:
                context.state.create_label(destination, label.name, label.color, label.description)
    context.state.transfer_issue(issue, destination)
    return _payload(context, given, issue=IssueView(context, issue))


@_mutation
def add_comment(context: GraphQLContext, given: dict[str, Any]) -> dict[str, Any]:
    issue = _issue_by_id(context, given["subjectId"])
    comment = context.state.add_comment(issue, given["body"])
    view = IssueCommentView(context, comment)
    edge = EdgeView(
        _encode_cursor([format_timestamp(comment.created_at), comment.database_id]), view
    )
    return _payload(
        context, given, commentEdge=edge, subject=IssueView(context, issue), timelineEdge=None
    )


@_mutation
def update_issue_comment(context: GraphQLContext, given: dict[str, Any]) -> dict[str, Any]:
    comment = context.state.node_of_type(given["id"], IssueComment, "an IssueComment")
    context.state.update_comment(comment, given["body"])
    return _payload(context, given, issueComment=IssueCommentView(context, comment))


QUERY_RESOLVERS: dict[str, Callable[..., Any]] = {
    "repository": resolve_repository,
    "user": resolve_user,
    "viewer": resolve_viewer,
    "node": resolve_node,
    "nodes": resolve_nodes,
    "rateLimit": resolve_rate_limit,
}

MUTATION_RESOLVERS: dict[str, Callable[..., Any]] = {
    "createIssue": create_issue,
    "updateIssue": update_issue,
    "closeIssue": close_issue,
    "reopenIssue": reopen_issue,
    "addLabelsToLabelable": add_labels,
    "removeLabelsFromLabelable": remove_labels,
    "addAssigneesToAssignable": add_assignees,
    "removeAssigneesFromAssignable": remove_assignees,
    "createLabel": create_label,
    "updateLabel": update_label,
    "deleteLabel": delete_label,
    "deleteIssue": delete_issue,
    "transferIssue": transfer_issue,
    "addComment": add_comment,
    "updateIssueComment": update_issue_comment,
}


def _resolve_abstract_type(
    value: Any, info: GraphQLResolveInfo[Any], abstract: GraphQLAbstractType
) -> str:
    return str(value.graphql_type)


@functools.cache
def executable_schema() -> GraphQLSchema:
    """GitHub's schema with this fake's root resolvers and type resolution installed."""
    schema = load_graphql_schema()
    assert schema.query_type is not None and schema.mutation_type is not None
    for name, resolver in QUERY_RESOLVERS.items():
        schema.query_type.fields[name].resolve = resolver
    for name, resolver in MUTATION_RESOLVERS.items():
        schema.mutation_type.fields[name].resolve = resolver
    for named_type in schema.type_map.values():
        if isinstance(named_type, GraphQLInterfaceType | GraphQLUnionType):
            named_type.resolve_type = _resolve_abstract_type
    return schema


def unimplemented_root_fields(operation: OperationDefinitionNode) -> list[str]:
    """Root fields the document uses that the fake has no resolver for."""
    implemented = (
        MUTATION_RESOLVERS if operation.operation == OperationType.MUTATION else QUERY_RESOLVERS
    )
    names = []
    for selection in operation.selection_set.selections:
        if (
            isinstance(selection, FieldNode)
            and not selection.name.value.startswith("__")
            and selection.name.value not in implemented
        ):
            names.append(selection.name.value)
    return names


# ----- document analysis (GitHub's limits and cost) ----------------------------------------


@dataclass
class DocumentAnalysis:
    """Facts about one operation: its root fields, GitHub-limit errors, and cost."""

    root_fields: list[str] = field(default_factory=list)
    errors: list[dict[str, Any]] = field(default_factory=list)
    requests: int = 0
    nodes: int = 0

    @property
    def cost(self) -> int:
        # GitHub: sum the requests each connection needs, divide by 100, round, at least 1.
        return max(1, round(self.requests / 100))


def analyse_operation(check: GraphQLRequestCheck) -> DocumentAnalysis:
    """Enforce GitHub's pagination rules (first/last required, at most 100) and estimate cost."""
    schema = executable_schema()
    assert check.document is not None and check.operation is not None
    fragments = {
        d.name.value: d for d in check.document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    analysis = DocumentAnalysis()

    def argument_value(node: FieldNode, name: str) -> int | None:
        for argument in node.arguments or ():
            if argument.name.value != name:
                continue
            if isinstance(argument.value, IntValueNode):
                return int(argument.value.value)
            if isinstance(argument.value, VariableNode):
                value = check.variables.get(argument.value.name.value)
                return int(value) if isinstance(value, int) else None
        return None

    def walk(
        selection_set: SelectionSetNode, parent: Any, multiplier: int, path: list[str]
    ) -> None:
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                name = selection.name.value
                key = selection.alias.value if selection.alias else name
                if not path:
                    analysis.root_fields.append(name)
                if name.startswith("__") or not isinstance(
                    parent, GraphQLObjectType | GraphQLInterfaceType
                ):
                    continue
                definition = parent.fields[name]
                named = get_named_type(definition.type)
                child_multiplier = multiplier
                if named.name.endswith("Connection") and "first" in definition.args:
                    first = argument_value(selection, "first")
                    last = argument_value(selection, "last")
                    size = first if first is not None else last
                    if size is None:
                        analysis.errors.append(
                            {
                                "type": "MISSING_PAGINATION_BOUNDARIES",
                                "path": [*path, key],
                                "message": "You must provide a `first` or `last` value to "
                                f"properly paginate the `{name}` connection.",
                            }
                        )
                        size = 1
                    elif size < 0 or size > MAX_PAGE_SIZE:
                        bound = "first" if first is not None else "last"
                        analysis.errors.append(
                            {
                                "type": "EXCESSIVE_PAGINATION",
                                "path": [*path, key],
                                "message": f"Requesting {size} records on the `{name}` connection "
                                f"exceeds the `{bound}` limit of {MAX_PAGE_SIZE} records.",
                            }
                        )
                    analysis.requests += multiplier
                    analysis.nodes += multiplier * size
                    child_multiplier = multiplier * max(size, 1)
                if selection.selection_set is not None:
                    walk(selection.selection_set, named, child_multiplier, [*path, key])
            elif isinstance(selection, InlineFragmentNode):
                target = (
                    schema.get_type(selection.type_condition.name.value)
                    if selection.type_condition
                    else parent
                )
                walk(selection.selection_set, target, multiplier, path)
            elif isinstance(selection, FragmentSpreadNode):
                fragment = fragments[selection.name.value]
                target = schema.get_type(fragment.type_condition.name.value)
                walk(fragment.selection_set, target, multiplier, path)

    root = (
        schema.mutation_type
        if check.operation.operation == OperationType.MUTATION
        else schema.query_type
    )
    walk(check.operation.selection_set, root, 1, [])
    if analysis.nodes > MAX_NODES_PER_QUERY:
        analysis.errors.append(
            {
                "type": "MAX_NODE_LIMIT_EXCEEDED",
                "path": [],
                "message": f"This query requests up to {analysis.nodes} possible nodes which "
                f"exceeds the maximum limit of {MAX_NODES_PER_QUERY}.",
            }
        )
    return analysis


# ----- execution ---------------------------------------------------------------------------


def root_cause(error: GraphQLError) -> BaseException | None:
    """The exception a resolver raised, through graphql-core's wrapping (None if none)."""
    cause: BaseException | None = error.original_error
    while isinstance(cause, GraphQLError) and cause.original_error is not None:
        cause = cause.original_error
    return None if isinstance(cause, GraphQLError) else cause


def github_error_entry(error: GraphQLError) -> dict[str, Any]:
    """Format one graphql-core error the way GitHub does (``type`` at the top level)."""
    entry: dict[str, Any] = {}
    original = root_cause(error)
    if isinstance(original, GitHubGraphQLError):
        entry["type"] = original.error_type
    if error.path is not None:
        entry["path"] = list(error.path)
    if error.locations:
        entry["locations"] = [{"line": loc.line, "column": loc.column} for loc in error.locations]
    entry["message"] = error.message
    return entry


def execute_operation(check: GraphQLRequestCheck, context: GraphQLContext) -> ExecutionResult:
    """Run a checked document; mutations run serially (graphql-core does so for mutations)."""
    assert check.document is not None and check.operation is not None
    operation_name = check.operation.name.value if check.operation.name else None
    result = execute(
        executable_schema(),
        check.document,
        context_value=context,
        variable_values=check.variables,
        operation_name=operation_name,
    )
    assert not isinstance(result, Sequence) and isinstance(result, ExecutionResult), "sync only"
    return result
