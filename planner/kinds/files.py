"""Files below the root: written whole through a temporary file, synced, renamed.

A batch writes all its temporary files, makes them durable with one file-system sync (or one
fsync each where the platform has no ``syncfs``), renames them into place, and then syncs each
touched folder once. A reader therefore sees either the old bytes or the new ones, never half
a file, and a crash leaves at most temporary files that the next run removes.
"""

from __future__ import annotations

import hashlib
import logging
import os
import posixpath
import stat
import time
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from planner.apply.checkpoint import BeforeImage, Checkpoint, PackWriter
from planner.apply.run import ApplyRun
from planner.effects import effects
from planner.errors import PlanError, StalePlanError
from planner.filestat import ObservedFiles
from planner.kinds.base import BatchShape, Capture, PlanRequest, ResourceKind
from planner.plan.model import SENSITIVE, Action, Change
from planner.state import FileRecord, State
from planner.tree import FileSnapshot, Tree, refuse_unless_regular
from planner.workspace import Workspace

logger = logging.getLogger(__name__)

BATCH_SIZE = 1000
"""Files per batch: one journal entry pair and one sync per folder for each."""

SHOWN_BYTES = 4096
"""Content up to this size, if it is text, is shown in plans; longer content by digest."""

DEFAULT_MODE = 0o644


def temp_name(name: str) -> str:
    """The temporary name a file is written under before its rename; fixed, so it is found."""
    return (
        f".planner-{hashlib.sha256(name.encode('utf-8', 'surrogateescape')).hexdigest()[:20]}.tmp"
    )


def _digest(ensure: str, sha256: str | None, mode: int | None) -> str:
    mode_text = "keep" if mode is None else f"{mode:04o}"
    return hashlib.sha256(f"file:{ensure}:{sha256}:{mode_text}".encode()).hexdigest()


@dataclass(frozen=True)
class DesiredFile:
    """A file as it should be: its bytes and mode, or its absence."""

    path: str
    content: bytes | None
    mode: int | None
    sensitive: bool = False
    remove_dirs: tuple[str, ...] = field(default=())
    sha256: str | None = field(init=False, repr=False, compare=False)
    """SHA-256 of ``content``; None when the file should be absent."""
    digest: str = field(init=False, repr=False, compare=False)
    """What a saved plan pins of this desired file."""

    def __post_init__(self) -> None:
        # Computed once here: an unchanged plan compares each file by these two digests.
        sha256 = hashlib.sha256(self.content).hexdigest() if self.content is not None else None
        object.__setattr__(self, "sha256", sha256)
        object.__setattr__(
            self, "digest", _digest("present" if self.is_present else "absent", sha256, self.mode)
        )

    @property
    def is_present(self) -> bool:
        return self.content is not None

    def is_met_by(self, current: FileSnapshot | None) -> bool:
        if self.content is None:
            return current is None
        if current is None or current.content != self.content:
            return False
        return self.mode is None or current.mode == self.mode

    def is_met_by_digest(self, sha256: str, mode: int) -> bool:
        """Whether a present file whose bytes hash to ``sha256`` already is as wanted."""
        if self.content is None or sha256 != self.sha256:
            return False
        return self.mode is None or mode == self.mode


def _fingerprint(current: FileSnapshot | None) -> str:
    if current is None:
        return "absent"
    return _fingerprint_of(current.sha256, current.mode)


def _fingerprint_of(sha256: str, mode: int) -> str:
    """What a plan saw of a file, as apply's stale-plan check compares it after re-reading."""
    return f"sha256:{sha256}:mode:{mode:04o}"


def _unchanged(address: str, fingerprint: str, want: DesiredFile) -> Change:
    """The no-op change of a file that already is as declared."""
    return Change(
        address=address,
        kind="file",
        action=Action.NO_OP,
        fingerprint=fingerprint,
        desired_digest=want.digest,
        sensitive=want.sensitive,
    )


def _show(content: bytes | None, mode: int | None, sensitive: bool) -> dict[str, object] | None:
    if content is None:
        return None
    shown: object
    if sensitive:
        shown = SENSITIVE
    elif len(content) <= SHOWN_BYTES:
        try:
            shown = content.decode("utf-8")
        except UnicodeDecodeError:
            shown = f"({len(content)} bytes of binary content)"
    else:
        shown = f"({len(content)} bytes, not shown)"
    values: dict[str, object] = {
        "content": shown,
        "sha256": hashlib.sha256(content).hexdigest(),
        "size": len(content),
    }
    if mode is not None:
        values["mode"] = f"{mode:04o}"
    return values


def _changed_fields(before: dict[str, object] | None, after: dict[str, object] | None) -> list[str]:
    """The fields a reader cares about that differ (content stands for its digest and size)."""
    if before is None or after is None:
        return sorted(set((after or before or {}).keys()) - {"sha256", "size"})
    # Imported here: deepdiff pulls in numpy, a third of a second that a plan finding nothing
    # to change should not pay.
    from deepdiff import DeepDiff

    roots = {str(key) for key in DeepDiff(before, after).affected_root_keys}
    if roots & {"sha256", "size"}:
        roots.add("content")
    return sorted(roots - {"sha256", "size"})


class _Looks:
    """How one plan finds out what files hold: a stat first, the bytes only when needed.

    Every file read and hashed is observed (its stat and digest remembered for the next plan);
    ``started_ns``, taken before the first stat, is the moment those observations are dated
    with, which is what the racy-timestamp rule of ``planner.filestat`` needs. With a full
    refresh no observation is trusted, but what is read is still remembered.
    """

    def __init__(self, observed: ObservedFiles, *, is_full_refresh: bool) -> None:
        self.observed = observed
        self.is_full_refresh = is_full_refresh
        self.started_ns = time.time_ns()
        self.stat_count = 0
        self.vouched_count = 0
        self.hashed_count = 0

    def stat(self, tree: Tree, rel_path: str, address: str) -> os.stat_result | None:
        self.stat_count += 1
        info = tree.stat_regular(rel_path, address)
        if info is None:
            self.observed.forget(rel_path)
        return info

    def vouched_digest(self, rel_path: str, info: os.stat_result) -> str | None:
        if self.is_full_refresh:
            return None
        digest = self.observed.digest_if_unchanged(rel_path, info)
        if digest is not None:
            self.vouched_count += 1
        return digest

    def read(self, tree: Tree, rel_path: str, address: str) -> FileSnapshot | None:
        current = tree.read(rel_path, address)
        if current is None:
            self.observed.forget(rel_path)
            return None
        self.hashed_count += 1
        self.observed.record(rel_path, current, current.sha256, self.started_ns)
        return current


class FileKind(ResourceKind):
    """Files declared in ``[[file]]``."""

    name = "file"
    order = 30

    def desired(self, workspace: Workspace) -> Mapping[str, DesiredFile]:
        loaded = workspace.loaded
        result: dict[str, DesiredFile] = {}
        for spec in loaded.config.file:
            content: bytes | None
            if spec.ensure == "absent":
                content = None
            elif spec.content is not None:
                content = spec.content.encode("utf-8")
            else:
                assert spec.source is not None
                content = (loaded.folder / spec.source).read_bytes()
            result[f"file.{spec.path}"] = DesiredFile(
                spec.path, content, spec.mode_bits, spec.sensitive
            )
        return result

    def plan(self, request: PlanRequest) -> list[Change]:
        workspace = request.workspace
        desired = self.desired(workspace)
        changes: list[Change] = []
        observed = ObservedFiles.load(workspace.state_dir, workspace.root)
        looks = _Looks(observed, is_full_refresh=request.refresh == "full")

        with Tree(workspace.root) as tree:
            for address, want in desired.items():
                if request.targets.matches(address):
                    changes.append(self._plan_declared(tree, address, want, looks, request.state))

            for path, record in request.state.files.items():
                address = f"file.{path}"
                if address in desired or not request.targets.matches(address):
                    continue
                changes.append(self._release(tree, address, path, record, looks))

        logger.debug(
            "files: %d stat'ed, %d vouched for by their observation, %d read and hashed",
            looks.stat_count,
            looks.vouched_count,
            looks.hashed_count,
        )
        if request.targets.is_everything:
            observed.keep_only([*(w.path for w in desired.values()), *request.state.files])
        observed.save()
        return changes

    def _plan_declared(
        self, tree: Tree, address: str, want: DesiredFile, looks: _Looks, state: State
    ) -> Change:
        """Stat the file; read and hash it only when no settled observation vouches for it."""
        info = looks.stat(tree, want.path, address)
        if info is None:
            return self._diff(address, want, None)

        vouched = looks.vouched_digest(want.path, info)
        mode = stat.S_IMODE(info.st_mode)
        if vouched is not None and want.is_met_by_digest(vouched, mode):
            return _unchanged(address, _fingerprint_of(vouched, mode), want)

        current = looks.read(tree, want.path, address)
        # Limitation: sensitivity is remembered only for files planner wrote. A file that was
        # declared sensitive but already held its content (never written, so never
        # recorded) shows its old content if the flag is later removed together with a
        # content change.
        record = state.files.get(want.path)
        was_sensitive = record is not None and record.sensitive
        return self._diff(address, want, current, was_sensitive=was_sensitive)

    def _diff(
        self,
        address: str,
        want: DesiredFile,
        current: FileSnapshot | None,
        *,
        was_sensitive: bool = False,
    ) -> Change:
        fingerprint = _fingerprint(current)
        if want.is_met_by(current):
            return _unchanged(address, fingerprint, want)

        hide_before = want.sensitive or was_sensitive
        before = _show(current.content, current.mode, hide_before) if current else None
        if want.content is None:
            action = Action.DELETE
            after = None
        else:
            mode = (
                want.mode if want.mode is not None else (current.mode if current else DEFAULT_MODE)
            )
            after = _show(want.content, mode, want.sensitive)
            action = Action.UPDATE if current is not None else Action.CREATE
        return Change(
            address=address,
            kind="file",
            action=action,
            before=before,
            after=after,
            changed=_changed_fields(before, after),
            fingerprint=fingerprint,
            desired_digest=want.digest,
            sensitive=want.sensitive,
        )

    def _release(
        self, tree: Tree, address: str, path: str, record: FileRecord, looks: _Looks
    ) -> Change:
        current = looks.read(tree, path, address)
        if record.created and current is not None:
            return Change(
                address=address,
                kind="file",
                action=Action.DELETE,
                before=_show(current.content, current.mode, True),
                fingerprint=_fingerprint(current),
                desired_digest=DesiredFile(path, None, None).digest,
                sensitive=True,
                note="created by planner and no longer declared",
            )
        note = "already removed" if current is None else "no longer declared; the file stays"
        return Change(
            address=address,
            kind="file",
            action=Action.FORGET,
            fingerprint=_fingerprint(current),
            note=note,
        )

    def batches(self, changes: list[Change]) -> list[BatchShape]:
        ordered = sorted(changes, key=lambda c: c.address)
        shapes = []
        for start in range(0, len(ordered), BATCH_SIZE):
            chunk = ordered[start : start + BATCH_SIZE]
            writes = sum(1 for c in chunk if c.action is not Action.DELETE)
            shapes.append(BatchShape(chunk, requests=writes))
        return shapes

    def capture(self, run: ApplyRun, changes: list[Change], pack: PackWriter) -> Capture:
        capture = Capture()
        for change in changes:
            path = change.address.removeprefix("file.")
            current = run.tree.read(path, change.address)
            if _fingerprint(current) != change.fingerprint:
                raise StalePlanError(
                    "stale plan: the file changed since the plan was made; run planner plan again",
                    address=change.address,
                )
            if current is None:
                capture.images[change.address] = BeforeImage(
                    address=change.address,
                    exists=False,
                    missing_dirs=self._missing_dirs(run.tree, path),
                )
                continue
            offset = pack.add(current.content)
            capture.images[change.address] = BeforeImage(
                address=change.address,
                exists=True,
                offset=offset,
                size=current.size,
                sha256=current.sha256,
                mode=current.mode,
            )
        return capture

    @staticmethod
    def _missing_dirs(tree: Tree, path: str) -> list[str]:
        missing = []
        folder = posixpath.dirname(path)
        while folder and tree.lstat(folder) is None:
            missing.append(folder)
            folder = posixpath.dirname(folder)
        return missing

    def apply_batch(self, run: ApplyRun, changes: list[Change]) -> None:
        tree = run.tree
        touched: dict[str, int] = {}
        writes: list[tuple[Change, int, str, str]] = []
        deletes: list[tuple[Change, int, str]] = []

        for change in changes:
            want = run.desired[change.address]
            assert isinstance(want, DesiredFile)
            folder, name = posixpath.split(want.path)
            if run.is_recovering and want.is_met_by(tree.read(want.path, change.address)):
                run.advance()
                continue
            if not want.is_present:
                if tree.lstat(want.path) is not None:
                    deletes.append((change, tree.open_dir(folder), name))
                    touched[folder] = tree.open_dir(folder)
                continue
            created_dirs: list[str] = []
            dir_fd = tree.open_dir(folder, create=True, created=created_dirs)
            for created in created_dirs:
                parent = posixpath.dirname(created)
                touched[parent] = tree.open_dir(parent)
            touched[folder] = dir_fd
            temporary = temp_name(name)
            self._remove_if_present(temporary, dir_fd)
            effects.create_file(
                temporary, want.content or b"", self._mode_for(run, change, want), dir_fd
            )
            writes.append((change, dir_fd, temporary, name))

        self._make_durable(writes)

        for change, dir_fd, temporary, name in writes:
            self._refuse_unless_replaceable(name, dir_fd, change.address)
            effects.rename(temporary, name, dir_fd=dir_fd)
            run.advance()
        for change, dir_fd, name in deletes:
            self._refuse_unless_replaceable(name, dir_fd, change.address)
            effects.unlink(name, dir_fd=dir_fd)
            run.advance()
        self._remove_empty_dirs(run, changes, touched)
        for folder, dir_fd in sorted(touched.items(), key=lambda item: -len(item[0])):
            effects.fsync_dir(dir_fd, folder or ".")

    @staticmethod
    def _mode_for(run: ApplyRun, change: Change, want: DesiredFile) -> int:
        if want.mode is not None:
            return want.mode
        checkpoint = run.checkpoint
        image = checkpoint.header.before.get(change.address) if checkpoint else None
        if image is not None and image.mode is not None:
            return image.mode
        return DEFAULT_MODE

    @staticmethod
    def _remove_if_present(name: str, dir_fd: int) -> None:
        try:
            os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
        except FileNotFoundError:
            return
        effects.unlink(name, dir_fd=dir_fd)

    @staticmethod
    def _refuse_unless_replaceable(name: str, dir_fd: int, address: str) -> None:
        try:
            info = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
        except FileNotFoundError:
            return
        if not stat.S_ISREG(info.st_mode):
            refuse_unless_regular(info, name, address)

    @staticmethod
    def _make_durable(writes: list[tuple[Change, int, str, str]]) -> None:
        if not writes:
            return
        if effects.has_syncfs:
            devices: dict[int, int] = {}
            for _, dir_fd, _, _ in writes:
                devices.setdefault(os.fstat(dir_fd).st_dev, dir_fd)
            for dir_fd in devices.values():
                effects.sync_filesystem(dir_fd, "batch")
            return
        for _, dir_fd, temporary, _ in writes:
            effects.fsync_file(temporary, dir_fd=dir_fd)

    @staticmethod
    def _remove_empty_dirs(run: ApplyRun, changes: list[Change], touched: dict[str, int]) -> None:
        """On rollback, remove folders the original apply created, if they are empty now."""
        folders: set[str] = set()
        for change in changes:
            want = run.desired[change.address]
            assert isinstance(want, DesiredFile)
            folders.update(want.remove_dirs)
        for folder in sorted(folders, key=lambda f: -len(f)):
            parent, name = posixpath.split(folder)
            try:
                parent_fd = run.tree.open_dir(parent)
                effects.rmdir(name, dir_fd=parent_fd)
            except OSError:
                continue
            run.tree.forget(folder)
            touched.pop(folder, None)
            touched[parent] = parent_fd

    def invert(self, run: ApplyRun, original: Checkpoint, changes: list[Change]) -> list[Change]:
        desired = self.desired_from_images(original.header.before, original)
        inverse = []
        for change in changes:
            if not change.action.is_change:
                continue
            want = desired[change.address]
            assert isinstance(want, DesiredFile)
            current = run.tree.read(want.path, change.address)
            if want.is_met_by(current):
                continue
            want = replace(want, sensitive=change.sensitive)
            inverse.append(self._diff(change.address, want, current))
        return inverse

    def desired_from_images(
        self, images: Mapping[str, BeforeImage], checkpoint: Checkpoint
    ) -> Mapping[str, DesiredFile]:
        pack = checkpoint.before_pack if checkpoint.header.after is None else checkpoint.after_pack
        result: dict[str, DesiredFile] = {}
        for address, image in images.items():
            if not address.startswith("file."):
                continue
            path = address.removeprefix("file.")
            if not image.exists:
                result[address] = DesiredFile(
                    path, None, None, remove_dirs=tuple(image.missing_dirs)
                )
                continue
            assert image.offset is not None and image.size is not None
            content = pack.read(image.offset, image.size)
            if hashlib.sha256(content).hexdigest() != image.sha256:
                raise PlanError(
                    f"the checkpoint's copy of {path} does not match its checksum; rollback "
                    "cannot restore it",
                    address=address,
                )
            result[address] = DesiredFile(path, content, image.mode)
        return result

    def sweep(self, run: ApplyRun, original: Checkpoint) -> None:
        for change in original.header.plan.changes:
            if change.kind != "file" or not change.action.is_change:
                continue
            folder, name = posixpath.split(change.address.removeprefix("file."))
            try:
                dir_fd = run.tree.open_dir(folder)
            except (FileNotFoundError, NotADirectoryError, PlanError):
                continue
            self._remove_if_present(temp_name(name), dir_fd)
        if run.operation != "rollback":
            return
        for image in original.header.before.values():
            for folder in image.missing_dirs:
                parent, name = posixpath.split(folder)
                try:
                    effects.rmdir(name, dir_fd=run.tree.open_dir(parent))
                except OSError:
                    continue
                run.tree.forget(folder)

    def finish(self, run: ApplyRun, state: State) -> State:
        if run.rollback_state_before is not None:
            return state.model_copy(update={"files": dict(run.rollback_state_before.files)})
        files = dict(state.files)
        for change in run.plan.changes:
            if change.kind != "file" or change.action is Action.NO_OP:
                continue
            path = change.address.removeprefix("file.")
            if change.action in (Action.DELETE, Action.FORGET):
                files.pop(path, None)
                continue
            want = run.desired[change.address]
            assert isinstance(want, DesiredFile)
            known = files.get(path)
            files[path] = FileRecord(
                created=known.created if known else change.action is Action.CREATE,
                sha256=want.sha256,
                mode=self._mode_for(run, change, want),
                sensitive=want.sensitive,
            )
        return state.model_copy(update={"files": files})

    def undeclared(self, address: str) -> DesiredFile:
        return DesiredFile(address.removeprefix("file."), None, None)
