"""Turns the raw figures of ``benchmarks/suite.py`` into ``results.md`` and PNG charts.

Runs on its own too: ``.venv/bin/python benchmarks/report.py [results.json] [out-folder]``.

Every figure is a median over runs with its min-max spread. A peer that did not run at a size
(Ansible and the naive issue loop above their caps) is extrapolated on the straight line
through its two largest real sizes, and every such figure carries a ``*``. Peak memory is
never extrapolated.
"""

from __future__ import annotations

import json
import statistics
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SECONDARY_POINTS_PER_READ = 1
SECONDARY_POINTS_PER_MUTATING_REQUEST = 5
READ_KINDS = ("rest-read", "graphql-query")
MUTATING_KINDS = ("rest-write", "graphql-mutation")
SYSCALL_GROUPS = ("writes", "syncs", "opens", "renames")
EXTRAPOLATED = "*"

SCENARIO_TITLES = {
    "files": "Files: N new small files over 20 folders",
    "audit": "Audit log: N new entries",
    "issues": "GitHub issues: N changes to existing issues (100 ms latency, 1 s write pacing)",
}
UNITS = {"files": "files", "audit": "audit entries", "issues": "issues"}


@dataclass(frozen=True)
class Stat:
    """A median with its spread over ``runs`` runs, or a value extrapolated from two sizes."""

    median: float
    low: float
    high: float
    runs: int
    extrapolated: bool = False

    @staticmethod
    def of(values: Sequence[float]) -> Stat:
        return Stat(statistics.median(values), min(values), max(values), len(values))

    @staticmethod
    def single(value: float, extrapolated: bool = False) -> Stat:
        return Stat(value, value, value, 1, extrapolated)


@dataclass(frozen=True)
class Figures:
    """Every figure of one run kind at one size."""

    wall: Stat
    cpu: Stat
    peak_mib: Stat | None
    counts: dict[str, Stat]
    """System-call groups, HTTP request kinds, ``requests`` and ``points``."""

    @property
    def extrapolated(self) -> bool:
        return self.wall.extrapolated

    @property
    def runs(self) -> int:
        return self.wall.runs


def rate_limit_points(requests: dict[str, int]) -> int:
    reads = sum(requests.get(kind, 0) for kind in READ_KINDS)
    writes = sum(requests.get(kind, 0) for kind in MUTATING_KINDS)
    return reads * SECONDARY_POINTS_PER_READ + writes * SECONDARY_POINTS_PER_MUTATING_REQUEST


def measured_figures(cell: dict[str, Any]) -> Figures:
    samples = cell["samples"]
    counts: dict[str, Stat] = {}
    if cell["syscalls"] is not None:
        counts.update({group: Stat.single(cell["syscalls"][group]) for group in SYSCALL_GROUPS})
    if cell["requests"] is not None:
        requests = cell["requests"]
        total = sum(requests.get(kind, 0) for kind in READ_KINDS + MUTATING_KINDS)
        counts.update({kind: Stat.single(requests.get(kind, 0)) for kind in requests})
        counts["requests"] = Stat.single(total)
        counts["points"] = Stat.single(rate_limit_points(requests))
    return Figures(
        wall=Stat.of([sample["wall_seconds"] for sample in samples]),
        cpu=Stat.of([sample["cpu_seconds"] for sample in samples]),
        peak_mib=Stat.of([sample["peak_rss_kib"] / 1024 for sample in samples]),
        counts=counts,
    )


def extend_line(size: int, lower: tuple[int, Stat], upper: tuple[int, Stat]) -> Stat:
    (size_a, stat_a), (size_b, stat_b) = lower, upper
    slope = (stat_b.median - stat_a.median) / (size_b - size_a)
    return Stat.single(max(stat_b.median + slope * (size - size_b), 0.0), extrapolated=True)


def extrapolated_figures(size: int, measured: dict[int, Figures]) -> Figures | None:
    """Figures at a size larger than every real one, on the line through the two largest."""
    real = sorted(measured)
    if len(real) < 2 or size <= real[-1]:
        return None

    lower, upper = real[-2], real[-1]

    def line(pick: Callable[[Figures], Stat]) -> Stat:
        return extend_line(size, (lower, pick(measured[lower])), (upper, pick(measured[upper])))

    return Figures(
        wall=line(lambda figures: figures.wall),
        cpu=line(lambda figures: figures.cpu),
        peak_mib=None,
        counts={
            name: extend_line(
                size,
                (lower, measured[lower].counts[name]),
                (upper, measured[upper].counts[name]),
            )
            for name in measured[upper].counts
            if name in measured[lower].counts
        },
    )


class Table:
    """Figures by scenario, run kind and size, real or extrapolated."""

    def __init__(self, document: dict[str, Any]) -> None:
        self.machine: dict[str, Any] = document["machine"]
        self.elapsed_seconds: int = document.get("elapsed_seconds", 0)
        self.measured: dict[tuple[str, str], dict[int, Figures]] = {}
        for cell in document["cells"]:
            if cell["samples"]:
                key = (cell["scenario"], cell["run"])
                self.measured.setdefault(key, {})[cell["size"]] = measured_figures(cell)

    def sizes(self, scenario: str) -> list[int]:
        listed = self.machine["issue_sizes"] if scenario == "issues" else self.machine["sizes"]
        return [int(size) for size in listed]

    def scenarios(self) -> list[str]:
        present = {scenario for scenario, _ in self.measured}
        return [name for name in SCENARIO_TITLES if name in present]

    def runs(self, scenario: str) -> list[str]:
        return [run for name, run in self.measured if name == scenario]

    def figures(self, scenario: str, run: str, size: int) -> Figures | None:
        measured = self.measured.get((scenario, run), {})
        if size in measured:
            return measured[size]
        return extrapolated_figures(size, measured)


# --- text ----------------------------------------------------------------------------------


def number(value: float) -> str:
    if value >= 100:
        return f"{value:,.0f}"
    if value >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def stat_text(stat: Stat | None) -> str:
    if stat is None:
        return "—"
    if stat.extrapolated:
        return f"{number(stat.median)}{EXTRAPOLATED}"
    if stat.runs == 1 or stat.low == stat.high:
        return number(stat.median)
    return f"{number(stat.median)} ({number(stat.low)}-{number(stat.high)})"


def count_text(stat: Stat | None) -> str:
    if stat is None:
        return "not measured"
    return f"{stat.median:,.0f}" + (EXTRAPOLATED if stat.extrapolated else "")


def ratio_text(peer: Stat | None, planner: Stat | None) -> str:
    """How many times the peer's figure is planner's, with the spread of the runs."""
    if peer is None or planner is None:
        return "—"
    if planner.median == 0:
        return "—" if peer.median == 0 else "∞ (planner: 0)"

    ratio = peer.median / planner.median
    text = f"**{ratio_number(ratio)}x**"
    if peer.extrapolated or planner.extrapolated:
        return text + EXTRAPOLATED
    if planner.low > 0 and (peer.runs > 1 or planner.runs > 1):
        lowest, highest = peer.low / planner.high, peer.high / planner.low
        text += f" ({ratio_number(lowest)}-{ratio_number(highest)})"
    return text


def ratio_number(value: float) -> str:
    if value >= 100:
        return f"{value:,.0f}"
    if value >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines.extend("| " + " | ".join(row) + " |" for row in rows)
    return lines


@dataclass(frozen=True)
class Comparison:
    scenario: str
    peer: str
    planner: str
    metrics: tuple[tuple[str, Callable[[Figures], Stat | None]], ...]


def count_of(name: str) -> Callable[[Figures], Stat | None]:
    return lambda figures: figures.counts.get(name)


LOCAL_METRICS: tuple[tuple[str, Callable[[Figures], Stat | None]], ...] = (
    ("wall time", lambda figures: figures.wall),
    ("CPU time", lambda figures: figures.cpu),
    ("peak memory", lambda figures: figures.peak_mib),
    ("write calls", count_of("writes")),
    ("sync calls", count_of("syncs")),
)
ISSUE_METRICS: tuple[tuple[str, Callable[[Figures], Stat | None]], ...] = (
    ("wall time", lambda figures: figures.wall),
    ("CPU time", lambda figures: figures.cpu),
    ("HTTP requests", count_of("requests")),
    ("rate-limit points", count_of("points")),
)

COMPARISONS = (
    Comparison("files", "naive: one write per file", "planner apply (cold)", LOCAL_METRICS),
    Comparison("files", "naive: one write + fsync per file", "planner apply (cold)", LOCAL_METRICS),
    Comparison("files", "ansible apply (cold)", "planner apply (cold)", LOCAL_METRICS),
    Comparison("files", "ansible --check --diff (cold)", "planner plan (cold)", LOCAL_METRICS[:3]),
    Comparison("files", "ansible --check --diff (warm)", "planner plan (warm)", LOCAL_METRICS[:3]),
    Comparison("audit", "naive: one write per entry", "planner apply (cold)", LOCAL_METRICS),
    Comparison(
        "audit", "naive: one write + fsync per entry", "planner apply (cold)", LOCAL_METRICS
    ),
    Comparison(
        "issues",
        "naive: PyGithub get_issue + edit per issue",
        "planner apply (cold)",
        ISSUE_METRICS,
    ),
)


def headline_section(table: Table) -> list[str]:
    lines = [
        "## Headline: how many times planner's cost the other way costs",
        "",
        "Each cell is *peer / planner* for the same work at the same size (above 1: planner "
        "is cheaper), the ratio of medians with, in brackets, the lowest and highest ratio any "
        f"pair of runs gives. `{EXTRAPOLATED}` marks an extrapolated peer (see below).",
        "",
    ]
    for scenario in table.scenarios():
        sizes = table.sizes(scenario)
        rows = []
        for comparison in COMPARISONS:
            if comparison.scenario != scenario:
                continue
            for metric, pick in comparison.metrics:
                cells = [f"{comparison.peer} / {comparison.planner}", metric]
                for size in sizes:
                    peer = table.figures(scenario, comparison.peer, size)
                    planner = table.figures(scenario, comparison.planner, size)
                    cells.append(
                        ratio_text(pick(peer) if peer else None, pick(planner) if planner else None)
                    )
                rows.append(cells)
        if not rows:
            continue
        lines.append(f"### {SCENARIO_TITLES[scenario]}")
        lines.append("")
        header = ["comparison", "figure", *(f"{size:,} {UNITS[scenario]}" for size in sizes)]
        lines.extend(markdown_table(header, rows))
        lines.append("")
    return lines


def local_detail_rows(table: Table, scenario: str) -> list[list[str]]:
    rows = []
    for run in table.runs(scenario):
        for size in table.sizes(scenario):
            figures = table.figures(scenario, run, size)
            if figures is None:
                continue
            rows.append(
                [
                    *common_cells(run, size, figures),
                    *(count_text(figures.counts.get(group)) for group in SYSCALL_GROUPS),
                ]
            )
    return rows


def common_cells(run: str, size: int, figures: Figures) -> list[str]:
    """The columns every detail table starts with: run, size, runs, time and memory."""
    runs = "extrap." if figures.extrapolated else str(figures.runs)
    return [
        run,
        f"{size:,}",
        runs,
        stat_text(figures.wall),
        stat_text(figures.cpu),
        stat_text(figures.peak_mib),
    ]


def issue_detail_rows(table: Table) -> list[list[str]]:
    kinds = ("rest-read", "rest-write", "graphql-query", "graphql-mutation")
    rows = []
    for run in table.runs("issues"):
        for size in table.sizes("issues"):
            figures = table.figures("issues", run, size)
            if figures is None:
                continue
            rows.append(
                [
                    *common_cells(run, size, figures),
                    *(count_text(figures.counts.get(kind)) for kind in kinds),
                    count_text(figures.counts.get("requests")),
                    count_text(figures.counts.get("points")),
                ]
            )
    return rows


def detail_section(table: Table) -> list[str]:
    lines = ["## Every figure", ""]
    for scenario in table.scenarios():
        lines.append(f"### {SCENARIO_TITLES[scenario]}")
        lines.append("")
        if scenario == "issues":
            header = [
                "run",
                "issues",
                "runs",
                "wall s",
                "CPU s",
                "peak MiB",
                "REST reads",
                "REST writes",
                "GraphQL queries",
                "GraphQL mutations",
                "requests",
                "rate-limit points",
            ]
            lines.extend(markdown_table(header, issue_detail_rows(table)))
        else:
            header = [
                "run",
                UNITS[scenario],
                "runs",
                "wall s",
                "CPU s",
                "peak MiB",
                *SYSCALL_GROUPS,
            ]
            lines.extend(markdown_table(header, local_detail_rows(table, scenario)))
        lines.append("")
        lines.append(f"![{scenario}]({scenario}.png)")
        lines.append("")
    return lines


def method_section(table: Table) -> list[str]:
    machine = table.machine
    ansible_max = machine.get("ansible_max")
    lines = [
        "## How it was measured",
        "",
        f"- Machine: {machine['cpus']} CPUs (shared with other work), Linux "
        f"{machine['kernel']}, Python {machine['python']}; run {machine['date']}, "
        f"{table.elapsed_seconds / 60:.0f} min. Command: `benchmarks/run"
        f"{' --quick' if machine['quick'] else ''}`.",
        f"- Each peer ran {machine['repeat']} times per size, round-robin (each round starts "
        f"with the next peer), each time in a fresh folder (or against a fresh GitHub server); "
        f"at 100,000 and at the largest real size of Ansible and of the naive issue loop, "
        f"{machine['slow_repeat']} time(s) (the `runs` column says how many). No folder is "
        "deleted until the whole run is over: on this machine's file system, creating files "
        "soon after many were deleted costs several times more. Wall time, CPU time (user + "
        "system of the child and every process it waited for) and peak memory (largest "
        "resident set of any one process) come from `os.wait4`; outputs go to /dev/null.",
        "- System calls: one more run of each under `strace -f -c` (every process started "
        "counts): writes = write/writev/pwrite*, syncs = fsync/fdatasync/syncfs, opens = "
        "open/openat, renames = rename/renameat*. Python start-up's own opens (imports) are "
        "included for every peer."
        + ("" if machine["strace"] else " **Not measured in this run: strace was missing.**"),
        "- planner: a generated `planner.toml`; `planner plan` into an empty tree (cold), "
        "`planner apply --auto-approve` (cold: every file, entry or change is new), then "
        "`planner plan --detailed-exitcode` with nothing to change (warm).",
        "- naive: what a shell workflow does, as a Python child: `mkdir -p`, then one "
        "open/write/close per file or one open-append/write/close per audit line; the "
        "*fsync each* variant syncs every file and line, which is what makes it durable as "
        "planner's apply is.",
    ]
    if ansible_max is not None:
        lines.append(
            "- Ansible (ansible-core from PyPI): a generated playbook on `localhost` with "
            "`-c local`: one `file` task looping over the 20 folders and one `copy` task "
            "(`content`, `mode`) looping over a vars file of every file, as a user would "
            "write it; `--check --diff` into an empty tree (cold), for real, then `--check "
            "--diff` again (warm). Ansible has no append-only log resource (`lineinfile` "
            "rescans the file for each line, `shell >>` is the naive way), so it is not in "
            f"the audit scenario. {EXTRAPOLATED} It spends about a second per file here, so it "
            f"runs for real at {machine['ansible_calibration']} and {ansible_max:,} files "
            "only; larger sizes are extrapolated on the straight line through those two "
            "(Ansible's per-item cost is constant), peak memory is not extrapolated."
        )
    lines.extend(
        [
            f"- Issues: the local GitHub API server (`python -m tests.github_api`) with "
            f"{machine['latency_seconds'] * 1000:.0f} ms latency per request, seeded with N "
            "issues; every odd issue is closed as completed, every even one retitled. planner "
            f"with `PLANNER_GITHUB_WRITE_INTERVAL={machine['write_interval_seconds']:g}`; the "
            "naive way is PyGithub with its default pacing (1 s before every write, 0.25 s "
            "between requests), one `get_issue` and one `edit` per issue, like `gh issue "
            "edit` in a loop. Requests by kind come from the server's request log; rate-limit "
            "points are GitHub's published secondary-limit costs: 1 per read request, 5 per "
            f"mutating request. {EXTRAPOLATED} The naive loop takes over a second per issue, "
            f"so it runs for real up to {machine['naive_issues_max']:,} issues and is "
            "extrapolated beyond on the line through its two largest real sizes (its requests "
            "are exactly linear: 2 per issue).",
            "- Ratios, not absolute times, are the result: the machine is shared and noisy.",
            "",
        ]
    )
    return lines


def write_markdown(table: Table, out_dir: Path, profile_note: str) -> None:
    lines = [
        "# planner against the naive way and Ansible",
        "",
        "Generated by `benchmarks/run` (`benchmarks/suite.py`, `benchmarks/report.py`); the "
        "raw figures are in `results.json`.",
        "",
    ]
    lines.extend(headline_section(table))
    lines.extend(method_section(table))
    lines.extend(detail_section(table))
    if profile_note:
        lines.extend(["## Profile of the worst scenario", "", profile_note.strip(), ""])
    (out_dir / "results.md").write_text("\n".join(lines), encoding="utf-8")


# --- charts --------------------------------------------------------------------------------


LOCAL_PANELS: tuple[tuple[str, str, Callable[[Figures], Stat | None]], ...] = (
    ("wall time", "seconds", lambda figures: figures.wall),
    ("CPU time", "seconds", lambda figures: figures.cpu),
    ("peak memory", "MiB", lambda figures: figures.peak_mib),
    ("write calls", "calls", count_of("writes")),
    ("sync calls", "calls", count_of("syncs")),
    ("open calls", "calls", count_of("opens")),
)
ISSUE_PANELS: tuple[tuple[str, str, Callable[[Figures], Stat | None]], ...] = (
    ("wall time", "seconds", lambda figures: figures.wall),
    ("CPU time", "seconds", lambda figures: figures.cpu),
    ("HTTP requests", "requests", count_of("requests")),
    ("rate-limit points (1/read, 5/write)", "points", count_of("points")),
)


def run_style(run: str) -> dict[str, Any]:
    colours = {"planner": "tab:blue", "naive": "tab:red", "ansible": "tab:green"}
    colour = next((value for key, value in colours.items() if run.startswith(key)), "tab:gray")
    if "fsync" in run:
        colour = "tab:orange"
    linestyle = ":" if "(warm)" in run else "--" if "check" in run or "plan (cold)" in run else "-"
    return {"color": colour, "linestyle": linestyle}


def draw_scenario(table: Table, scenario: str, out_dir: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = ISSUE_PANELS if scenario == "issues" else LOCAL_PANELS
    columns = 2 if scenario == "issues" else 3
    rows = (len(panels) + columns - 1) // columns
    figure, axes = plt.subplots(rows, columns, figsize=(4.2 * columns, 3.3 * rows + 0.9))
    flat_axes = list(axes.flat)

    for axis, (title, unit, pick) in zip(flat_axes, panels, strict=False):
        for run in table.runs(scenario):
            points = []
            for size in table.sizes(scenario):
                figures = table.figures(scenario, run, size)
                stat = pick(figures) if figures else None
                if stat is not None and stat.median > 0:
                    points.append((size, stat))
            if not points:
                continue
            style = run_style(run)
            real = [(size, stat) for size, stat in points if not stat.extrapolated]
            axis.plot(
                [size for size, _ in points],
                [stat.median for _, stat in points],
                label=run,
                linewidth=1.4,
                **style,
            )
            axis.errorbar(
                [size for size, _ in real],
                [stat.median for _, stat in real],
                yerr=[
                    [stat.median - stat.low for _, stat in real],
                    [stat.high - stat.median for _, stat in real],
                ],
                fmt="o",
                markersize=3.5,
                color=style["color"],
                capsize=2,
                linewidth=0.8,
            )
            guessed = [(size, stat) for size, stat in points if stat.extrapolated]
            axis.plot(
                [size for size, _ in guessed],
                [stat.median for _, stat in guessed],
                "o",
                markersize=5,
                markerfacecolor="white",
                color=style["color"],
            )
        axis.set_xscale("log")
        axis.set_yscale("log")
        axis.set_title(title, fontsize=9)
        axis.set_xlabel(UNITS[scenario], fontsize=8)
        axis.set_ylabel(unit, fontsize=8)
        axis.tick_params(labelsize=7)
        axis.grid(True, which="major", linewidth=0.4, alpha=0.5)

    for axis in flat_axes[len(panels) :]:
        axis.set_visible(False)

    handles, labels = flat_axes[0].get_legend_handles_labels()
    figure.legend(handles, labels, loc="lower center", ncol=3, fontsize=7, frameon=False)
    figure.suptitle(
        f"{SCENARIO_TITLES[scenario]} (log-log; hollow markers: extrapolated)", fontsize=10
    )
    figure.tight_layout(rect=(0, 0.1 if len(labels) > 3 else 0.06, 1, 0.97))
    figure.savefig(out_dir / f"{scenario}.png", dpi=72)
    plt.close(figure)


def write_report(json_path: Path, out_dir: Path) -> None:
    table = Table(json.loads(json_path.read_text(encoding="utf-8")))
    profile_path = out_dir / "profile.md"
    profile_note = profile_path.read_text(encoding="utf-8") if profile_path.exists() else ""
    write_markdown(table, out_dir, profile_note)
    for scenario in table.scenarios():
        draw_scenario(table, scenario, out_dir)


if __name__ == "__main__":
    arguments = sys.argv[1:]
    json_path = Path(arguments[0]) if arguments else Path(__file__).with_name("results.json")
    write_report(json_path, Path(arguments[1]) if len(arguments) > 1 else json_path.parent)
