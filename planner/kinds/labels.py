"""Repository labels: created or updated by name, all of an apply in aliased mutations.

Labels run before issues, so an issue can use a label the same apply creates. Only the fields
a ``[[label]]`` sets are managed (a label declared by name alone is only made to exist). A
label that leaves the configuration is released, never deleted; rollback deletes the labels
the apply created and puts back the colour and description of those it changed.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from planner.apply.checkpoint import BeforeImage, Checkpoint, PackWriter
from planner.apply.run import ApplyRun
from planner.errors import StalePlanError
from planner.github import reader_for, writer_for
from planner.github.mutations import DEFAULT_BATCH_SIZE, Mutation, MutationRunner
from planner.github.reads import RemoteLabel, RepositoryFacts
from planner.kinds.base import BatchShape, Capture, PlanRequest, ResourceKind
from planner.plan.model import Action, Change
from planner.state import LabelRecord, State
from planner.workspace import Workspace

logger = logging.getLogger(__name__)

DEFAULT_COLOR = "ededed"
"""The colour GitHub gives a label created without one."""

LABEL_SELECTION = "label { id name }"


@dataclass(frozen=True)
class DesiredLabel:
    """A label as declared: its repository and name, and the fields it manages."""

    repo: str
    name: str
    values: dict[str, Any] = field(default_factory=dict)
    is_present: bool = True

    @property
    def address(self) -> str:
        return f"label.{self.repo}/{self.name}"

    @property
    def digest(self) -> str:
        text = json.dumps(
            {
                "repo": self.repo,
                "name": self.name,
                "values": self.values,
                "present": self.is_present,
            },
            sort_keys=True,
        )
        return hashlib.sha256(text.encode()).hexdigest()


def _current_values(label: RemoteLabel) -> dict[str, Any]:
    return {
        "name": label.name,
        "color": label.color.lower(),
        "description": label.description or "",
    }


def _changed(want: DesiredLabel, label: RemoteLabel) -> list[str]:
    have = _current_values(label)
    return sorted(name for name, value in want.values.items() if have.get(name) != value)


def fingerprint_of(repo: str, label: RemoteLabel | None, name: str) -> str:
    if label is None:
        return f"absent:{repo}/{name}"
    text = json.dumps(_current_values(label), sort_keys=True)
    return f"label:{repo}/{label.name}:{hashlib.sha256(text.encode()).hexdigest()[:24]}"


class LabelKind(ResourceKind):
    """Labels declared in ``[[label]]``."""

    name = "label"
    order = 10

    def desired(self, workspace: Workspace) -> Mapping[str, DesiredLabel]:
        config = workspace.loaded.config
        default_repo = config.github.repo if config.github else None
        result: dict[str, DesiredLabel] = {}
        for spec in config.label:
            repo = spec.repo or default_repo
            assert repo is not None, "the loader refuses labels without a repository"
            values: dict[str, Any] = {"name": spec.name}
            if "color" in spec.model_fields_set:
                values["color"] = spec.color.lower()
            if spec.description is not None:
                values["description"] = spec.description
            want = DesiredLabel(repo, spec.name, values)
            result[want.address] = want
        return result

    def plan(self, request: PlanRequest) -> list[Change]:
        workspace = request.workspace
        declared = self.desired(workspace)
        selected = {a: w for a, w in declared.items() if request.targets.matches(a)}
        changes = [
            Change(
                address=f"label.{key}",
                kind="label",
                action=Action.FORGET,
                fingerprint=f"released:{key}",
                note="no longer declared; the label stays in the repository",
            )
            for key in sorted(request.state.labels)
            if f"label.{key}" not in declared and request.targets.matches(f"label.{key}")
        ]
        if not selected:
            return changes

        facts, _ = reader_for(workspace).repositories(
            {w.repo for w in selected.values()}, with_milestones=False
        )
        for address, want in selected.items():
            changes.append(self._diff(address, want, facts[want.repo].label(want.name)))
        return changes

    @staticmethod
    def _diff(address: str, want: DesiredLabel, current: RemoteLabel | None) -> Change:
        fingerprint = fingerprint_of(want.repo, current, want.name)
        if not want.is_present:
            if current is None:
                return Change(
                    address=address, kind="label", action=Action.NO_OP, fingerprint=fingerprint
                )
            return Change(
                address=address,
                kind="label",
                action=Action.DELETE,
                before=_current_values(current),
                fingerprint=fingerprint,
                desired_digest=want.digest,
                note="created by the apply being rolled back",
            )
        if current is None:
            after = {"color": DEFAULT_COLOR, **want.values}
            return Change(
                address=address,
                kind="label",
                action=Action.CREATE,
                after=after,
                changed=sorted(after),
                fingerprint=fingerprint,
                desired_digest=want.digest,
            )
        changed = _changed(want, current)
        have = _current_values(current)
        return Change(
            address=address,
            kind="label",
            action=Action.UPDATE if changed else Action.NO_OP,
            before={name: have[name] for name in want.values} if changed else None,
            after=dict(want.values) if changed else None,
            changed=changed,
            fingerprint=fingerprint,
            desired_digest=want.digest,
        )

    def batches(self, changes: list[Change]) -> list[BatchShape]:
        if not changes:
            return []
        requests = -(-len(changes) // DEFAULT_BATCH_SIZE)
        return [BatchShape(list(changes), requests=requests)]

    def capture(self, run: ApplyRun, changes: list[Change], pack: PackWriter) -> Capture:
        # Refused here, before the checkpoint or any change, when there is no token to write.
        writer_for(run.workspace)
        wants = {c.address: self._want(run, c.address) for c in changes}
        facts, _ = reader_for(run.workspace).repositories(
            {w.repo for w in wants.values()}, with_milestones=False
        )
        capture = Capture()
        for change in changes:
            want = wants[change.address]
            current = facts[want.repo].label(want.name)
            if fingerprint_of(want.repo, current, want.name) != change.fingerprint:
                raise StalePlanError(
                    "stale plan: the label changed on GitHub since the plan was made; run "
                    "planner plan again",
                    address=change.address,
                )
            fields: dict[str, Any] = {"repo": want.repo, "name": want.name}
            if current is not None:
                fields.update(
                    node_id=current.node_id,
                    values=_current_values(current),
                    changed=list(change.changed),
                )
            capture.images[change.address] = BeforeImage(
                address=change.address, exists=current is not None, fields=fields
            )
        return capture

    @staticmethod
    def _want(run: ApplyRun, address: str) -> DesiredLabel:
        want = run.desired[address]
        assert isinstance(want, DesiredLabel)
        return want

    def apply_batch(self, run: ApplyRun, changes: list[Change]) -> None:
        checkpoint = run.checkpoint
        assert checkpoint is not None and changes
        batch = changes[0].batch
        client = writer_for(run.workspace)
        wants = [self._want(run, c.address) for c in changes]

        # Labels are read again even on a first attempt: creates need the repository's id,
        # and on resume what GitHub has now decides what is still to do.
        facts, _ = reader_for(run.workspace).repositories(
            {w.repo for w in wants}, with_milestones=False, for_writing=True
        )
        wanted_by: dict[int, DesiredLabel] = {}

        def still_to_send(
            labels: list[DesiredLabel], seen: dict[str, RepositoryFacts]
        ) -> list[Mutation]:
            """Mutations for the labels not yet as declared in ``seen``."""
            pending = []
            for want in labels:
                mutation = self._mutation(run, checkpoint, batch, seen[want.repo], want)
                if mutation is None:
                    run.advance()
                    continue
                wanted_by[id(mutation)] = want
                pending.append(mutation)
            return pending

        mutations = still_to_send(wants, facts)

        def recover(lost: list[Mutation]) -> list[Mutation]:
            """Look at the labels again; send only what is still not as declared."""
            unsure = [wanted_by[id(m)] for m in lost]
            again, _ = reader_for(run.workspace).repositories(
                {w.repo for w in unsure}, with_milestones=False, for_writing=True
            )
            return still_to_send(unsure, again)

        MutationRunner(client, recover, what="label changes").run(mutations)

    def _mutation(
        self,
        run: ApplyRun,
        checkpoint: Checkpoint,
        batch: int | None,
        facts: RepositoryFacts,
        want: DesiredLabel,
    ) -> Mutation | None:
        current = facts.label(want.name)
        subject = f"{want.address} ({want.repo})"

        def confirmed(result: dict[str, Any]) -> list[Mutation]:
            label = result.get("label") or {}
            checkpoint.record(
                "step",
                batch,
                detail={"kind": "label", "address": want.address, "node_id": label.get("id")},
            )
            run.advance()
            return []

        if not want.is_present:
            if current is None:
                return None
            return Mutation(
                "deleteLabel",
                "DeleteLabelInput",
                {"id": current.node_id},
                "clientMutationId",
                subject,
                confirmed,
            )
        if current is None:
            given: dict[str, Any] = {
                "repositoryId": facts.node_id,
                "name": want.name,
                "color": want.values.get("color", DEFAULT_COLOR),
            }
            if want.values.get("description"):
                given["description"] = want.values["description"]
            return Mutation(
                "createLabel", "CreateLabelInput", given, LABEL_SELECTION, subject, confirmed
            )
        changed = _changed(want, current)
        if not changed:
            return None
        update: dict[str, Any] = {"id": current.node_id}
        for name in changed:
            update[name] = want.values[name]
        return Mutation(
            "updateLabel",
            "UpdateLabelInput",
            update,
            LABEL_SELECTION,
            f"{subject}: {', '.join(changed)}",
            confirmed,
        )

    def invert(self, run: ApplyRun, original: Checkpoint, changes: list[Change]) -> list[Change]:
        desired = self.desired_from_images(original.header.before, original)
        begun = [c for c in changes if c.action.is_change and c.address in desired]
        if not begun:
            return []
        facts, _ = reader_for(run.workspace).repositories(
            {desired[c.address].repo for c in begun}, with_milestones=False
        )
        inverse = []
        for change in begun:
            want = desired[change.address]
            undo = self._diff(change.address, want, facts[want.repo].label(want.name))
            if undo.action is not Action.NO_OP:
                inverse.append(undo)
        return inverse

    def desired_from_images(
        self, images: Mapping[str, BeforeImage], checkpoint: Checkpoint
    ) -> Mapping[str, DesiredLabel]:
        result: dict[str, DesiredLabel] = {}
        for address, image in images.items():
            if not address.startswith("label."):
                continue
            repo, name = str(image.fields["repo"]), str(image.fields["name"])
            if not image.exists:
                result[address] = DesiredLabel(repo, name, {}, is_present=False)
                continue
            before = dict(image.fields["values"])
            values = {"name": before["name"]}
            values.update({k: before[k] for k in image.fields.get("changed", []) if k in before})
            result[address] = DesiredLabel(repo, name, values)
        return result

    def finish(self, run: ApplyRun, state: State) -> State:
        if run.rollback_state_before is not None:
            return state.model_copy(update={"labels": dict(run.rollback_state_before.labels)})
        labels = dict(state.labels)
        for change in run.plan.changes:
            if change.kind != "label":
                continue
            key = change.address.removeprefix("label.")
            if change.action is Action.FORGET:
                labels.pop(key, None)
            elif change.action is Action.CREATE:
                want = self._want(run, change.address)
                labels[key] = LabelRecord(repo=want.repo, name=want.name, created=True)
        return state.model_copy(update={"labels": labels})
