"""The one error root of planner and its families.

Every error the user can cause or meet carries enough context to name what is at fault: a
file and line for configuration, an address for a resource. The CLI turns them into one
sentence and an exit code; nothing else in the package prints them.
"""

from __future__ import annotations

from pathlib import Path


class PlannerError(Exception):
    """Root of every error planner reports to the user (exit 1 unless a family says else)."""

    exit_code = 1

    def __init__(
        self,
        message: str,
        *,
        file: Path | str | None = None,
        line: int | None = None,
        address: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.file = str(file) if file is not None else None
        self.line = line
        self.address = address
        self.related: list[PlannerError] = []
        """Further problems found in the same pass (shown in JSON; text shows the first)."""

    def diagnostics(self) -> list[dict[str, object]]:
        """This problem and the related ones as {file, line, address, message} records."""
        return [
            {"file": e.file, "line": e.line, "address": e.address, "message": e.message}
            for e in [self, *self.related]
        ]

    def __str__(self) -> str:
        where = ""
        if self.file is not None:
            where = f"{self.file}:{self.line}: " if self.line else f"{self.file}: "
        if self.address is not None and self.address not in self.message:
            where += f"{self.address}: "
        return f"{where}{self.message}"


class ConfigError(PlannerError):
    """The configuration cannot be read or is invalid; nothing was changed."""


class PlanError(PlannerError):
    """A plan cannot be built, loaded or trusted; nothing was changed."""


class StalePlanError(PlanError):
    """A saved plan no longer matches what is there; nothing was changed."""


class StateError(PlannerError):
    """The state or checkpoint folder is damaged, foreign or locked."""


class LockError(StateError):
    """Another planner process holds the lock of the state folder."""


class ApplyError(PlannerError):
    """An apply stopped partway; the checkpoint was kept for status, resume and rollback."""

    exit_code = 3


class ApplyInterrupted(ApplyError):
    """The user pressed Ctrl-C; the step in flight finished and the checkpoint was kept."""

    exit_code = 130


class GitHubError(PlannerError):
    """GitHub refused a request or could not be reached."""
