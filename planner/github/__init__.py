"""GitHub access for the issue and label kinds: one paced client, batched reads and writes.

``connect`` gives the process's client for a workspace; ``reads`` holds the batched GraphQL
reads and ``mutations`` the aliased writes. Nothing in here prints, and the token never
leaves ``ConnectionSettings``.
"""

from __future__ import annotations

from planner.github.client import GitHubClient, client_for
from planner.github.settings import ConnectionSettings
from planner.workspace import Workspace


def connect(workspace: Workspace) -> GitHubClient:
    """The client for the workspace's ``[github]`` settings and the environment's token."""
    return client_for(ConnectionSettings.resolve(workspace.loaded.config.github))


__all__ = ["ConnectionSettings", "GitHubClient", "client_for", "connect"]
