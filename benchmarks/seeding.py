"""The seed benchmark: benchmarks/bench_seed.py in a subprocess on the bench database; its figures into rows."""

from __future__ import annotations

import os
import re
import subprocess
import sys

from benchmarks.harness import ROOT, Bench, log
from benchmarks.report import TARGETS, Results

_SEED_FIGURES = {
    "first": r"first run[^:\n]*:\s*([\d.]+)\s*s\b",
    "second": r"second run[^:\n]*:\s*([\d.]+)\s*s\b",
    "update": r"update run[^:\n]*:\s*([\d.]+)\s*s\b",
    "tracemalloc": r"tracemalloc peak[^:\n]*:\s*([\d.]+)\s*MB",
    "maxrss": r"ru_maxrss[^:\n]*:\s*([\d.]+)\s*MB",
}


def parse_bench_seed(output: str) -> dict[str, float]:
    figures = {}
    for name, pattern in _SEED_FIGURES.items():
        match = re.search(pattern, output, re.I)
        if match:
            figures[name] = float(match.group(1))
    return figures


def run_bench_seed(bench: Bench) -> dict:
    """bench_seed.py's figures, parsed from the text it prints."""
    env = {**os.environ, **bench.env, "DJANGO_SETTINGS_MODULE": "config.settings"}
    command = [sys.executable, str(ROOT / "benchmarks" / "bench_seed.py"), "--entries", str(bench.args.seed_entries)]
    log(f"running {' '.join(command[1:])} on {bench.db_name}")
    completed = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=900, check=False)
    for line in completed.stdout.splitlines():
        log(f"   bench_seed: {line}")
    figures = parse_bench_seed(completed.stdout)
    missing = [name for name in ("first", "second", "tracemalloc", "maxrss") if name not in figures]
    if missing:
        raise RuntimeError(
            f"bench_seed.py exited {completed.returncode} without the figures {missing}: "
            f"{(completed.stderr or completed.stdout).strip().splitlines()[-1:] or ''}"
        )
    return figures


def bench_seed(bench: Bench, results: Results) -> None:
    figures = run_bench_seed(bench)
    entries = f"{bench.args.seed_entries:,}"
    first, second = figures["first"], figures["second"]
    results.add(
        f"seed: first run, {entries} entries (creates)",
        f"< {TARGETS['seed_first_s']:g} s",
        f"{first:.2f} s",
        first < TARGETS["seed_first_s"],
    )
    results.add(
        "seed: second run (unchanged)",
        f"< {TARGETS['seed_second_s']:g} s",
        f"{second:.2f} s",
        second < TARGETS["seed_second_s"],
    )
    if "update" in figures:
        results.info("seed: update run (every row changed)", f"{figures['update']:.2f} s")
    peak = TARGETS["seed_peak_mb"]
    results.add(
        "seed: peak memory, process ru_maxrss",
        f"< {peak:g} MB",
        f"{figures['maxrss']:.1f} MB",
        figures["maxrss"] < peak,
    )
    results.add(
        "seed: peak memory, tracemalloc (Python heap)",
        f"< {peak:g} MB",
        f"{figures['tracemalloc']:.1f} MB",
        figures["tracemalloc"] < peak,
    )
