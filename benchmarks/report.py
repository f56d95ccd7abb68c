"""The targets, the rows the benchmarks add (pass, FAIL or for information), and the printed table.

No Django here: benchmarks/bench_seed.py reads its targets from TARGETS too.
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

TARGETS = {
    "list_ratio": 1.0,  # API req/s / baseline req/s, at least (issue 19)
    "list_ratio_uncached": 0.8,  # the same with every cache off (issue 19)
    "resolved_p99_ms": 10.0,  # at most (strictly below; issue 19)
    "not_modified_ratio": 2.0,  # 304 req/s / 200 req/s of the same GET, at least (issue 17)
    "mixed_hit_rate": 0.95,  # response cache hits / reads in organizations without writes, at least (issue 19)
    "jwt_us": 200.0,  # per call, strictly below
    "queries_list": 4,
    "queries_resolved": 4,
    "queries_create": 12,  # each one a rule: benchmarks/README.md lists them (issue 19 took 3 out, put 1 in)
    "seed_first_s": 10.0,
    "seed_second_s": 5.0,
    "seed_peak_mb": 300.0,
    "move_s": 5.0,  # migrate_user_models, 10,000 user models (benchmarks/bench_move.py)
    # --scale (benchmarks/scale.py, issue 19): p95 at 1M rows at most max(factor x p95 at 1k rows, floor)
    "scale_factor": 1.5,
    "scale_floor_ms": 10.0,
    "scale_seed_s": 2.0,  # seed_system_models with changed limits on the 1.1M-row table (and seed_peak_mb)
}


@dataclass
class Row:
    metric: str
    target: str
    measured: str
    ok: bool | None  # None: for information, no target

    @property
    def verdict(self) -> str:
        return {True: "pass", False: "FAIL", None: "-"}[self.ok]


@dataclass
class Results:
    rows: list[Row] = field(default_factory=list)
    # Figures for what draws them (benchmarks/chart.py), by benchmark: the table's rows are text.
    data: dict[str, Any] = field(default_factory=dict)

    def add(self, metric: str, target: str, measured: str, ok: bool | None) -> None:
        self.rows.append(Row(metric, target, measured, ok))

    def info(self, metric: str, measured: str) -> None:
        self.add(metric, "", measured, None)

    def error(self, benchmark: str, exc: BaseException) -> None:
        text = f"{type(exc).__name__}: {exc}".splitlines()[0][:90]
        self.add(f"{benchmark}: did not complete", "completes", text, False)

    @property
    def failed(self) -> list[Row]:
        return [row for row in self.rows if row.ok is False]


def table_lines(rows: list[Row]) -> list[str]:
    """The rows as a Markdown table, its columns padded to line up in a terminal too."""
    headers = ("metric", "target", "measured", "result")
    cells = [(row.metric, row.target, row.measured, row.verdict) for row in rows]
    widths = [max([len(header), *(len(cell[i]) for cell in cells)]) for i, header in enumerate(headers)]

    def line(values: tuple[str, ...]) -> str:
        return "| " + " | ".join(value.ljust(width) for value, width in zip(values, widths, strict=True)) + " |"

    return [line(headers), "|" + "|".join("-" * (width + 2) for width in widths) + "|", *map(line, cells)]


def code_under_test(root: Path) -> str:
    """The commit measured, and how many tracked files differ from it in the work tree (not counting
    benchmarks/results/, which every run rewrites: it is what was measured, not what ran)."""
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=root, capture_output=True, text=True, check=True
        ).stdout.strip()
        changed = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no", "--", ".", ":!benchmarks/results"],
            cwd=root,
            capture_output=True,
            text=True,
        ).stdout.splitlines()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return f"{commit}" + (f" + {len(changed)} modified file(s)" if changed else "")


def report_text(
    results: Results, *, code: str, benchmarks: list[str], seconds: float, duration: float, server: str
) -> str:
    """The heading, the table and the verdict: what run.py prints and benchmarks/chart.py keeps."""
    lines = [
        f"code: {code}; machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}",
        "",
        f"Model Registry benchmarks ({', '.join(benchmarks)}; {seconds:.0f} s; "
        f"wrk -t2 -c8 -d{duration:g}s; gunicorn {server}; PostgreSQL)",
        "",
        *table_lines(results.rows),
        "",
    ]
    if results.failed:
        lines.append(f"{len(results.failed)} target(s) missed: " + "; ".join(row.metric for row in results.failed))
    else:
        lines.append("all targets met")
    return "\n".join(lines)
