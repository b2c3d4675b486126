"""What planner last saw of the issues it manages, so that a plan reads only what moved.

Re-reading every declared issue makes a plan cost one request per hundred issues however
little changed. GitHub moves an issue's ``updatedAt`` on every change to it (fields, labels,
assignees, state, comments), so the issues updated since a moment are all the issues that
can differ from what was seen before that moment. A plan therefore asks each repository
once for the issues updated since the last read (``IssueActivity``) and takes every other
issue from these observations.

The observations are a cache, never a source of truth: ``<state_dir>/issues.observed``,
sealed with a checksum, owner-only, replaced atomically. A missing file means a full read;
a damaged one is logged and read past the same way; a failed write is logged at debug level
and forgotten (a plan on a read-only state folder still works). The state itself is not
involved: it is written only under the apply lock, while any plan may refresh this file.

Per repository the file keeps

- ``mark``: GitHub's time the next read asks "updated since", which is GitHub's ``Date`` of
  the read's first answer minus ``OVERLAP_SECONDS``. GitHub's clock, never the local one,
  so a machine whose clock is off cannot hide a change; the overlap covers timestamps of
  one-second resolution (an edit in the same second as the read) and skew between GitHub's
  own machines. Re-reading an issue that did not change costs nothing but its place on a
  page; missing one that did would be wrong.
- ``refreshed_at``: GitHub's time of the last full read, for ``[github].full_refresh_after``.
- ``total`` and ``highest_number``: how many issues the repository had at the read, and the
  highest number seen in that answer. Together they account for issues that leave without
  moving anything (deleted, or transferred away), see ``_why_full``.
- the issues themselves, as read (``RemoteIssue``), for the numbers the configuration or
  the state manages.

Each write replaces the whole file with what one read saw (old entries updated by what moved,
and the new mark), so it is consistent on its own: a plan that writes it after a concurrent
apply wrote it only sets an older mark, which reads more next time, never less.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

from planner.effects import effects, write_private_file
from planner.envelope import seal, unseal
from planner.github.reads import GitHubReader, IssueActivity, RemoteIssue

logger = logging.getLogger(__name__)

OBSERVATIONS_FILE = "issues.observed"
FORMAT_VERSION = 1
OVERLAP_SECONDS = 300
"""How far before GitHub's time of a read the next read asks for changes. Five minutes is far
more than GitHub's timestamps' one-second resolution and any skew between its servers, and
costs only the re-reading of issues changed in the five minutes before a plan."""

Refresh = Literal["auto", "full"]
"""``auto``: read what moved when the observations allow it; ``full``: read every issue."""

Identity = tuple[str, int]


@dataclass
class RepositoryObservations:
    """One repository's part of the observations; see the module's description."""

    mark: str | None
    refreshed_at: str | None
    total: int | None
    highest_number: int | None
    issues: dict[int, RemoteIssue] = field(default_factory=dict)


class IssueObservations:
    """The observations of one state folder, loaded from and saved to ``issues.observed``."""

    def __init__(self, path: Path, repos: dict[str, RepositoryObservations] | None = None) -> None:
        self.path = path
        self.repos = dict(repos or {})

    @classmethod
    def load(cls, state_dir: Path) -> IssueObservations:
        """The observations kept in ``state_dir``; none when missing, damaged or foreign."""
        path = state_dir / OBSERVATIONS_FILE
        try:
            body = unseal("observations", path.read_bytes())
            if body.get("format_version") != FORMAT_VERSION:
                logger.info("%s is of another format; every issue is read again", path)
                return cls(path)
            repos = {
                str(repo): _section_from_json(str(repo), section)
                for repo, section in body["repositories"].items()
            }
        except FileNotFoundError:
            logger.debug("no issue observations at %s yet; every issue is read", path)
            return cls(path)
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as error:
            logger.warning(
                "the issue observations %s are unreadable (%s); every issue is read again",
                path,
                error,
            )
            return cls(path)
        return cls(path, repos)

    def retain(self, identities: Iterable[Identity]) -> None:
        """Forget the issues of numbers no longer managed, so the file stays their size."""
        kept: dict[str, set[int]] = {}
        for repo, number in identities:
            kept.setdefault(repo, set()).add(number)
        for repo, section in self.repos.items():
            wanted = kept.get(repo, set())
            section.issues = {n: i for n, i in section.issues.items() if n in wanted}

    def save(self) -> None:
        """Replace the file; a failure is logged at debug level, never raised."""
        body = {
            "format_version": FORMAT_VERSION,
            "repositories": {
                repo: _section_to_json(section) for repo, section in sorted(self.repos.items())
            },
        }
        try:
            if not self.path.parent.is_dir():
                effects.mkdir(str(self.path.parent), mode=0o700)
            write_private_file(str(self.path), seal("observations", body))
        except OSError as error:
            logger.debug("could not write the issue observations %s: %s", self.path, error)


def discard_observations(state_dir: Path) -> None:
    """Forget every observation, so the next read of each issue is a full one."""
    path = state_dir / OBSERVATIONS_FILE
    try:
        effects.unlink(str(path))
    except FileNotFoundError:
        return
    except OSError as error:
        logger.debug("could not remove the issue observations %s: %s", path, error)


class IncrementalIssueReader:
    """Reads issues by number through the observations: what moved, plus what was seen.

    Use ``since`` to learn what to ask each repository's activity for (a plan asks in the
    request it makes anyway), then ``read``; ``read`` asks for what it was not given. After
    ``read``, ``save`` the observations (``retain`` first, to drop numbers no longer
    managed). Anything the activity cannot account for is read by number, 100 to a request,
    as a plan without observations would: the answers never differ from a full read's.
    """

    def __init__(
        self,
        reader: GitHubReader,
        observations: IssueObservations,
        *,
        refresh: Refresh,
        full_refresh_after: int,
    ) -> None:
        self.reader = reader
        self.observations = observations
        self.refresh = refresh
        self.full_refresh_after = full_refresh_after

    def since(self, repos: Iterable[str]) -> dict[str, str | None]:
        """The time to ask each repository's activity from; None asks for its counts only."""
        marks: dict[str, str | None] = {}
        for repo in sorted(set(repos)):
            section = self.observations.repos.get(repo)
            is_usable = self.refresh == "auto" and section is not None
            marks[repo] = section.mark if is_usable and section is not None else None
        return marks

    def read(
        self,
        identities: Iterable[Identity],
        activity: Mapping[str, IssueActivity] | None = None,
    ) -> dict[Identity, RemoteIssue]:
        """Issues by (repository, number); a number GitHub does not have is left out."""
        by_repo: dict[str, set[int]] = {}
        for repo, number in identities:
            by_repo.setdefault(repo, set()).add(number)
        known = dict(activity or {})
        unasked = {repo: since for repo, since in self.since(by_repo).items() if repo not in known}
        if unasked:
            known.update(self.reader.activity(unasked))

        found: dict[Identity, RemoteIssue] = {}
        for repo, numbers in sorted(by_repo.items()):
            seen = known[repo]
            section = self.observations.repos.get(repo)
            reason = self._why_full(section, seen)
            if reason is None and section is not None:
                issues = self._read_moved(repo, numbers, section, seen)
            else:
                logger.info("reading every managed issue of %s: %s", repo, reason)
                issues = self._read_all(repo, numbers, section, seen)
            found.update({(repo, n): issues[n] for n in sorted(numbers) if n in issues})
        return found

    def save(self, managed: Iterable[Identity] | None = None) -> None:
        """Write the observations, keeping only ``managed`` issues when given."""
        if managed is not None:
            self.observations.retain(managed)
        self.observations.save()

    def _why_full(self, section: RepositoryObservations | None, seen: IssueActivity) -> str | None:
        """Why what moved cannot stand for the whole repository; None when it can."""
        if self.refresh == "full":
            return "--refresh=full"
        if section is None or section.mark is None:
            return "nothing was observed before"
        if seen.since != section.mark:
            return "the activity was read from another time"
        if not seen.is_complete:
            return "issues moved while the pages of changed issues were read"
        clock = _clock(seen)
        if clock is None or section.refreshed_at is None:
            return "GitHub's clock is unknown"
        age = _seconds_between(section.refreshed_at, clock)
        if age >= self.full_refresh_after:
            return (
                f"the last full read is {age:.0f} s old ([github].full_refresh_after = "
                f"{self.full_refresh_after})"
            )
        if seen.total is not None and section.total is not None:
            # Every issue that arrived since the last read (created, or transferred in)
            # moved, and got a number above every number GitHub had handed out by then. So
            # the issues that moved and are numbered above the highest seen then are at
            # least the arrivals; if the count grew by exactly that many, nothing left.
            # Anything else (fewer, because an issue was deleted or transferred away, even
            # when an arrival hides it in the total; or more, which GitHub's counts should
            # never show) is checked by reading every managed issue.
            arrived = sum(
                1
                for issue in seen.moved
                if section.highest_number is None or issue.number > section.highest_number
            )
            if seen.total - section.total != arrived:
                return (
                    f"the repository has {seen.total} issues, {section.total} before and "
                    f"{arrived} new: an issue was deleted or transferred"
                )
        # Limitation: REST gives no count (``total`` is None), so there a deleted or
        # transferred issue is found by the next full read only, at the latest after
        # [github].full_refresh_after. And GitHub's counts are assumed to be as current
        # as the issues listed with them: a count that lags behind a deletion delays its
        # discovery by one plan, until the count catches up and no longer adds up.
        return None

    def _read_moved(
        self,
        repo: str,
        numbers: set[int],
        section: RepositoryObservations,
        seen: IssueActivity,
    ) -> dict[int, RemoteIssue]:
        issues = dict(section.issues)
        for issue in seen.moved:
            if issue.number in issues or issue.number in numbers:
                issues[issue.number] = issue
        unseen = sorted(numbers - issues.keys())
        if unseen:
            logger.info("reading %d issues of %s not observed before", len(unseen), repo)
            issues.update(_existing(self.reader.issues(repo, unseen)))
        logger.debug(
            "%s: %d issues moved since %s, %d read by number",
            repo,
            len(seen.moved),
            seen.since,
            len(unseen),
        )
        self.observations.repos[repo] = RepositoryObservations(
            mark=_mark(seen) or section.mark,
            refreshed_at=section.refreshed_at,
            total=seen.total,
            highest_number=_highest(section, seen),
            issues=issues,
        )
        return issues

    def _read_all(
        self,
        repo: str,
        numbers: set[int],
        section: RepositoryObservations | None,
        seen: IssueActivity,
    ) -> dict[int, RemoteIssue]:
        issues = _existing(self.reader.issues(repo, numbers))
        self.observations.repos[repo] = RepositoryObservations(
            mark=_mark(seen),
            refreshed_at=_clock(seen),
            total=seen.total,
            highest_number=_highest(section, seen),
            issues=issues,
        )
        return issues


def _existing(read: Mapping[int, RemoteIssue | None]) -> dict[int, RemoteIssue]:
    return {number: issue for number, issue in read.items() if issue is not None}


def _clock(seen: IssueActivity) -> str | None:
    """GitHub's time of the read: its ``Date``, else the newest update it reported."""
    if seen.seen_at is not None:
        return seen.seen_at
    return max((issue.updated_at for issue in seen.moved), default=None)


def _mark(seen: IssueActivity) -> str | None:
    clock = _clock(seen)
    if clock is None:
        return None
    return _format(_parse(clock) - timedelta(seconds=OVERLAP_SECONDS))


def _highest(section: RepositoryObservations | None, seen: IssueActivity) -> int | None:
    known = (section.highest_number if section else None, seen.highest_number)
    return max((number for number in known if number is not None), default=None)


def _parse(moment: str) -> datetime:
    parsed = datetime.fromisoformat(moment.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def _format(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _seconds_between(earlier: str, later: str) -> float:
    return (_parse(later) - _parse(earlier)).total_seconds()


# ----- the file's layout ---------------------------------------------------------------------


def _section_to_json(section: RepositoryObservations) -> dict[str, Any]:
    return {
        "mark": section.mark,
        "refreshed_at": section.refreshed_at,
        "total": section.total,
        "highest_number": section.highest_number,
        "issues": {
            str(number): {
                "node_id": issue.node_id,
                "title": issue.title,
                "body": issue.body,
                "state": issue.state,
                "state_reason": issue.state_reason,
                "labels": list(issue.labels),
                "assignees": list(issue.assignees),
                "milestone": issue.milestone,
                "updated_at": issue.updated_at,
            }
            for number, issue in sorted(section.issues.items())
        },
    }


def _section_from_json(repo: str, stored: dict[str, Any]) -> RepositoryObservations:
    issues = {}
    for number, entry in stored["issues"].items():
        issues[int(number)] = RemoteIssue(
            repo=repo,
            number=int(number),
            node_id=str(entry["node_id"]),
            title=str(entry["title"]),
            body=str(entry["body"]),
            state=str(entry["state"]),
            state_reason=entry["state_reason"],
            labels=tuple(str(name) for name in entry["labels"]),
            assignees=tuple(str(login) for login in entry["assignees"]),
            milestone=entry["milestone"],
            updated_at=str(entry["updated_at"]),
        )
    highest = stored["highest_number"]
    total = stored["total"]
    return RepositoryObservations(
        mark=stored["mark"],
        refreshed_at=stored["refreshed_at"],
        total=int(total) if total is not None else None,
        highest_number=int(highest) if highest is not None else None,
        issues=issues,
    )
