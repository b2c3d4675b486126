"""Every renderer survives any plan, keeps GitHub's comment limit, and never shows a secret.

Plans are built the way the kinds build them: a sensitive change's values pass through the
files kind's redaction before they reach a ``Change``. A canary string placed only in the
sensitive source must therefore never appear in any rendering, nor in what the CLI prints.
"""

from __future__ import annotations

import contextlib
import io
import json
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from planner.cli import main
from planner.kinds.files import _show
from planner.plan.model import Action, Batch, Change, Plan, summarize
from planner.render import render_json, render_markdown, render_text
from planner.render.markdown import LIMIT
from tests.harness import planner, write_config

CANARY = "CANARY-secret-QzX"
"""Not hexadecimal, so no SHA-256 digest in a plan can contain it by chance."""

RENDER = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
CLI = settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])

TEXT = st.text(alphabet=st.characters(exclude_categories=["Cs"]), max_size=80)
LONG_TEXT = st.one_of(TEXT, st.text(alphabet="ab\n`|<>*_", min_size=100, max_size=300))
PLAIN_VALUES = st.one_of(
    LONG_TEXT,
    st.integers(),
    st.booleans(),
    st.none(),
    st.lists(TEXT, max_size=3),
    st.just("(sensitive)"),
)
KINDS = st.sampled_from(["file", "audit", "issue", "label"])
ADDRESS_TAIL = st.text(
    alphabet=st.characters(exclude_categories=["Cs"], exclude_characters=CANARY), max_size=40
)


def _secret_bytes() -> st.SearchStrategy[bytes]:
    """Content holding the canary: text, binary, or past the shown size."""
    return st.one_of(
        st.tuples(TEXT, TEXT).map(lambda p: (p[0] + CANARY + p[1]).encode()),
        st.binary(max_size=40).map(lambda b: b + CANARY.encode() + b"\xff"),
        st.integers(min_value=0, max_value=5000).map(lambda n: CANARY.encode() + b"x" * n),
    )


@st.composite
def sensitive_changes(draw: st.DrawFn, index: int) -> Change:
    """A file change made the way the files kind makes a sensitive one."""
    action = draw(st.sampled_from([Action.CREATE, Action.UPDATE, Action.DELETE, Action.NO_OP]))
    mode = draw(st.sampled_from([None, 0o600, 0o644]))
    before = _show(draw(_secret_bytes()), mode, True) if action is not Action.CREATE else None
    after = (
        _show(draw(_secret_bytes()), mode or 0o644, True) if action is not Action.DELETE else None
    )
    changed = sorted({*(before or {}), *(after or {})} - {"sha256", "size"})
    return Change(
        address=f"file.secret{index}/{draw(ADDRESS_TAIL)}",
        kind="file",
        action=action,
        before=before if action is not Action.NO_OP else None,
        after=after if action is not Action.NO_OP else None,
        changed=changed if action is Action.UPDATE else [],
        fingerprint="sha256:" + "0" * 64,
        desired_digest="0" * 64,
        sensitive=True,
        note=draw(st.none() | ADDRESS_TAIL),
    )


@st.composite
def plain_changes(draw: st.DrawFn, index: int) -> Change:
    action = draw(st.sampled_from(list(Action)))
    keys = st.sampled_from(["content", "title", "body", "labels", "mode", "state", "color"])
    values = st.dictionaries(keys, PLAIN_VALUES, max_size=4)
    before = draw(st.none() | values)
    after = draw(st.none() | values)
    changed = sorted({*(before or {}), *(after or {})})
    return Change(
        address=f"{draw(KINDS)}.plain{index}{draw(ADDRESS_TAIL)}",
        kind=draw(KINDS),
        action=action,
        before=before,
        after=after,
        changed=draw(st.just(changed) | st.lists(keys, max_size=3)),
        fingerprint=draw(TEXT),
        sensitive=False,
        note=draw(st.none() | TEXT),
    )


@st.composite
def plans(draw: st.DrawFn) -> Plan:
    count = draw(st.integers(min_value=0, max_value=25))
    drawn = [
        draw(sensitive_changes(index) if draw(st.booleans()) else plain_changes(index))
        for index in range(count)
    ]
    # Copies make plans large enough for the Markdown limit without drawing every change.
    copies = draw(st.sampled_from([1, 1, 1, 1, 30, 120]))
    changes = [
        change.model_copy(update={"address": f"{change.address}#{copy}"})
        for copy in range(copies)
        for change in drawn
    ]
    batch_count = draw(st.integers(min_value=0, max_value=6))
    batches = [
        Batch(
            index=number,
            kind=draw(KINDS),
            operations=draw(st.integers(min_value=0, max_value=10**6)),
            requests=draw(st.none() | st.integers(min_value=0, max_value=10**6)),
            note=draw(st.none() | TEXT),
        )
        for number in range(1, batch_count + 1)
    ]
    placed = [
        change.model_copy(
            update={"batch": draw(st.none() | st.integers(min_value=1, max_value=batch_count))}
        )
        if batch_count and change.action is not Action.NO_OP
        else change
        for change in changes
    ]
    return Plan(
        planner_version="0.0.0",
        operation=draw(st.sampled_from(["apply", "rollback"])),
        created_at="2026-01-01T00:00:00Z",
        config_path="planner.toml",
        config_sha256="0" * 64,
        targets=draw(st.lists(ADDRESS_TAIL, max_size=2)),
        changes=placed,
        batches=batches,
        summary=summarize(placed),
        notes=draw(st.lists(TEXT, max_size=3)),
    )


@RENDER
@given(plans())
def test_every_renderer_takes_any_plan_and_never_shows_a_sensitive_value(plan: Plan) -> None:
    text = render_text(plan).plain
    as_json = render_json(plan)
    markdown = render_markdown(plan)

    assert Plan.model_validate(json.loads(as_json)) == plan
    assert len(markdown) <= LIMIT
    for rendered in (text, as_json, markdown):
        assert CANARY not in rendered


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(min_value=3000, max_value=6000), st.integers(min_value=1, max_value=40))
def test_markdown_of_a_huge_plan_stays_under_the_limit_and_says_what_it_left_out(
    count: int, batch_count: int
) -> None:
    changes = [
        Change(
            address=f"file.docs/{index:05}.md",
            kind="file",
            action=Action.UPDATE,
            before={"content": "old " * 40},
            after={"content": "new " * 40},
            changed=["content"],
            batch=1 + index % batch_count,
            fingerprint="f",
        )
        for index in range(count)
    ]
    batches = [
        Batch(index=n, kind="file", operations=count // batch_count)
        for n in range(1, batch_count + 1)
    ]
    plan = Plan(
        planner_version="0",
        created_at="t",
        config_path="p",
        config_sha256="0" * 64,
        changes=changes,
        batches=batches,
        summary=summarize(changes),
    )

    markdown = render_markdown(plan)

    assert len(markdown) <= LIMIT
    assert markdown.count("```") % 2 == 0, "an unclosed code fence swallows the rest"
    assert "changes are not shown here" in markdown


def _toml(value: str) -> str:
    return (
        '"'
        + "".join(
            f"\\u{ord(c):04x}" if c in '"\\' or ord(c) < 0x20 or ord(c) == 0x7F else c
            for c in value
        )
        + '"'
    )


def _run(*args: str) -> tuple[int, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main([*args, "--no-color"])
    return code, out.getvalue() + err.getvalue()


@CLI
@given(
    st.lists(
        st.tuples(
            st.one_of(_secret_bytes(), st.binary(max_size=30)),  # on disk before
            st.booleans(),  # present on disk
            st.one_of(TEXT, st.just("")).map(lambda t: t + CANARY),  # declared content
            st.sampled_from([None, "0600", "0644"]),
            st.sampled_from(["present", "absent"]),
        ),
        min_size=1,
        max_size=4,
    )
)
def test_plans_of_sensitive_files_never_show_their_content(
    files: list[tuple[bytes, bool, str, str | None, str]],
) -> None:
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        root = folder / "tree"
        root.mkdir()
        lines = ['[project]\nroot = "tree"\n']
        for index, (on_disk, exists, content, mode, ensure) in enumerate(files):
            if exists:
                (root / f"s{index}.txt").write_bytes(on_disk)
            lines.append(f'[[file]]\npath = "s{index}.txt"\nsensitive = true\nensure = "{ensure}"')
            if ensure == "present":
                lines.append(f"content = {_toml(content)}")
                if mode:
                    lines.append(f'mode = "{mode}"')
            lines.append("")
        config = folder / "planner.toml"
        config.write_text("\n".join(lines), encoding="utf-8")
        saved = folder / "plan.json"

        outputs = []
        for form in ("text", "json", "markdown"):
            code, output = _run("plan", "-c", str(config), "--format", form, "--out", str(saved))
            assert code == 0, output
            outputs += [output, saved.read_text(encoding="utf-8", errors="replace")]
            code, output = _run("show", str(saved), "--format", form)
            assert code == 0, output
            outputs.append(output)
        code, output = _run("apply", "-c", str(config), "--auto-approve")
        assert code == 0, output
        outputs.append(output)

        for output in outputs:
            assert CANARY not in output


def test_content_that_was_sensitive_is_not_shown_when_the_flag_is_removed(
    tmp_path: Path,
) -> None:
    write_config(tmp_path, files={"key.pem": {"content": CANARY, "sensitive": True}})
    assert planner("apply", "--auto-approve", cwd=tmp_path).code == 0
    write_config(tmp_path, files={"key.pem": "public now"})

    result = planner("plan", cwd=tmp_path)

    assert result.code == 0, result.output
    assert CANARY not in result.stdout, "the old secret is printed as the 'before' value"


def test_a_sensitive_file_released_from_the_configuration_is_not_shown(tmp_path: Path) -> None:
    write_config(tmp_path, files={"key.pem": {"content": CANARY, "sensitive": True}})
    assert planner("apply", "--auto-approve", cwd=tmp_path).code == 0
    write_config(tmp_path, files={})

    for form in ("text", "json", "markdown"):
        result = planner("plan", "--format", form, cwd=tmp_path)
        assert result.code == 0 and "key.pem" in result.stdout, result.output
        assert CANARY not in result.stdout


def test_rollback_plan_of_a_sensitive_file_does_not_show_it(tmp_path: Path) -> None:
    write_config(tmp_path, files={"key.pem": {"content": CANARY + "1", "sensitive": True}})
    assert planner("apply", "--auto-approve", cwd=tmp_path).code == 0
    write_config(tmp_path, files={"key.pem": {"content": CANARY + "2", "sensitive": True}})
    assert planner("apply", "--auto-approve", cwd=tmp_path).code == 0

    result = planner("rollback", "--auto-approve", cwd=tmp_path)

    assert result.code == 0, result.output
    assert CANARY not in result.output
    assert (tmp_path / "tree/key.pem").read_text() == CANARY + "1"
