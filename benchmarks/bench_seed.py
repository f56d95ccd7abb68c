"""Benchmark `manage.py seed_system_models` on N synthetic system models.

    SECRET_KEY=x .venv/bin/python benchmarks/bench_seed.py [--entries 10000]

Database:
- DATABASE_URL unset: a fresh temporary SQLite file, migrated by this script and deleted at the end
  (the project's db.sqlite3 is not touched).
- DATABASE_URL set: that database, which must already be migrated (`manage.py migrate`).

The synthetic rows all have a provider starting with "bench-seed-"; they and their historical rows
are deleted before the first run (leftovers of an interrupted run) and at the end. Other rows are
left alone.

Figures: the first run (creates every row), the second run (changes nothing), an extra run that
updates every row (for information), then the peak memory: tracemalloc's peak over a create run
and an unchanged run repeated under tracing (tracing slows Python down, so the timed runs are not
traced), and the process's ru_maxrss. They go to stdout as one JSON object (what benchmarks/run.py
reads), for example

    {"database": "postgresql", "entries": 10000, "first_run_s": 4.21, "second_run_s": 1.02,
     "update_run_s": 5.37, "tracemalloc_peak_mb": 61.3, "maxrss_mb": 182.4, "missed": [], ...}

and, for people, one per line to stderr. The targets are benchmarks/report.py's TARGETS; exits 1
if one is missed (and lists it under "missed").
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import tempfile
import time
import tracemalloc
from io import StringIO
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.report import TARGETS  # noqa: E402  (after ROOT is on sys.path: this runs as a script)

PROVIDER_PREFIX = "bench-seed-"
PROVIDERS = 10

TARGET_FIRST_SECONDS = TARGETS["seed_first_s"]
TARGET_SECOND_SECONDS = TARGETS["seed_second_s"]
TARGET_PEAK_MB = TARGETS["seed_peak_mb"]


def say(message: str) -> None:
    """A line for people, on stderr: stdout carries only the JSON figures."""
    print(message, file=sys.stderr, flush=True)


def synthetic_entries(count: int, *, revision: int = 0) -> list[dict]:
    entries = []
    for n in range(count):
        context = 8192 * (1 + n % 32)
        entries.append(
            {
                "name": f"Bench model {n:06d}",
                "description": f"Synthetic model {n} for the seeding benchmark (revision {revision}).",
                "provider": f"{PROVIDER_PREFIX}{n % PROVIDERS}",
                "providerModelId": f"bench-model-{n:06d}",
                "contextWindow": context,
                "maxTokens": min(context // 2, 200_000),
                "supportsStreaming": True,
                "supportsTools": n % 2 == 0,
                "supportsVision": n % 3 == 0,
                "supportsReasoning": n % 5 == 0,
                "creditMultiplier": f"{1 + n % 50}.{n % 10000:04d}",
                "isEnabled": n % 7 != 0,
            }
        )
    return entries


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--entries", type=int, default=10_000, help="Synthetic entries (default: %(default)s).")
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="bench-seed-"))
    fresh_sqlite = not os.environ.get("DATABASE_URL")
    if fresh_sqlite:
        os.environ["DATABASE_URL"] = f"sqlite:///{workdir / 'bench.sqlite3'}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

    import django

    django.setup()

    from django.core.management import call_command
    from django.db import connection
    from django.test.utils import override_settings

    from models_registry.models import AIModel

    def cleanup() -> int:
        # The seed's historical rows go too; deleting records no new ones.
        with override_settings(SIMPLE_HISTORY_ENABLED=False):
            deleted, _ = AIModel.objects.filter(is_system=True, provider__startswith=PROVIDER_PREFIX).delete()
        AIModel.history.model.objects.filter(provider__startswith=PROVIDER_PREFIX).delete()
        return deleted

    def run(path: Path) -> tuple[float, str]:
        out = StringIO()
        start = time.perf_counter()
        call_command("seed_system_models", "--file", str(path), stdout=out)
        return time.perf_counter() - start, out.getvalue().strip()

    catalog = workdir / "catalog.json"
    changed = workdir / "catalog-changed.json"
    catalog.write_text(json.dumps(synthetic_entries(args.entries)), encoding="utf-8")
    changed.write_text(json.dumps(synthetic_entries(args.entries, revision=1)), encoding="utf-8")

    say(f"database: {connection.vendor} ({'fresh temporary file' if fresh_sqlite else 'DATABASE_URL'})")
    say(f"entries: {args.entries}")
    try:
        if fresh_sqlite:
            call_command("migrate", verbosity=0)
        leftovers = cleanup()
        if leftovers:
            say(f"removed {leftovers} synthetic rows left by an earlier run")

        first, first_out = run(catalog)
        second, second_out = run(catalog)
        update, update_out = run(changed)
        say(f"first run (create): {first:.2f} s [{first_out}]")
        say(f"second run (unchanged): {second:.2f} s [{second_out}]")
        say(f"update run (every row changed, no target): {update:.2f} s [{update_out}]")

        cleanup()
        tracemalloc.start()
        run(catalog)
        run(catalog)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    finally:
        cleanup()
        connection.close()
        for path in workdir.iterdir():
            path.unlink()
        workdir.rmdir()

    peak_mb = peak / 1024 / 1024
    # ru_maxrss is in kilobytes on Linux, bytes on macOS.
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / (1024 * 1024 if sys.platform == "darwin" else 1024)
    say(f"tracemalloc peak (create + unchanged run): {peak_mb:.1f} MB")
    say(f"ru_maxrss (whole process): {rss_mb:.1f} MB")

    missed = [
        label
        for label, ok in [
            (f"first run < {TARGET_FIRST_SECONDS:g} s", first < TARGET_FIRST_SECONDS),
            (f"second run < {TARGET_SECOND_SECONDS:g} s", second < TARGET_SECOND_SECONDS),
            (f"tracemalloc peak < {TARGET_PEAK_MB:g} MB", peak_mb < TARGET_PEAK_MB),
            (f"ru_maxrss < {TARGET_PEAK_MB:g} MB", rss_mb < TARGET_PEAK_MB),
        ]
        if not ok
    ]
    say("targets: " + ("missed: " + "; ".join(missed) if missed else "all met"))
    figures = {
        "database": connection.vendor,
        "fresh_sqlite": fresh_sqlite,
        "entries": args.entries,
        "leftovers_removed": leftovers,
        "first_run_s": first,
        "second_run_s": second,
        "update_run_s": update,
        "tracemalloc_peak_mb": peak_mb,
        "maxrss_mb": rss_mb,
        "command_output": {"first_run": first_out, "second_run": second_out, "update_run": update_out},
        "missed": missed,
    }
    print(json.dumps(figures), flush=True)
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
