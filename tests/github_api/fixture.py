"""The ``github_server`` pytest fixture: a fresh fake GitHub per test.

Load it as a plugin (``pytest_plugins = ["tests.github_api.fixture"]``). The test fails at
teardown when the server recorded contract violations (requests GitHub would refuse) or
internal errors (bugs in the fake). A test that provokes violations on purpose takes them
with ``github_server.take_violations()`` before it ends.

Options come from the ``github_server_options`` fixture, which a test module may override::

    @pytest.fixture
    def github_server_options():
        return {"latency": 0.05}
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from .server import FakeGitHub, start_server


@pytest.fixture
def github_server_options() -> dict[str, Any]:
    """Keyword arguments for :class:`FakeGitHub`; override to change them per module."""
    return {}


@pytest.fixture
def github_server(github_server_options: dict[str, Any]) -> Iterator[FakeGitHub]:
    """A running fake GitHub with no repositories yet (only the viewer user exists)."""
    with start_server(**github_server_options) as server:
        yield server
        problems = [f"contract violation: {v}" for v in server.violations]
        problems += [f"fake GitHub internal error: {e}" for e in server.internal_errors]
    if problems:
        pytest.fail("\n".join(problems), pytrace=False)
