"""Reads through GitHub's REST list endpoints, for ``[github] api = "rest"`` and for no token.

Produces the same ``RepositoryFacts`` and ``RemoteIssue`` values as the GraphQL reads in
``reads``, so diffs, fingerprints and plans do not depend on the API they were read through.
Every list is read in pages of 100 by following GitHub's ``Link`` header, and every request
is conditional on the ETag cached from the last one (see ``etags``): a plan of a repository
that did not change is answered with 304s, which cost no rate limit.

Issues come from one list of the whole repository (``state=all``), not by number: REST has
no batched read by number, and one request per issue would make reads grow with the issues.
"""

from __future__ import annotations

import logging
import urllib.parse
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from planner.errors import GitHubError
from planner.github.client import GitHubClient
from planner.github.etags import CachedAnswer, EtagCache
from planner.github.reads import (
    PAGE_SIZE,
    IssueActivity,
    RemoteIssue,
    RemoteLabel,
    RepositoryFacts,
    split_repo,
)

logger = logging.getLogger(__name__)

Reduce = Callable[[Any], Any]
"""Turns a REST body into the part of it planner reads, which is what the cache keeps."""


class RestReader:
    """Reads through REST for the kinds of one plan or one apply batch.

    The issue list of a repository is read once per reader and then answers every question
    about it (by number, by marker); make a new reader to see changes made since.
    """

    def __init__(self, client: GitHubClient, cache: EtagCache) -> None:
        self.client = client
        self.cache = cache
        self._issue_lists: dict[str, list[RemoteIssue]] = {}
        self._listed_at: dict[str, str | None] = {}

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
        """Labels (and milestones) of each repository, and user ids by casefolded login.

        One request per page of labels and of milestones, one per user. The repository's
        own id is read only ``for_writing`` (creating an issue or label needs it), so a plan
        does not pay for it. ``recent_for`` is accepted for the GraphQL reader's sake: here
        the marker lookup reads the issue list, which serves the numbered issues too, and
        the activity of such a repository is then taken from that list (see ``activity``).
        """
        try:
            facts: dict[str, RepositoryFacts] = {}
            for repo in sorted(set(repos)):
                node_id = self._repository_id(repo) if for_writing else ""
                found = RepositoryFacts(repo=repo, node_id=node_id)
                for label in self._pages(
                    self._url(repo, "labels", per_page=PAGE_SIZE),
                    f"reading the labels of {repo}",
                    repo,
                    _label_entries,
                ):
                    remote = RemoteLabel(
                        label["node_id"], label["name"], label["color"], label["description"]
                    )
                    found.labels[remote.name.casefold()] = remote
                if with_milestones:
                    for milestone in self._pages(
                        self._url(repo, "milestones", state="all", per_page=PAGE_SIZE),
                        f"reading the milestones of {repo}",
                        repo,
                        _milestone_entries,
                    ):
                        found.milestones[milestone["title"]] = milestone["node_id"]
                facts[repo] = found

            users: dict[str, str | None] = {}
            for login in sorted({login.casefold(): login for login in logins}.values()):
                user = self._one(
                    f"{self.client.settings.api_url}/users/{urllib.parse.quote(login)}",
                    f"reading the user {login}",
                    _user_entry,
                )
                users[login.casefold()] = str(user["node_id"]) if user else None

            if activity_since:
                for repo, activity in self._activity(activity_since, set(recent_for)).items():
                    facts[repo].activity = activity
            return facts, users
        finally:
            self.cache.save()

    def activity(self, since_by_repo: Mapping[str, str | None]) -> dict[str, IssueActivity]:
        """What moved in each repository since a time, through REST's ``since`` filter.

        One request per 100 moved issues, never answered from the ETag cache: the time in
        the address changes from plan to plan, so cached answers would only pile up. A
        repository asked about with no time is listed whole instead (the list is what its
        full read needs anyway), which also gives the count REST cannot otherwise tell.
        """
        try:
            return self._activity(since_by_repo, set())
        finally:
            self.cache.save()

    def _activity(
        self, since_by_repo: Mapping[str, str | None], listed_anyway: set[str]
    ) -> dict[str, IssueActivity]:
        found: dict[str, IssueActivity] = {}
        for repo, since in sorted(since_by_repo.items()):
            if since is None or repo in listed_anyway or repo in self._issue_lists:
                found[repo] = self._activity_from_list(repo, since)
            else:
                found[repo] = self._moved_since(repo, since)
        return found

    def _activity_from_list(self, repo: str, since: str | None) -> IssueActivity:
        issues = self._issue_list(repo)
        moved = [issue for issue in issues if since is not None and issue.updated_at >= since]
        return IssueActivity(
            repo=repo,
            since=since,
            seen_at=self._listed_at.get(repo),
            moved=tuple(sorted(moved, key=lambda i: (i.updated_at, i.number), reverse=True)),
            total=len(issues),
            highest_number=max((issue.number for issue in issues), default=None),
        )

    def _moved_since(self, repo: str, since: str) -> IssueActivity:
        # Limitation: REST cannot count a repository's issues without listing them all, so
        # an activity read this way has no total, and an issue deleted or transferred away
        # since the last full read goes unnoticed until the next full read (at the latest
        # after [github].full_refresh_after, or with --refresh=full). GraphQL reads count.
        purpose = f"reading what changed in {repo}"
        next_url: str | None = self._url(
            repo,
            "issues",
            state="all",
            since=since,
            sort="updated",
            direction="desc",
            per_page=PAGE_SIZE,
        )
        entries: list[dict[str, Any]] = []
        seen_at: str | None = None
        highest: int | None = None
        is_first = True
        while next_url is not None:
            answer = self.client.get(next_url, etag=None, purpose=purpose)
            if answer.is_missing or answer.body is None:
                raise GitHubError(self._missing_repository(repo))
            page = _issue_entries(answer.body)
            if is_first:
                seen_at = answer.server_time
                highest = max((int(e["number"]) for e in page), default=None)
                is_first = False
            entries.extend(page)
            next_url = answer.next_url
        by_number: dict[int, RemoteIssue] = {}
        for entry in reversed(entries):
            by_number[int(entry["number"])] = _remote_issue(repo, entry)
        return IssueActivity(
            repo=repo,
            since=since,
            seen_at=seen_at,
            moved=tuple(
                sorted(by_number.values(), key=lambda i: (i.updated_at, i.number), reverse=True)
            ),
            highest_number=highest,
        )

    def issues(self, repo: str, numbers: Iterable[int]) -> dict[int, RemoteIssue | None]:
        """Issues by number, from the repository's issue list; None for a number not found.

        A number missing from the list is asked for on its own before it is called gone: an
        issue deleted while the list was read shifts the pages, so another can slip between
        two of them, and a plan must not take an existing issue for a gone one.
        """
        try:
            by_number = {issue.number: issue for issue in self._issue_list(repo)}
            found: dict[int, RemoteIssue | None] = {}
            for number in sorted(set(numbers)):
                found[number] = by_number.get(number) or self._single_issue(repo, number)
        finally:
            self.cache.save()
        return found

    def find_marked(
        self, facts: RepositoryFacts | None, repo: str, keys: Iterable[str]
    ) -> dict[str, RemoteIssue]:
        """Issues planner created for ``keys``, found by their markers in the whole list.

        Unlike the GraphQL lookup, which looks at the newest few hundred issues only, this
        sees every issue, because the list is read whole anyway.
        """
        wanted = set(keys)
        if not wanted:
            return {}
        try:
            issues = self._issue_list(repo)
        finally:
            self.cache.save()
        found: dict[str, RemoteIssue] = {}
        # Newest first, as GitHub lists them: if a key was ever marked twice, the newest wins,
        # as it does in the GraphQL lookup.
        for issue in sorted(issues, key=lambda i: i.number, reverse=True):
            key = issue.marker_key
            if key in wanted and key not in found:
                found[key] = issue
        return found

    # ----- requests ---------------------------------------------------------------------

    def _issue_list(self, repo: str) -> list[RemoteIssue]:
        known = self._issue_lists.get(repo)
        if known is not None:
            return known
        entries, listed_at = self._pages_seen_at(
            self._url(repo, "issues", state="all", per_page=PAGE_SIZE),
            f"listing the issues of {repo}",
            repo,
            _issue_entries,
        )
        self._listed_at[repo] = listed_at
        # A page boundary can shift while the list is read (an issue opened meanwhile moves
        # one down a page), so an issue may come twice; the last copy read is as new as any.
        # Limitation: the whole list is read even when the configuration names a handful of
        # issues, so a REST plan costs ceil(issues in the repository / 100) requests where
        # GraphQL costs ceil(declared issues / 100). REST has no batched read by number, and
        # one request per declared issue would grow with the configuration instead; the ETag
        # cache makes the repeated walk free of rate limit, not free of round trips.
        by_number = {int(entry["number"]): _remote_issue(repo, entry) for entry in entries}
        issues = list(by_number.values())
        self._issue_lists[repo] = issues
        logger.debug("read %d issues of %s through REST", len(issues), repo)
        return issues

    def _single_issue(self, repo: str, number: int) -> RemoteIssue | None:
        entries = self._one(
            f"{self._url(repo, 'issues')}/{number}",
            f"reading the issue {repo}#{number}",
            lambda body: _issue_entries([body]),
        )
        return _remote_issue(repo, entries[0]) if entries else None

    def _repository_id(self, repo: str) -> str:
        owner, name = split_repo(repo)
        url = (
            f"{self.client.settings.api_url}/repos/{urllib.parse.quote(owner)}/"
            f"{urllib.parse.quote(name)}"
        )
        found = self._one(url, f"reading the repository {repo}", _repository_entry)
        if found is None:
            raise GitHubError(self._missing_repository(repo))
        return str(found["node_id"])

    def _pages(self, url: str, purpose: str, repo: str, reduce: Reduce) -> list[Any]:
        """Every item of a list, page after page, each page from the cache if unchanged."""
        return self._pages_seen_at(url, purpose, repo, reduce)[0]

    def _pages_seen_at(
        self, url: str, purpose: str, repo: str, reduce: Reduce
    ) -> tuple[list[Any], str | None]:
        """``_pages``, and GitHub's clock when it answered for the first page."""
        items: list[Any] = []
        first_seen_at: str | None = None
        next_url: str | None = url
        while next_url is not None:
            answer, seen_at = self._cached_get(next_url, purpose, reduce)
            if answer is None:
                raise GitHubError(self._missing_repository(repo))
            if next_url == url:
                first_seen_at = seen_at
            items.extend(answer.body)
            next_url = answer.next_url
        return items, first_seen_at

    def _one(self, url: str, purpose: str, reduce: Reduce) -> Any:
        """One resource (reduced), or None when GitHub has none at ``url``."""
        answer, _ = self._cached_get(url, purpose, reduce)
        return answer.body if answer is not None else None

    def _cached_get(
        self, url: str, purpose: str, reduce: Reduce
    ) -> tuple[CachedAnswer | None, str | None]:
        """The answer (from the cache on a 304) and GitHub's clock when it answered."""
        cached = self.cache.get(url)
        answer = self.client.get(url, etag=cached.etag if cached else None, purpose=purpose)
        if answer.is_missing:
            return None, answer.server_time
        if answer.is_not_modified and cached is not None:
            return cached, answer.server_time
        if answer.is_not_modified:
            # A 304 to a request that sent no ETag would be GitHub's mistake; read afresh.
            answer = self.client.get(url, etag=None, purpose=purpose)
            if answer.is_missing:
                return None, answer.server_time
        fresh = CachedAnswer(answer.etag or "", reduce(answer.body), answer.next_url)
        if answer.etag:
            self.cache.put(url, fresh)
        return fresh, answer.server_time

    def _url(self, repo: str, collection: str, **query: str | int) -> str:
        owner, name = split_repo(repo)
        url = (
            f"{self.client.settings.api_url}/repos/{urllib.parse.quote(owner)}/"
            f"{urllib.parse.quote(name)}/{collection}"
        )
        return f"{url}?{urllib.parse.urlencode(query)}" if query else url

    def _missing_repository(self, repo: str) -> str:
        if self.client.settings.token:
            return (
                f"the repository {repo} does not exist or the token cannot see it; check the "
                "repo setting and the token"
            )
        return (
            f"the repository {repo} does not exist or is private; check the repo setting, or "
            "set GH_TOKEN or GITHUB_TOKEN to a token that may read it"
        )


# ----- what the cache keeps of each answer -------------------------------------------------


def _issue_entries(body: Any) -> list[dict[str, Any]]:
    """The issues of a page, pull requests left out (REST lists them among the issues)."""
    entries = []
    for item in body:
        if item.get("pull_request") is not None:
            continue
        milestone = item.get("milestone") or {}
        entries.append(
            {
                "number": item["number"],
                "node_id": item["node_id"],
                "title": item["title"],
                "body": item.get("body") or "",
                "state": item["state"],
                "state_reason": item.get("state_reason"),
                "labels": [_label_name(label) for label in item.get("labels") or []],
                "assignees": [user["login"] for user in item.get("assignees") or []],
                "milestone": milestone.get("title"),
                "updated_at": item.get("updated_at") or "",
            }
        )
    return entries


def _label_name(label: Any) -> str:
    # GitHub's description allows a label on an issue to be a bare name as well as an object.
    return label if isinstance(label, str) else str(label["name"])


def _label_entries(body: Any) -> list[dict[str, Any]]:
    return [
        {
            "node_id": item["node_id"],
            "name": item["name"],
            "color": item["color"],
            "description": item.get("description"),
        }
        for item in body
    ]


def _milestone_entries(body: Any) -> list[dict[str, Any]]:
    return [{"node_id": item["node_id"], "title": item["title"]} for item in body]


def _user_entry(body: Any) -> dict[str, Any]:
    return {"node_id": body["node_id"], "login": body["login"]}


def _repository_entry(body: Any) -> dict[str, Any]:
    return {"node_id": body["node_id"]}


def _remote_issue(repo: str, entry: dict[str, Any]) -> RemoteIssue:
    """The issue as the GraphQL reads would have produced it (lower-case state and reason)."""
    reason = entry.get("state_reason")
    return RemoteIssue(
        repo=repo,
        number=int(entry["number"]),
        node_id=str(entry["node_id"]),
        title=str(entry["title"]),
        body=str(entry["body"] or ""),
        state=str(entry["state"]).lower(),
        state_reason=str(reason).lower() if reason else None,
        labels=tuple(entry["labels"]),
        assignees=tuple(entry["assignees"]),
        milestone=entry.get("milestone"),
        updated_at=str(entry["updated_at"]),
    )
