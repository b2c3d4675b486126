"""A fake GitHub (REST + GraphQL) for planner's tests, checked against GitHub's own API
descriptions. See ``server.py`` for the server, ``fixture.py`` for the pytest fixture and
``vendor/README.md`` for where the contract comes from."""

from .contract import TOLERATED_DEVIATIONS, ContractViolation
from .server import DEFAULT_TOKEN, FakeGitHub, start_server

__all__ = [
    "DEFAULT_TOKEN",
    "TOLERATED_DEVIATIONS",
    "ContractViolation",
    "FakeGitHub",
    "start_server",
]
