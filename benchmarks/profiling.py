"""`--profile`: time, then cProfile, an endpoint in this process through DRF's test client."""

from __future__ import annotations

import cProfile
import io
import pstats
import tempfile
from pathlib import Path

from benchmarks.harness import Bench, api_client
from benchmarks.inprocess import time_per_call

PROFILE_TARGETS = ("baseline", "list", "resolved")


def profile_endpoint(bench: Bench, name: str, requests: int) -> None:
    """Time, then cProfile, `requests` calls of an endpoint through Django's test client, in this process."""
    path = {
        "baseline": "/bench/baseline-models",
        "list": "/v1/models?limit=50",
        "resolved": f"/v1/models/{bench.resolved_id}/resolved",
    }[name]
    client = api_client(None if name == "baseline" else bench.token)
    for _ in range(20):
        response = client.get(path)
        if response.status_code != 200:
            raise RuntimeError(f"GET {path}: {response.status_code} {response.content[:200]!r}")
    timing = time_per_call(lambda: client.get(path), requests, warmup=0)
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(requests):
        client.get(path)
    profiler.disable()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out).strip_dirs()
    out.write(
        f"\n=== GET {path}, in-process without the profiler, mean of {requests}: {timing.wall_us / 1000:.2f} ms wall, "
        f"{timing.cpu_us / 1000:.2f} ms CPU of this process (PostgreSQL's work not included); "
        f"cProfile of {requests} more:\n"
    )
    stats.sort_stats("cumulative").print_stats(40)
    stats.sort_stats("tottime").print_stats(25)
    dump = Path(tempfile.gettempdir()) / f"model-registry-bench-profile-{name}.prof"
    stats.dump_stats(dump)
    print(out.getvalue())
    print(f"(raw profile: {dump}; e.g. python -m pstats {dump})")
