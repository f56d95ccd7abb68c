"""The benchmarks through the running gunicorn server with wrk: list vs baseline, resolved p99,
conditional reads (304 vs 200)."""

from __future__ import annotations

import json
import os
import statistics

from benchmarks import harness
from benchmarks.harness import Bench, Server
from benchmarks.load import WrkResult, http_etag, http_get_json, run_balanced_wrk, run_wrk
from benchmarks.report import TARGETS, Results


def bench_list(bench: Bench, server: Server, results: Results) -> None:
    """The list against the plain view twice: in the production setting (the rendered page kept
    in the shared response cache), and with every cache off (a second gunicorn on the same
    database with RESPONSE_CACHE_SECONDS=0, where the API renders every page and the baseline
    runs in the same processes)."""
    _list_against_baseline(bench, server, results, label="list", target=TARGETS["list_ratio"])
    with harness.gunicorn_server(bench, extra_env={"RESPONSE_CACHE_SECONDS": "0"}) as uncached:
        _list_against_baseline(
            bench, uncached, results, label="list, every cache off", target=TARGETS["list_ratio_uncached"]
        )


def _list_against_baseline(bench: Bench, server: Server, results: Results, *, label: str, target: float) -> None:
    api_url = f"{server.base_url}/v1/models?limit=50"
    baseline_url = f"{server.base_url}/bench/baseline-models"

    api_rows = http_get_json(api_url, bench.token)["results"]
    baseline_rows = http_get_json(baseline_url)["results"]
    if len(api_rows) != 50 or [row["id"] for row in api_rows] != [str(row["id"]) for row in baseline_rows]:
        raise RuntimeError(
            f"the API ({len(api_rows)} rows) and the baseline ({len(baseline_rows)} rows) do not read the same 50 rows"
        )

    for url, token in ((baseline_url, None), (api_url, bench.token)):  # warm both workers: pools, keys
        run_wrk(server, url, duration=bench.args.warmup, token=token)

    # Alternate the two (baseline, API, API, baseline, ...) so that drift in the machine's load
    # falls on both alike; each figure is the mean of its rounds.
    api_runs: list[WrkResult] = []
    baseline_runs: list[WrkResult] = []
    for round_number in range(bench.args.rounds):
        order = [("baseline", baseline_url), ("api", api_url)]
        if round_number % 2:
            order.reverse()
        for kind, url in order:
            if kind == "api":
                api_runs.append(run_balanced_wrk(server, url, duration=bench.args.duration, token=bench.token))
            else:
                baseline_runs.append(run_balanced_wrk(server, url, duration=bench.args.duration))

    api_rps = statistics.fmean(run.requests_per_second for run in api_runs)
    baseline_rps = statistics.fmean(run.requests_per_second for run in baseline_runs)
    errors = sum(run.errors for run in api_runs + baseline_runs)
    ratio = api_rps / baseline_rps
    rounds = f" (mean of {bench.args.rounds})" if bench.args.rounds > 1 else ""
    results.info(f"{label}: GET /v1/models?limit=50, req/s" + rounds, f"{api_rps:.0f}")
    results.info(f"{label}: baseline .values() + JsonResponse, req/s" + rounds, f"{baseline_rps:.0f}")
    results.info(
        f"{label}: p99 latency API / baseline",
        f"{statistics.fmean(r.latency_ms['99%'] for r in api_runs):.2f} ms"
        f" / {statistics.fmean(r.latency_ms['99%'] for r in baseline_runs):.2f} ms",
    )
    results.add(
        f"{label}: throughput ratio API / baseline",
        f">= {target}",
        f"{ratio:.2f}",
        ratio >= target,
    )
    results.add(f"{label}: failed responses (non-2xx, socket)", "0", str(errors), errors == 0)
    api_cpu = statistics.fmean(r.server_cpu_ms_per_request for r in api_runs)
    baseline_cpu = statistics.fmean(r.server_cpu_ms_per_request for r in baseline_runs)
    results.info(
        f"{label}: server CPU per request API / baseline (gunicorn + PostgreSQL + Redis)",
        f"{api_cpu:.2f} ms / {baseline_cpu:.2f} ms (ratio {baseline_cpu / api_cpu:.2f})",
    )
    results.data["list" if label == "list" else "list_uncached"] = {
        "api_rps": api_rps,
        "baseline_rps": baseline_rps,
        "ratio": ratio,
        "api_cpu_ms": api_cpu,
        "baseline_cpu_ms": baseline_cpu,
    }
    redone = sum(r.attempts - 1 for r in api_runs + baseline_runs)
    results.info(f"{label}: runs redone, one worker had taken the connections", str(redone))
    results.info(
        f"{label}: CPU of other processes during the runs (API / baseline)",
        f"{statistics.fmean(r.foreign_cpu_pct for r in api_runs):.0f}% / "
        f"{statistics.fmean(r.foreign_cpu_pct for r in baseline_runs):.0f}% of {os.cpu_count()} cores",
    )


def bench_resolved(bench: Bench, server: Server, results: Results) -> None:
    """p99 at 8 connections, in `--resolved-runs` runs on fresh connections; the median run counts.

    On a shared 2-core machine one run's p99 moves with whatever else the host does (here
    17 to 60 ms for the same code, minutes apart): the median of several runs is the figure,
    and every run's p99 is printed beside it.
    """
    url = f"{server.base_url}/v1/models/{bench.resolved_id}/resolved"
    body = http_get_json(url, bench.token)
    if body.get("systemPromptSource") != "composition" or body["systemPrompt"].count("\n\n") != 4:
        raise RuntimeError(f"unexpected resolved body: {json.dumps(body)[:300]}")
    run_wrk(server, url, duration=bench.args.warmup, token=bench.token)
    runs = [
        run_balanced_wrk(server, url, duration=bench.args.duration, token=bench.token)
        for _ in range(bench.args.resolved_runs)
    ]
    runs.sort(key=lambda run: run.latency_ms["99%"])
    median = runs[len(runs) // 2]
    p99 = median.latency_ms["99%"]
    results.add(
        f"resolved: p99 latency, 8 connections (median of {len(runs)} runs)",
        f"< {TARGETS['resolved_p99_ms']:g} ms",
        f"{p99:.2f} ms",
        p99 < TARGETS["resolved_p99_ms"],
    )
    results.info("resolved: p99 of each run", " / ".join(f"{run.latency_ms['99%']:.2f}" for run in runs) + " ms")
    results.info(
        "resolved: p50 latency / req/s (median run)",
        f"{median.latency_ms['50%']:.2f} ms / {median.requests_per_second:.0f}",
    )
    results.info(
        "resolved: server CPU per request (gunicorn + Redis, median run)",
        f"{median.server_cpu_ms_per_request:.2f} ms",
    )
    results.data["resolved"] = {
        "rps": median.requests_per_second,
        "p50_ms": median.latency_ms["50%"],
        "p99_ms": p99,
    }
    errors = sum(run.errors for run in runs)
    results.add("resolved: failed responses (non-2xx, socket)", "0", str(errors), errors == 0)
    results.info(
        "resolved: CPU of other processes during the runs",
        " / ".join(f"{run.foreign_cpu_pct:.0f}%" for run in runs) + f" of {os.cpu_count()} cores",
    )


def bench_not_modified(bench: Bench, server: Server, results: Results) -> None:
    """Each conditional GET three ways, alternating as the list benchmark does: a 200 rendered
    afresh (a second server with the response cache off), the same GET with If-None-Match
    naming its current ETag (a 304 from the generations alone), and the 200 of the production
    setting, where the rendered response comes from the shared cache.

    The 2x target is the 304 against the rendered 200: what a conditional read saves when the
    body has to be built. Against a cached 200 the two cost about the same (one generations
    query and one Redis round trip each; the 304 saves the bytes), shown for information."""
    paths = {
        "list page (?limit=50)": "/v1/models?limit=50",
        "model": f"/v1/models/{bench.resolved_id}",
        "resolved": f"/v1/models/{bench.resolved_id}/resolved",
    }
    rounds = 2
    with harness.gunicorn_server(bench, extra_env={"RESPONSE_CACHE_SECONDS": "0"}) as uncached:
        for label, path in paths.items():
            etag = http_etag(uncached.base_url + path, bench.token)
            ways = {
                "rendered 200": (uncached, None),
                "304": (uncached, {"If-None-Match": etag}),
                "cached 200": (server, None),
            }
            for target, _ in ways.values():
                run_wrk(target, target.base_url + path, duration=bench.args.warmup, token=bench.token)
            runs: dict[str, list[WrkResult]] = {way: [] for way in ways}
            for round_number in range(rounds):
                order = list(ways) if round_number % 2 == 0 else list(reversed(ways))
                for way in order:
                    target, headers = ways[way]
                    runs[way].append(
                        run_balanced_wrk(
                            target,
                            target.base_url + path,
                            duration=bench.args.duration,
                            token=bench.token,
                            headers=headers,
                        )
                    )
            if http_etag(uncached.base_url + path, bench.token) != etag:
                raise RuntimeError(f"{label}: the ETag changed during the run")
            rps = {way: statistics.fmean(run.requests_per_second for run in runs[way]) for way in ways}
            cpu = {way: statistics.fmean(run.server_cpu_ms_per_request for run in runs[way]) for way in ways}
            results.info(
                f"conditional: {label}, req/s rendered 200 / 304 / cached 200 (mean of {rounds})",
                " / ".join(f"{rps[way]:.0f}" for way in ways)
                + "; server CPU per request "
                + " / ".join(f"{cpu[way]:.2f}" for way in ways)
                + " ms",
            )
            results.data.setdefault("conditional", {})[label] = rps  # req/s by way
            ratio = rps["304"] / rps["rendered 200"]
            results.add(
                f"conditional: {label}, throughput 304 / rendered 200",
                f">= {TARGETS['not_modified_ratio']:g}",
                f"{ratio:.2f}",
                ratio >= TARGETS["not_modified_ratio"],
            )
            results.info(f"conditional: {label}, throughput 304 / cached 200", f"{rps['304'] / rps['cached 200']:.2f}")
            errors = sum(run.errors for way_runs in runs.values() for run in way_runs)
            results.add(f"conditional: {label}, failed responses", "0", str(errors), errors == 0)
