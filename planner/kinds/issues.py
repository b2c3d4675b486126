"""GitHub issues: read 100 to a request, written as aliased mutations, created exactly once.

An issue planner creates carries a hidden marker naming its configuration key at the end of
its body, and its number goes into the journal the moment GitHub confirms it (and into the
state when the apply completes). A create whose answer was lost is therefore found again:
on resume, before anything is sent twice, and by every plan for a key the state has no number
for. Fields left out of an ``[[issue]]`` are not managed; an issue that leaves the
configuration is only released (``forget``): GitHub issues are never deleted.

Rollback puts back the fields an apply changed, from before-images kept in the checkpoint, and
closes the issues it created as "not planned" (deleting an issue needs admin rights).
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from planner.apply.checkpoint import BeforeImage, Checkpoint, PackWriter
from planner.apply.run import ApplyRun
from planner.config.models import GitHubSettings, IssueSpec
from planner.errors import GitHubError, PlanError, StalePlanError
from planner.github import GitHubReader, reader_for, writer_for
from planner.github.mutations import DEFAULT_BATCH_SIZE, Mutation, MutationRunner
from planner.github.observed import IncrementalIssueReader, IssueObservations, Refresh
from planner.github.reads import RemoteIssue, RepositoryFacts, with_marker
from planner.kinds.base import BatchShape, Capture, PlanRequest, ResourceKind
from planner.plan.model import Action, Change
from planner.state import IssueRecord, State
from planner.workspace import Workspace

logger = logging.getLogger(__name__)

CHANGES_PER_BATCH = 1000
"""Issue changes per checkpoint batch; each batch sends them 50 mutations to a request."""

CREATED_NOTE = (
    "created by the apply being rolled back; closed as not planned, because GitHub deletes "
    "issues only for repository admins"
)
ISSUE_SELECTION = "issue { id number updatedAt }"
_FINGERPRINT = re.compile(r"^gh:(?P<repo>[^#]+)#(?P<number>\d+):")


@dataclass(frozen=True)
class DesiredIssue:
    """An issue as declared: which one it is and the values of the fields it manages."""

    key: str
    repo: str
    number: int | None
    values: dict[str, Any] = field(default_factory=dict)

    @property
    def digest(self) -> str:
        text = json.dumps(
            {"key": self.key, "repo": self.repo, "number": self.number, "values": self.values},
            sort_keys=True,
        )
        return hashlib.sha256(text.encode()).hexdigest()

    @property
    def wants_closed(self) -> bool:
        return self.values.get("state") == "closed"


def desired_values(spec: IssueSpec, body: str | None) -> dict[str, Any]:
    """The managed fields of a declared issue, normalised the way they are compared."""
    values: dict[str, Any] = {}
    if spec.title is not None:
        values["title"] = spec.title
    if body is not None:
        values["body"] = body
    if spec.state is not None:
        values["state"] = spec.state
    if spec.state_reason is not None:
        values["state_reason"] = spec.state_reason
    if spec.labels is not None:
        values["labels"] = _name_set(spec.labels)
    if spec.assignees is not None:
        values["assignees"] = _name_set(spec.assignees)
    if spec.milestone is not None:
        values["milestone"] = spec.milestone or None
    return values


def _name_set(names: Iterable[str]) -> list[str]:
    unique = {name.casefold(): name for name in names}
    return sorted(unique.values(), key=str.casefold)


def changed_fields(want: Mapping[str, Any], have: Mapping[str, Any]) -> list[str]:
    """The managed fields whose current value differs from the declared one."""
    changed = []
    for name, value in want.items():
        current = have.get(name)
        if name in ("labels", "assignees"):
            same = {v.casefold() for v in value} == {v.casefold() for v in current or []}
        elif name == "state_reason":
            same = have.get("state") == "closed" and current == value
        elif name == "body":
            same = (current or "").replace("\r\n", "\n") == (value or "").replace("\r\n", "\n")
        else:
            same = current == value
        if not same:
            changed.append(name)
    return changed


def fingerprint_of(issue: RemoteIssue) -> str:
    """Where the issue is and a digest of every field as read, with its update time."""
    text = json.dumps(
        {"values": issue.values(), "marker": issue.marker_key, "updated": issue.updated_at},
        sort_keys=True,
    )
    return f"gh:{issue.repo}#{issue.number}:{hashlib.sha256(text.encode()).hexdigest()[:24]}"


def identity_of(fingerprint: str) -> tuple[str, int] | None:
    """The (repository, number) a fingerprint was taken of; None for an issue to create."""
    found = _FINGERPRINT.match(fingerprint)
    return (found["repo"], int(found["number"])) if found else None


def _absent(repo: str) -> str:
    return f"absent:{repo}"


def _shown(values: Mapping[str, Any], names: Iterable[str]) -> dict[str, Any]:
    return {name: values.get(name) for name in names}


@dataclass
class _Target:
    """One issue an apply batch works on, as far as it is known."""

    change: Change
    want: DesiredIssue
    number: int | None = None
    node_id: str | None = None
    current: dict[str, Any] | None = None
    has_marker: bool = False
    pending: int = 0

    @property
    def subject(self) -> str:
        where = f"#{self.number}" if self.number is not None else " (new issue)"
        return f"{self.change.address} ({self.want.repo}{where})"


class IssueKind(ResourceKind):
    """Issues declared in ``[[issue]]``."""

    name = "issue"
    order = 20

    def desired(self, workspace: Workspace) -> Mapping[str, DesiredIssue]:
        loaded = workspace.loaded
        default_repo = loaded.config.github.repo if loaded.config.github else None
        result: dict[str, DesiredIssue] = {}
        for spec in loaded.config.issue:
            repo = spec.repo or default_repo
            assert repo is not None, "the loader refuses issues without a repository"
            body = spec.body
            if spec.body_file is not None:
                body = (loaded.folder / spec.body_file).read_text(encoding="utf-8")
            result[f"issue.{spec.key}"] = DesiredIssue(
                spec.key, repo, spec.number, desired_values(spec, body)
            )
        return result

    # ----- plan ------------------------------------------------------------------------------

    def plan(self, request: PlanRequest) -> list[Change]:
        workspace = request.workspace
        declared = self.desired(workspace)
        selected = {
            address: want for address, want in declared.items() if request.targets.matches(address)
        }
        changes = [
            Change(
                address=f"issue.{key}",
                kind="issue",
                action=Action.FORGET,
                fingerprint=f"gh:{record.repo}#{record.number}:released",
                note=f"no longer declared; {record.repo}#{record.number} stays on GitHub",
            )
            for key, record in sorted(request.state.issues.items())
            if f"issue.{key}" not in declared and request.targets.matches(f"issue.{key}")
        ]
        if not selected:
            return changes

        reader = reader_for(workspace)
        incremental = _incremental_reader(workspace, reader, request.refresh)
        numbers = {
            address: _known_number(want, request.state.issues.get(want.key))
            for address, want in selected.items()
        }
        numbered = [(selected[a].repo, n) for a, n in numbers.items() if n is not None]
        unnumbered = {selected[a].repo for a, n in numbers.items() if n is None}
        facts, users = reader.repositories(
            {want.repo for want in selected.values()},
            logins=[login for w in selected.values() for login in w.values.get("assignees", [])],
            with_milestones=any("milestone" in w.values for w in selected.values()),
            recent_for=unnumbered,
            activity_since=incremental.since(repo for repo, _ in numbered),
        )
        self._check_references(workspace, selected, facts, users)

        issues: dict[tuple[str, int], RemoteIssue] = {}
        if numbered:
            activity = {repo: f.activity for repo, f in facts.items() if f.activity is not None}
            issues = incremental.read(numbered, activity)
            incremental.save(managed=_managed(declared, request.state))
        marked = _find_created(
            reader,
            facts,
            [(want.repo, want.key) for a, want in selected.items() if numbers[a] is None],
        )
        for address, want in selected.items():
            number = numbers[address]
            if number is None:
                changes.append(self._diff(address, want, marked.get((want.repo, want.key))))
                continue
            current = issues.get((want.repo, number))
            if current is None and want.number is not None:
                raise PlanError(
                    f"issue #{number} does not exist in {want.repo} (or is a pull request); "
                    "correct number, or remove it to create a new issue",
                    address=address,
                )
            note = None if current else f"#{number} is gone from {want.repo}; created again"
            changes.append(self._diff(address, want, current, note))
        return changes

    def _diff(
        self,
        address: str,
        want: DesiredIssue,
        current: RemoteIssue | None,
        note: str | None = None,
    ) -> Change:
        if current is None:
            return Change(
                address=address,
                kind="issue",
                action=Action.CREATE,
                after=dict(want.values),
                changed=sorted(want.values),
                fingerprint=_absent(want.repo),
                desired_digest=want.digest,
                note=note,
            )
        have = current.values()
        changed = changed_fields(want.values, have)
        if want.number is None and current.marker_key == want.key and note is None:
            # Limitation: when such a found issue needs no change, the plan has nothing to
            # apply, and ``planner apply`` saves no state for a plan without changes; so its
            # number reaches the state only with the next apply that changes something, and
            # until then every plan repeats the (cheap, batched) marker lookup for it.
            note = f"{want.repo}#{current.number}, found by the marker planner put in its body"
        return Change(
            address=address,
            kind="issue",
            action=Action.UPDATE if changed else Action.NO_OP,
            before=_shown(have, want.values) if changed else None,
            after=dict(want.values) if changed else None,
            changed=changed,
            fingerprint=fingerprint_of(current),
            desired_digest=want.digest,
            note=note if changed else None,
        )

    @staticmethod
    def _check_references(
        workspace: Workspace,
        selected: Mapping[str, DesiredIssue],
        facts: Mapping[str, RepositoryFacts],
        users: Mapping[str, str | None],
    ) -> None:
        """Every label, milestone and assignee an issue names exists (or will, for labels)."""
        config = workspace.loaded.config
        default_repo = config.github.repo if config.github else None
        declared_labels = {
            ((label.repo or default_repo or ""), label.name.casefold()) for label in config.label
        }
        for address, want in selected.items():
            repository = facts[want.repo]
            for name in want.values.get("labels", []):
                if repository.label(name) is None and (want.repo, name.casefold()) not in (
                    declared_labels
                ):
                    raise PlanError(
                        f"the label '{name}' does not exist in {want.repo}; declare it in a "
                        "[[label]] table or correct labels",
                        address=address,
                    )
            milestone = want.values.get("milestone")
            if milestone is not None and milestone not in repository.milestones:
                raise PlanError(
                    f"the milestone '{milestone}' does not exist in {want.repo}; create it on "
                    "GitHub or correct milestone",
                    address=address,
                )
            for login in want.values.get("assignees", []):
                if users.get(login.casefold()) is None:
                    raise PlanError(
                        f"the assignee '{login}' is not a GitHub user; correct assignees",
                        address=address,
                    )

    def batches(self, changes: list[Change]) -> list[BatchShape]:
        shapes = []
        for start in range(0, len(changes), CHANGES_PER_BATCH):
            chunk = changes[start : start + CHANGES_PER_BATCH]
            first = sum(_first_round(change) for change in chunk)
            then = sum(1 for c in chunk if c.action is Action.CREATE and _closes(c))
            requests = -(-first // DEFAULT_BATCH_SIZE) + -(-then // DEFAULT_BATCH_SIZE)
            note = f"{first + then} mutation{'s' if first + then != 1 else ''}"
            shapes.append(BatchShape(chunk, requests=requests, note=note))
        return shapes

    # ----- apply -----------------------------------------------------------------------------

    def capture(self, run: ApplyRun, changes: list[Change], pack: PackWriter) -> Capture:
        # Refused here, before the checkpoint or any change, when there is no token to write.
        writer_for(run.workspace)
        incremental = _incremental_reader(run.workspace, reader_for(run.workspace))
        capture = Capture()
        wanted: list[tuple[str, int]] = []
        for change in changes:
            identity = identity_of(change.fingerprint)
            if identity is None:
                want = run.desired.get(change.address)
                assert isinstance(want, DesiredIssue)
                capture.images[change.address] = BeforeImage(
                    address=change.address,
                    exists=False,
                    fields={"repo": want.repo, "key": want.key},
                )
                continue
            wanted.append(identity)

        # The same read as the plan's: what moved since its observations, so an issue that
        # changed after the plan (its fingerprint holds updatedAt) is stale.
        issues = incremental.read(wanted) if wanted else {}
        if wanted:
            incremental.save()
        for change in changes:
            identity = identity_of(change.fingerprint)
            if identity is None:
                continue
            current = issues.get(identity)
            if current is None or fingerprint_of(current) != change.fingerprint:
                raise StalePlanError(
                    f"stale plan: {identity[0]}#{identity[1]} changed on GitHub since the plan "
                    "was made; run planner plan again",
                    address=change.address,
                )
            capture.images[change.address] = BeforeImage(
                address=change.address,
                exists=True,
                fields={
                    "repo": current.repo,
                    "key": change.address.removeprefix("issue."),
                    "number": current.number,
                    "node_id": current.node_id,
                    "updated_at": current.updated_at,
                    "has_marker": current.marker_key is not None,
                    "values": current.values(),
                    "changed": list(change.changed),
                },
            )
        return capture

    def apply_batch(self, run: ApplyRun, changes: list[Change]) -> None:
        checkpoint = run.checkpoint
        assert checkpoint is not None and changes
        batch = changes[0].batch
        assert batch is not None
        client = writer_for(run.workspace)
        reader = reader_for(run.workspace)
        targets = self._targets(run, checkpoint, batch, changes)

        if run.is_recovering:
            self._look_again(reader, checkpoint, batch, targets)
        unread = [t for t in targets if t.number is not None and t.current is None]
        if unread:
            # On recovery every target is read again: through the observations, whose
            # read of what moved also sees what the stopped apply changed.
            incremental = _incremental_reader(run.workspace, reader) if run.is_recovering else None
            self._read_current(reader, unread, incremental)

        facts, users = reader.repositories(
            {t.want.repo for t in targets},
            logins=[login for t in targets for login in t.want.values.get("assignees", [])],
            with_milestones=any("milestone" in t.want.values for t in targets),
            for_writing=True,
        )
        writer = _IssueWriter(run, checkpoint, batch, facts, users)
        mutations: list[Mutation] = []
        for target in targets:
            planned = writer.mutations_for(target)
            if not planned:
                run.advance()
            mutations.extend(planned)

        # A new reader for each recovery: what was read before the writes is out of date.
        runner = MutationRunner(
            client,
            lambda lost: writer.recover(reader_for(run.workspace), lost),
            what="issue changes",
        )
        runner.run(mutations)
        logger.info(
            "issue batch %d: %d mutations in %d requests", batch, len(mutations), runner.requests
        )

    @staticmethod
    def _targets(
        run: ApplyRun, checkpoint: Checkpoint, batch: int, changes: list[Change]
    ) -> list[_Target]:
        journaled = _journaled(checkpoint, [batch])
        targets = []
        for change in changes:
            want = run.desired[change.address]
            assert isinstance(want, DesiredIssue)
            target = _Target(change, want)
            image = checkpoint.header.before.get(change.address)
            if image is not None and image.exists:
                target.number = int(image.fields["number"])
                target.node_id = str(image.fields["node_id"])
                target.current = dict(image.fields["values"])
                target.has_marker = bool(image.fields.get("has_marker"))
            elif change.address in journaled:
                detail = journaled[change.address]
                target.number = int(detail["number"])
                target.node_id = str(detail["node_id"])
                target.has_marker = True
            targets.append(target)
        return targets

    @staticmethod
    def _look_again(
        reader: GitHubReader, checkpoint: Checkpoint, batch: int, targets: list[_Target]
    ) -> None:
        """On resume: find creates whose answer was lost, and forget what was read before."""
        creates = [t for t in targets if t.number is None]
        marked = _find_created(reader, {}, [(t.want.repo, t.want.key) for t in creates])
        for target in creates:
            found = marked.get((target.want.repo, target.want.key))
            if found is None:
                continue
            logger.info("found %s, created before the apply stopped", target.subject)
            target.number, target.node_id = found.number, found.node_id
            # Journaled like a confirmed create, so the state gets its number even when
            # nothing more has to be sent for it.
            checkpoint.record(
                "step",
                batch,
                detail={
                    "kind": "issue",
                    "address": target.change.address,
                    "mutation": "found",
                    "number": found.number,
                    "node_id": found.node_id,
                    "updated_at": found.updated_at,
                },
            )
        for target in targets:
            target.current = None

    @staticmethod
    def _read_current(
        reader: GitHubReader,
        targets: list[_Target],
        incremental: IncrementalIssueReader | None = None,
    ) -> None:
        identities = [(t.want.repo, t.number) for t in targets if t.number is not None]
        if incremental is not None:
            issues = incremental.read(identities)
            incremental.save()
        else:
            issues = _read_numbered(reader, identities)
        for target in targets:
            assert target.number is not None
            found = issues.get((target.want.repo, target.number))
            if found is None:
                raise GitHubError(
                    f"{target.subject} no longer exists on GitHub; run planner plan again"
                )
            target.node_id = found.node_id
            target.current = found.values()
            target.has_marker = found.marker_key is not None

    # ----- rollback --------------------------------------------------------------------------

    def invert(self, run: ApplyRun, original: Checkpoint, changes: list[Change]) -> list[Change]:
        images = original.header.before
        desired = self.desired_from_images(images, original)
        begun = [c for c in changes if c.action.is_change and c.address in desired]
        if not begun:
            return []
        reader = reader_for(run.workspace)

        journaled = _journaled(
            original, [b.index for b in original.header.plan.batches if b.kind == "issue"]
        )
        recorded = run.workspace.store.load().issues
        numbers: dict[str, tuple[str, int]] = {}
        lost: list[tuple[str, str]] = []
        for change in begun:
            image = images[change.address]
            want = desired[change.address]
            assert isinstance(want, DesiredIssue)
            if image.exists:
                numbers[change.address] = (want.repo, int(image.fields["number"]))
            elif change.address in journaled:
                numbers[change.address] = (want.repo, int(journaled[change.address]["number"]))
            elif want.key in recorded and recorded[want.key].repo == want.repo:
                numbers[change.address] = (want.repo, recorded[want.key].number)
            else:
                lost.append((want.repo, want.key))
        for (repo, key), issue in _find_created(reader, {}, lost).items():
            numbers[f"issue.{key}"] = (repo, issue.number)

        issues = _read_numbered(reader, list(numbers.values()))
        inverse = []
        for change in begun:
            identity = numbers.get(change.address)
            current = issues.get(identity) if identity else None
            if current is None:
                continue
            want = desired[change.address]
            assert isinstance(want, DesiredIssue)
            undo = self._diff(change.address, want, current)
            if undo.action is Action.NO_OP:
                continue
            if not images[change.address].exists:
                undo = undo.model_copy(update={"note": CREATED_NOTE})
            inverse.append(undo)
        return inverse

    def desired_from_images(
        self, images: Mapping[str, BeforeImage], checkpoint: Checkpoint
    ) -> Mapping[str, DesiredIssue]:
        result: dict[str, DesiredIssue] = {}
        for address, image in images.items():
            if not address.startswith("issue."):
                continue
            repo, key = str(image.fields["repo"]), str(image.fields["key"])
            if not image.exists:
                values = {"state": "closed", "state_reason": "not_planned"}
                result[address] = DesiredIssue(key, repo, None, values)
                continue
            before = dict(image.fields["values"])
            restored = set(image.fields.get("changed", []))
            if "state" in restored and before.get("state") == "closed":
                restored.add("state_reason")
            values = {name: before[name] for name in sorted(restored)}
            if values.get("state_reason") not in (None, "completed", "not_planned"):
                values.pop("state_reason")
            result[address] = DesiredIssue(key, repo, int(image.fields["number"]), values)
        return result

    def finish(self, run: ApplyRun, state: State) -> State:
        if run.rollback_state_before is not None:
            return state.model_copy(update={"issues": dict(run.rollback_state_before.issues)})
        issues = dict(state.issues)
        journaled: dict[str, dict[str, Any]] = {}
        if run.checkpoint is not None:
            journaled = _journaled(
                run.checkpoint, [b.index for b in run.plan.batches if b.kind == "issue"]
            )
        for change in run.plan.changes:
            if change.kind != "issue":
                continue
            key = change.address.removeprefix("issue.")
            if change.action is Action.FORGET:
                issues.pop(key, None)
                continue
            want = run.desired.get(change.address)
            if not isinstance(want, DesiredIssue):
                continue
            detail = journaled.get(change.address, {})
            identity = identity_of(change.fingerprint)
            number = detail.get("number") or (identity[1] if identity else None)
            if number is None:
                continue
            known = issues.get(key)
            is_same = known is not None and known.repo == want.repo and known.number == number
            issues[key] = IssueRecord(
                repo=want.repo,
                number=int(number),
                created=known.created if known is not None and is_same else want.number is None,
                node_id=detail.get("node_id") or (known.node_id if known and is_same else None),
                updated_at=detail.get("updated_at")
                or (known.updated_at if known and is_same else None),
                fields=dict(want.values),
            )
        return state.model_copy(update={"issues": issues})


class _IssueWriter:
    """Turns targets into mutations and journals every confirmed one on its own."""

    def __init__(
        self,
        run: ApplyRun,
        checkpoint: Checkpoint,
        batch: int,
        facts: Mapping[str, RepositoryFacts],
        users: Mapping[str, str | None],
    ) -> None:
        self.run = run
        self.checkpoint = checkpoint
        self.batch = batch
        self.facts = facts
        self.users = users
        self.creates: dict[int, _Target] = {}

    def mutations_for(self, target: _Target) -> list[Mutation]:
        """What to send for one target now (a close after a create is queued later)."""
        if target.number is None:
            mutation = self._create(target)
            target.pending = 1
            return [mutation]
        assert target.current is not None and target.node_id is not None
        mutations = []
        changed = changed_fields(target.want.values, target.current)
        update = self._update_input(target, changed)
        if update is not None:
            mutations.append(self._mutation(target, "updateIssue", "UpdateIssueInput", update))
        if self._needs_close(target, changed):
            mutations.append(self._close(target))
        target.pending = len(mutations)
        return mutations

    def _create(self, target: _Target) -> Mutation:
        want = target.want
        values = want.values
        given: dict[str, Any] = {
            "repositoryId": self.facts[want.repo].node_id,
            "title": values["title"],
            "body": with_marker(values.get("body") or "", want.key),
        }
        self._add_references(target, given, [n for n in values if n != "title"])
        mutation = self._mutation(target, "createIssue", "CreateIssueInput", given)
        self.creates[id(mutation)] = target
        return mutation

    def _update_input(self, target: _Target, changed: list[str]) -> dict[str, Any] | None:
        assert target.current is not None
        values = target.want.values
        given: dict[str, Any] = {"id": target.node_id}
        if "title" in changed:
            given["title"] = values["title"]
        if "body" in changed:
            body = values["body"] or ""
            given["body"] = with_marker(body, target.want.key) if target.has_marker else body
        self._add_references(target, given, changed)
        if values.get("state") == "open" and target.current.get("state") != "open":
            given["state"] = "OPEN"
        return given if len(given) > 1 else None

    def _add_references(self, target: _Target, given: dict[str, Any], names: list[str]) -> None:
        """Label, assignee and milestone ids for the fields in ``names``."""
        values = target.want.values
        facts = self.facts[target.want.repo]
        if "labels" in names:
            ids = []
            for name in values["labels"]:
                label = facts.label(name)
                if label is None:
                    raise GitHubError(
                        f"the label '{name}' does not exist in {target.want.repo}, so "
                        f"{target.subject} cannot get it; declare it in a [[label]] table"
                    )
                ids.append(label.node_id)
            given["labelIds"] = ids
        if "assignees" in names:
            ids = []
            for login in values["assignees"]:
                user = self.users.get(login.casefold())
                if user is None:
                    raise GitHubError(
                        f"the assignee '{login}' of {target.subject} is not a GitHub user; "
                        "correct assignees"
                    )
                ids.append(user)
            given["assigneeIds"] = ids
        if "milestone" in names:
            title = values["milestone"]
            milestone = facts.milestones.get(title) if title else None
            if title and milestone is None:
                raise GitHubError(
                    f"the milestone '{title}' of {target.subject} does not exist in "
                    f"{target.want.repo}; create it or correct milestone"
                )
            given["milestoneId"] = milestone

    @staticmethod
    def _needs_close(target: _Target, changed: list[str]) -> bool:
        if not target.want.wants_closed:
            return False
        return "state" in changed or "state_reason" in changed

    def _close(self, target: _Target) -> Mutation:
        reason = target.want.values.get("state_reason") or "completed"
        given = {"issueId": target.node_id, "stateReason": str(reason).upper()}
        return self._mutation(target, "closeIssue", "CloseIssueInput", given)

    def _mutation(
        self, target: _Target, field_name: str, input_type: str, given: dict[str, Any]
    ) -> Mutation:
        fields = sorted(set(target.want.values) & set(_INPUT_FIELDS.get(field_name, ())))
        subject = f"{target.subject}: {', '.join(fields) or 'state'}"
        return Mutation(
            root_field=field_name,
            input_type=input_type,
            input=given,
            selection=ISSUE_SELECTION,
            subject=subject,
            on_success=lambda result: self._confirmed(target, field_name, result),
        )

    def _confirmed(
        self, target: _Target, field_name: str, result: dict[str, Any]
    ) -> list[Mutation]:
        """Journal one confirmed mutation; after a create, queue its close if one is wanted."""
        issue = result.get("issue") or {}
        target.number = int(issue["number"])
        target.node_id = str(issue["id"])
        self.checkpoint.record(
            "step",
            self.batch,
            detail={
                "kind": "issue",
                "address": target.change.address,
                "mutation": field_name,
                "number": target.number,
                "node_id": target.node_id,
                "updated_at": issue.get("updatedAt"),
            },
        )
        follow: list[Mutation] = []
        if field_name == "createIssue" and target.want.wants_closed:
            follow.append(self._close(target))
        target.pending += len(follow) - 1
        if target.pending == 0:
            self.run.advance()
        return follow

    def recover(self, reader: GitHubReader, lost: list[Mutation]) -> list[Mutation]:
        """After a lost answer: creates GitHub did carry out are confirmed, not sent again.

        Every other mutation sets absolute values (title, exact label set, closed with a
        reason), so sending it again is harmless.
        """
        creates = [self.creates[id(m)] for m in lost if id(m) in self.creates]
        found = _find_created(reader, {}, [(t.want.repo, t.want.key) for t in creates])
        resend: list[Mutation] = []
        for mutation in lost:
            target = self.creates.get(id(mutation))
            issue = found.get((target.want.repo, target.want.key)) if target else None
            if target is None or issue is None:
                resend.append(mutation)
                continue
            logger.info("%s was created before its answer was lost", target.subject)
            confirmed = {"id": issue.node_id, "number": issue.number, "updatedAt": issue.updated_at}
            resend.extend(mutation.on_success({"issue": confirmed}))
        return resend


_INPUT_FIELDS: dict[str, tuple[str, ...]] = {
    "createIssue": ("title", "body", "labels", "assignees", "milestone"),
    "updateIssue": ("title", "body", "labels", "assignees", "milestone", "state"),
    "closeIssue": ("state", "state_reason"),
}


def _incremental_reader(
    workspace: Workspace, reader: GitHubReader, refresh: Refresh = "auto"
) -> IncrementalIssueReader:
    """Reads by number through the state folder's observations (see ``observed``)."""
    settings = workspace.loaded.config.github or GitHubSettings()
    return IncrementalIssueReader(
        reader,
        IssueObservations.load(workspace.state_dir),
        refresh=refresh,
        full_refresh_after=settings.full_refresh_after,
    )


def _managed(declared: Mapping[str, DesiredIssue], state: State) -> set[tuple[str, int]]:
    """Every issue the configuration or the state names by number, targeted or not."""
    managed = {(want.repo, want.number) for want in declared.values() if want.number is not None}
    managed.update((record.repo, record.number) for record in state.issues.values())
    return managed


def _known_number(want: DesiredIssue, record: IssueRecord | None) -> int | None:
    if want.number is not None:
        return want.number
    if record is not None and record.repo == want.repo:
        return record.number
    return None


def _read_numbered(
    reader: GitHubReader, identities: Iterable[tuple[str, int]]
) -> dict[tuple[str, int], RemoteIssue]:
    """Issues by (repository, number), 100 to a request per repository; missing ones left out."""
    by_repo: dict[str, set[int]] = {}
    for repo, number in identities:
        by_repo.setdefault(repo, set()).add(number)
    found: dict[tuple[str, int], RemoteIssue] = {}
    for repo, numbers in sorted(by_repo.items()):
        for number, issue in reader.issues(repo, numbers).items():
            if issue is not None:
                found[(repo, number)] = issue
    return found


def _find_created(
    reader: GitHubReader,
    facts: Mapping[str, RepositoryFacts],
    wanted: Iterable[tuple[str, str]],
) -> dict[tuple[str, str], RemoteIssue]:
    """Issues planner created for (repository, key) pairs, found by their markers."""
    by_repo: dict[str, set[str]] = {}
    for repo, key in wanted:
        by_repo.setdefault(repo, set()).add(key)
    found: dict[tuple[str, str], RemoteIssue] = {}
    for repo, keys in sorted(by_repo.items()):
        for key, issue in reader.find_marked(facts.get(repo), repo, keys).items():
            found[(repo, key)] = issue
    return found


def _journaled(checkpoint: Checkpoint, batches: Iterable[int]) -> dict[str, dict[str, Any]]:
    """The last confirmed mutation of each issue in these batches, by address."""
    confirmed: dict[str, dict[str, Any]] = {}
    for index in batches:
        for detail in checkpoint.details(index):
            if detail.get("kind") == "issue" and detail.get("number") is not None:
                confirmed[str(detail["address"])] = detail
    return confirmed


def _closes(change: Change) -> bool:
    after = change.after or {}
    return after.get("state") == "closed"


def _first_round(change: Change) -> int:
    """Mutations a change sends before anything it depends on is known (plan estimate)."""
    if change.action is Action.CREATE:
        return 1
    changed = set(change.changed)
    after = change.after or {}
    count = 0
    if changed & {"title", "body", "labels", "assignees", "milestone"} or (
        "state" in changed and after.get("state") == "open"
    ):
        count += 1
    if after.get("state") == "closed" and changed & {"state", "state_reason"}:
        count += 1
    return count
