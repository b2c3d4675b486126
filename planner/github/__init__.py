"""GitHub access for the issue and label kinds: one paced client, batched reads and writes.

``reader_for`` gives what the kinds read through: batched GraphQL (``reads``) by default, REST
list endpoints with an ETag cache (``rest_reads``) for ``[github] api = "rest"`` or when no
token is set. ``writer_for`` gives the client for the aliased GraphQL writes of ``mutations``,
and refuses without a token. Nothing in here prints, and the token never leaves
``ConnectionSettings``.
"""

from __future__ import annotations

from planner.errors import GitHubError
from planner.github.client import GitHubClient, client_for
from planner.github.etags import cache_for
from planner.github.reads import GitHubReader, GraphQLReader
from planner.github.rest_reads import RestReader
from planner.github.settings import NO_TOKEN_FOR_WRITES, ConnectionSettings
from planner.workspace import Workspace


def connect(workspace: Workspace) -> GitHubClient:
    """The client for the workspace's ``[github]`` settings and the environment's token."""
    return client_for(ConnectionSettings.resolve(workspace.loaded.config.github))


def reader_for(workspace: Workspace) -> GitHubReader:
    """A fresh reader for one plan step or apply batch, through the API the settings choose.

    Fresh because the REST reader keeps the issue lists it read; after writes, ask again.
    """
    client = connect(workspace)
    if client.settings.reads_through_rest:
        return RestReader(client, cache_for(workspace.state_dir))
    return GraphQLReader(client)


def writer_for(workspace: Workspace) -> GitHubClient:
    """The client for mutations; GitHubError (one sentence) when no token is set."""
    client = connect(workspace)
    if not client.settings.token:
        raise GitHubError(NO_TOKEN_FOR_WRITES)
    return client


__all__ = [
    "ConnectionSettings",
    "GitHubClient",
    "GitHubReader",
    "client_for",
    "connect",
    "reader_for",
    "writer_for",
]
