"""The benchmarks in this process, against the bench database: JWT verification cost, query counts."""

from __future__ import annotations

import re
import socket
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from unittest import mock

from benchmarks.fixtures import seed_query_data
from benchmarks.harness import ORGANIZATION_ID, Bench, api_client, log
from benchmarks.report import TARGETS, Results


@dataclass
class PerCall:
    cpu_us: float  # this process's CPU time per call: the cost, whatever else the machine runs
    wall_us: float  # elapsed time per call: the cost plus any time the scheduler gave to others

    def describe(self) -> str:
        return f"{self.cpu_us:.1f} µs CPU ({self.wall_us:.1f} µs wall)"


def time_per_call(function: Callable[[], Any], calls: int, warmup: int = 200) -> PerCall:
    """Mean microseconds per call over `calls` calls (after `warmup` unmeasured ones)."""
    for _ in range(warmup):
        function()
    wall, cpu = time.perf_counter(), time.process_time()
    for _ in range(calls):
        function()
    return PerCall(cpu_us=(time.process_time() - cpu) / calls * 1e6, wall_us=(time.perf_counter() - wall) / calls * 1e6)


# --- JWT verification ---------------------------------------------------------------------------------------


@contextmanager
def counting_socket_connects() -> Iterator[list[tuple]]:
    """Record every outgoing socket connection attempted inside the block."""
    attempts: list[tuple] = []
    original_connect = socket.socket.connect
    original_connect_ex = socket.socket.connect_ex

    def connect(self, address):
        attempts.append(address)
        return original_connect(self, address)

    def connect_ex(self, address):
        attempts.append(address)
        return original_connect_ex(self, address)

    with (
        mock.patch.object(socket.socket, "connect", connect),
        mock.patch.object(socket.socket, "connect_ex", connect_ex),
    ):
        yield attempts


def bench_jwt(bench: Bench, results: Results) -> None:
    from rest_framework.request import Request
    from rest_framework.test import APIRequestFactory

    from core import jwks
    from core.authentication import StytchJWTAuthentication, verified_tokens, verify_token

    calls = bench.args.jwt_calls
    token = bench.token
    request = Request(APIRequestFactory().get("/v1/models", HTTP_AUTHORIZATION=f"Bearer {token}"))
    authentication = StytchJWTAuthentication()

    def first_sight() -> None:
        verified_tokens.clear()
        verify_token(token)

    jwks.reset()
    verified_tokens.clear()
    with mock.patch.object(jwks, "fetch_jwks", wraps=jwks.fetch_jwks) as fetch:
        verify_token(token)  # the first call of a process reads the key set
        warm_up_fetches = fetch.call_count
        fetch.reset_mock()
        with counting_socket_connects() as connects:
            full = time_per_call(first_sight, calls)
            verify = time_per_call(lambda: verify_token(token), calls)
            authenticate = time_per_call(lambda: authentication.authenticate(request), calls)
        steady_fetches = fetch.call_count
    principal, _ = authentication.authenticate(request)
    if principal.organization_id != ORGANIZATION_ID:
        raise RuntimeError(f"authenticate() returned {principal!r}")

    target = TARGETS["jwt_us"]
    for label, figure in (
        ("verify_token(), steady state (token seen before)", verify),
        ("authenticate() (header + verify_token + principal)", authenticate),
    ):
        results.add(f"jwt: {label}, mean of {calls}", f"< {target:g} µs CPU", figure.describe(), figure.cpu_us < target)
    results.info(f"jwt: verify_token(), first sight (RS256 + claims), mean of {calls}", full.describe())
    results.add(
        "jwt: JWKS fetches / socket connects after warm-up",
        "0 / 0",
        f"{steady_fetches} / {len(connects)} (warm-up: {warm_up_fetches} fetch)",
        steady_fetches == 0 and not connects,
    )


# --- Query counts -------------------------------------------------------------------------------------------


TRANSACTION_CONTROL = re.compile(r"^\s*(BEGIN|COMMIT|ROLLBACK|SAVEPOINT|RELEASE SAVEPOINT)\b", re.I)


@dataclass
class QueryCount:
    label: str
    target_key: str | None  # None: for information
    sql: list[str]

    @property
    def total(self) -> int:
        """As Django's assertNumQueries counts: BEGIN and COMMIT included (each is a round trip)."""
        return len(self.sql)

    @property
    def transaction_control(self) -> int:
        return sum(1 for statement in self.sql if TRANSACTION_CONTROL.match(statement))

    def describe(self) -> str:
        if not self.transaction_control:
            return str(self.total)
        return f"{self.total} ({self.total - self.transaction_control} SQL + {self.transaction_control} BEGIN/COMMIT)"


def capture_queries(send: Callable[[], Any], expected_status: int) -> list[str]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        response = send()
    if response.status_code != expected_status:
        raise RuntimeError(f"expected {expected_status}, got {response.status_code}: {response.content[:300]!r}")
    return [query["sql"] for query in captured.captured_queries]


def bench_queries(bench: Bench, results: Results) -> None:
    data = seed_query_data()
    counts: list[QueryCount] = []
    for rows, item in data.items():
        client = api_client(bench.mint(item["organization_id"]))
        client.get("/v1/models?limit=1")  # the organization's first request records it (core.organizations)
        noun = "row" if rows == 1 else "rows"
        particles = f"{item['particles']} particle" + ("" if item["particles"] == "1" else "s")

        sql = capture_queries(lambda c=client: c.get("/v1/models?isSystem=false&limit=200"), 200)
        counts.append(QueryCount(f"list ({rows} {noun}: ?isSystem=false&limit=200)", "queries_list", sql))
        sql = capture_queries(lambda c=client, i=item: c.get(f"/v1/models/{i['model_id']}/resolved"), 200)
        counts.append(QueryCount(f"resolved ({rows} {noun} in the org, {particles})", "queries_resolved", sql))

        def create(c: Any = client, i: dict = item, **headers: str) -> Any:
            body = {
                "parentId": i["parent_id"],
                "name": f"Created model {uuid.uuid4().hex[:8]}",
                "maxTokens": 1000,
                "systemPromptCompositionId": i["composition_id"],
            }
            return c.post("/v1/models", body, format="json", **headers)

        sql = capture_queries(create, 201)
        counts.append(QueryCount(f"create ({rows} existing {noun}, with a composition)", "queries_create", sql))
        sql = capture_queries(lambda: create(HTTP_IDEMPOTENCY_KEY=uuid.uuid4().hex), 201)
        counts.append(QueryCount(f"create ({rows} existing {noun}) + Idempotency-Key", None, sql))

    for count in counts:
        if count.target_key is None:
            results.info(f"queries: {count.label}", count.describe())
        else:
            target = TARGETS[count.target_key]
            results.add(f"queries: {count.label}", f"<= {target}", count.describe(), count.total <= target)
        if bench.args.show_queries or (count.target_key and count.total > TARGETS[count.target_key]):
            log(f"queries of {count.label}:")
            for statement in count.sql:
                log(f"    {statement[:200]}")
