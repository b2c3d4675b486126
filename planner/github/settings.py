"""Where GitHub is and how planner may use it: addresses, token, pacing and patience.

Everything here comes from ``[github]`` and the environment, read once per process. The token
is kept only in memory: it is never part of a repr, a log line, a plan or a checkpoint.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from planner.config.models import GitHubSettings
from planner.errors import GitHubError

PUBLIC_API_URL = "https://api.github.com"
PUBLIC_GRAPHQL_URL = "https://api.github.com/graphql"
WRITE_INTERVAL_VARIABLE = "PLANNER_GITHUB_WRITE_INTERVAL"
DEFAULT_WRITE_INTERVAL = 1.0
"""GitHub asks integrations to leave at least a second between mutating requests."""


@dataclass(frozen=True)
class ConnectionSettings:
    """How to reach GitHub for one run of planner."""

    api_url: str
    graphql_url: str
    token: str = field(repr=False)
    write_interval: float
    max_wait: int

    @classmethod
    def resolve(cls, github: GitHubSettings | None) -> ConnectionSettings:
        """Combine ``[github]`` with the environment; GitHubError if no token is set."""
        configured = github or GitHubSettings()
        api_url = (configured.api_url or os.environ.get("GITHUB_API_URL") or PUBLIC_API_URL).rstrip(
            "/"
        )
        token = os.environ.get("GH_TOKEN") or os.environ.get("GITHUB_TOKEN")
        if not token:
            raise GitHubError(
                "no GitHub token: set GH_TOKEN (or GITHUB_TOKEN) in the environment to a token "
                "that may read and write the repositories' issues"
            )
        return cls(
            api_url=api_url,
            graphql_url=graphql_url_for(api_url),
            token=token,
            write_interval=_write_interval(),
            max_wait=configured.max_wait,
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
