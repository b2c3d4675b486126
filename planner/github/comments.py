"""The plan as one pull-request comment, found again by a hidden marker and updated in place.

GitHub's issue-comment endpoints take a pull request's number (every pull request is also an
issue), so no pull-request API is needed. Reads go through ``GitHubClient.get``; the two
writes (create, update) go through the same client's requester, pacing and rate-limit
handling, so a comment counts as a mutating request like any batch of issue writes.

Not for anything but planner's own plan comment: the marker is what makes a comment
planner's, and only a comment whose first line is the marker is ever changed.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any

from planner.effects import effects
from planner.errors import GitHubError
from planner.github.client import GitHubClient, RestAnswer, _Retry

logger = logging.getLogger(__name__)

COMMENT_LIMIT = 65_536
"""GitHub refuses comment bodies longer than this many characters."""

PAGE_SIZE = 100
MARKER_PREFIX = "<!-- planner:plan-comment"


@dataclass(frozen=True)
class PostedComment:
    """The comment planner left on the pull request, and whether this run created it."""

    url: str
    is_new: bool


def marker_for(config_path: str) -> str:
    """The hidden first line that names planner's comment for one configuration.

    Two configurations planned in one pull request get a comment each. A ``>`` in the path
    would end the HTML comment early, so it is escaped.
    """
    return f"{MARKER_PREFIX} config={config_path.replace('>', '%3E')} -->"


def fit_body(marker: str, markdown: str, *, note: str) -> str:
    """The marker line and the markdown, cut to GitHub's limit by whole folded sections.

    The markdown renderer already keeps its text under the limit; the marker may push it
    over, and then the last ``<details>`` sections give way (whole, so no code fence is left
    open) to ``note``, which says where the full plan is.
    """
    body = f"{marker}\n{markdown}"
    if len(body) <= COMMENT_LIMIT:
        return body

    trimmed = markdown
    ending = f"\n**{note}**\n"
    while len(marker) + 1 + len(trimmed) + len(ending) > COMMENT_LIMIT:
        start = trimmed.rfind("<details>")
        if start <= 0:
            room = COMMENT_LIMIT - len(marker) - 1 - len(ending)
            trimmed = trimmed[: max(room, 0)]
            break
        trimmed = trimmed[:start]
    return f"{marker}\n{trimmed}{ending}"


def post_plan_comment(
    client: GitHubClient, repo: str, number: int, *, marker: str, body: str
) -> PostedComment:
    """Update planner's comment on pull request ``number`` of ``repo``, or create it."""
    existing = _find_comment(client, repo, number, marker)
    if existing is None:
        url = f"{client.settings.api_url}/repos/{repo}/issues/{number}/comments"
        answer = _write(client, "POST", url, {"body": body}, f"commenting on {repo}#{number}")
        return PostedComment(url=_html_url(answer, repo, number), is_new=True)

    url = f"{client.settings.api_url}/repos/{repo}/issues/comments/{existing}"
    answer = _write(
        client, "PATCH", url, {"body": body}, f"updating comment {existing} on {repo}#{number}"
    )
    return PostedComment(url=_html_url(answer, repo, number), is_new=False)


def _find_comment(client: GitHubClient, repo: str, number: int, marker: str) -> int | None:
    """The id of the newest comment that starts with ``marker``, reading every page."""
    url: str | None = (
        f"{client.settings.api_url}/repos/{repo}/issues/{number}/comments?per_page={PAGE_SIZE}"
    )
    found: int | None = None
    while url is not None:
        answer = client.get(url, etag=None, purpose=f"reading the comments of {repo}#{number}")
        if answer.is_missing:
            raise GitHubError(
                f"{repo} has no pull request #{number} (HTTP {answer.status}), or the token "
                "cannot see it; check --pr and --repo"
            )
        for comment in answer.body if isinstance(answer.body, list) else []:
            if _is_ours(comment, marker):
                found = int(comment["id"])
        url = answer.next_url
    logger.debug("plan comment on %s#%s: %s", repo, number, found)
    return found


def _is_ours(comment: Any, marker: str) -> bool:
    if not isinstance(comment, dict) or not isinstance(comment.get("id"), int):
        return False
    body = comment.get("body")
    return isinstance(body, str) and body.split("\n", 1)[0].rstrip("\r") == marker


def _write(
    client: GitHubClient, method: str, url: str, payload: dict[str, Any], purpose: str
) -> RestAnswer:
    """Send one mutating REST request through the client's pacing, retries and limits.

    Reaches into the client on purpose: its REST support is read-only, and a second client
    would pace its writes apart from the issue writes of the same process.
    """

    def send() -> RestAnswer:
        import requests

        client._pace_write()
        effects.request("rest-write", url)
        try:
            status, headers, text = client._github.requester.requestJson(
                method, url, headers={"Accept": "application/vnd.github+json"}, input=payload
            )
        except (requests.RequestException, ConnectionError, TimeoutError) as error:
            raise _Retry(f"no answer: {error.__class__.__name__}") from None
        finally:
            client._last_write = client.monotonic()
        return _judge_write(client, status, headers, text, purpose)

    return client._run(send, purpose, is_mutation=True)


def _judge_write(
    client: GitHubClient, status: int, headers: dict[str, Any], text: str, purpose: str
) -> RestAnswer:
    try:
        body = json.loads(text) if text else None
    except ValueError:
        body = None
    client._judge_common(status, headers, body, purpose)

    if status in (200, 201) and isinstance(body, dict):
        return RestAnswer(status, headers.get("etag"), body, None)
    message = str(body.get("message") or "") if isinstance(body, dict) else ""
    if status in (404, 410):
        raise GitHubError(
            f"GitHub found nothing to answer {purpose} (HTTP {status}); check --pr and --repo, "
            "and that the token may write pull requests"
        )
    raise GitHubError(
        f"GitHub refused {purpose} (HTTP {status}: {message or 'no message'}); check the "
        "token's permissions (pull-requests: write)"
    )


def _html_url(answer: RestAnswer, repo: str, number: int) -> str:
    body = answer.body if isinstance(answer.body, dict) else {}
    html_url = body.get("html_url")
    return str(html_url) if html_url else f"{repo}#{number}"
