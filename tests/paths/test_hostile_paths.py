"""Hostile paths, end to end: links, special files, odd names and huge files below the root.

Each case either is refused with one sentence and exit 1, or is carried out with the exact
bytes; nothing outside the root is ever written, whatever was swapped in after planning.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import stat
import time
import unicodedata
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from planner.cli import main
from planner.effects import effects
from planner.tree import PATH_LIMIT
from tests.harness import Result, planner, planner_with_peak_memory, snapshot, write_config

OUTSIDE_BYTES = b"outside: do not touch\n"


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A folder next to the root, shaped like the declared paths, that must stay as it is."""
    folder = tmp_path / "outside"
    (folder / "b").mkdir(parents=True)
    (folder / "target.txt").write_bytes(OUTSIDE_BYTES)
    (folder / "c.txt").write_bytes(OUTSIDE_BYTES)
    (folder / "b/c.txt").write_bytes(OUTSIDE_BYTES)
    return folder


def _files(folder: Path, files: dict[str, object]) -> Path:
    return write_config(folder, files=files, audit_path=None)


def _assert_refused(result: Result, *fragments: str) -> str:
    """Exit 1 and one sentence on stderr, naming what is at fault; no crash report."""
    assert result.code == 1, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, f"expected one sentence, got: {result.stderr}"
    sentence = lines[0]
    assert sentence.startswith("Error: "), sentence
    assert "unexpected" not in sentence and "report it" not in sentence, sentence
    for fragment in fragments:
        assert fragment in sentence, f"{fragment!r} missing from: {sentence}"
    return sentence


def _assert_untouched(outside: Path) -> None:
    assert snapshot(outside) == {
        "target.txt": (OUTSIDE_BYTES, 0o644),
        "c.txt": (OUTSIDE_BYTES, 0o644),
        "b/c.txt": (OUTSIDE_BYTES, 0o644),
    }
    assert sorted(p.relative_to(outside).as_posix() for p in outside.rglob("*")) == [
        "b",
        "b/c.txt",
        "c.txt",
        "target.txt",
    ]


# -- a symbolic link swapped in between plan and apply ------------------------------------------

SWAPS = {
    # component: (what to replace, what the link points to)
    "first": ("a", ""),
    "middle": ("a/b", "b"),
    "last": ("a/b/c.txt", "b/c.txt"),
}


def _swap_in_link(root: Path, outside: Path, component: str) -> None:
    replaced, target = SWAPS[component]
    path = root / replaced
    if path.is_dir():
        path.rename(path.with_name(path.name + ".moved"))
    elif path.exists():
        path.unlink()
    os.symlink(outside / target if target else outside, path)


@pytest.mark.parametrize("existing", [False, True], ids=["new-file", "existing-file"])
@pytest.mark.parametrize("component", sorted(SWAPS))
def test_link_swapped_in_after_plan_out_is_refused_by_apply_and_outside_is_untouched(
    tmp_path: Path, outside: Path, component: str, existing: bool
) -> None:
    root = tmp_path / "tree"
    (root / "a/b").mkdir(parents=True)
    if existing:
        (root / "a/b/c.txt").write_bytes(b"old\n")
    _files(tmp_path, {"a/b/c.txt": "new\n"})
    assert planner("plan", "--out", "plan.json", cwd=tmp_path).code == 0

    _swap_in_link(root, outside, component)
    result = planner("apply", "plan.json", cwd=tmp_path)

    _assert_refused(result, "file.a/b/c.txt")
    _assert_untouched(outside)


@contextlib.contextmanager
def _swap_at_step(
    matches: Callable[[str, str], bool], swap: Callable[[], None]
) -> Iterator[list[str]]:
    """Swap once, the moment apply announces the first step that ``matches``."""
    done: list[str] = []

    def observer(kind: str, target: str) -> None:
        if not done and matches(kind, target):
            done.append(f"{kind} {target}")
            swap()

    remove = effects.observe(observer)
    try:
        yield done
    finally:
        remove()


STEPS = {
    "first step": lambda kind, target: True,
    "journal before the write": lambda kind, target: target.endswith("journal.jsonl"),
    "temporary file written": lambda kind, target: kind == "sync" and target == "batch",
}


@pytest.mark.parametrize("step", sorted(STEPS))
@pytest.mark.parametrize("component", sorted(SWAPS))
def test_link_swapped_in_during_apply_never_redirects_a_write_outside(
    tmp_path: Path, outside: Path, component: str, step: str
) -> None:
    root = tmp_path / "tree"
    (root / "a/b").mkdir(parents=True)
    (root / "a/b/c.txt").write_bytes(b"old\n")
    config = _files(tmp_path, {"a/b/c.txt": "new\n"})
    plan_path = tmp_path / "plan.json"
    assert main(["plan", "-c", str(config), "--out", str(plan_path), "-q"]) == 0

    err = io.StringIO()
    with (
        _swap_at_step(STEPS[step], lambda: _swap_in_link(root, outside, component)) as swapped,
        contextlib.redirect_stderr(err),
        contextlib.redirect_stdout(io.StringIO()),
    ):
        code = main(["apply", "-c", str(config), str(plan_path), "--no-color"])

    assert swapped, "the swap never happened"
    _assert_untouched(outside)
    assert "unexpected" not in err.getvalue(), err.getvalue()
    assert code in (0, 1, 3), err.getvalue()
    if code == 0:
        landed = [p for p in root.rglob("c.txt") if not p.is_symlink()]
        assert [p.read_bytes() for p in landed] == [b"new\n"], "the write must land inside"


# -- hard links, FIFOs and devices --------------------------------------------------------------


@pytest.mark.parametrize("ensure", ["present", "absent"])
def test_hard_link_to_an_outside_file_is_replaced_and_the_outside_file_keeps_its_bytes(
    tmp_path: Path, outside: Path, ensure: str
) -> None:
    root = tmp_path / "tree"
    root.mkdir()
    os.link(outside / "target.txt", root / "linked.txt")
    spec: dict[str, object] = {"content": "replaced\n"} if ensure == "present" else {}
    _files(tmp_path, {"linked.txt": {**spec, "ensure": ensure}})

    result = planner("apply", "--auto-approve", cwd=tmp_path)

    assert result.code == 0, result.output
    _assert_untouched(outside)
    assert (outside / "target.txt").stat().st_nlink == 1
    if ensure == "present":
        assert (root / "linked.txt").read_bytes() == b"replaced\n"
    else:
        assert not (root / "linked.txt").exists()


def _make_fifo(path: Path) -> None:
    os.mkfifo(path)


def _make_device(path: Path) -> None:
    try:
        os.mknod(path, stat.S_IFCHR | 0o600, os.makedev(1, 3))
    except PermissionError:
        pytest.skip("creating a device node needs privileges this run lacks")


def _make_link_to_dev_null(path: Path) -> None:
    os.symlink("/dev/null", path)


def _make_socket(path: Path) -> None:
    import socket

    server = socket.socket(socket.AF_UNIX)
    server.bind(str(path))
    server.close()


SPECIAL: dict[str, Callable[[Path], None]] = {
    "fifo": _make_fifo,
    "char device": _make_device,
    "link to /dev/null": _make_link_to_dev_null,
    "socket": _make_socket,
    "folder": Path.mkdir,
}


@pytest.mark.parametrize("when", ["before plan", "after plan --out"])
@pytest.mark.parametrize("special", sorted(SPECIAL))
def test_special_file_at_a_declared_path_is_refused_in_one_sentence(
    tmp_path: Path, special: str, when: str
) -> None:
    root = tmp_path / "tree"
    root.mkdir()
    _files(tmp_path, {"dev.txt": "x"})
    if when == "before plan":
        SPECIAL[special](root / "dev.txt")
        for command in (["plan"], ["apply", "--auto-approve"]):
            _assert_refused(planner(*command, cwd=tmp_path, timeout=20), "file.dev.txt")
    else:
        assert planner("plan", "--out", "plan.json", cwd=tmp_path).code == 0
        SPECIAL[special](root / "dev.txt")
        _assert_refused(planner("apply", "plan.json", cwd=tmp_path, timeout=20), "file.dev.txt")

    kind = os.lstat(root / "dev.txt").st_mode
    assert not stat.S_ISREG(kind), "the special file must be left where it was"
    assert Path("/dev/null").is_char_device()


# -- long, deep and look-alike names ------------------------------------------------------------


def test_a_255_byte_name_is_written_with_its_bytes(tmp_path: Path) -> None:
    name = "n" * 251 + ".txt"
    assert len(name.encode()) == 255
    multibyte = "é" * 127 + "x"  # 255 bytes in UTF-8
    assert len(multibyte.encode()) == 255
    _files(tmp_path, {f"d/{name}": "long\n", multibyte: "wide\n"})

    result = planner("apply", "--auto-approve", cwd=tmp_path)

    assert result.code == 0, result.output
    assert (tmp_path / "tree/d" / name).read_bytes() == b"long\n"
    assert (tmp_path / "tree" / multibyte).read_bytes() == b"wide\n"
    assert "No changes." in planner("plan", cwd=tmp_path).stdout


@pytest.mark.parametrize("root_exists", [True, False], ids=["root-exists", "root-missing"])
def test_a_256_byte_name_is_refused_in_one_sentence(tmp_path: Path, root_exists: bool) -> None:
    if root_exists:
        (tmp_path / "tree").mkdir()
    _files(tmp_path, {"n" * 256: "too long\n"})

    for command in (["plan"], ["apply", "--auto-approve"]):
        _assert_refused(planner(*command, cwd=tmp_path), "file.")
    assert not (tmp_path / "tree").exists() or os.listdir(tmp_path / "tree") == []


def _deep(total: int) -> str:
    """A relative path of about ``total`` bytes made of 200-byte folder names."""
    parts: list[str] = []
    while len("/".join(parts)) + 210 < total:
        parts.append(f"{len(parts):03}" + "d" * 197)
    return "/".join([*parts, "leaf.txt"])


def test_a_deep_path_within_the_declared_limit_is_written_with_its_bytes(tmp_path: Path) -> None:
    rel = _deep(3000)
    assert 2800 < len(rel.encode()) <= PATH_LIMIT
    _files(tmp_path, {rel: "deep\n"})

    result = planner("apply", "--auto-approve", cwd=tmp_path)

    assert result.code == 0, result.output
    fd = os.open(tmp_path / "tree", os.O_RDONLY | os.O_DIRECTORY)
    try:
        for part in rel.split("/")[:-1]:
            child = os.open(part, os.O_RDONLY | os.O_DIRECTORY, dir_fd=fd)
            os.close(fd)
            fd = child
        with open(os.open("leaf.txt", os.O_RDONLY, dir_fd=fd), "rb") as leaf:
            assert leaf.read() == b"deep\n"
    finally:
        os.close(fd)


@pytest.mark.parametrize("size", [3500, 5000])
def test_a_path_beyond_the_limit_is_refused_in_one_sentence_changing_nothing(
    size: int, tmp_path: Path
) -> None:
    rel = _deep(size)
    assert len(rel.encode()) > PATH_LIMIT
    _files(tmp_path, {rel: "deeper\n"})

    result = planner("apply", "--auto-approve", cwd=tmp_path)

    _assert_refused(result, "file.")
    assert "longer than" in result.stderr
    assert not (tmp_path / "tree").exists() or os.listdir(tmp_path / "tree") == []


def test_names_differing_only_in_case_are_distinct_files(tmp_path: Path) -> None:
    _files(tmp_path, {"README.md": "upper\n", "readme.md": "lower\n", "ReadMe.md": "mixed\n"})

    assert planner("apply", "--auto-approve", cwd=tmp_path).code == 0

    assert snapshot(tmp_path / "tree") == {
        "README.md": (b"upper\n", 0o644),
        "ReadMe.md": (b"mixed\n", 0o644),
        "readme.md": (b"lower\n", 0o644),
    }
    assert "No changes." in planner("plan", cwd=tmp_path).stdout


def test_nfc_and_nfd_spellings_are_distinct_files(tmp_path: Path) -> None:
    nfc = unicodedata.normalize("NFC", "café.txt")
    nfd = unicodedata.normalize("NFD", "café.txt")
    assert nfc != nfd
    _files(tmp_path, {nfc: "composed\n", nfd: "decomposed\n"})

    assert planner("apply", "--auto-approve", cwd=tmp_path).code == 0

    on_disk = {
        name: (tmp_path / "tree" / name).read_bytes() for name in os.listdir(tmp_path / "tree")
    }
    assert on_disk == {nfc: b"composed\n", nfd: b"decomposed\n"}
    assert "No changes." in planner("plan", cwd=tmp_path).stdout
    _files(tmp_path, {nfc: "composed\n"})
    assert planner("apply", "--auto-approve", cwd=tmp_path).code == 0
    assert os.listdir(tmp_path / "tree") == [nfc], "only the NFD file was created, then deleted"


# -- content bytes ------------------------------------------------------------------------------

BIG = 100 * 1024 * 1024


def _write_big(path: Path) -> str:
    """100 MB of varied bytes, written in 1 MB pieces; returns its SHA-256."""
    digest = hashlib.sha256()
    block = bytes(range(256)) * 4096
    with path.open("wb") as out:
        for index in range(BIG // len(block)):
            piece = block[index % 256 :] + block[: index % 256]
            digest.update(piece)
            out.write(piece)
    return digest.hexdigest()


def _sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as source:
        while piece := source.read(1 << 20):
            digest.update(piece)
    return digest.hexdigest()


def test_a_100_mb_source_is_copied_byte_for_byte_quickly(tmp_path: Path) -> None:
    expected = _write_big(tmp_path / "big.bin")
    _files(tmp_path, {"out/big.bin": {"source": "big.bin", "mode": "0600"}})

    started = time.monotonic()
    result, peak_kib = planner_with_peak_memory("apply", "--auto-approve", cwd=tmp_path)
    elapsed = time.monotonic() - started

    assert result.code == 0, result.output
    copied = tmp_path / "tree/out/big.bin"
    assert copied.stat().st_size == BIG and _sha256_of(copied) == expected
    assert stat.S_IMODE(copied.stat().st_mode) == 0o600
    assert "104857600 bytes, not shown" in result.stdout
    assert elapsed < 10, f"apply took {elapsed:.1f} s"
    assert peak_kib < 4 * BIG // 1024, f"apply peaked at {peak_kib // 1024} MiB"


def test_non_utf8_source_bytes_are_copied_exactly(tmp_path: Path) -> None:
    raw = b"\xff\xfe\x00caf\xe9\r\n\x80\xc3(\xed\xa0\x80 end"
    (tmp_path / "latin.bin").write_bytes(raw)
    _files(tmp_path, {"copy.bin": {"source": "latin.bin"}})

    plan = planner("plan", cwd=tmp_path)
    assert plan.code == 0 and f"({len(raw)} bytes of binary content)" in plan.stdout
    assert planner("apply", "--auto-approve", cwd=tmp_path).code == 0

    assert (tmp_path / "tree/copy.bin").read_bytes() == raw
    assert "No changes." in planner("plan", cwd=tmp_path).stdout


def test_non_utf8_names_next_to_declared_files_are_ignored(tmp_path: Path) -> None:
    folder = os.fsencode(tmp_path / "tree/docs")
    os.makedirs(folder)
    strangers = [b"\xff\xfe.txt", b"caf\xe9.md", b".planner-\x80.tmp"]
    for name in strangers:
        with open(os.path.join(folder, name), "wb") as stranger:
            stranger.write(b"stranger " + name)
    _files(tmp_path, {"docs/a.txt": "declared\n"})

    assert planner("apply", "--auto-approve", cwd=tmp_path).code == 0
    _files(tmp_path, {})
    assert planner("apply", "--auto-approve", cwd=tmp_path).code == 0
    assert planner("rollback", "--auto-approve", cwd=tmp_path).code == 0

    assert (tmp_path / "tree/docs/a.txt").read_bytes() == b"declared\n"
    for name in strangers:
        with open(os.path.join(folder, name), "rb") as stranger:
            assert stranger.read() == b"stranger " + name


# -- planner's own files ------------------------------------------------------------------------


def test_state_checkpoint_and_lock_files_are_owner_only_whatever_the_umask(tmp_path: Path) -> None:
    _files(tmp_path, {"a.txt": "one\n", "sub/b.txt": {"content": "two\n", "sensitive": True}})
    previous = os.umask(0)
    try:
        assert planner("apply", "--auto-approve", cwd=tmp_path).code == 0
        _files(tmp_path, {"a.txt": "uno\n", "sub/b.txt": {"content": "dos\n", "sensitive": True}})
        assert planner("apply", "--auto-approve", cwd=tmp_path).code == 0
    finally:
        os.umask(previous)

    state_dir = tmp_path / ".planner"
    found = {p.relative_to(state_dir).as_posix(): p.lstat().st_mode for p in state_dir.rglob("*")}
    assert any(name.endswith("before.pack") for name in found), sorted(found)
    assert stat.S_IMODE(state_dir.lstat().st_mode) == 0o700
    wrong = {
        name: f"{stat.S_IMODE(mode):04o}"
        for name, mode in found.items()
        if stat.S_IMODE(mode) != (0o700 if stat.S_ISDIR(mode) else 0o600)
    }
    assert wrong == {}, "state, checkpoint and lock files must be 0600, folders 0700"
