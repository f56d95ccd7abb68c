"""The seed and move benchmarks: benchmarks/bench_seed.py and bench_move.py in a subprocess on the bench
database; their JSON into rows."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from benchmarks.harness import PG_URL_TEMPLATE, ROOT, Bench, log
from benchmarks.report import TARGETS, Results

REQUIRED_FIGURES = ("first_run_s", "second_run_s", "tracemalloc_peak_mb", "maxrss_mb")


def run_script(
    bench: Bench, script: str, arguments: list[str], required: tuple[str, ...], *, db_name: str | None = None
) -> dict:
    """A benchmark script's figures: the one JSON object it prints on stdout (its stderr is for
    people), run in a subprocess on the bench database (or on `db_name`, a copy of it); a
    RuntimeError if `required` are missing."""
    db_name = db_name or bench.db_name
    env = {
        **os.environ,
        **bench.env,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DATABASE_URL": PG_URL_TEMPLATE.format(name=db_name),
    }
    command = [sys.executable, str(ROOT / "benchmarks" / script), *arguments]
    log(f"running {' '.join(command[1:])} on {db_name}")
    completed = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=900, check=False)
    name = script.removesuffix(".py")
    for line in completed.stderr.splitlines():
        log(f"   {name}: {line}")
    try:
        figures = json.loads(completed.stdout)
    except json.JSONDecodeError:
        figures = None
    missing = list(required) if not isinstance(figures, dict) else [f for f in required if f not in figures]
    if missing:
        raise RuntimeError(
            f"{script} exited {completed.returncode} without the figures {missing}: "
            f"{(completed.stderr or completed.stdout).strip().splitlines()[-1:] or ''}"
        )
    return figures


def run_bench_seed(bench: Bench) -> dict:
    """bench_seed.py's figures."""
    return run_script(bench, "bench_seed.py", ["--entries", str(bench.args.seed_entries)], REQUIRED_FIGURES)


def bench_seed(bench: Bench, results: Results) -> None:
    figures = run_bench_seed(bench)
    entries = f"{bench.args.seed_entries:,}"
    first, second = figures["first_run_s"], figures["second_run_s"]
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
    if "update_run_s" in figures:
        results.info("seed: update run (every row changed)", f"{figures['update_run_s']:.2f} s")
    peak = TARGETS["seed_peak_mb"]
    results.add(
        "seed: peak memory, process ru_maxrss",
        f"< {peak:g} MB",
        f"{figures['maxrss_mb']:.1f} MB",
        figures["maxrss_mb"] < peak,
    )
    results.add(
        "seed: peak memory, tracemalloc (Python heap)",
        f"< {peak:g} MB",
        f"{figures['tracemalloc_peak_mb']:.1f} MB",
        figures["tracemalloc_peak_mb"] < peak,
    )


MOVE_MODELS = 10_000
MOVE_FIGURES = ("dry_run_s", "move_s", "moved")


def bench_move(bench: Bench, results: Results) -> None:
    """benchmarks/bench_move.py (migrate_user_models on 10,000 user models) on the bench database."""
    figures = run_script(bench, "bench_move.py", ["--models", str(MOVE_MODELS)], MOVE_FIGURES)
    results.info(f"move: dry run, {MOVE_MODELS:,} user models", f"{figures['dry_run_s']:.2f} s")
    results.add(
        f"move: migrate_user_models, {MOVE_MODELS:,} user models",
        f"< {TARGETS['move_s']:g} s",
        f"{figures['move_s']:.2f} s",
        figures["move_s"] < TARGETS["move_s"] and figures["moved"] == MOVE_MODELS,
    )
