"""The REST operations the fake serves, one function per OpenAPI ``operationId``.

The server has already matched the request to an operation, checked it against the contract,
authenticated it and taken the state lock; routes only translate between GitHub's REST shapes
and :class:`~.github_state.GitHubState` calls.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from . import rest_json
from .github_state import (
    GitHubError,
    GitHubState,
    Issue,
    Label,
    Repository,
    User,
    parse_timestamp,
)

DOCUMENTATION_URL = "https://docs.github.com/rest"
DEFAULT_PAGE_SIZE = 30
MAX_PAGE_SIZE = 100

STATUS_FOR_ERROR = {"NOT_FOUND": 404, "UNPROCESSABLE": 422, "FORBIDDEN": 403, "GONE": 410}


@dataclass
class RestRequest:
    """A REST request after routing: parameters are already coerced to their schema types."""

    method: str
    path: str
    operation_id: str
    parameters: dict[str, Any]
    query: dict[str, list[str]]
    body: Any
    api_root: str
    viewer: User | None
    url_without_query: str
    rate_limit_overview: Callable[[], dict[str, Any]] = field(default=dict)


@dataclass
class RestResponse:
    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


def error_response(error: GitHubError) -> RestResponse:
    """GitHub's REST error JSON for a refused request."""
    status = STATUS_FOR_ERROR[error.kind]
    if status == 422:
        detail: dict[str, Any] = {"code": error.code or "invalid"}
        if error.resource:
            detail["resource"] = error.resource
        if error.field:
            detail["field"] = error.field
        if error.message != "Validation Failed":
            detail["message"] = error.message
        body = {
            "message": "Validation Failed",
            "errors": [detail],
            "documentation_url": DOCUMENTATION_URL,
            "status": "422",
        }
        return RestResponse(422, body)
    message = {404: "Not Found", 410: error.message, 403: error.message}[status]
    return RestResponse(status, rest_json.basic_error(message, status, DOCUMENTATION_URL))


# ----- shared steps ------------------------------------------------------------------------


def _repository(state: GitHubState, request: RestRequest) -> Repository:
    repo = state.find_repository(request.parameters["owner"], request.parameters["repo"])
    # Private repositories are invisible without a token: GitHub answers 404, not 403.
    if repo is None or (repo.private and request.viewer is None):
        raise GitHubError("NOT_FOUND", "Not Found")
    return repo


def _issue(state: GitHubState, request: RestRequest, repo: Repository) -> Issue:
    return state.get_issue(repo, request.parameters["issue_number"])


def _paginate(request: RestRequest, items: list[Any]) -> tuple[list[Any], dict[str, str]]:
    """Slice one page and build GitHub's ``Link`` header (next/last/first/prev)."""
    per_page = min(
        max(int(request.parameters.get("per_page") or DEFAULT_PAGE_SIZE), 1), MAX_PAGE_SIZE
    )
    page = max(int(request.parameters.get("page") or 1), 1)
    last_page = max((len(items) + per_page - 1) // per_page, 1)
    chunk = items[(page - 1) * per_page : page * per_page]

    def page_url(number: int) -> str:
        query = {key: values[-1] for key, values in request.query.items()}
        query["per_page"] = str(per_page)
        query["page"] = str(number)
        return f"{request.url_without_query}?{urllib.parse.urlencode(query)}"

    links = []
    if page < last_page:
        links.append(f'<{page_url(page + 1)}>; rel="next"')
        links.append(f'<{page_url(last_page)}>; rel="last"')
    if page > 1:
        links.append(f'<{page_url(1)}>; rel="first"')
        links.append(f'<{page_url(min(page - 1, last_page))}>; rel="prev"')
    return chunk, ({"Link": ", ".join(links)} if links else {})


def _label_names(raw: Any) -> list[str]:
    """Label lists arrive as names, ``{"name": ...}`` objects, or wrapped in ``{"labels": ...}``."""
    if isinstance(raw, dict):
        raw = raw.get("labels", [])
    if isinstance(raw, str):
        raw = [raw]
    names = []
    for entry in raw or []:
        names.append(entry["name"] if isinstance(entry, dict) else str(entry))
    return names


def _milestone_number(raw: Any) -> int | None:
    """``milestone`` may be an integer, a numeric string, ``""`` or null (both clear it)."""
    if raw is None or raw == "":
        return None
    try:
        return int(raw)
    except (TypeError, ValueError):
        raise GitHubError(
            "UNPROCESSABLE",
            "Validation Failed",
            resource="Issue",
            field="milestone",
            code="invalid",
        ) from None


def _issue_json(state: GitHubState, request: RestRequest, issue: Issue) -> dict[str, Any]:
    return rest_json.issue(issue, state.users, request.api_root)


def _labels_json(request: RestRequest, labels: list[Label]) -> list[dict[str, Any]]:
    return [rest_json.label(item, request.api_root) for item in labels]


def _count_repositories(state: GitHubState, login: str) -> tuple[int, int]:
    owned = [r for r in state.repositories.values() if r.owner.casefold() == login.casefold()]
    return sum(1 for r in owned if not r.private), sum(1 for r in owned if r.private)


# ----- repositories and users --------------------------------------------------------------


def get_repository(state: GitHubState, request: RestRequest) -> RestResponse:
    repo = _repository(state, request)
    owner = state.get_user(repo.owner)
    return RestResponse(200, rest_json.repository(repo, owner, request.api_root))


def get_authenticated_user(state: GitHubState, request: RestRequest) -> RestResponse:
    assert request.viewer is not None, "the server requires a token for /user"
    public, private = _count_repositories(state, request.viewer.login)
    return RestResponse(
        200, rest_json.private_user(request.viewer, request.api_root, public, private)
    )


def get_user(state: GitHubState, request: RestRequest) -> RestResponse:
    user = state.find_user(request.parameters["username"])
    if user is None:
        raise GitHubError("NOT_FOUND", "Not Found")
    public, _ = _count_repositories(state, user.login)
    return RestResponse(200, rest_json.public_user(user, request.api_root, public))


def get_rate_limit(state: GitHubState, request: RestRequest) -> RestResponse:
    return RestResponse(200, request.rate_limit_overview())


# ----- issues ------------------------------------------------------------------------------


def list_issues(state: GitHubState, request: RestRequest) -> RestResponse:
    repo = _repository(state, request)
    wanted_state = request.parameters.get("state", "open")
    issues = [i for i in repo.issues.values() if wanted_state == "all" or i.state == wanted_state]

    label_filter = request.parameters.get("labels")
    if label_filter:
        wanted = {name.strip().casefold() for name in label_filter.split(",") if name.strip()}
        issues = [i for i in issues if wanted <= {label.name.casefold() for label in i.labels}]
    since = request.parameters.get("since")
    if since:
        cutoff = parse_timestamp(since)
        issues = [i for i in issues if i.updated_at >= cutoff]
    milestone_filter = request.parameters.get("milestone")
    if milestone_filter == "none":
        issues = [i for i in issues if i.milestone_number is None]
    elif milestone_filter == "*":
        issues = [i for i in issues if i.milestone_number is not None]
    elif milestone_filter:
        issues = [i for i in issues if str(i.milestone_number) == milestone_filter]
    assignee = request.parameters.get("assignee")
    if assignee == "none":
        issues = [i for i in issues if not i.assignees]
    elif assignee == "*":
        issues = [i for i in issues if i.assignees]
    elif assignee:
        issues = [i for i in issues if assignee.casefold() in {a.casefold() for a in i.assignees}]
    creator = request.parameters.get("creator")
    if creator:
        issues = [i for i in issues if i.author.casefold() == creator.casefold()]

    sort_key: dict[str, Callable[[Issue], Any]] = {
        "created": lambda i: (i.created_at, i.number),
        "updated": lambda i: (i.updated_at, i.number),
        "comments": lambda i: (len(i.comments), i.number),
    }
    issues.sort(
        key=sort_key[request.parameters.get("sort", "created")],
        reverse=request.parameters.get("direction", "desc") == "desc",
    )
    page, headers = _paginate(request, issues)
    return RestResponse(200, [_issue_json(state, request, i) for i in page], headers)


def create_issue(state: GitHubState, request: RestRequest) -> RestResponse:
    repo = _repository(state, request)
    body = request.body
    assignees = list(body.get("assignees") or [])
    if body.get("assignee"):
        assignees.insert(0, body["assignee"])
    issue = state.create_issue(
        repo,
        str(body["title"]),
        body=body.get("body"),
        label_names=_label_names(body.get("labels")),
        assignees=assignees,
        milestone_number=_milestone_number(body.get("milestone")),
    )
    shape = _issue_json(state, request, issue)
    return RestResponse(201, shape, {"Location": shape["url"]})


def get_issue(state: GitHubState, request: RestRequest) -> RestResponse:
    repo = _repository(state, request)
    number = request.parameters["issue_number"]
    moved = repo.transferred_issues.get(number)
    if moved is not None and number not in repo.issues:
        new_url = f"{request.api_root}/repos/{moved[0]}/issues/{moved[1]}"
        body = {
            "message": "Moved Permanently",
            "url": new_url,
            "documentation_url": DOCUMENTATION_URL,
        }
        return RestResponse(301, body, {"Location": new_url})
    return RestResponse(200, _issue_json(state, request, _issue(state, request, repo)))


def update_issue(state: GitHubState, request: RestRequest) -> RestResponse:
    repo = _repository(state, request)
    issue = _issue(state, request, repo)
    body = request.body or {}
    assignees: list[str] | None = None
    if "assignees" in body:
        assignees = list(body["assignees"] or [])
    elif "assignee" in body:
        assignees = [body["assignee"]] if body["assignee"] else []
    state.edit_issue(
        issue,
        title=str(body["title"]) if body.get("title") is not None else None,
        body=body.get("body"),
        set_body="body" in body,
        state=body.get("state"),
        state_reason=body.get("state_reason"),
        label_names=_label_names(body["labels"]) if "labels" in body else None,
        assignees=assignees,
        milestone_number=_milestone_number(body.get("milestone")),
        set_milestone="milestone" in body,
    )
    return RestResponse(200, _issue_json(state, request, issue))


def add_assignees(state: GitHubState, request: RestRequest) -> RestResponse:
    repo = _repository(state, request)
    issue = _issue(state, request, repo)
    # GitHub silently ignores logins it cannot assign here (unlike on create/update).
    known = [login for login in (request.body or {}).get("assignees", []) if state.find_user(login)]
    state.add_assignees(issue, known)
    return RestResponse(201, _issue_json(state, request, issue))


def remove_assignees(state: GitHubState, request: RestRequest) -> RestResponse:
    repo = _repository(state, request)
    issue = _issue(state, request, repo)
    state.remove_assignees(issue, list((request.body or {}).get("assignees", [])))
    return RestResponse(200, _issue_json(state, request, issue))


# ----- labels ------------------------------------------------------------------------------


def list_labels_for_repo(state: GitHubState, request: RestRequest) -> RestResponse:
    repo = _repository(state, request)
    page, headers = _paginate(request, list(repo.labels.values()))
    return RestResponse(200, _labels_json(request, page), headers)


def create_label(state: GitHubState, request: RestRequest) -> RestResponse:
    repo = _repository(state, request)
    body = request.body
    created = state.create_label(
        repo, body["name"], body.get("color") or "ededed", body.get("description")
    )
    return RestResponse(201, rest_json.label(created, request.api_root))


def get_label(state: GitHubState, request: RestRequest) -> RestResponse:
    repo = _repository(state, request)
    found = state.get_label(repo, request.parameters["name"])
    return RestResponse(200, rest_json.label(found, request.api_root))


def update_label(state: GitHubState, request: RestRequest) -> RestResponse:
    repo = _repository(state, request)
    found = state.get_label(repo, request.parameters["name"])
    body = request.body or {}
    state.update_label(
        found,
        name=body.get("new_name"),
        color=body.get("color"),
        description=body.get("description"),
        clear_description="description" in body,
    )
    return RestResponse(200, rest_json.label(found, request.api_root))


def delete_label(state: GitHubState, request: RestRequest) -> RestResponse:
    repo = _repository(state, request)
    state.delete_label(state.get_label(repo, request.parameters["name"]))
    return RestResponse(204)


def list_labels_on_issue(state: GitHubState, request: RestRequest) -> RestResponse:
    repo = _repository(state, request)
    issue = _issue(state, request, repo)
    page, headers = _paginate(request, issue.labels)
    return RestResponse(200, _labels_json(request, page), headers)


def _labels_by_name(state: GitHubState, repo: Repository, names: list[str]) -> list[Label]:
    # Adding a label name the repository lacks creates the label, as GitHub does.
    return [repo.label_named(name) or state.create_label(repo, name) for name in names]


def add_labels(state: GitHubState, request: RestRequest) -> RestResponse:
    repo = _repository(state, request)
    issue = _issue(state, request, repo)
    state.add_labels(issue, _labels_by_name(state, repo, _label_names(request.body)))
    return RestResponse(200, _labels_json(request, issue.labels))


def set_labels(state: GitHubState, request: RestRequest) -> RestResponse:
    repo = _repository(state, request)
    issue = _issue(state, request, repo)
    labels = _labels_by_name(state, repo, _label_names(request.body))
    state.edit_issue(issue, label_ids=[item.database_id for item in labels])
    return RestResponse(200, _labels_json(request, issue.labels))


def remove_all_labels(state: GitHubState, request: RestRequest) -> RestResponse:
    repo = _repository(state, request)
    issue = _issue(state, request, repo)
    state.edit_issue(issue, label_ids=[])
    return RestResponse(204)


def remove_label(state: GitHubState, request: RestRequest) -> RestResponse:
    repo = _repository(state, request)
    issue = _issue(state, request, repo)
    found = repo.label_named(request.parameters["name"])
    if found is None or found.database_id not in issue.label_ids:
        body = rest_json.basic_error("Label does not exist", 404, DOCUMENTATION_URL)
        return RestResponse(404, body)
    state.remove_labels(issue, [found])
    return RestResponse(200, _labels_json(request, issue.labels))


# ----- milestones --------------------------------------------------------------------------


def list_milestones(state: GitHubState, request: RestRequest) -> RestResponse:
    repo = _repository(state, request)
    wanted_state = request.parameters.get("state", "open")
    milestones = [
        m for m in repo.milestones.values() if wanted_state == "all" or m.state == wanted_state
    ]
    sort = request.parameters.get("sort", "due_on")
    if sort == "completeness":
        milestones.sort(key=lambda m: m.number)
    else:
        # Milestones without a due date sort last, like on GitHub.
        milestones.sort(key=lambda m: (m.due_on is None, m.due_on or m.created_at, m.number))
    if request.parameters.get("direction", "asc") == "desc":
        milestones.reverse()
    page, headers = _paginate(request, milestones)
    shapes = [rest_json.milestone(m, state.get_user(m.creator), request.api_root) for m in page]
    return RestResponse(200, shapes, headers)


def create_milestone(state: GitHubState, request: RestRequest) -> RestResponse:
    repo = _repository(state, request)
    body = request.body
    created = state.create_milestone(
        repo,
        body["title"],
        state=body.get("state") or "open",
        description=body.get("description"),
        due_on=parse_timestamp(body["due_on"]) if body.get("due_on") else None,
    )
    shape = rest_json.milestone(created, state.get_user(created.creator), request.api_root)
    return RestResponse(201, shape, {"Location": shape["url"]})


def get_milestone(state: GitHubState, request: RestRequest) -> RestResponse:
    repo = _repository(state, request)
    found = state.get_milestone(repo, request.parameters["milestone_number"])
    return RestResponse(
        200, rest_json.milestone(found, state.get_user(found.creator), request.api_root)
    )


# ----- comments ----------------------------------------------------------------------------


def list_comments(state: GitHubState, request: RestRequest) -> RestResponse:
    repo = _repository(state, request)
    issue = _issue(state, request, repo)
    comments = list(issue.comments)
    since = request.parameters.get("since")
    if since:
        cutoff = parse_timestamp(since)
        comments = [c for c in comments if c.updated_at >= cutoff]
    page, headers = _paginate(request, comments)
    shapes = [rest_json.issue_comment(c, state.users, request.api_root) for c in page]
    return RestResponse(200, shapes, headers)


def create_comment(state: GitHubState, request: RestRequest) -> RestResponse:
    repo = _repository(state, request)
    issue = _issue(state, request, repo)
    created = state.add_comment(issue, request.body["body"])
    shape = rest_json.issue_comment(created, state.users, request.api_root)
    return RestResponse(201, shape, {"Location": shape["url"]})


def get_comment(state: GitHubState, request: RestRequest) -> RestResponse:
    repo = _repository(state, request)
    found = state.find_comment(repo, request.parameters["comment_id"])
    return RestResponse(200, rest_json.issue_comment(found, state.users, request.api_root))


def update_comment(state: GitHubState, request: RestRequest) -> RestResponse:
    repo = _repository(state, request)
    found = state.find_comment(repo, request.parameters["comment_id"])
    state.update_comment(found, request.body["body"])
    return RestResponse(200, rest_json.issue_comment(found, state.users, request.api_root))


def delete_comment(state: GitHubState, request: RestRequest) -> RestResponse:
    repo = _repository(state, request)
    state.delete_comment(state.find_comment(repo, request.parameters["comment_id"]))
    return RestResponse(204)


RestRoute = Callable[[GitHubState, RestRequest], RestResponse]

ROUTES: dict[str, RestRoute] = {
    "repos/get": get_repository,
    "users/get-authenticated": get_authenticated_user,
    "users/get-by-username": get_user,
    "rate-limit/get": get_rate_limit,
    "issues/list-for-repo": list_issues,
    "issues/create": create_issue,
    "issues/get": get_issue,
    "issues/update": update_issue,
    "issues/add-assignees": add_assignees,
    "issues/remove-assignees": remove_assignees,
    "issues/list-labels-for-repo": list_labels_for_repo,
    "issues/create-label": create_label,
    "issues/get-label": get_label,
    "issues/update-label": update_label,
    "issues/delete-label": delete_label,
    "issues/list-labels-on-issue": list_labels_on_issue,
    "issues/add-labels": add_labels,
    "issues/set-labels": set_labels,
    "issues/remove-all-labels": remove_all_labels,
    "issues/remove-label": remove_label,
    "issues/list-milestones": list_milestones,
    "issues/create-milestone": create_milestone,
    "issues/get-milestone": get_milestone,
    "issues/list-comments": list_comments,
    "issues/create-comment": create_comment,
    "issues/get-comment": get_comment,
    "issues/update-comment": update_comment,
    "issues/delete-comment": delete_comment,
}


def handle(state: GitHubState, request: RestRequest) -> RestResponse:
    """Run the route for ``request.operation_id``; state errors become GitHub error JSON."""
    route = ROUTES[request.operation_id]
    try:
        return route(state, request)
    except GitHubError as error:
        return error_response(error)
