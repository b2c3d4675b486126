"""The one GitHub client: raw GraphQL documents and REST reads through PyGithub's requester,
paced and retried.

PyGithub's own throttling and retries are turned off on purpose: planner decides itself when
a request may go (serial requests, ``write_interval`` seconds between mutating ones), which
failures are worth another attempt, and how long a rate limit may be waited for. Documents
are posted raw so that ``data`` and ``errors`` can be read alias by alias; a partly failed
batch still tells which of its aliases succeeded.

A mutating request is never sent again blindly: when its answer is lost (5xx, timeout, cut
connection) the caller gets ``OutcomeUnknown`` and must look at GitHub before resending,
because a repeated ``createIssue`` would create a duplicate.

REST is used for reads only (``get``), conditional on an ETag when one is known: GitHub answers
an unchanged resource with 304, which costs nothing against the rate limit.
"""

from __future__ import annotations

import email.utils
import json
import logging
import random
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC
from typing import Any, TypeVar

from planner.effects import effects
from planner.errors import GitHubError
from planner.github.settings import NO_TOKEN_FOR_WRITES, ConnectionSettings

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
"""Attempts per request for failures that may pass (5xx, timeouts, lost connections)."""

MAX_LIMIT_WAITS = 5
"""Rate-limit waits per request before planner gives up and stops resumably."""

BACKOFF_SECONDS = 1.0
BACKOFF_CAP_SECONDS = 16.0
REQUEST_TIMEOUT_SECONDS = 60
SECONDARY_LIMIT_DEFAULT_WAIT = 60
"""GitHub asks for at least a minute when a secondary limit comes without Retry-After."""

_TIMEOUT_MESSAGES = ("something went wrong while executing your query", "timeout")
_NEXT_LINK = re.compile(r'<([^>]+)>\s*;\s*rel="next"')

Answer = TypeVar("Answer")


class OutcomeUnknown(GitHubError):
    """A mutating request was sent and its answer lost: some of it may have been applied."""

    def __init__(self, message: str, *, is_too_large: bool = False) -> None:
        super().__init__(message)
        self.is_too_large = is_too_large


class RateLimitTooLong(GitHubError):
    """GitHub asked for a wait longer than ``[github].max_wait``; stop and resume later."""


@dataclass(frozen=True)
class GraphQLAnswer:
    """A GraphQL response: whatever ``data`` GitHub returned and the errors, by path."""

    data: dict[str, Any]
    errors: list[dict[str, Any]] = field(default_factory=list)
    server_time: str | None = None
    """GitHub's clock when it answered (its ``Date`` header), as ``YYYY-MM-DDTHH:MM:SSZ``;
    None when the answer carried no readable date."""

    def error_at(self, *path: str | int) -> dict[str, Any] | None:
        """The first error whose path starts with ``path`` (an alias, or repository+alias)."""
        wanted = list(path)
        for error in self.errors:
            if list(error.get("path") or [])[: len(wanted)] == wanted:
                return error
        return None

    def unplaced_errors(self) -> list[dict[str, Any]]:
        """Errors that belong to no field: the whole document was refused."""
        return [error for error in self.errors if not error.get("path")]


@dataclass(frozen=True)
class RestAnswer:
    """A REST read's answer: 200 (a new body), 304 (the cached body still holds), 404 or 410.

    ``next_url`` is the ``rel="next"`` address of GitHub's ``Link`` header, for lists that go
    on; a 304 carries no ``Link``, so the caller keeps the one it cached with the body.
    """

    status: int
    etag: str | None
    body: Any
    next_url: str | None
    server_time: str | None = None
    """GitHub's clock when it answered, as for ``GraphQLAnswer.server_time``."""

    @property
    def is_not_modified(self) -> bool:
        return self.status == 304

    @property
    def is_missing(self) -> bool:
        """Nothing there: never was, or (410) an issue that was deleted."""
        return self.status in (404, 410)


class _Retry(Exception):
    """A failure another attempt may get past, after ``delay`` seconds (None: back off)."""

    def __init__(self, reason: str, *, is_too_large: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.is_too_large = is_too_large


class _RateLimited(Exception):
    """GitHub asked planner to wait ``seconds`` before trying again."""

    def __init__(self, which: str, seconds: float) -> None:
        super().__init__(which)
        self.which = which
        self.seconds = seconds


class GitHubClient:
    """Serial requests to one GitHub (GraphQL, and REST reads), paced, retried, rate-limit aware.

    ``sleep``, ``monotonic`` and ``wall_clock`` are attributes so that tests can replace
    waiting with bookkeeping; nothing else in planner sleeps for GitHub.
    """

    def __init__(self, settings: ConnectionSettings) -> None:
        # Imported here: PyGithub takes a fifth of a second to import, which runs that never
        # touch GitHub (files and audit entries only) should not pay.
        import github

        self.settings = settings
        self.sleep: Callable[[float], None] = time.sleep
        self.monotonic: Callable[[], float] = time.monotonic
        self.wall_clock: Callable[[], float] = time.time
        self._github = github.Github(
            base_url=settings.api_url,
            auth=github.Auth.Token(settings.token) if settings.token else None,
            lazy=True,
            timeout=REQUEST_TIMEOUT_SECONDS,
            seconds_between_requests=0,
            seconds_between_writes=0,
            retry=None,
        )
        self._last_write: float | None = None

    def query(
        self, document: str, variables: dict[str, Any] | None = None, *, purpose: str
    ) -> GraphQLAnswer:
        """Run a read; retried on 5xx and lost connections, waits out rate limits."""
        return self._run(
            lambda: self._send(document, variables or {}, purpose, is_mutation=False),
            purpose,
            is_mutation=False,
        )

    def mutate(self, document: str, variables: dict[str, Any], *, purpose: str) -> GraphQLAnswer:
        """Run a mutating document once; OutcomeUnknown when its answer is lost."""
        if not self.settings.token:
            raise GitHubError(NO_TOKEN_FOR_WRITES)
        return self._run(
            lambda: self._send(document, variables, purpose, is_mutation=True),
            purpose,
            is_mutation=True,
        )

    def get(self, url: str, *, etag: str | None, purpose: str) -> RestAnswer:
        """Run a REST read, conditional on ``etag`` when given; retried like ``query``.

        ``url`` is absolute and carries no credentials (the token goes in a header), so it
        may be used as a cache key. 404 is an answer, not an error: the caller knows whether
        a missing repository or a missing user is meant.
        """
        return self._run(lambda: self._send_get(url, etag, purpose), purpose, is_mutation=False)

    def _run(self, send: Callable[[], Answer], purpose: str, *, is_mutation: bool) -> Answer:
        attempts = 0
        limit_waits = 0
        while True:
            attempts += 1
            try:
                return send()
            except _RateLimited as limited:
                limit_waits += 1
                self._wait_for_limit(limited, purpose, limit_waits)
            except _Retry as failure:
                if is_mutation:
                    raise OutcomeUnknown(
                        f"the answer to {purpose} was lost ({failure.reason}); what GitHub did "
                        "is not known",
                        is_too_large=failure.is_too_large,
                    ) from None
                if attempts >= MAX_ATTEMPTS:
                    raise GitHubError(
                        f"{purpose} failed {attempts} times ({failure.reason}); GitHub may be "
                        "having trouble, try again later"
                    ) from None
                delay = min(BACKOFF_CAP_SECONDS, BACKOFF_SECONDS * 2 ** (attempts - 1))
                delay *= random.uniform(0.5, 1.0)
                logger.warning(
                    "%s failed (%s); attempt %d of %d in %.1f s",
                    purpose,
                    failure.reason,
                    attempts + 1,
                    MAX_ATTEMPTS,
                    delay,
                )
                self.sleep(delay)

    def _send(
        self, document: str, variables: dict[str, Any], purpose: str, *, is_mutation: bool
    ) -> GraphQLAnswer:
        if is_mutation:
            self._pace_write()
        payload = {"query": document, "variables": variables}
        import requests

        try:
            effects.request("graphql-mutation" if is_mutation else "graphql-query", purpose)
            status, headers, text = self._github.requester.requestJson(
                "POST", self.settings.graphql_url, input=payload
            )
        except (requests.RequestException, ConnectionError, TimeoutError) as error:
            raise _Retry(f"no answer: {error.__class__.__name__}") from None
        finally:
            if is_mutation:
                self._last_write = self.monotonic()
        return self._judge(status, headers, text, purpose)

    def _send_get(self, url: str, etag: str | None, purpose: str) -> RestAnswer:
        headers = {"Accept": "application/vnd.github+json"}
        if etag:
            headers["If-None-Match"] = etag
        import requests

        try:
            effects.request("rest-read", url)
            status, answer_headers, text = self._github.requester.requestJson(
                "GET", url, headers=headers
            )
        except (requests.RequestException, ConnectionError, TimeoutError) as error:
            raise _Retry(f"no answer: {error.__class__.__name__}") from None
        return self._judge_rest(status, answer_headers, text, purpose)

    def _pace_write(self) -> None:
        """Leave ``write_interval`` seconds between mutating requests, as GitHub asks."""
        if self._last_write is None:
            return
        wait = self.settings.write_interval - (self.monotonic() - self._last_write)
        if wait > 0:
            self.sleep(wait)

    def _judge_rest(
        self, status: int, headers: dict[str, Any], text: str, purpose: str
    ) -> RestAnswer:
        body = _parse_json(text)
        self._judge_common(status, headers, body, purpose)

        etag = headers.get("etag")
        answered_at = server_time(headers)
        if status == 304:
            return RestAnswer(304, etag, None, None, answered_at)
        if status in (404, 410):
            return RestAnswer(status, None, None, None, answered_at)
        if status != 200 or body is None:
            message = str(body.get("message") or "") if isinstance(body, dict) else ""
            raise GitHubError(
                f"GitHub answered {purpose} with HTTP {status} ({message or 'no message'}); "
                "check the configuration and the token's permissions"
            )
        link = _NEXT_LINK.search(str(headers.get("link") or ""))
        return RestAnswer(200, etag, body, link.group(1) if link else None, answered_at)

    def _judge_common(self, status: int, headers: dict[str, Any], body: Any, purpose: str) -> None:
        """Failures REST and GraphQL share: 5xx, rate limits, a refused token."""
        message = str(body.get("message") or "") if isinstance(body, dict) else ""
        if status >= 500:
            raise _Retry(f"HTTP {status}", is_too_large=status == 504)
        if status in (403, 429) and (
            "retry-after" in headers or "secondary rate limit" in message.lower()
        ):
            seconds = _number(headers.get("retry-after"), SECONDARY_LIMIT_DEFAULT_WAIT)
            raise _RateLimited("secondary", seconds)
        if status in (403, 429) and headers.get("x-ratelimit-remaining") == "0":
            raise _RateLimited("primary", self._until_reset(headers))
        if status == 401:
            raise GitHubError(
                "GitHub refused the token (HTTP 401, bad credentials); set GH_TOKEN or "
                "GITHUB_TOKEN to a valid token"
            )
        if status == 403:
            raise GitHubError(
                f"GitHub refused {purpose} (HTTP 403: {message or 'forbidden'}); the token "
                "needs access to the repository's issues"
            )

    def _judge(
        self, status: int, headers: dict[str, Any], text: str, purpose: str
    ) -> GraphQLAnswer:
        body = _parse_json(text)
        message = str(body.get("message") or "") if isinstance(body, dict) else ""
        self._judge_common(status, headers, body, purpose)

        if status == 404:
            raise GitHubError(
                f"GitHub has no GraphQL API at {self.settings.graphql_url} (HTTP 404); check "
                "[github].api_url, GITHUB_API_URL or GITHUB_GRAPHQL_URL"
            )
        if status != 200 or not isinstance(body, dict):
            raise GitHubError(
                f"GitHub answered {purpose} with HTTP {status} ({message or 'no message'}); "
                "check the configuration and the token's permissions"
            )

        errors = [e for e in body.get("errors") or [] if isinstance(e, dict)]
        if any(error.get("type") == "RATE_LIMITED" for error in errors):
            raise _RateLimited("primary", self._until_reset(headers))
        data = body.get("data")
        if not isinstance(data, dict):
            reasons = "; ".join(str(e.get("message", "")) for e in errors) or "no data"
            if any(hint in reasons.lower() for hint in _TIMEOUT_MESSAGES):
                raise _Retry("GitHub timed out executing it", is_too_large=True)
            raise GitHubError(f"GitHub refused {purpose}: {reasons}")
        return GraphQLAnswer(data, errors, server_time(headers))

    def _until_reset(self, headers: dict[str, Any]) -> float:
        reset = _number(headers.get("x-ratelimit-reset"), 0)
        if reset <= 0:
            return SECONDARY_LIMIT_DEFAULT_WAIT
        return max(reset - self.wall_clock(), 0) + 1

    def _wait_for_limit(self, limited: _RateLimited, purpose: str, waits: int) -> None:
        resume_at = time.strftime("%H:%M:%S UTC", time.gmtime(self.wall_clock() + limited.seconds))
        if limited.seconds > self.settings.max_wait or waits > MAX_LIMIT_WAITS:
            # Anonymous reads get 60 requests an hour, a token 5,000: worth saying.
            hint = "" if self.settings.token else ", or set GH_TOKEN for a higher limit"
            raise RateLimitTooLong(
                f"GitHub's {limited.which} rate limit stopped {purpose} until {resume_at} "
                f"(in {limited.seconds:.0f} s, longer than [github].max_wait = "
                f"{self.settings.max_wait} s); try again after {resume_at}{hint}"
            )
        logger.warning(
            "GitHub's %s rate limit: waiting %.0f s (until %s) before %s",
            limited.which,
            limited.seconds,
            resume_at,
            purpose,
        )
        self.sleep(limited.seconds)


def server_time(headers: dict[str, Any]) -> str | None:
    """GitHub's clock from an answer's ``Date`` header, in GitHub's timestamp format.

    This, never the local clock, is what planner compares GitHub's timestamps with: a
    machine whose clock is off by minutes must not make a change look older than it is.
    """
    raw = headers.get("date")
    if not raw:
        return None
    try:
        moment = email.utils.parsedate_to_datetime(str(raw))
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _parse_json(text: str) -> Any:
    try:
        return json.loads(text) if text else None
    except ValueError:
        return None


def _number(value: Any, default: float) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return default


_clients: dict[ConnectionSettings, GitHubClient] = {}


def client_for(settings: ConnectionSettings) -> GitHubClient:
    """The process's client for these settings, shared so pacing spans every kind."""
    client = _clients.get(settings)
    if client is None:
        client = GitHubClient(settings)
        _clients[settings] = client
    return client
