"""Carrying out a plan batch by batch behind a write-ahead checkpoint; resume and rollback.

The order of events is what makes every crash recoverable:

1. Re-read every object the plan changes; refuse a stale plan; collect before-images.
2. Write the checkpoint (plan, state, before-images) whole, before the first change.
3. For each batch: journal "begin" (synced), carry it out, journal "done" (synced).
4. Save the state, then journal "complete".

Resume runs the batches not marked done, looking at what is there before acting again;
rollback plans the inverse of every begun batch from the before-images and applies it the
same way, so a rollback can itself be resumed or rolled back.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from planner.apply.checkpoint import (
    BatchStatus,
    BeforeImage,
    Checkpoint,
    CheckpointStore,
    PackWriter,
)
from planner.apply.run import ApplyRun
from planner.errors import (
    ApplyError,
    ApplyInterrupted,
    PlannerError,
    StalePlanError,
    StateError,
)
from planner.kinds import KINDS, kind_named
from planner.kinds.base import Desired
from planner.plan.builder import assign_batches, finish_plan
from planner.plan.model import Change, Plan
from planner.state import State
from planner.tree import Tree
from planner.workspace import Workspace

logger = logging.getLogger(__name__)

ProgressCallback = Callable[[int], None]


class Interruption:
    """Set by the first Ctrl-C; the applier stops after the batch in flight."""

    def __init__(self) -> None:
        self.is_requested = False


@dataclass
class ApplyOutcome:
    """What an apply, resume or rollback did."""

    checkpoint: Checkpoint
    state: State
    changed: int


def desired_from_config(workspace: Workspace) -> dict[str, Desired]:
    desired: dict[str, Desired] = {}
    for kind in KINDS:
        desired.update(kind.desired(workspace))
    return desired


def _check_desired(
    plan: Plan, desired: dict[str, Desired], skip_batches: set[int]
) -> dict[str, Desired]:
    """Every change's desired values still come out of the configuration unchanged."""
    pinned = dict(desired)
    for change in plan.pending():
        if change.batch in skip_batches or change.desired_digest is None:
            continue
        want = pinned.get(change.address)
        if want is None:
            want = kind_named(change.kind).undeclared(change.address)
            pinned[change.address] = want
        if want.digest != change.desired_digest:
            raise StalePlanError(
                "the configuration changed since this plan was made; run planner plan again",
                address=change.address,
            )
    return pinned


def _capture(run: ApplyRun, pack: PackWriter) -> dict[str, BeforeImage]:
    images: dict[str, BeforeImage] = {}
    by_kind: dict[str, list[Change]] = {}
    for change in run.plan.pending():
        if change.batch is not None:
            by_kind.setdefault(change.kind, []).append(change)
    for kind in KINDS:
        changes = by_kind.get(kind.name)
        if changes:
            images.update(kind.capture(run, changes, pack).images)
    return images


def _capture_or_discard(
    run: ApplyRun, pack: PackWriter, checkpoints: CheckpointStore
) -> dict[str, BeforeImage]:
    """Capture before-images; when the plan is refused, leave no half-made checkpoint behind."""
    try:
        return _capture(run, pack)
    except BaseException:
        checkpoints.discard_staging(pack.path.parent)
        raise


def apply_plan(
    workspace: Workspace,
    plan: Plan,
    *,
    interruption: Interruption | None = None,
    on_progress: ProgressCallback | None = None,
) -> ApplyOutcome:
    """Apply a fresh or saved plan. StalePlanError (nothing changed) or ApplyError (partway)."""
    state = workspace.store.load()
    desired = _check_desired(plan, desired_from_config(workspace), set())
    checkpoints = CheckpointStore(workspace.state_dir)

    with Tree(workspace.root) as tree:
        run = ApplyRun(workspace, plan, tree, desired, on_progress=on_progress)
        staging = checkpoints.staging_folder()
        pack = PackWriter(staging / "before.pack")
        images = _capture_or_discard(run, pack, checkpoints)
        run.checkpoint = checkpoints.create(
            operation="apply",
            plan=plan,
            state_before=state,
            before=images,
            before_pack=pack,
            config_path=str(workspace.loaded.path),
            config_sha256=workspace.loaded.sha256,
        )
        return _execute(run, interruption)


def resume(
    workspace: Workspace,
    checkpoint: Checkpoint,
    *,
    interruption: Interruption | None = None,
    on_progress: ProgressCallback | None = None,
) -> ApplyOutcome:
    """Continue an interrupted or failed apply (or rollback) from its checkpoint."""
    header = checkpoint.header
    done = {
        b.index for b in header.plan.batches if checkpoint.batch_status(b.index) is BatchStatus.DONE
    }
    if header.after is not None:
        desired: dict[str, Desired] = {}
        for kind in KINDS:
            desired.update(kind.desired_from_images(header.after, checkpoint))
    else:
        try:
            desired = _check_desired(header.plan, desired_from_config(workspace), done)
        except StalePlanError as error:
            raise StalePlanError(
                "the configuration changed since the apply began, so resume cannot reach the "
                "planned state; restore the configuration, or run planner rollback",
                address=error.address,
            ) from None

    with Tree(workspace.root) as tree:
        run = ApplyRun(
            workspace,
            header.plan,
            tree,
            desired,
            operation=header.operation,
            is_recovering=True,
            checkpoint=checkpoint,
            rollback_state_before=header.restore_state,
            on_progress=on_progress,
        )
        for kind in KINDS:
            kind.sweep(run, checkpoint)
        return _execute(run, interruption)


def plan_rollback(workspace: Workspace, original: Checkpoint) -> Plan:
    """The plan that puts back what the checkpoint's apply changed. Changes nothing."""
    header = original.header
    begun = [
        c
        for c in header.plan.changes
        if c.batch is not None and original.batch_status(c.batch) is not BatchStatus.PENDING
    ]
    inverse: list[Change] = []
    with Tree(workspace.root) as tree:
        probe = ApplyRun(workspace, header.plan, tree, {}, operation="rollback")
        for kind in KINDS:
            changes = [c for c in begun if c.kind == kind.name]
            if changes:
                inverse.extend(kind.invert(probe, original, changes))

    batched, batches = assign_batches(inverse)
    notes = [f"rolls back apply {header.apply_id} of {header.started_at}"]
    if any(c.kind == "audit" for c in begun):
        notes.append("audit entries are permanent: the entries it wrote stay in the log")
    return finish_plan(workspace, batched, batches, targets=[], operation="rollback", notes=notes)


def rollback(
    workspace: Workspace,
    original: Checkpoint,
    plan: Plan,
    *,
    interruption: Interruption | None = None,
    on_progress: ProgressCallback | None = None,
) -> ApplyOutcome:
    """Apply a rollback plan made by ``plan_rollback`` under a checkpoint of its own."""
    header = original.header
    checkpoints = CheckpointStore(workspace.state_dir)
    source = original.after_pack.path if header.after is not None else original.before_pack.path
    source_index = header.after if header.after is not None else header.before
    desired: dict[str, Desired] = {}
    for kind in KINDS:
        desired.update(kind.desired_from_images(source_index, original))
    restore = header.restore_state if header.after is not None else header.state_before

    with Tree(workspace.root) as tree:
        run = ApplyRun(
            workspace,
            plan,
            tree,
            desired,
            operation="rollback",
            rollback_state_before=restore,
            on_progress=on_progress,
        )
        for kind in KINDS:
            kind.sweep(run, original)
        staging = checkpoints.staging_folder()
        pack = PackWriter(staging / "before.pack")
        images = _capture_or_discard(run, pack, checkpoints)
        run.checkpoint = checkpoints.create(
            operation="rollback",
            plan=plan,
            state_before=workspace.store.load(),
            before=images,
            before_pack=pack,
            config_path=str(workspace.loaded.path),
            config_sha256=workspace.loaded.sha256,
            rollback_of=header.apply_id,
            after_pack_source=source,
            after_index=source_index,
            restore_state=restore,
        )
        return _execute(run, interruption)


def _execute(run: ApplyRun, interruption: Interruption | None) -> ApplyOutcome:
    checkpoint = run.checkpoint
    assert checkpoint is not None
    changed = 0
    changes_by_batch = run.plan.changes_by_batch()

    for batch in run.plan.batches:
        status = checkpoint.batch_status(batch.index)
        changes = changes_by_batch[batch.index]
        if status is BatchStatus.DONE:
            run.advance(len(changes))
            continue
        run.is_recovering = run.is_recovering or status is not BatchStatus.PENDING
        checkpoint.record("begin", batch.index)
        try:
            kind_named(batch.kind).apply_batch(run, changes)
        except (OSError, PlannerError) as error:
            reason = _reason(error)
            _record_failure(checkpoint, batch.index, reason)
            raise ApplyError(
                f"{run.operation} stopped in batch {batch.index} ({batch.kind}): {reason}; the "
                "checkpoint was kept: see planner status, then planner resume or planner "
                "rollback"
            ) from error
        checkpoint.record("done", batch.index)
        changed += len(changes)
        if interruption is not None and interruption.is_requested:
            raise ApplyInterrupted(
                f"interrupted after batch {batch.index} of {len(run.plan.batches)}; the "
                "checkpoint was kept: planner resume continues, planner rollback undoes"
            )

    try:
        state = run.workspace.store.load()
        for kind in KINDS:
            state = kind.finish(run, state)
        state = run.workspace.store.save(state)
        checkpoint.record("complete")
    except (OSError, PlannerError) as error:
        reason = _reason(error)
        _record_failure(checkpoint, None, reason)
        raise ApplyError(
            f"{run.operation} made every change but could not save its state: {reason}; the "
            "checkpoint was kept: planner resume finishes it"
        ) from error
    return ApplyOutcome(checkpoint, state, changed)


def _reason(error: BaseException) -> str:
    if isinstance(error, PlannerError):
        return str(error)
    if isinstance(error, OSError):
        name = f" ({error.filename})" if error.filename else ""
        return f"{error.strerror or error}{name}"
    return str(error)


def _record_failure(checkpoint: Checkpoint, batch: int | None, reason: str) -> None:
    try:
        checkpoint.record("failed", batch, error=reason)
    except OSError:
        logger.warning("could not journal the failure of batch %s: it stays unknown", batch)


def last_checkpoint(workspace: Workspace) -> Checkpoint | None:
    return CheckpointStore(workspace.state_dir).last()


def refuse_if_incomplete(workspace: Workspace) -> None:
    """Refuse to start a new apply while the last one stopped partway."""
    if not CheckpointStore(workspace.state_dir).last_is_incomplete():
        # The journal says so without the header, which holds the whole last plan: loading
        # it for 100,000 changes costs a quarter of a gigabyte for nothing.
        return
    checkpoint = last_checkpoint(workspace)
    if checkpoint is None or checkpoint.is_complete:
        return
    raise StateError(
        f"the last {checkpoint.header.operation} ({checkpoint.apply_id}) stopped partway; run "
        "planner status to see it, then planner resume or planner rollback before a new apply"
    )
