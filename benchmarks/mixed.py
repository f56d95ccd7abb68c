"""The mixed benchmark: reads across 100 organizations while a writer changes models in 5 of them.

Issue 19, target 5: the response cache is per organization (core/response_cache.py), so a write
in one organization must leave every other organization's cached list pages and `/resolved`
bodies warm, and no read may serve a body older than a write whose response was sent.

- Setting: MIXED_ORGANIZATIONS organizations of MIXED_MODELS_PER_ORGANIZATION user models each
  (benchmarks/fixtures.py), a token per organization, and per organization the URLs a dashboard
  and a runtime read: two list pages and the `/resolved` view of each model.
- Warm-up: every URL once (each a miss, the body is rendered and cached).
- Load, `--duration` seconds: READERS keep-alive clients GET a random URL of a random
  organization, as fast as the server answers; one writer PATCHes a model's `description` in
  the first WRITTEN_ORGANIZATIONS organizations, WRITES_PER_SECOND in all, in turn, and after
  each PATCH response GETs that model and its `/resolved` view (the spot check).
- Hit or miss per request: the benchmark server's probe header (benchmarks/cache_probe.py);
  its totals are compared with the server's own counter on /metrics.
- Freshness: the description carries the write's number. Every read in a written organization
  (the spot checks and the readers') must show, for each model in its body, at least the number
  of the last PATCH of that model whose response had arrived before the read was sent.
"""

from __future__ import annotations

import http.client
import json
import random
import re
import threading
import time
import urllib.parse
from collections import Counter
from dataclasses import dataclass, field

from benchmarks.cache_probe import HEADER
from benchmarks.fixtures import MIXED_MODELS_PER_ORGANIZATION, seed_mixed_data
from benchmarks.harness import Bench, Server, log
from benchmarks.report import TARGETS, Results

WRITTEN_ORGANIZATIONS = 5
READERS = 4
WRITES_PER_SECOND = 5.0
LIST_PATHS = ("/v1/models?limit=50", "/v1/models?isSystem=false&limit=20")
REVISION = re.compile(r"^mixed revision (\d+)$")
LOOKUP_SAMPLE = re.compile(r'^model_registry_response_cache_lookups_total\{result="(hit|miss)"\} ([\d.e+]+)$', re.M)


class Connection:
    """One keep-alive HTTP connection to the server, opened again if the server closed it."""

    def __init__(self, base_url: str) -> None:
        parts = urllib.parse.urlsplit(base_url)
        self.connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)

    def request(self, method: str, path: str, token: str, body: dict | None = None) -> tuple[int, str | None, bytes]:
        """(status, the probe header, the body)."""
        headers = {"Authorization": f"Bearer {token}"}
        payload = None
        if body is not None:
            payload = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        try:
            return self._send(method, path, payload, headers)
        except (ConnectionError, http.client.HTTPException):
            self.connection.close()  # a keep-alive connection the server closed: once more on a new one
            return self._send(method, path, payload, headers)

    def _send(self, method: str, path: str, payload: bytes | None, headers: dict) -> tuple[int, str | None, bytes]:
        self.connection.request(method, path, body=payload, headers=headers)
        response = self.connection.getresponse()
        return response.status, response.getheader(HEADER), response.read()

    def close(self) -> None:
        self.connection.close()


def revisions_in(body: bytes) -> dict[str, int]:
    """model id -> the write number its description shows (-1: never written), for a model body
    or a list page."""
    data = json.loads(body)
    rows = data.get("results", [data])
    seen = {}
    for row in rows:
        match = REVISION.match(row.get("description") or "")
        seen[row["id"]] = int(match.group(1)) if match else -1
    return seen


def stale_models(body: bytes, floors: dict[str, int]) -> int:
    """How many models in `body` show an older write than their floor (the last one answered
    before the read was sent)."""
    return sum(1 for model_id, seen in revisions_in(body).items() if seen < floors.get(model_id, -1))


def server_lookups(server: Server, token: str) -> Counter:
    """The server's response cache lookups so far, hit and miss (all workers, core.metrics)."""
    connection = Connection(server.base_url)
    try:
        status, _, body = connection.request("GET", "/metrics", token)
    finally:
        connection.close()
    if status != 200:
        raise RuntimeError(f"GET /metrics: {status} {body[:200]!r}")
    return Counter({result: int(float(value)) for result, value in LOOKUP_SAMPLE.findall(body.decode())})


@dataclass
class Tally:
    """What one client saw. Merged after the run; no locks while it runs."""

    lookups: Counter = field(default_factory=Counter)  # (group, "hit" or "miss") -> reads
    errors: list[str] = field(default_factory=list)
    checked: int = 0  # reads whose body was checked for freshness
    stale: int = 0  # models shown older than an answered write
    writes: int = 0

    def read(self, connection: Connection, group: str, path: str, token: str) -> bytes | None:
        status, probe, body = connection.request("GET", path, token)
        if status != 200:
            self.errors.append(f"GET {path}: {status} {body[:120]!r}")
            return None
        if probe not in ("hit", "miss"):
            raise RuntimeError(f"GET {path}: no {HEADER} header: is benchmarks.settings the server's settings?")
        self.lookups[group, probe] += 1
        return body

    def merge(self, other: Tally) -> None:
        self.lookups += other.lookups
        self.errors += other.errors
        self.checked += other.checked
        self.stale += other.stale
        self.writes += other.writes


def bench_mixed(bench: Bench, server: Server, results: Results) -> None:
    models = seed_mixed_data()
    organizations = sorted(models)
    written = set(organizations[:WRITTEN_ORGANIZATIONS])
    tokens = {organization: bench.mint(organization) for organization in organizations}
    paths = {
        organization: [*LIST_PATHS, *(f"/v1/models/{model_id}/resolved" for model_id in model_ids)]
        for organization, model_ids in models.items()
    }
    # model id -> the number of its last PATCH whose response has arrived (written by the writer only).
    answered: dict[str, int] = {}
    metrics_token = bench.env["METRICS_TOKEN"]
    before = server_lookups(server, metrics_token)

    warmup = Tally()
    connection = Connection(server.base_url)
    for organization in organizations:
        for path in paths[organization]:
            warmup.read(connection, "warm-up", path, tokens[organization])
    connection.close()
    log(f"mixed: warmed {sum(warmup.lookups.values())} URLs of {len(organizations)} organizations")

    stop = threading.Event()

    def reader(number: int, tally: Tally) -> None:
        rng = random.Random(number)
        connection = Connection(server.base_url)
        try:
            while not stop.is_set():
                organization = rng.choice(organizations)
                path = rng.choice(paths[organization])
                if organization not in written:
                    tally.read(connection, "unwritten", path, tokens[organization])
                    continue
                floors = {model_id: answered.get(model_id, -1) for model_id in models[organization]}
                body = tally.read(connection, "written", path, tokens[organization])
                if body is not None:
                    tally.checked += 1
                    tally.stale += stale_models(body, floors)
        except Exception as exc:  # reported in the table; the other clients go on
            tally.errors.append(f"{type(exc).__name__}: {exc}")
        finally:
            connection.close()

    def writer(tally: Tally) -> None:
        order = [(organization, model_id) for organization in sorted(written) for model_id in models[organization]]
        connection = Connection(server.base_url)
        next_write = time.monotonic()
        try:
            while not stop.is_set():
                organization, model_id = order[tally.writes % len(order)]
                token = tokens[organization]
                number = tally.writes
                status, _, body = connection.request(
                    "PATCH", f"/v1/models/{model_id}", token, {"description": f"mixed revision {number}"}
                )
                tally.writes += 1
                if status != 200:
                    tally.errors.append(f"PATCH: {status} {body[:120]!r}")
                else:
                    answered[model_id] = number
                    for path in (f"/v1/models/{model_id}", f"/v1/models/{model_id}/resolved"):
                        seen = tally.read(connection, "spot check", path, token)
                        if seen is not None:
                            tally.checked += 1
                            tally.stale += stale_models(seen, {model_id: number})
                next_write += 1 / WRITES_PER_SECOND
                stop.wait(max(0.0, next_write - time.monotonic()))
        except Exception as exc:
            tally.errors.append(f"{type(exc).__name__}: {exc}")
        finally:
            connection.close()

    tallies = [Tally() for _ in range(READERS + 1)]
    threads = [threading.Thread(target=reader, args=(n, tallies[n])) for n in range(READERS)]
    threads.append(threading.Thread(target=writer, args=(tallies[READERS],)))
    log(
        f"mixed: {READERS} readers across {len(organizations)} organizations, "
        f"{WRITES_PER_SECOND:g} PATCH/s in {len(written)} of them, {bench.args.duration:g} s"
    )
    started = time.monotonic()
    for thread in threads:
        thread.start()
    stop.wait(bench.args.duration)
    stop.set()
    for thread in threads:
        thread.join(timeout=30)
    seconds = time.monotonic() - started
    after = server_lookups(server, metrics_token)

    total = Tally()
    for tally in (warmup, *tallies):
        total.merge(tally)
    reads = {group: total.lookups[group, "hit"] + total.lookups[group, "miss"] for group in ("unwritten", "written")}
    rate = {group: total.lookups[group, "hit"] / max(1, reads[group]) for group in reads}
    load_reads = sum(reads.values())
    results.info(
        f"mixed: load ({READERS} readers over {len(organizations)} organizations, PATCHes in {len(written)})",
        f"{load_reads} reads ({load_reads / seconds:.0f}/s), {total.writes} PATCH ({total.writes / seconds:.1f}/s)",
    )
    unwritten_label = f"{len(organizations) - len(written)} organizations without writes"
    results.add(
        f"mixed: response cache hit rate, {unwritten_label}",
        f">= {TARGETS['mixed_hit_rate']:g}",
        f"{rate['unwritten']:.3f} ({total.lookups['unwritten', 'hit']} of {reads['unwritten']})",
        rate["unwritten"] >= TARGETS["mixed_hit_rate"],
    )
    results.info(
        f"mixed: response cache hit rate, {len(written)} organizations written to",
        f"{rate['written']:.3f} ({total.lookups['written', 'hit']} of {reads['written']})",
    )
    spot_checks = total.lookups["spot check", "hit"] + total.lookups["spot check", "miss"]
    results.add(
        "mixed: reads older than a PATCH already answered",
        "0",
        f"{total.stale} (in {total.checked} reads checked, {spot_checks} of them right after a PATCH)",
        total.stale == 0,
    )
    probe = Counter()
    for (_, result), n in total.lookups.items():
        probe[result] += n
    counted = Counter({result: after[result] - before[result] for result in ("hit", "miss")})
    results.add(
        "mixed: cache hits / misses, probe header = server's counter",
        "equal",
        f"{probe['hit']} / {probe['miss']} = {counted['hit']} / {counted['miss']}",
        probe == counted,
    )
    results.add("mixed: failed requests", "0", str(len(total.errors)), not total.errors)
    for error in total.errors[:5]:
        log(f"mixed: {error}")
    results.data["mixed"] = {
        "organizations": len(organizations),
        "models_per_organization": MIXED_MODELS_PER_ORGANIZATION,
        "written_organizations": len(written),
        "seconds": seconds,
        "reads": load_reads,
        "writes": total.writes,
        "hit_rate_unwritten": rate["unwritten"],
        "hit_rate_written": rate["written"],
        "stale_reads": total.stale,
        "checked_reads": total.checked,
        "errors": len(total.errors),
    }
