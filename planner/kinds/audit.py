"""Audit-log entries: appended once, all of an apply in one write and one sync, never changed.

The log is read whole when planning (its ids and shell lines tell what is present) and
verified against the head anchor in the state, so a plan never appends to a log that was
tampered with. An apply writes every new line, declared entries first and then, with
``record_changes``, one line per change the apply made, in a single ``write`` followed by a
single ``fsync``. A crash can leave at most a torn last line, which the next run recognises
(its batch was begun and never finished) and cuts off before writing again.
"""

from __future__ import annotations

import logging
import posixpath
import time
from collections.abc import Mapping
from dataclasses import dataclass

from planner.apply.checkpoint import BeforeImage, Checkpoint, PackWriter
from planner.apply.run import ApplyRun
from planner.auditlog import (
    AuditLog,
    EntryFields,
    chain_next,
    encode_line,
    log_head,
    parse_log,
    verify_parsed,
)
from planner.effects import effects
from planner.errors import PlanError, StalePlanError
from planner.kinds.base import BatchShape, Capture, PlanRequest, ResourceKind
from planner.plan.model import Action, Change
from planner.state import AuditAnchor, State
from planner.tree import Tree
from planner.workspace import Workspace

logger = logging.getLogger(__name__)

LOG_IMAGE = "audit-log"
"""Key of the log's own before-image (its size) in a checkpoint."""


@dataclass(frozen=True)
class DesiredEntry:
    """A declared entry: its identity and its five fields."""

    entry_id: str
    fields: EntryFields

    @property
    def digest(self) -> str:
        import hashlib

        text = "\x1f".join(
            (
                self.entry_id,
                self.fields.category,
                self.fields.action,
                self.fields.context,
                self.fields.ref,
                self.fields.message,
            )
        )
        return hashlib.sha256(text.encode()).hexdigest()


def read_log(tree: Tree, path: str) -> tuple[bytes, AuditLog]:
    snapshot = tree.read(path, f"audit log {path}")
    content = snapshot.content if snapshot else b""
    return content, parse_log(content)


def check_log(log: AuditLog, path: str, state: State) -> None:
    """Refuse to plan on a log whose chain or head anchor does not verify."""
    anchor = state.audit if state.audit is not None and state.audit.path == path else None
    verdict = verify_parsed(log, anchor.size if anchor else None, anchor.chain if anchor else None)
    if not verdict.is_intact:
        where = f" at line {verdict.line}" if verdict.line else ""
        raise PlanError(
            f"the audit log {path} fails verification{where}: {verdict.reason}; inspect it "
            "with planner audit verify before appending to it"
        )


def recorded_changes(changes: list[Change]) -> list[Change]:
    """The changes ``record_changes`` logs: every change of another kind that an apply makes."""
    return [c for c in changes if c.kind != "audit" and c.action.is_change and c.batch is not None]


def record_id(apply_id: str, index: int) -> str:
    return f"planner.{apply_id}.{index}"


class AuditKind(ResourceKind):
    """Entries declared in ``[[audit.entry]]`` and the log they go to."""

    name = "audit"
    order = 90

    def desired(self, workspace: Workspace) -> Mapping[str, DesiredEntry]:
        audit = workspace.loaded.config.audit
        if audit is None:
            return {}
        return {
            f"audit.{entry.id}": DesiredEntry(
                entry.id,
                EntryFields(entry.category, entry.action, entry.context, entry.ref, entry.message),
            )
            for entry in audit.entry
        }

    def plan(self, request: PlanRequest) -> list[Change]:
        audit = request.workspace.loaded.config.audit
        if audit is None:
            return []
        with Tree(request.workspace.root) as tree:
            _, log = read_log(tree, audit.path)
        check_log(log, audit.path, request.state)

        changes = []
        for address, want in self.desired(request.workspace).items():
            if not request.targets.matches(address):
                continue
            present = log.has_entry(want.entry_id, want.fields)
            changes.append(
                Change(
                    address=address,
                    kind="audit",
                    action=Action.NO_OP if present else Action.CREATE,
                    after=None if present else _show(want.fields),
                    changed=[] if present else list(_show(want.fields)),
                    fingerprint="present" if present else "absent",
                    desired_digest=want.digest,
                )
            )
        return changes

    def batches(self, changes: list[Change]) -> list[BatchShape]:
        if not changes:
            return []
        return [BatchShape(changes, requests=1)]

    def capture(self, run: ApplyRun, changes: list[Change], pack: PackWriter) -> Capture:
        audit = run.workspace.loaded.config.audit
        assert audit is not None
        content, log = read_log(run.tree, audit.path)
        for change in changes:
            want = run.desired[change.address]
            assert isinstance(want, DesiredEntry)
            if log.has_entry(want.entry_id, want.fields):
                raise StalePlanError(
                    "stale plan: the entry is in the audit log already; run planner plan again",
                    address=change.address,
                )
        image = BeforeImage(address=LOG_IMAGE, exists=bool(content), size=len(content))
        return Capture({LOG_IMAGE: image})

    def apply_batch(self, run: ApplyRun, changes: list[Change]) -> None:
        audit = run.workspace.loaded.config.audit
        assert audit is not None
        folder, name = posixpath.split(audit.path)
        created: list[str] = []
        dir_fd = run.tree.open_dir(folder, create=True, created=created)
        content, log = read_log(run.tree, audit.path)

        prefix = b""
        if log.torn_tail:
            if run.is_recovering and self._tail_is_ours(run, log):
                logger.info("cutting a torn line an interrupted apply left in %s", audit.path)
                effects.truncate(name, log.size, dir_fd=dir_fd)
            else:
                prefix = b"\n"
                log = parse_log(content + prefix)

        timestamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        chain = log.chain
        lines: list[bytes] = []
        for change in changes:
            want = run.desired[change.address]
            assert isinstance(want, DesiredEntry)
            if log.has_entry(want.entry_id, want.fields):
                continue
            line = encode_line(timestamp, want.entry_id, want.fields, chain)
            chain = chain_next(chain, line)
            lines.append(line)
        if audit.record_changes:
            for index, done in enumerate(recorded_changes(run.plan.changes)):
                entry_id = record_id(run.apply_id, index)
                if entry_id in log.ids:
                    continue
                line = encode_line(timestamp, entry_id, _record_fields(run, done), chain)
                chain = chain_next(chain, line)
                lines.append(line)
        if not lines:
            return

        existed = bool(content)
        effects.append(name, prefix + b"".join(lines), dir_fd=dir_fd)
        effects.fsync_file(name, dir_fd=dir_fd)
        if not existed:
            effects.fsync_dir(dir_fd, folder or ".")
        for made in reversed(created):
            parent = posixpath.dirname(made)
            effects.fsync_dir(run.tree.open_dir(parent), parent or ".")
        run.advance(len(changes))

    @staticmethod
    def _tail_is_ours(run: ApplyRun, log: AuditLog) -> bool:
        image = run.checkpoint.header.before.get(LOG_IMAGE) if run.checkpoint else None
        return image is not None and image.size is not None and log.size >= image.size

    def invert(self, run: ApplyRun, original: Checkpoint, changes: list[Change]) -> list[Change]:
        return []

    def desired_from_images(
        self, images: Mapping[str, BeforeImage], checkpoint: Checkpoint
    ) -> Mapping[str, DesiredEntry]:
        return {}

    def sweep(self, run: ApplyRun, original: Checkpoint) -> None:
        audit = run.workspace.loaded.config.audit
        image = original.header.before.get(LOG_IMAGE)
        if audit is None or image is None or image.size is None:
            return
        _, log = read_log(run.tree, audit.path)
        if log.torn_tail and log.size >= image.size:
            folder, name = posixpath.split(audit.path)
            effects.truncate(name, log.size, dir_fd=run.tree.open_dir(folder))

    def finish(self, run: ApplyRun, state: State) -> State:
        audit = run.workspace.loaded.config.audit
        if audit is None:
            return state
        snapshot = run.tree.read(audit.path, f"audit log {audit.path}")
        size, chain, lines = log_head(snapshot.content if snapshot else b"")
        anchor = AuditAnchor(path=audit.path, size=size, chain=chain, lines=lines)
        return state.model_copy(update={"audit": anchor})


def _show(fields: EntryFields) -> dict[str, object]:
    return {
        "category": fields.category,
        "action": fields.action,
        "context": fields.context,
        "ref": fields.ref,
        "message": fields.message,
    }


def _record_fields(run: ApplyRun, change: Change) -> EntryFields:
    verb = {"create": "created", "update": "updated", "delete": "deleted"}.get(
        change.action.value, change.action.value
    )
    return EntryFields(
        category="PLANNER",
        action=change.action.value,
        context=change.address,
        ref=run.apply_id,
        message=f"{run.operation} {run.apply_id} {verb} {change.address}",
    )
