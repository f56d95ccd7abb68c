"""`--scale`: is every read and write as fast at a million rows as at a thousand? (issue 19, target 1)

Two data sets (benchmarks/scale_data.py, set-based SQL): the small one, the bundled system models
and 10 organizations of 100 user models (about 1,000 rows), copied to a database of its own; then,
in the bench database, the same grown to 10,000 organizations of 100 plus one organization of
100,000 (about 1.1 million rows). Measured: an organization of 100 models on the small set, and on
the large set one of 100 whose rows are spread over the whole table and the organization of
100,000, each through gunicorn with one keep-alive HTTP connection. Then `seed_system_models`
with changed limits runs on each set (benchmarks/bench_seed_limits.py, in a subprocess: its time
and peak memory).

The two sets are served side by side and measured in alternation, not one after the other: in
ROUNDS rounds, each operation is timed for the three organizations in turn (which goes first
rotates from round to round), so a drift of the host's speed (steal time on a shared machine)
falls on the three alike instead of on whichever set happened to be measured later. An
organization's p95 of an operation is the median of its rounds' p95s (a burst of steal in one
round moves one of five); its p50 is that of all its requests.

The judged figures come from servers with the response cache off (RESPONSE_CACHE_SECONDS=0):
with it on, a repeated GET is a Redis hit whatever the table holds, which says nothing about
the queries. The production setting's figures for the first page and the warm resolved model
are shown beside them. Target per operation: p95 at 1M rows at most 1.5 x its p95 at 1k rows,
or 10 ms, whichever is larger, for both organizations. For every operation that misses it, the
slowest SQL statement of the same request, run in this process, is explained
(`EXPLAIN (ANALYZE, BUFFERS)`) on the large set, and the top of the plan goes to stderr.
"""

from __future__ import annotations

import http.client
import json
import math
import re
import statistics
import time
import uuid
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from benchmarks import harness, scale_data
from benchmarks.harness import Bench, Server, log
from benchmarks.inprocess import TRANSACTION_CONTROL
from benchmarks.machine import wait_for_quiet_machine
from benchmarks.report import TARGETS, Results
from benchmarks.seeding import run_script

SMALL = scale_data.Tenants(first=0, count=10, models=100)
LARGE = scale_data.Tenants(first=10, count=9_990, models=100, big_models=100_000)
ORG_100_SMALL = scale_data.organization_id(0)
ORG_100_LARGE = scale_data.organization_id(5_000)  # in the middle of the large load: rows spread over the table

SMALL_LABEL, ORG_100_LABEL, ORG_100K_LABEL = "small", "org_100", "org_100k"

# Rounds of every operation for every organization; in each, per operation and organization:
# WARMUP_REQUESTS unmeasured requests, then at least MIN_REQUESTS, more until BUDGET_SECONDS have
# passed, at most MAX_REQUESTS.
ROUNDS = 5
WARMUP_REQUESTS = 2
MIN_REQUESTS = 20
MAX_REQUESTS = 40
BUDGET_SECONDS = 0.8
# The production server's cached reads, for information: one run each.
CACHED_MIN_REQUESTS, CACHED_MAX_REQUESTS, CACHED_BUDGET_SECONDS = 30, 200, 3.0
PLAN_LINES = 25
SEED_FIGURES = ("changed_run_s", "maxrss_mb", "tracemalloc_peak_mb")

Request = tuple[str, str, dict | None]  # method, path with query string, JSON body


@dataclass
class Timing:
    p50: float  # of every request of every round
    p95: float  # the median of the rounds' p95s
    requests: int
    round_p95s: list[float] = field(default_factory=list)

    @classmethod
    def of_rounds(cls, rounds: list[list[float]]) -> Timing:
        """The figures of an operation's rounds (milliseconds per request, one list per round)."""
        samples = [sample for one_round in rounds for sample in one_round]
        p95s = [percentile(one_round, 0.95) for one_round in rounds]
        return cls(statistics.median(samples), statistics.median(p95s), len(samples), p95s)

    def as_data(self) -> dict[str, float]:
        return {"p50": round(self.p50, 2), "p95": round(self.p95, 2)}


def round_order(labels: list[str], round_number: int) -> list[str]:
    """Who goes first in a round: the labels rotated by one each round."""
    shift = round_number % len(labels)
    return labels[shift:] + labels[:shift]


def percentile(values: list[float], fraction: float) -> float:
    """Nearest rank: the smallest value with at least `fraction` of the values at or below it."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


class Client:
    """One keep-alive HTTP/1.1 connection to the server, reopened when the server closed it while
    idle (gunicorn's keepalive); the reconnection is not part of any timed request."""

    def __init__(self, server: Server, token: str) -> None:
        parts = urlsplit(server.base_url)
        self.host, self.port = parts.hostname, parts.port
        self.headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
        self.connection = http.client.HTTPConnection(self.host, self.port, timeout=60)

    def send(self, request: Request) -> tuple[int, bytes, float]:
        """Status, body and milliseconds from sending the request to the last byte of the body."""
        method, path, body = request
        headers = dict(self.headers)
        payload = None
        if body is not None:
            payload = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        for attempt in (1, 2):
            started = time.perf_counter()
            try:
                self.connection.request(method, path, body=payload, headers=headers)
                response = self.connection.getresponse()
                content = response.read()
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
                self.connection.close()
                self.connection = http.client.HTTPConnection(self.host, self.port, timeout=60)
                if attempt == 2:
                    raise
                continue
            elapsed = (time.perf_counter() - started) * 1000
            if response.getheader("Connection", "").lower() == "close":
                self.connection.close()
            return response.status, content, elapsed
        raise AssertionError("unreachable")

    def json(self, request: Request, expected: int = 200) -> Any:
        status, content, _ = self.send(request)
        if status != expected:
            raise RuntimeError(f"{request[0]} {request[1]}: {status} {content[:300]!r}")
        return json.loads(content)

    def close(self) -> None:
        self.connection.close()


def time_requests(
    client: Client,
    make: Callable[[int], Request],
    expected: int,
    first: int = 0,
    *,
    minimum: int = MIN_REQUESTS,
    maximum: int = MAX_REQUESTS,
    budget: float = BUDGET_SECONDS,
) -> list[float]:
    """Milliseconds of `make(first)`, `make(first + 1)`, ... after WARMUP_REQUESTS unmeasured ones:
    at least `minimum` requests, more until `budget` seconds have passed, at most `maximum`."""
    for i in range(WARMUP_REQUESTS):
        status, content, _ = client.send(make(-1 - i))
        if status != expected:
            raise RuntimeError(f"{make(-1 - i)[1]}: {status} {content[:300]!r}")
    samples: list[float] = []
    started = time.perf_counter()
    while len(samples) < maximum and (len(samples) < minimum or time.perf_counter() - started < budget):
        request = make(first + len(samples))
        status, content, elapsed = client.send(request)
        if status != expected:
            raise RuntimeError(f"{request[0]} {request[1]}: {status} {content[:300]!r}")
        samples.append(elapsed)
    return samples


def path_of(link: str) -> str:
    parts = urlsplit(link)
    return f"{parts.path}?{parts.query}" if parts.query else parts.path


@dataclass
class Tenant:
    """One measured organization: its token and what its requests name."""

    organization_id: str
    token: str
    warm_model: str
    cold_models: list[str]
    parent_id: str
    requests: dict[str, Callable[[int], Request]] = field(default_factory=dict)
    rows: dict[str, int] = field(default_factory=dict)  # how many results each list operation's page returns


# The operations, in the order they run (the create last: it adds rows the others would count).
OPERATIONS = (
    "GET /v1/prompt-particles",
    "GET /v1/prompt-particles?search=",
    "GET /v1/models?limit=50 (first page)",
    "GET /v1/models last page (?offset=count-50)",
    "GET /v1/models deep page by cursor (next of ?offset=count-100)",
    "GET /v1/models?search=",
    "GET /v1/models/{id}/resolved, warm (same model)",
    "GET /v1/models/{id}/resolved, cold (another model each time)",
    "GET /v1/audit-events",
    "GET /v1/prompt-compositions",
    "POST /v1/models (create)",
)
CURSOR = OPERATIONS[4]
CREATE = OPERATIONS[-1]


def tenant_requests(tenant: Tenant, client: Client) -> dict[str, Callable[[int], Request] | None]:
    """Each operation's request maker for this organization (None: the API cannot do it yet)."""
    first = client.json(("GET", "/v1/models?limit=50", None))
    last_offset = max(0, first["count"] - 50)
    if first.get("countIsEstimate"):
        log(f"   {tenant.organization_id}: count {first['count']} is an estimate; the last page is approximate")
    before_last = client.json(("GET", f"/v1/models?limit=50&offset={max(0, first['count'] - 100)}", None))
    cursor_link = before_last.get("next") or ""
    cursor_path = path_of(cursor_link) if "cursor=" in cursor_link else None

    def get(path: str) -> Callable[[int], Request]:
        return lambda i: ("GET", path, None)

    def create(i: int) -> Request:
        name = f"Created {uuid.uuid4().hex[:12]}"
        return "POST", "/v1/models", {"parentId": tenant.parent_id, "name": name, "maxTokens": 1000}

    cold = tenant.cold_models
    return {
        OPERATIONS[0]: get("/v1/prompt-particles"),
        OPERATIONS[1]: get(f"/v1/prompt-particles?search={scale_data.PARTICLE_SEARCH_TERM}"),
        OPERATIONS[2]: get("/v1/models?limit=50"),
        OPERATIONS[3]: get(f"/v1/models?limit=50&offset={last_offset}"),
        CURSOR: get(cursor_path) if cursor_path else None,
        OPERATIONS[5]: get(f"/v1/models?limit=50&search={scale_data.SEARCH_TERM}"),
        OPERATIONS[6]: get(f"/v1/models/{tenant.warm_model}/resolved"),
        OPERATIONS[7]: lambda i: ("GET", f"/v1/models/{cold[i % len(cold)]}/resolved", None),
        OPERATIONS[8]: get("/v1/audit-events"),
        OPERATIONS[9]: get("/v1/prompt-compositions"),
        CREATE: create,
    }


def page_rows(tenant: Tenant, client: Client) -> dict[str, int]:
    """How many results each list operation's page returns for this organization: a page of 10
    and a page of 50 are not the same work, whatever the table holds (the table shows them)."""
    rows = {}
    for operation, make in tenant.requests.items():
        if make is None or operation == CREATE:
            continue
        body = client.json(make(0))
        if isinstance(body, dict) and isinstance(body.get("results"), list):
            rows[operation] = len(body["results"])
    return rows


def make_tenant(bench: Bench, organization_id: str) -> Tenant:
    models = scale_data.sample_models(organization_id, ROUNDS * MAX_REQUESTS + WARMUP_REQUESTS + 1)
    return Tenant(
        organization_id=organization_id,
        token=bench.mint(organization_id),
        warm_model=models[0],
        cold_models=models[1:],
        parent_id=scale_data.active_parent_id(),
    )


def measure_rounds(servers: dict[str, Server], tenants: dict[str, Tenant]) -> dict[str, dict[str, Timing | None]]:
    """Every operation for every organization (`servers[label]` serves `tenants[label]`), in
    ROUNDS rounds: in each, an operation is timed for the organizations one after the other, in
    `round_order`; the creates last, as they add rows the other operations would count."""
    clients = {label: Client(servers[label], tenant.token) for label, tenant in tenants.items()}
    try:
        for label, tenant in tenants.items():
            tenant.requests = tenant_requests(tenant, clients[label])
            tenant.rows = page_rows(tenant, clients[label])
        rounds: dict[str, dict[str, list[list[float]]]] = {
            label: {operation: [] for operation in OPERATIONS} for label in tenants
        }
        for number in range(ROUNDS):
            order = round_order(list(tenants), number)
            for operation in OPERATIONS:
                for label in order:
                    make = tenants[label].requests[operation]
                    if make is None:
                        continue
                    done = sum(len(one_round) for one_round in rounds[label][operation])
                    expected = 201 if operation == CREATE else 200
                    rounds[label][operation].append(time_requests(clients[label], make, expected, done))
                figures = ", ".join(
                    f"{label} {percentile(rounds[label][operation][-1], 0.95):.1f}"
                    for label in tenants
                    if rounds[label][operation]
                )
                log(f"   round {number + 1} of {ROUNDS}, {operation}: p95 {figures} ms")
        return {
            label: {
                operation: Timing.of_rounds(samples) if samples else None for operation, samples in by_operation.items()
            }
            for label, by_operation in rounds.items()
        }
    finally:
        for client in clients.values():
            client.close()


def measure_cached(server: Server, tenant: Tenant) -> dict[str, Timing]:
    """The production setting's figures for two repeated GETs (answered from the response cache)."""
    client = Client(server, tenant.token)
    try:
        return {
            operation: Timing.of_rounds(
                [
                    time_requests(
                        client,
                        tenant.requests[operation],
                        200,
                        minimum=CACHED_MIN_REQUESTS,
                        maximum=CACHED_MAX_REQUESTS,
                        budget=CACHED_BUDGET_SECONDS,
                    )
                ]
            )
            for operation in (OPERATIONS[2], OPERATIONS[6])
        }
    finally:
        client.close()


def run_seed(bench: Bench, label: str, db_name: str) -> dict:
    figures = run_script(bench, "bench_seed_limits.py", [], SEED_FIGURES, db_name=db_name)
    log(
        f"   {label}: seed_system_models with changed limits {figures['changed_run_s']:.2f} s, "
        f"ru_maxrss {figures['maxrss_mb']:.0f} MB, tracemalloc peak {figures['tracemalloc_peak_mb']:.0f} MB"
    )
    return figures


def measure_sets(bench: Bench, tenants: dict[str, Tenant], databases: dict[str, str]) -> tuple[dict, dict]:
    """The timings of every operation and the cached figures, per organization label; each
    organization served from its own data set (`databases[label]`) by two servers: the response
    cache off (judged) and the production setting."""
    harness.close_django_connections()  # this process holds no lock or snapshot while the servers work
    wait_for_quiet_machine(bench.args.wait_idle)
    with ExitStack() as stack:
        uncached, production = {}, {}
        for db_name in dict.fromkeys(databases.values()):
            uncached[db_name] = stack.enter_context(
                harness.gunicorn_server(bench, extra_env={"RESPONSE_CACHE_SECONDS": "0"}, db_name=db_name)
            )
            production[db_name] = stack.enter_context(harness.gunicorn_server(bench, db_name=db_name))
        timed = measure_rounds({label: uncached[databases[label]] for label in tenants}, tenants)
        cached = {label: measure_cached(production[databases[label]], tenant) for label, tenant in tenants.items()}
    return timed, cached


def explain(tenant: Tenant, operation: str) -> list[str]:
    """EXPLAIN (ANALYZE, BUFFERS) of the slowest statement the request runs, in this process (the
    response cache off). The request and the EXPLAIN each run in a transaction that is rolled
    back, so a write's statement (a create's INSERT) is explained as it ran, not against its own
    row."""
    from django.db import connection, transaction
    from django.test import override_settings
    from django.test.utils import CaptureQueriesContext

    method, path, body = tenant.requests[operation](0)
    client = harness.api_client(tenant.token)
    with override_settings(RESPONSE_CACHE_SECONDS=0):
        client.get("/v1/models?limit=1")  # the organization's first request in this process records it
        with transaction.atomic(), CaptureQueriesContext(connection) as captured:
            if method == "POST":
                client.post(path, body, format="json")
            else:
                client.get(path)
            transaction.set_rollback(True)
    statements = [query for query in captured.captured_queries if not TRANSACTION_CONTROL.match(query["sql"])]
    slowest = max(statements, key=lambda query: float(query["time"]))
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + slowest["sql"])
        plan = [row[0] for row in cursor.fetchall()]
        transaction.set_rollback(True)
    return [
        f"slowest of {len(statements)} statements ({float(slowest['time']) * 1000:.1f} ms in-process):",
        slowest["sql"][:600],
        *plan,
    ]


def bench_scale(bench: Bench, results: Results) -> None:
    started = time.perf_counter()
    scale_data.empty_tables()
    scale_data.seed_system_models()
    scale_data.load(SMALL)
    small_rows = scale_data.model_rows()
    tenants = {SMALL_LABEL: make_tenant(bench, ORG_100_SMALL)}
    with harness.database_copy(bench, "small") as small_db:
        scale_data.load(LARGE)
        large_rows = scale_data.model_rows()
        tenants[ORG_100_LABEL] = make_tenant(bench, ORG_100_LARGE)
        tenants[ORG_100K_LABEL] = make_tenant(bench, scale_data.BIG_ORGANIZATION_ID)
        databases = {SMALL_LABEL: small_db, ORG_100_LABEL: bench.db_name, ORG_100K_LABEL: bench.db_name}
        timings, cached_timings = measure_sets(bench, tenants, databases)
        small_seed = run_seed(bench, SMALL_LABEL, small_db)
    large_seed = run_seed(bench, f"{ORG_100_LABEL}, {ORG_100K_LABEL}", bench.db_name)

    results.info("scale: data sets (models_registry_aimodel)", f"1k = {small_rows:,} rows, 1M = {large_rows:,} rows")
    results.info(
        "scale: how measured",
        f"both sets served side by side, {ROUNDS} rounds in alternation; p95 = the median of the rounds' p95s",
    )
    floor = TARGETS["scale_floor_ms"]
    factor = TARGETS["scale_factor"]
    figures = []
    failing: list[tuple[str, str]] = []
    for operation in OPERATIONS:
        row = {label: timings[label][operation] for label in (SMALL_LABEL, ORG_100_LABEL, ORG_100K_LABEL)}
        metric = f"scale: {operation}, p95 1k / 1M org of 100 / org of 100k"
        if any(timing is None for timing in row.values()):
            results.info(metric, "not measured: the `next` link carries no cursor= yet")
            continue
        figures.append({"operation": operation, **{label: timing.as_data() for label, timing in row.items()}})
        target = max(factor * row[SMALL_LABEL].p95, floor)
        over = [label for label in (ORG_100_LABEL, ORG_100K_LABEL) if row[label].p95 > target]
        failing += [(operation, label) for label in over]
        rows = [tenants[label].rows.get(operation) for label in row]
        results.add(
            metric,
            f"<= {target:.1f} ms",
            " / ".join(f"{row[label].p95:.1f}" for label in row)
            + " ms"
            + (f" ({' / '.join(str(count) for count in rows)} rows)" if None not in rows else ""),
            not over,
        )
    results.data["scale"] = figures
    for label, cached in cached_timings.items():
        results.info(
            f"scale: cached server (production setting), {label}: first page / resolved warm, p95",
            " / ".join(f"{timing.p95:.2f}" for timing in cached.values()) + " ms",
        )

    results.info("scale: seed_system_models, changed limits, 1k rows", _seed_text(small_seed))
    seconds, peak = TARGETS["scale_seed_s"], TARGETS["seed_peak_mb"]
    results.add(
        f"scale: seed_system_models, changed limits, {large_rows:,} rows: time",
        f"< {seconds:g} s",
        f"{large_seed['changed_run_s']:.2f} s",
        large_seed["changed_run_s"] < seconds,
    )
    worst = max(large_seed["maxrss_mb"], large_seed["tracemalloc_peak_mb"])
    results.add(
        f"scale: seed_system_models, changed limits, {large_rows:,} rows: peak memory (ru_maxrss / tracemalloc)",
        f"< {peak:g} MB",
        f"{large_seed['maxrss_mb']:.0f} / {large_seed['tracemalloc_peak_mb']:.0f} MB",
        worst < peak,
    )

    for operation, label in failing:
        try:
            plan = explain(tenants[label], operation)
        except Exception as exc:  # the figures stand; only this plan is missing
            results.info(f"scale: plan of {operation}, {label}", f"not explained: {type(exc).__name__}: {exc}")
            continue
        log(f"EXPLAIN (ANALYZE, BUFFERS) of {operation} for {label} ({tenants[label].organization_id}):")
        for line in plan[:PLAN_LINES]:
            log(f"    {line}")
        results.info(f"scale: plan of {operation}, {label}", plan_summary(plan))
    results.info("scale: whole mode took", f"{time.perf_counter() - started:.0f} s")


def plan_summary(plan: list[str]) -> str:
    """The plan's slowest scan (where the time goes) and its execution time, for the table."""
    scans = [line.strip().removeprefix("->").strip() for line in plan if " Scan " in line and "actual time=" in line]
    scan = max(scans, key=lambda line: float(re.search(r"actual time=[\d.]+\.\.([\d.]+)", line).group(1)), default="")
    execution = next((line for line in plan if line.startswith("Execution Time")), "")
    return f"{scan.split('  (')[0]}; {execution}"


def _seed_text(figures: dict) -> str:
    return (
        f"{figures['changed_run_s']:.2f} s, peak {figures['maxrss_mb']:.0f} MB ru_maxrss / "
        f"{figures['tracemalloc_peak_mb']:.0f} MB tracemalloc"
    )
