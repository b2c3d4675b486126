"""REST representations of the fake's objects, with GitHub's field names.

Every URL points back at this server (``api_root`` is e.g. ``http://127.0.0.1:PORT`` or
``http://127.0.0.1:PORT/api/v3``) so that clients following ``url`` fields stay on the fake.
The self-tests validate these shapes against the description's response schemas.
"""

from __future__ import annotations

import urllib.parse
from typing import Any

from .github_state import (
    Issue,
    IssueComment,
    Label,
    Milestone,
    Repository,
    User,
    format_timestamp,
)

JsonObject = dict[str, Any]


def _optional_time(moment: Any) -> str | None:
    return None if moment is None else format_timestamp(moment)


def web_root(api_root: str) -> str:
    """Where ``html_url`` values point: the server root, without an ``/api/v3`` prefix."""
    return api_root.removesuffix("/api/v3")


def simple_user(user: User, api_root: str) -> JsonObject:
    url = f"{api_root}/users/{user.login}"
    return {
        "login": user.login,
        "id": user.database_id,
        "node_id": user.node_id,
        "avatar_url": f"{web_root(api_root)}/avatars/{user.login}",
        "gravatar_id": "",
        "url": url,
        "html_url": f"{web_root(api_root)}/{user.login}",
        "followers_url": f"{url}/followers",
        "following_url": f"{url}/following{{/other_user}}",
        "gists_url": f"{url}/gists{{/gist_id}}",
        "starred_url": f"{url}/starred{{/owner}}{{/repo}}",
        "subscriptions_url": f"{url}/subscriptions",
        "organizations_url": f"{url}/orgs",
        "repos_url": f"{url}/repos",
        "events_url": f"{url}/events{{/privacy}}",
        "received_events_url": f"{url}/received_events",
        "type": user.account_type,
        "user_view_type": "public",
        "site_admin": False,
    }


def public_user(user: User, api_root: str, public_repos: int) -> JsonObject:
    shape = simple_user(user, api_root)
    shape.update(
        {
            "name": user.name,
            "company": None,
            "blog": "",
            "location": None,
            "email": None,
            "hireable": None,
            "bio": None,
            "twitter_username": None,
            "public_repos": public_repos,
            "public_gists": 0,
            "followers": 0,
            "following": 0,
            "created_at": format_timestamp(user.created_at),
            "updated_at": format_timestamp(user.created_at),
        }
    )
    return shape


def private_user(user: User, api_root: str, public_repos: int, private_repos: int) -> JsonObject:
    shape = public_user(user, api_root, public_repos)
    shape.update(
        {
            "user_view_type": "private",
            "private_gists": 0,
            "total_private_repos": private_repos,
            "owned_private_repos": private_repos,
            "disk_usage": 0,
            "collaborators": 0,
            "two_factor_authentication": True,
        }
    )
    return shape


def repository(repo: Repository, owner: User, api_root: str) -> JsonObject:
    url = f"{api_root}/repos/{repo.full_name}"
    html_url = f"{web_root(api_root)}/{repo.full_name}"
    open_issues = sum(1 for issue in repo.issues.values() if issue.state == "open")
    return {
        "id": repo.database_id,
        "node_id": repo.node_id,
        "name": repo.name,
        "full_name": repo.full_name,
        "private": repo.private,
        "owner": simple_user(owner, api_root),
        "html_url": html_url,
        "description": repo.description,
        "fork": False,
        "url": url,
        "archive_url": f"{url}/{{archive_format}}{{/ref}}",
        "assignees_url": f"{url}/assignees{{/user}}",
        "blobs_url": f"{url}/git/blobs{{/sha}}",
        "branches_url": f"{url}/branches{{/branch}}",
        "collaborators_url": f"{url}/collaborators{{/collaborator}}",
        "comments_url": f"{url}/comments{{/number}}",
        "commits_url": f"{url}/commits{{/sha}}",
        "compare_url": f"{url}/compare/{{base}}...{{head}}",
        "contents_url": f"{url}/contents/{{+path}}",
        "contributors_url": f"{url}/contributors",
        "deployments_url": f"{url}/deployments",
        "downloads_url": f"{url}/downloads",
        "events_url": f"{url}/events",
        "forks_url": f"{url}/forks",
        "git_commits_url": f"{url}/git/commits{{/sha}}",
        "git_refs_url": f"{url}/git/refs{{/sha}}",
        "git_tags_url": f"{url}/git/tags{{/sha}}",
        "git_url": f"git://127.0.0.1/{repo.full_name}.git",
        "issue_comment_url": f"{url}/issues/comments{{/number}}",
        "issue_events_url": f"{url}/issues/events{{/number}}",
        "issues_url": f"{url}/issues{{/number}}",
        "keys_url": f"{url}/keys{{/key_id}}",
        "labels_url": f"{url}/labels{{/name}}",
        "languages_url": f"{url}/languages",
        "merges_url": f"{url}/merges",
        "milestones_url": f"{url}/milestones{{/number}}",
        "notifications_url": f"{url}/notifications{{?since,all,participating}}",
        "pulls_url": f"{url}/pulls{{/number}}",
        "releases_url": f"{url}/releases{{/id}}",
        "ssh_url": f"git@127.0.0.1:{repo.full_name}.git",
        "stargazers_url": f"{url}/stargazers",
        "statuses_url": f"{url}/statuses/{{sha}}",
        "subscribers_url": f"{url}/subscribers",
        "subscription_url": f"{url}/subscription",
        "tags_url": f"{url}/tags",
        "teams_url": f"{url}/teams",
        "trees_url": f"{url}/git/trees{{/sha}}",
        "clone_url": f"{html_url}.git",
        "mirror_url": None,
        "hooks_url": f"{url}/hooks",
        "svn_url": html_url,
        "homepage": None,
        "language": None,
        "forks_count": 0,
        "forks": 0,
        "stargazers_count": 0,
        "watchers_count": 0,
        "watchers": 0,
        "size": 0,
        "default_branch": "main",
        "open_issues_count": open_issues,
        "open_issues": open_issues,
        "is_template": False,
        "topics": [],
        "has_issues": True,
        "has_projects": True,
        "has_wiki": True,
        "has_pages": False,
        "has_downloads": True,
        "has_discussions": False,
        "archived": False,
        "disabled": False,
        "visibility": "private" if repo.private else "public",
        "pushed_at": format_timestamp(repo.updated_at),
        "created_at": format_timestamp(repo.created_at),
        "updated_at": format_timestamp(repo.updated_at),
        "permissions": {
            "admin": True,
            "maintain": True,
            "push": True,
            "triage": True,
            "pull": True,
        },
        "allow_forking": True,
        "web_commit_signoff_required": False,
        "license": None,
        "network_count": 0,
        "subscribers_count": 0,
    }


def label(item: Label, api_root: str) -> JsonObject:
    return {
        "id": item.database_id,
        "node_id": item.node_id,
        "url": f"{api_root}/repos/{item.repository.full_name}/labels/{_quote(item.name)}",
        "name": item.name,
        "color": item.color,
        "default": item.is_default,
        "description": item.description,
    }


def _quote(segment: str) -> str:
    return urllib.parse.quote(segment, safe="")


def milestone(item: Milestone, creator: User, api_root: str) -> JsonObject:
    repo = item.repository
    url = f"{api_root}/repos/{repo.full_name}/milestones/{item.number}"
    in_milestone = [i for i in repo.issues.values() if i.milestone_number == item.number]
    return {
        "url": url,
        "html_url": f"{web_root(api_root)}/{repo.full_name}/milestone/{item.number}",
        "labels_url": f"{url}/labels",
        "id": item.database_id,
        "node_id": item.node_id,
        "number": item.number,
        "state": item.state,
        "title": item.title,
        "description": item.description,
        "creator": simple_user(creator, api_root),
        "open_issues": sum(1 for i in in_milestone if i.state == "open"),
        "closed_issues": sum(1 for i in in_milestone if i.state == "closed"),
        "created_at": format_timestamp(item.created_at),
        "updated_at": format_timestamp(item.updated_at),
        "closed_at": _optional_time(item.closed_at),
        "due_on": _optional_time(item.due_on),
    }


def issue(item: Issue, users: dict[str, User], api_root: str) -> JsonObject:
    """An issue as ``GET /repos/{owner}/{repo}/issues/{number}`` returns it."""
    repo = item.repository
    url = f"{api_root}/repos/{repo.full_name}/issues/{item.number}"

    def user_json(login: str) -> JsonObject:
        return simple_user(users[login.casefold()], api_root)

    assignees = [user_json(login) for login in item.assignees]
    current_milestone = item.milestone
    return {
        "id": item.database_id,
        "node_id": item.node_id,
        "url": url,
        "repository_url": f"{api_root}/repos/{repo.full_name}",
        "labels_url": f"{url}/labels{{/name}}",
        "comments_url": f"{url}/comments",
        "events_url": f"{url}/events",
        "html_url": f"{web_root(api_root)}/{repo.full_name}/issues/{item.number}",
        "number": item.number,
        "state": item.state,
        "state_reason": item.state_reason,
        "title": item.title,
        "body": item.body,
        "user": user_json(item.author),
        "labels": [label(entry, api_root) for entry in item.labels],
        "assignee": assignees[0] if assignees else None,
        "assignees": assignees,
        "milestone": (
            milestone(current_milestone, users[current_milestone.creator.casefold()], api_root)
            if current_milestone is not None
            else None
        ),
        "locked": item.locked,
        "active_lock_reason": None,
        "comments": len(item.comments),
        "closed_at": _optional_time(item.closed_at),
        "closed_by": user_json(item.closed_by) if item.closed_by else None,
        "created_at": format_timestamp(item.created_at),
        "updated_at": format_timestamp(item.updated_at),
        "author_association": "OWNER" if item.author == repo.owner else "COLLABORATOR",
        "timeline_url": f"{url}/timeline",
        "reactions": _empty_reactions(url),
    }


def _empty_reactions(subject_url: str) -> JsonObject:
    return {
        "url": f"{subject_url}/reactions",
        "total_count": 0,
        "+1": 0,
        "-1": 0,
        "laugh": 0,
        "hooray": 0,
        "confused": 0,
        "heart": 0,
        "rocket": 0,
        "eyes": 0,
    }


def issue_comment(item: IssueComment, users: dict[str, User], api_root: str) -> JsonObject:
    repo = item.issue.repository
    url = f"{api_root}/repos/{repo.full_name}/issues/comments/{item.database_id}"
    return {
        "id": item.database_id,
        "node_id": item.node_id,
        "url": url,
        "html_url": (
            f"{web_root(api_root)}/{repo.full_name}/issues/{item.issue.number}"
            f"#issuecomment-{item.database_id}"
        ),
        "issue_url": f"{api_root}/repos/{repo.full_name}/issues/{item.issue.number}",
        "body": item.body,
        "user": simple_user(users[item.author.casefold()], api_root),
        "created_at": format_timestamp(item.created_at),
        "updated_at": format_timestamp(item.updated_at),
        "author_association": "OWNER" if item.author == repo.owner else "COLLABORATOR",
        "reactions": _empty_reactions(url),
    }


def basic_error(message: str, status: int, documentation_url: str) -> JsonObject:
    return {"message": message, "documentation_url": documentation_url, "status": str(status)}
