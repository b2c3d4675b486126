"""The command line: parse, set up output and logging, dispatch, map errors to exit codes."""

from __future__ import annotations

import argparse
import gc
import importlib
import json
import logging
import sys
import traceback
from collections.abc import Sequence

from planner import __version__
from planner.console import Console
from planner.errors import PlannerError

GC_THRESHOLDS = (100_000, 20, 100)
"""The collector's thresholds while a command runs. A plan builds one small object after
another (records, declared files, changes) and frees almost none, so with the default of a
collection every 700 allocations the collector scans the growing heap over and over: a third
of an unchanged plan of 100,000 files. Planner makes few reference cycles, so collecting
rarely costs little memory."""

COMMANDS = (
    "validate",
    "plan",
    "apply",
    "show",
    "status",
    "resume",
    "rollback",
    "audit",
    "fmt",
    "comment",
)


def _global_options(parser: argparse.ArgumentParser, *, in_command: bool) -> None:
    default = argparse.SUPPRESS if in_command else None
    flag_default = argparse.SUPPRESS if in_command else False
    parser.add_argument(
        "--no-color", action="store_true", default=flag_default, help="plain output (also NO_COLOR)"
    )
    parser.add_argument(
        "-q",
        "--quiet",
        action="store_true",
        default=flag_default,
        help="print only errors and requested output",
    )
    parser.add_argument(
        "-v", "--verbose", action="store_true", default=flag_default, help="log what planner does"
    )
    parser.add_argument(
        "--debug",
        action="store_true",
        default=flag_default,
        help="log everything; tracebacks on errors",
    )
    del default


def _config_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "-c",
        "--config",
        default="planner.toml",
        metavar="PATH",
        help="TOML file, or folder whose *.toml files are merged (default: planner.toml)",
    )


def _refresh_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--refresh",
        choices=("auto", "full"),
        default="auto",
        help="auto: read only the GitHub issues that changed since the last plan; "
        "full: read every issue again",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="planner",
        description="Declarative plan/apply for GitHub issues, files and an audit log.",
    )
    parser.add_argument("--version", action="version", version=f"planner {__version__}")
    _global_options(parser, in_command=False)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    def command(name: str, help_text: str) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help_text, description=help_text)
        _global_options(sub, in_command=True)
        return sub

    validate = command("validate", "load and validate the configuration (no network, no writes)")
    _config_option(validate)
    validate.add_argument(
        "--format", choices=("text", "json"), default="text", help="json: errors as a JSON list"
    )

    plan = command("plan", "show what would change, in batches")
    _config_option(plan)
    plan.add_argument("--out", metavar="FILE", help="save the plan for planner apply FILE")
    plan.add_argument("--format", choices=("text", "json", "markdown"), default="text")
    plan.add_argument(
        "--detailed-exitcode", action="store_true", help="exit 2 when there are changes"
    )
    _refresh_option(plan)
    plan.add_argument(
        "--target",
        action="append",
        default=[],
        metavar="ADDR",
        help="limit to an address, glob or kind",
    )

    apply = command("apply", "carry out a plan, checkpointed")
    _config_option(apply)
    apply.add_argument(
        "planfile", nargs="?", metavar="PLANFILE", help="a plan saved by planner plan --out"
    )
    apply.add_argument("--auto-approve", action="store_true", help="do not ask for yes")
    apply.add_argument(
        "--write-back",
        action="store_true",
        help="record the numbers of issues it created in the declaring TOML files",
    )
    _refresh_option(apply)
    apply.add_argument(
        "--target",
        action="append",
        default=[],
        metavar="ADDR",
        help="limit to an address, glob or kind",
    )

    show = command("show", "render a saved plan")
    show.add_argument("planfile", metavar="PLANFILE")
    show.add_argument("--format", choices=("text", "json", "markdown"), default="text")

    status = command("status", "show the checkpoint of the last apply")
    _config_option(status)
    resume = command("resume", "continue an interrupted or failed apply")
    _config_option(resume)
    _refresh_option(resume)
    rollback = command("rollback", "undo what the last apply changed")
    _config_option(rollback)
    rollback.add_argument("--auto-approve", action="store_true", help="do not ask for yes")

    fmt = command("fmt", "rewrite configuration files in a canonical layout, keeping comments")
    _config_option(fmt)
    fmt.add_argument("--check", action="store_true", help="exit 1 when a file would change")

    comment = command("comment", "post the plan on a pull request, updating it in place later")
    _config_option(comment)
    comment.add_argument("--pr", type=int, required=True, metavar="N", help="pull request number")
    comment.add_argument(
        "planfile", nargs="?", metavar="PLANFILE", help="a saved plan (default: plan now)"
    )
    comment.add_argument("--repo", metavar="OWNER/NAME", help="default: [github].repo")

    audit = command("audit", "audit-log commands")
    audit_commands = audit.add_subparsers(dest="audit_command", metavar="SUBCOMMAND", required=True)
    verify = audit_commands.add_parser("verify", help="check the audit log's hash chain")
    _global_options(verify, in_command=True)
    _config_option(verify)
    return parser


def _configure_logging(args: argparse.Namespace) -> None:
    level = logging.DEBUG if args.debug else logging.INFO if args.verbose else logging.WARNING
    logging.basicConfig(
        level=level, stream=sys.stderr, format="%(levelname)s %(name)s: %(message)s"
    )


def main(argv: Sequence[str] | None = None) -> int:
    gc.set_threshold(*GC_THRESHOLDS)
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_request:
        # argparse exits 2 on usage errors; planner's contract says 1 (nothing changed).
        return 0 if exit_request.code in (0, None) else 1
    _configure_logging(args)
    console = Console(no_color=args.no_color, quiet=args.quiet)

    try:
        module = importlib.import_module(f"planner.commands.{args.command}")
        return int(module.run(args, console))
    except PlannerError as error:
        if args.debug:
            traceback.print_exc()
        if getattr(args, "format", None) == "json" and args.command in ("validate", "plan"):
            # Tools that generate configuration read every problem, placed, from stdout.
            console.raw(json.dumps(error.diagnostics(), indent=1))
        console.error(str(error))
        return error.exit_code
    except KeyboardInterrupt:
        console.error(
            "interrupted; if an apply was running, its checkpoint was kept (planner status)"
        )
        return 130
    except Exception as error:
        if args.debug:
            traceback.print_exc()
        console.error(
            f"unexpected {error.__class__.__name__}: {error}; rerun with --debug and report it"
        )
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
