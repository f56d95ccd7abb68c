"""HTTP load on the benchmark server: `wrk` runs, their output parsed, and single JSON requests."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any

from benchmarks.harness import Server, log
from benchmarks.machine import machine_cpu

# wrk opens its 8 keep-alive connections once, and each stays with the gunicorn worker that
# accepted it for the whole run. Now and then one worker accepts (nearly) all of them: the run
# then measures one core, not the server (seen here: 124 req/s instead of 230, one worker idle).
# Such a run is done again, up to MAX_ATTEMPTS times, and the table says how often it happened.
MAX_BUSIEST_WORKER_SHARE = 0.75
MAX_ATTEMPTS = 4


def http_get_json(url: str, token: str | None = None) -> Any:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"} if token else {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.loads(response.read())
    except urllib.error.HTTPError as exc:
        raise RuntimeError(f"GET {url}: {exc.code} {exc.read()[:300]!r}") from None


@dataclass
class WrkResult:
    requests_per_second: float
    latency_ms: dict[str, float]  # "50%", "75%", "90%", "99%"
    requests: int
    errors: int  # non-2xx/3xx responses plus socket errors
    raw: str
    foreign_cpu_pct: float = 0.0  # CPU of processes other than wrk, gunicorn, its PostgreSQL backends, Redis
    busiest_worker_share: float = 0.0  # the busiest gunicorn worker's share of all workers' CPU (0.5: even)
    server_cpu_ms: float = 0.0  # CPU of gunicorn, its PostgreSQL backends and Redis during the run
    attempts: int = 1  # wrk runs it took to get one with the connections spread over the workers

    @property
    def server_cpu_ms_per_request(self) -> float:
        return self.server_cpu_ms / max(1, self.requests)

    @property
    def balanced(self) -> bool:
        return self.busiest_worker_share <= MAX_BUSIEST_WORKER_SHARE


_UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def _to_ms(value: str, unit: str) -> float:
    return float(value) * _UNITS_MS[unit]


def parse_wrk(output: str) -> WrkResult:
    rps = re.search(r"^Requests/sec:\s*([\d.]+)", output, re.M)
    total = re.search(r"^\s*(\d+) requests in", output, re.M)
    if rps is None or total is None:
        raise RuntimeError(f"cannot parse wrk output:\n{output}")
    latency = {
        percentile: _to_ms(value, unit)
        for percentile, value, unit in re.findall(r"^\s*(\d+%)\s+([\d.]+)(us|ms|s|m)\s*$", output, re.M)
    }
    errors = 0
    non_2xx = re.search(r"Non-2xx or 3xx responses:\s*(\d+)", output)
    if non_2xx:
        errors += int(non_2xx.group(1))
    socket_errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    if socket_errors:
        errors += sum(int(n) for n in socket_errors.groups())
    return WrkResult(float(rps.group(1)), latency, int(total.group(1)), errors, output)


def http_etag(url: str, token: str | None = None) -> str:
    """The ETag of a GET (a 200 expected)."""
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"} if token else {})
    with urllib.request.urlopen(request, timeout=10) as response:
        etag = response.headers.get("ETag")
    if not etag:
        raise RuntimeError(f"GET {url}: no ETag")
    return etag


def run_wrk(
    server: Server,
    url: str,
    *,
    duration: float,
    token: str | None = None,
    threads: int = 2,
    connections: int = 8,
    headers: dict[str, str] | None = None,
) -> WrkResult:
    wrk = shutil.which("wrk") or "/usr/bin/wrk"
    command = [wrk, f"-t{threads}", f"-c{connections}", f"-d{duration:g}s", "--latency", "--timeout", "5s"]
    if token:
        command += ["-H", f"Authorization: Bearer {token}"]
    for name, value in (headers or {}).items():
        command += ["-H", f"{name}: {value}"]
    command.append(url)
    shown = " ".join(command).replace(token, "<token>") if token else " ".join(command)
    log(f"wrk: {shown}")
    with machine_cpu(server) as cpu:
        completed = subprocess.run(command, capture_output=True, text=True, timeout=duration + 60, check=False)
    if completed.returncode != 0:
        raise RuntimeError(f"wrk failed ({completed.returncode}): {completed.stderr or completed.stdout}")
    result = parse_wrk(completed.stdout)
    result.foreign_cpu_pct = cpu["foreign_pct"]
    result.busiest_worker_share = cpu["busiest_worker_share"]
    result.server_cpu_ms = cpu["server_cpu_ms"]
    log(
        f"   {result.requests_per_second:.0f} req/s, p50 {result.latency_ms.get('50%', 0):.2f} ms, "
        f"p99 {result.latency_ms.get('99%', 0):.2f} ms, {result.errors} errors; "
        f"busiest worker {result.busiest_worker_share:.0%} of the workers' CPU; "
        f"other processes used {result.foreign_cpu_pct:.0f}% of the machine's CPU"
    )
    return result


def run_balanced_wrk(server: Server, url: str, **options: Any) -> WrkResult:
    """`run_wrk`, again while one gunicorn worker did more than MAX_BUSIEST_WORKER_SHARE of the work."""
    for attempt in range(1, MAX_ATTEMPTS + 1):
        result = run_wrk(server, url, **options)
        result.attempts = attempt
        if result.balanced:
            break
        log(
            f"   one worker did {result.busiest_worker_share:.0%} of the work (connections not spread); "
            + ("running again" if attempt < MAX_ATTEMPTS else "keeping this run")
        )
    return result
