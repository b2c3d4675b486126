"""Where GitHub is and how planner may use it: addresses, token, read API, pacing and patience.

Everything here comes from ``[github]`` and the environment, read once per process. The token
is kept only in memory: it is never part of a repr, a log line, a plan, a checkpoint or the
ETag cache. Without a token planner can still plan public repositories (reads go through
REST, which GitHub answers anonymously); changing anything needs one.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Literal

from planner.config.models import GitHubSettings
from planner.errors import GitHubError

PUBLIC_API_URL = "https://api.github.com"
PUBLIC_GRAPHQL_URL = "https://api.github.com/graphql"
WRITE_INTERVAL_VARIABLE = "PLANNER_GITHUB_WRITE_INTERVAL"
DEFAULT_WRITE_INTERVAL = 1.0
"""GitHub asks integrations to leave at least a second between mutating requests."""

NO_TOKEN_FOR_WRITES = (
    "changing GitHub issues and labels needs a token: set GH_TOKEN or GITHUB_TOKEN to a token "
    "that may write the repository's issues, then run the command again"
)


@dataclass(frozen=True)
class ConnectionSettings:
    """How to reach GitHub for one run of planner."""

    api_url: str
    graphql_url: str
    token: str | None = field(repr=False)
    """None when neither $GH_TOKEN nor $GITHUB_TOKEN is set: anonymous REST reads only."""
    write_interval: float
    max_wait: int
    api: Literal["graphql", "rest"] = "graphql"
    """The API ``[github].api`` asks reads to go through; writes always use GraphQL."""

    @property
    def reads_through_rest(self) -> bool:
        """Whether reads use REST: asked for, or forced because GraphQL needs a token."""
        return self.api == "rest" or not self.token

    @classmethod
    def resolve(cls, github: GitHubSettings | None) -> ConnectionSettings:
        """Combine ``[github]`` with the environment; a missing token is left to the writes."""
        configured = github or GitHubSettings()
        api_url = (configured.api_url or os.environ.get("GITHUB_API_URL") or PUBLIC_API_URL).rstrip(
            "/"
        )
        token = os.environ.get("GH_TOKEN") or os.environ.get("GITHUB_TOKEN") or None
        return cls(
            api_url=api_url,
            graphql_url=graphql_url_for(api_url),
            token=token,
            write_interval=_write_interval(),
            max_wait=configured.max_wait,
            api=configured.api,
        )


def graphql_url_for(api_url: str) -> str:
    """GitHub's GraphQL address for a REST base, unless $GITHUB_GRAPHQL_URL says otherwise."""
    explicit = os.environ.get("GITHUB_GRAPHQL_URL")
    if explicit:
        return explicit
    if api_url == PUBLIC_API_URL:
        return PUBLIC_GRAPHQL_URL
    if api_url.endswith("/api/v3"):
        return api_url.removesuffix("/v3") + "/graphql"
    return api_url + "/graphql"


def _write_interval() -> float:
    raw = os.environ.get(WRITE_INTERVAL_VARIABLE)
    if raw is None or not raw.strip():
        return DEFAULT_WRITE_INTERVAL
    try:
        seconds = float(raw)
    except ValueError:
        raise GitHubError(
            f"{WRITE_INTERVAL_VARIABLE}={raw!r} is not a number of seconds; set it to e.g. 1"
        ) from None
    if seconds < 0:
        raise GitHubError(f"{WRITE_INTERVAL_VARIABLE} may not be negative; set it to e.g. 1")
    return seconds
