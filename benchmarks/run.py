"""Performance benchmarks of the Model Registry; prints one table and exits 1 if a target is missed.

    .venv/bin/python benchmarks/run.py [--duration 10] [--only list,resolved,jwt,queries,seed]

What runs (benchmarks/README.md explains each figure):

- list      authenticated `GET /v1/models?limit=50` vs a plain Django `.values()` view, req/s and ratio
- resolved  `GET /v1/models/{id}/resolved` (composition of 5 particles), p99 latency at 8 clients
- conditional  the list page, a model and its resolved view: req/s with If-None-Match (304) vs without (200)
- mixed     reads across 100 organizations while 5 of them are written to: cache hit rates, no stale read
- jwt       in-process `verify_token` / `authenticate` cost with a warm key store, and no JWKS fetch
- queries   in-process query counts of list, resolved and create with 1 and 100 rows
- seed      benchmarks/bench_seed.py (seed_system_models with 10,000 entries) on the bench database
- move      benchmarks/bench_move.py (migrate_user_models on 10,000 user models) on the bench database
- scale     (only with --scale or --only scale; last) every read and write at 1k and at 1.1M rows, p95s
            against max(1.5 x the 1k p95, 10 ms), and seed_system_models with changed limits at 1.1M rows

Setting: a throwaway PostgreSQL database (created, migrated, seeded, dropped at the end), the
production gunicorn configuration (gunicorn.conf.py) with 2 workers of its default threads on
127.0.0.1 and a free port (`--workers`, `--threads` to try others), Redis db 14 under a
key prefix of this run only (its keys are deleted at the end), a JWKS generated with core.devkeys
and served from a file, throttle rates high enough never to throttle, `wrk` as load generator on
the same machine. The server is always stopped and the database always dropped, even on Ctrl-C.

After the table, the table again as Markdown and a chart of its figures go to benchmarks/results/
(latest.md, latest.png; benchmarks/chart.py).

This file parses the arguments and runs the benchmarks in order; the work is in the modules beside it
(benchmarks/README.md lists them).
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import time
import traceback
from pathlib import Path
from typing import Any

# Run as a script (`python benchmarks/run.py`), so the project root goes on sys.path first: the
# modules beside this one are imported as the package `benchmarks`, the project's apps by name.
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks import harness  # noqa: E402
from benchmarks.chart import write_results  # noqa: E402
from benchmarks.fixtures import seed_http_data  # noqa: E402
from benchmarks.http_benchmarks import bench_list, bench_not_modified, bench_resolved  # noqa: E402
from benchmarks.inprocess import bench_jwt, bench_queries  # noqa: E402
from benchmarks.machine import reference_loop_seconds, wait_for_quiet_machine  # noqa: E402
from benchmarks.mixed import bench_mixed  # noqa: E402
from benchmarks.profiling import PROFILE_TARGETS, profile_endpoint  # noqa: E402
from benchmarks.report import Results, code_under_test, report_text  # noqa: E402
from benchmarks.scale import bench_scale  # noqa: E402
from benchmarks.seeding import bench_move, bench_seed  # noqa: E402

BENCHMARKS = ("list", "resolved", "conditional", "mixed", "jwt", "queries", "seed", "move", "scale")
# What runs without --only: all but scale, which builds a million rows and takes minutes (--scale adds it).
DEFAULT_BENCHMARKS = BENCHMARKS[:-1]
HTTP_BENCHMARKS = {
    "list": bench_list,
    "resolved": bench_resolved,
    "conditional": bench_not_modified,
    "mixed": bench_mixed,
}  # through gunicorn, in this order
IN_PROCESS_BENCHMARKS = {
    "jwt": bench_jwt,
    "queries": bench_queries,
    "seed": bench_seed,
    "move": bench_move,
}  # then these, then the profiles, then scale (it empties the tables the others read and fills them with its own)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--duration", type=float, default=10, help="Seconds per measured wrk run, and of the mixed load (default 10)."
    )
    parser.add_argument("--warmup", type=float, default=2, help="Seconds of unmeasured wrk load first (default 2).")
    parser.add_argument(
        "--rounds",
        type=int,
        default=4,
        help="API/baseline rounds for the ratio, in alternating order (default 4: baseline, API, API, baseline, ...).",
    )
    parser.add_argument(
        "--only",
        default=",".join(DEFAULT_BENCHMARKS),
        help=f"Comma-separated subset of {','.join(BENCHMARKS)} (default: all but scale).",
    )
    parser.add_argument(
        "--scale",
        action="store_true",
        help="Add the scale benchmark (1k vs 1.1M rows; a few minutes) to the chosen ones.",
    )
    parser.add_argument(
        "--resolved-runs",
        type=int,
        default=3,
        help="Measured runs of the resolved endpoint; the median run's p99 is the figure (default 3).",
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=2,
        help="gunicorn workers of every server it starts (WEB_CONCURRENCY; default 2, one per core here).",
    )
    parser.add_argument(
        "--threads",
        type=int,
        default=None,
        help="Threads per gunicorn worker (GUNICORN_THREADS; default: gunicorn.conf.py's).",
    )
    parser.add_argument("--jwt-calls", type=int, default=5000, help="Calls per in-process JWT figure (default 5000).")
    parser.add_argument(
        "--seed-entries", type=int, default=10_000, help="Catalog entries for the seed (default 10000)."
    )
    parser.add_argument("--db-name", default="model_registry_bench", help="Throwaway database (dropped at the end).")
    parser.add_argument(
        "--wait-idle",
        type=float,
        default=60,
        help="Wait up to this many seconds for other work on the machine to calm down before the HTTP runs.",
    )
    parser.add_argument(
        "--results-dir",
        type=Path,
        default=ROOT / "benchmarks" / "results",
        help="Where the table (latest.md) and its chart (latest.png) are written (default benchmarks/results).",
    )
    parser.add_argument("--show-queries", action="store_true", help="Print the SQL counted by the queries benchmark.")
    parser.add_argument(
        "--profile",
        default="",
        help=f"After the table, time and cProfile these endpoints in-process: {','.join(PROFILE_TARGETS)}.",
    )
    parser.add_argument("--profile-requests", type=int, default=500, help="Requests per profile (default 500).")
    args = parser.parse_args(argv)
    args.only = [name.strip() for name in args.only.split(",") if name.strip()]
    if args.scale and "scale" not in args.only:
        args.only.append("scale")
    unknown = set(args.only) - set(BENCHMARKS)
    if unknown:
        parser.error(f"unknown benchmark(s) {', '.join(sorted(unknown))}; choose from {', '.join(BENCHMARKS)}")
    args.profile = [name.strip() for name in args.profile.split(",") if name.strip()]
    if set(args.profile) - set(PROFILE_TARGETS):
        parser.error(f"--profile takes {', '.join(PROFILE_TARGETS)}")
    return args


def run(args: argparse.Namespace) -> Results:
    results = Results()
    with harness.bench_setting(args) as bench:
        seed_http_data(bench)

        results.info(
            "machine: pure-Python reference loop (10M additions), best of 3", f"{reference_loop_seconds():.2f} s"
        )
        http = [name for name in HTTP_BENCHMARKS if name in args.only]
        if http or "scale" in args.only:  # what the servers they start run as, for the heading
            try:
                results.data["server"] = harness.server_shape(bench)
            except Exception as exc:
                traceback.print_exc()
                results.error("server shape", exc)
        if http:
            busy = wait_for_quiet_machine(args.wait_idle)
            results.info(
                "machine: CPU busy before the HTTP runs (server idle)", f"{busy:.0f}% of {os.cpu_count()} cores"
            )
            try:
                with harness.gunicorn_server(bench) as server:
                    for name in http:
                        try:
                            HTTP_BENCHMARKS[name](bench, server, results)
                        except Exception as exc:  # reported in the table; the next one runs
                            traceback.print_exc()
                            results.error(name, exc)
                    results.info(
                        "gunicorn worker recycles during the run (max_requests)", str(server.worker_restarts())
                    )
            except Exception as exc:
                traceback.print_exc()
                results.error("server", exc)

        for name, function in IN_PROCESS_BENCHMARKS.items():
            if name in args.only:
                harness.log(f"benchmark {name}")
                try:
                    function(bench, results)
                except Exception as exc:
                    traceback.print_exc()
                    results.error(name, exc)

        for name in args.profile:
            profile_endpoint(bench, name, args.profile_requests)

        if "scale" in args.only:
            harness.log("benchmark scale")
            try:
                bench_scale(bench, results)
            except Exception as exc:
                traceback.print_exc()
                results.error("scale", exc)
    return results


def _interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    # SIGTERM (CI's timeout, kill) unwinds like Ctrl-C: the server stops, the database is dropped.
    signal.signal(signal.SIGTERM, _interrupt)
    started = time.perf_counter()
    code = code_under_test(ROOT)
    results = run(args)
    report = report_text(
        results,
        code=code,
        benchmarks=args.only,
        seconds=time.perf_counter() - started,
        duration=args.duration,
        server=results.data.get("server", "not started"),  # no HTTP benchmark ran
    )
    print(f"\n{report}")
    command = " ".join(["benchmarks/run.py", *(sys.argv[1:] if argv is None else argv)])
    for path in write_results(results, report, args.results_dir, command=command):
        print(f"written: {path}")
    return 1 if results.failed else 0


if __name__ == "__main__":
    sys.exit(main())
