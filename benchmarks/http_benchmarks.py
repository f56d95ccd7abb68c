"""The benchmarks through the running gunicorn server with wrk: list vs baseline, resolved p99,
conditional reads (304 vs 200)."""

from __future__ import annotations

import json
import os
import statistics
from collections.abc import Callable, Sequence

from benchmarks import harness
from benchmarks.harness import Bench, Server
from benchmarks.load import WrkResult, http_etag, http_get_json, run_balanced_wrk, run_wrk
from benchmarks.report import TARGETS, Results


def bench_list(bench: Bench, server: Server, results: Results) -> None:
    """The list against the plain view twice: in the production setting (the rendered page kept
    in the shared response cache), and with every cache off (a second gunicorn on the same
    database with RESPONSE_CACHE_SECONDS=0, where the API renders every page and the baseline
    runs in the same processes). With every cache off the rounds also time the page's 304 and
    the empty view, for the ceiling of the ratio (`ratio_ceiling`)."""
    _list_against_baseline(bench, server, results, label="list", target=TARGETS["list_ratio"])
    with harness.gunicorn_server(bench, extra_env={"RESPONSE_CACHE_SECONDS": "0"}) as uncached:
        _list_against_baseline(
            bench,
            uncached,
            results,
            label="list, every cache off",
            target=TARGETS["list_ratio_uncached"],
            anchors=True,
        )


def ratio_ceiling(*, baseline_cpu_ms: float, fixed_cpu_ms: float, empty_cpu_ms: float) -> float:
    """The highest API / baseline ratio a CPU-bound server could reach if the API read and wrote
    the page's rows as cheaply as the plain view does.

    The API's 200 costs at least what its 304 costs (`fixed_cpu_ms`: the token, the rate limits,
    the generations, the ETag, answered before a row is read) plus the rows. The plain view's
    rows cost what it costs less what the stack costs any request (`empty_cpu_ms`, the empty
    view). Throughput on busy cores goes as the inverse of CPU per request."""
    rows_cpu_ms = max(0.0, baseline_cpu_ms - empty_cpu_ms)
    return baseline_cpu_ms / (fixed_cpu_ms + rows_cpu_ms)


def alternating_rounds(ways: Sequence[str], rounds: int, run: Callable[[str], WrkResult]) -> dict[str, list[WrkResult]]:
    """`run(way)` for every way in each round, the order reversed every other round (a, b, c, then
    c, b, a, ...) so that drift in the machine's load falls on all of them alike."""
    runs: dict[str, list[WrkResult]] = {way: [] for way in ways}
    for round_number in range(rounds):
        for way in list(ways) if round_number % 2 == 0 else list(reversed(ways)):
            runs[way].append(run(way))
    return runs


def by_p99(runs: list[WrkResult]) -> tuple[list[WrkResult], WrkResult]:
    """The runs sorted by their p99, lowest first, and the median run (of an even count, the upper one)."""
    ordered = sorted(runs, key=lambda run: run.latency_ms["99%"])
    return ordered, ordered[len(ordered) // 2]


def _list_against_baseline(
    bench: Bench, server: Server, results: Results, *, label: str, target: float, anchors: bool = False
) -> None:
    api_url = f"{server.base_url}/v1/models?limit=50"
    baseline_url = f"{server.base_url}/bench/baseline-models"

    api_rows = http_get_json(api_url, bench.token)["results"]
    baseline_rows = http_get_json(baseline_url)["results"]
    if len(api_rows) != 50 or [row["id"] for row in api_rows] != [str(row["id"]) for row in baseline_rows]:
        raise RuntimeError(
            f"the API ({len(api_rows)} rows) and the baseline ({len(baseline_rows)} rows) do not read the same 50 rows"
        )

    # Each way: (URL, bearer token, extra headers).
    ways: dict[str, tuple[str, str | None, dict[str, str] | None]] = {
        "baseline": (baseline_url, None, None),
        "api": (api_url, bench.token, None),
    }
    if anchors:
        ways["api 304"] = (api_url, bench.token, {"If-None-Match": http_etag(api_url, bench.token)})
        ways["empty"] = (f"{server.base_url}/bench/empty", None, None)
    for url, token, headers in ways.values():  # warm both workers for each: pools, keys
        run_wrk(server, url, duration=bench.args.warmup, token=token, headers=headers)

    # Each figure is the mean of its rounds (baseline, API, then the anchors; reversed every other round).
    runs = alternating_rounds(
        list(ways),
        bench.args.rounds,
        lambda way: run_balanced_wrk(
            server, ways[way][0], duration=bench.args.duration, token=ways[way][1], headers=ways[way][2]
        ),
    )
    api_runs, baseline_runs = runs["api"], runs["baseline"]
    if anchors and http_etag(api_url, bench.token) != ways["api 304"][2]["If-None-Match"]:
        raise RuntimeError(f"{label}: the page's ETag changed during the run (its 304s were 200s)")

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
    data_key = "list" if label == "list" else "list_uncached"
    results.data[data_key] = {
        "api_rps": api_rps,
        "baseline_rps": baseline_rps,
        "ratio": ratio,
        "api_cpu_ms": api_cpu,
        "baseline_cpu_ms": baseline_cpu,
    }
    if anchors:
        fixed_cpu = statistics.fmean(r.server_cpu_ms_per_request for r in runs["api 304"])
        empty_cpu = statistics.fmean(r.server_cpu_ms_per_request for r in runs["empty"])
        ceiling = ratio_ceiling(baseline_cpu_ms=baseline_cpu, fixed_cpu_ms=fixed_cpu, empty_cpu_ms=empty_cpu)
        results.info(
            f"{label}: server CPU per request, the page's 304 / the empty view",
            f"{fixed_cpu:.2f} ms / {empty_cpu:.2f} ms",
        )
        results.info(
            f"{label}: ceiling of the ratio, rows as cheap as the plain view's (304 + baseline - empty)",
            f"{ceiling:.2f}",
        )
        results.data[data_key].update(fixed_cpu_ms=fixed_cpu, empty_cpu_ms=empty_cpu, ceiling=ceiling)
        errors = sum(run.errors for run in runs["api 304"] + runs["empty"])
        results.add(f"{label}: failed responses of the 304 and the empty view", "0", str(errors), errors == 0)
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
    and every run's p99 is printed beside it. The same number of runs of the empty view
    (`bench/empty`: the stack, no work) and of `v1/bench/resolved-floor` (the cache hit's own I/O,
    without DRF; benchmarks/urls.py) alternate with them: the floors of that p99 on this machine
    in the same minutes.
    """
    url = f"{server.base_url}/v1/models/{bench.resolved_id}/resolved"
    body = http_get_json(url, bench.token)
    if body.get("systemPromptSource") != "composition" or body["systemPrompt"].count("\n\n") != 4:
        raise RuntimeError(f"unexpected resolved body: {json.dumps(body)[:300]}")
    floor_url = f"{server.base_url}/v1/bench/resolved-floor/{bench.resolved_id}"
    floor_body = http_get_json(floor_url, bench.token)  # a 500 (raised) when it does not make the API's key
    if floor_body != body:
        raise RuntimeError("v1/bench/resolved-floor answered another body than /resolved")
    ways = {
        "resolved": (url, bench.token),
        "empty": (f"{server.base_url}/bench/empty", None),
        "floor": (floor_url, bench.token),
    }
    for way_url, token in ways.values():
        run_wrk(server, way_url, duration=bench.args.warmup, token=token)
    by_way = alternating_rounds(
        list(ways),
        bench.args.resolved_runs,
        lambda way: run_balanced_wrk(server, ways[way][0], duration=bench.args.duration, token=ways[way][1]),
    )
    runs, median = by_p99(by_way["resolved"])
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
    empty_runs, empty = by_p99(by_way["empty"])
    results.info(
        "resolved: the floor, the empty view on the same server: p99 / p50 / req/s / server CPU (median run)",
        f"{empty.latency_ms['99%']:.2f} ms / {empty.latency_ms['50%']:.2f} ms / {empty.requests_per_second:.0f}"
        f" / {empty.server_cpu_ms_per_request:.2f} ms",
    )
    floor_runs, floor = by_p99(by_way["floor"])
    results.info(
        "resolved: the hit's I/O without DRF (v1/bench/resolved-floor): p99 / p50 / req/s / server CPU (median run)",
        f"{floor.latency_ms['99%']:.2f} ms / {floor.latency_ms['50%']:.2f} ms / {floor.requests_per_second:.0f}"
        f" / {floor.server_cpu_ms_per_request:.2f} ms",
    )
    results.data["resolved"] = {
        "rps": median.requests_per_second,
        "p50_ms": median.latency_ms["50%"],
        "p99_ms": p99,
        "empty_p99_ms": empty.latency_ms["99%"],
        "empty_rps": empty.requests_per_second,
        "floor_p99_ms": floor.latency_ms["99%"],
        "floor_rps": floor.requests_per_second,
    }
    errors = sum(run.errors for run in runs + empty_runs + floor_runs)
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
            runs = alternating_rounds(
                list(ways),
                rounds,
                lambda way, path=path, ways=ways: run_balanced_wrk(
                    ways[way][0],
                    ways[way][0].base_url + path,
                    duration=bench.args.duration,
                    token=bench.token,
                    headers=ways[way][1],
                ),
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
