"""`--profile`: time, then cProfile, an endpoint in this process through DRF's test client."""

from __future__ import annotations

import cProfile
import io
import pstats
import tempfile
from pathlib import Path

from benchmarks.harness import Bench, api_client
from benchmarks.inprocess import time_per_call

PROFILE_TARGETS = ("baseline", "list", "resolved", "list-304", "resolved-304")


def profile_endpoint(bench: Bench, name: str, requests: int) -> None:
    """Time, then cProfile, `requests` calls of an endpoint through Django's test client, in this process."""
    endpoint, _, conditional = name.partition("-")  # "-304": with If-None-Match naming the current ETag
    path = {
        "baseline": "/bench/baseline-models",
        "list": "/v1/models?limit=50",
        "resolved": f"/v1/models/{bench.resolved_id}/resolved",
    }[endpoint]
    client = api_client(None if name == "baseline" else bench.token)
    headers = {"HTTP_IF_NONE_MATCH": client.get(path)["ETag"]} if conditional else {}
    expected = 304 if conditional else 200
    for _ in range(20):
        response = client.get(path, **headers)
        if response.status_code != expected:
            raise RuntimeError(f"GET {path}: {response.status_code} {response.content[:200]!r}")
    timing = time_per_call(lambda: client.get(path, **headers), requests, warmup=0)
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(requests):
        client.get(path, **headers)
    profiler.disable()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out).strip_dirs()
    out.write(
        f"\n=== GET {path} ({expected}), in-process without the profiler, mean of {requests}: "
        f"{timing.wall_us / 1000:.2f} ms wall, "
        f"{timing.cpu_us / 1000:.2f} ms CPU of this process (PostgreSQL's work not included); "
        f"cProfile of {requests} more:\n"
    )
    stats.sort_stats("cumulative").print_stats(40)
    stats.sort_stats("tottime").print_stats(25)
    dump = Path(tempfile.gettempdir()) / f"model-registry-bench-profile-{name}.prof"
    stats.dump_stats(dump)
    print(out.getvalue())
    print(f"(raw profile: {dump}; e.g. python -m pstats {dump})")
