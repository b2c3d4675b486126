"""The one object through which everything the user reads is printed.

Plans and results go to stdout, errors and progress to stderr. ``--quiet`` silences
everything but errors and the machine-readable output in one place, here. Library code never
prints; it logs, and the CLI decides what reaches this console.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.console import Console as RichConsole
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.text import Text


class Console:
    """User-facing output: plans, results, errors, questions and progress."""

    def __init__(self, *, no_color: bool = False, quiet: bool = False) -> None:
        no_color = no_color or "NO_COLOR" in os.environ
        self.quiet = quiet
        self.out = RichConsole(no_color=no_color, highlight=False, soft_wrap=True)
        self.err = RichConsole(stderr=True, no_color=no_color, highlight=False, soft_wrap=True)

    @property
    def is_interactive(self) -> bool:
        return sys.stdin.isatty() and self.out.is_terminal

    def print(self, renderable: object = "", *, style: str | None = None) -> None:
        """Normal output (plans, results); suppressed by --quiet."""
        if self.quiet:
            return
        if isinstance(renderable, Text) and not self.out.is_terminal:
            # Piped or redirected: no colours to draw and no width to wrap to, and rich's
            # layout pass over a plan of 100,000 changes costs more than the plan itself.
            sys.stdout.write(renderable.plain + "\n")
            sys.stdout.flush()
            return
        self.out.print(renderable, style=style)

    def raw(self, text: str) -> None:
        """Machine-readable output (JSON, Markdown): always printed, never styled."""
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
        sys.stdout.flush()

    def error(self, message: str) -> None:
        self.err.print(Text("Error: ", style="bold red") + Text(message))

    def warn(self, message: str) -> None:
        self.err.print(Text("Warning: ", style="yellow") + Text(message))

    def ask(self, question: str) -> str:
        self.out.print(question, end="")
        try:
            return input()
        except EOFError:
            return ""

    @contextmanager
    def progress(self, total: int, label: str) -> Iterator[Callable[[int], None]]:
        """A progress bar on stderr when it is a terminal; otherwise nothing."""
        if self.quiet or not self.err.is_terminal or total < 50:
            yield _ignore
            return
        bar = Progress(
            TextColumn(label),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=self.err,
            transient=True,
        )
        task = bar.add_task(label, total=total)
        with bar:
            yield lambda count: bar.advance(task, count)


def _ignore(count: int) -> None:
    """The progress callback when no bar is shown."""
