"""Aliased GraphQL mutations, many to a request, carried out in order.

A kind hands over a list of ``Mutation`` objects; ``MutationRunner`` sends them ``batch_size``
at a time as one document (``m0: createIssue(input: $m0) {...} m1: ...``), which GitHub runs
one after another. Each alias's answer is handed back to its mutation's ``on_success`` on its
own, so a kind can journal every created issue the moment GitHub confirms it, and can queue
work that depends on it (closing an issue needs the id its creation returned).

When a request's answer is lost, the runner asks the kind to ``recover``: look at GitHub and
say which of the mutations still have to be sent. A timeout also halves the batch size, as
GitHub times out on documents that do too much.
"""

from __future__ import annotations

import logging
import random
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from planner.errors import GitHubError
from planner.github.client import MAX_ATTEMPTS, GitHubClient, OutcomeUnknown

logger = logging.getLogger(__name__)

DEFAULT_BATCH_SIZE = 50
"""Mutations per request; GitHub's secondary limits favour few large requests over many."""


@dataclass
class Mutation:
    """One aliased mutation: its field, input, what to select, and what it is about."""

    root_field: str
    input_type: str
    input: dict[str, Any]
    selection: str
    subject: str
    """Names the object and field for messages, e.g. ``issue.release (octo/repo#4)``."""
    on_success: Callable[[dict[str, Any]], list[Mutation]] = field(default=lambda _: [])
    """Called with the alias's result; returns mutations that may only follow this one."""


Recover = Callable[[list["Mutation"]], list["Mutation"]]
"""Given mutations whose outcome is unknown, look at GitHub and return those still to send."""


class MutationRunner:
    """Sends mutations in order, ``batch_size`` to a request, paced by the client."""

    def __init__(
        self,
        client: GitHubClient,
        recover: Recover,
        *,
        batch_size: int = DEFAULT_BATCH_SIZE,
        what: str = "changes",
    ) -> None:
        self.client = client
        self.recover = recover
        self.batch_size = batch_size
        self.what = what
        self.requests = 0

    def run(self, mutations: list[Mutation]) -> None:
        """Carry out every mutation (and what they queue); GitHubError at the first refusal."""
        queue: deque[Mutation] = deque(mutations)
        lost_in_a_row = 0
        while queue:
            chunk = [queue.popleft() for _ in range(min(self.batch_size, len(queue)))]
            document, variables = _document(chunk)
            try:
                self.requests += 1
                answer = self.client.mutate(
                    document,
                    variables,
                    purpose=f"a request of {len(chunk)} {self.what}",
                )
            except OutcomeUnknown as lost:
                lost_in_a_row += 1
                if lost_in_a_row >= MAX_ATTEMPTS:
                    raise
                if lost.is_too_large and self.batch_size > 1:
                    self.batch_size = max(1, self.batch_size // 2)
                    logger.warning(
                        "GitHub timed out; sending %d mutations a request from now on",
                        self.batch_size,
                    )
                logger.warning("%s; looking at GitHub before sending again", lost)
                self.client.sleep(random.uniform(0.5, 1.0) * lost_in_a_row)
                queue.extendleft(reversed(self.recover(chunk)))
                continue
            lost_in_a_row = 0

            refused: tuple[Mutation, dict[str, Any] | None] | None = None
            for index, mutation in enumerate(chunk):
                alias = f"m{index}"
                result = answer.data.get(alias)
                error = answer.error_at(alias)
                if result is None or error is not None:
                    refused = refused or (mutation, error)
                    continue
                queue.extend(mutation.on_success(result))
            if refused is not None:
                mutation, error = refused
                reason = str((error or {}).get("message") or "no reason given")
                raise GitHubError(
                    f"GitHub refused to change {mutation.subject} ({mutation.root_field}: "
                    f"{reason}); correct the configuration or the repository"
                )


def _document(chunk: list[Mutation]) -> tuple[str, dict[str, Any]]:
    declarations = ", ".join(f"$m{i}: {m.input_type}!" for i, m in enumerate(chunk))
    fields = "\n".join(
        f"  m{i}: {m.root_field}(input: $m{i}) {{ {m.selection} }}" for i, m in enumerate(chunk)
    )
    variables = {f"m{i}": m.input for i, m in enumerate(chunk)}
    return f"mutation({declarations}) {{\n{fields}\n}}", variables
