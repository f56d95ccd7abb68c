"""Prometheus metrics at /metrics (core.metrics, prometheus-client): who may scrape, what is
counted, and that gunicorn's workers add up (multiprocess mode, gunicorn.conf.py)."""

from __future__ import annotations

import http.client
import os
import runpy
import shutil
import signal
import socket
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from django.core.cache import caches
from django.test import Client
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families
from redis.exceptions import ConnectionError as RedisConnectionError
from rest_framework.test import APIClient

from core import metrics, response_cache, throttling
from core.cache import guarded
from core.throttling import increment_counters
from tests.factories import UserModelFactory
from tests.hardening.test_deploy import manage, production_env, random_secret_key

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "metrics-token-for-tests-0123456789"
DURATION = "model_registry_request_duration_seconds"


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def requests_seen(route: str, method: str = "GET", status: str = "200") -> float:
    return sample(f"{DURATION}_count", route=route, method=method, status=status)


def scrape(client: Client | None = None, **headers: str):
    return (client or Client()).get("/metrics", headers=headers)


@pytest.fixture
def metrics_token(settings: Any) -> str:
    settings.METRICS_TOKEN = TOKEN
    settings.METRICS_ALLOWED_NETWORKS = []
    return TOKEN


# --- Who may scrape -----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_metrics_are_not_public_by_default_a_404_like_any_unknown_page(settings: Any) -> None:
    settings.METRICS_TOKEN = ""
    settings.METRICS_ALLOWED_NETWORKS = []

    response = scrape()

    assert response.status_code == 404
    assert not response["Content-Type"].startswith("application/json")  # not under the JSON API
    assert Client().post("/metrics").status_code == 404  # its method gives nothing away either


@pytest.mark.django_db
def test_the_token_opens_them(metrics_token: str) -> None:
    response = scrape(Authorization=f"Bearer {metrics_token}")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain; version=")
    names = {family.name for family in text_string_to_metric_families(response.content.decode())}
    assert {
        DURATION,
        "model_registry_response_cache_lookups",
        "model_registry_cache_fallbacks",
        "model_registry_jwks_fetches",
    } <= names
    assert "no-cache" in response["Cache-Control"] or "max-age=0" in response["Cache-Control"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    "authorization",
    ["", f"Bearer {TOKEN}x", f"Bearer {TOKEN[:-1]}", f"Basic {TOKEN}", TOKEN, "Bearer "],
    ids=["none", "longer", "shorter", "other-scheme", "no-scheme", "empty"],
)
def test_without_the_right_token_it_is_a_plain_403(metrics_token: str, authorization: str) -> None:
    response = scrape(**({"Authorization": authorization} if authorization else {}))

    assert response.status_code == 403
    assert response["Content-Type"].startswith("text/plain")
    assert b"model_registry" not in response.content


@pytest.mark.django_db
def test_the_token_is_compared_in_constant_time(metrics_token: str) -> None:
    with mock.patch("core.metrics.hmac.compare_digest", wraps=metrics.hmac.compare_digest) as compare:
        assert scrape(Authorization=f"Bearer {metrics_token}").status_code == 200

    compare.assert_called_once_with(metrics_token.encode(), metrics_token.encode())


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("remote_addr", "status"),
    [
        ("10.1.2.3", 200),
        ("::ffff:10.1.2.3", 200),  # an IPv4 scraper as a socket bound to [::] sees it
        ("fd00::7", 200),
        ("192.168.1.1", 403),
        ("2001:db8::1", 403),
        ("not-an-address", 403),
    ],
)
def test_an_allowed_network_opens_them_by_remote_addr(settings: Any, remote_addr: str, status: int) -> None:
    settings.METRICS_TOKEN = ""
    settings.METRICS_ALLOWED_NETWORKS = ["10.0.0.0/8", "fd00::/8"]

    response = Client(REMOTE_ADDR=remote_addr).get("/metrics", headers={"X-Forwarded-For": "10.0.0.1"})

    assert response.status_code == status  # X-Forwarded-For is never trusted


@pytest.mark.django_db
def test_with_both_set_either_one_opens_them(settings: Any) -> None:
    settings.METRICS_TOKEN = TOKEN
    settings.METRICS_ALLOWED_NETWORKS = ["10.0.0.0/8"]

    assert Client(REMOTE_ADDR="10.0.0.9").get("/metrics").status_code == 200
    assert scrape(Client(REMOTE_ADDR="192.0.2.1"), Authorization=f"Bearer {TOKEN}").status_code == 200
    assert Client(REMOTE_ADDR="192.0.2.1").get("/metrics").status_code == 403


@pytest.mark.django_db
def test_an_allowed_scraper_may_only_read(metrics_token: str) -> None:
    response = Client().post("/metrics", headers={"Authorization": f"Bearer {metrics_token}"})

    assert response.status_code == 405


@pytest.mark.django_db
def test_the_scrape_is_exempt_from_the_https_redirect(settings: Any, metrics_token: str) -> None:
    """Prometheus scrapes the workers directly, over plain HTTP inside the network."""
    settings.SECURE_SSL_REDIRECT = True

    assert scrape(Authorization=f"Bearer {metrics_token}").status_code == 200


def test_a_network_that_is_not_one_stops_start_up() -> None:
    env = production_env(
        SECRET_KEY=random_secret_key(), ALLOWED_HOSTS="registry.example.com", METRICS_ALLOWED_NETWORKS="10.0.0.0/33"
    )

    result = manage("check", env=env)

    assert result.returncode != 0
    assert "METRICS_ALLOWED_NETWORKS" in result.stderr and "10.0.0.0/33" in result.stderr


# --- Request duration by route, method and status -------------------------------------------------------


@pytest.mark.django_db
def test_each_request_is_timed_under_its_url_pattern_name_never_its_path(
    admin_client: APIClient, metrics_token: str, no_rate_limits: None
) -> None:
    model = UserModelFactory()
    before_ok, before_missing = requests_seen("models-resolved"), requests_seen("models-resolved", status="404")

    assert admin_client.get(f"/v1/models/{model.pk}/resolved").status_code == 200
    assert admin_client.get("/v1/models/00000000-0000-0000-0000-000000000000/resolved").status_code == 404

    assert requests_seen("models-resolved") == before_ok + 1
    assert requests_seen("models-resolved", status="404") == before_missing + 1
    assert sample(f"{DURATION}_sum", route="models-resolved", method="GET", status="200") > 0
    body = scrape(Authorization=f"Bearer {metrics_token}").content.decode()
    assert str(model.pk) not in body and "/v1/models" not in body


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("method", "path", "route", "method_label", "status"),
    [
        ("GET", "/healthz", "healthz", "GET", "200"),
        ("POST", "/v1/models", "models-list", "POST", "401"),
        ("GET", "/v1/no-such-thing/42", "core.errors.api_not_found", "GET", "404"),
        ("GET", "/no-such-page", "unresolved", "GET", "404"),
        ("GET", "/admin/login/", "admin", "GET", "200"),
        ("GET", "/admin/models_registry/aimodel/", "admin", "GET", "302"),
        ("BREW", "/healthz", "healthz", "other", "405"),
    ],
)
def test_routes_methods_and_statuses_stay_a_bounded_set(
    method: str, path: str, route: str, method_label: str, status: str
) -> None:
    before = requests_seen(route, method_label, status)

    response = Client().generic(method, path)

    assert str(response.status_code) == status
    assert requests_seen(route, method_label, status) == before + 1


@pytest.mark.django_db
def test_a_preflight_is_timed_as_unresolved(settings: Any) -> None:
    """django-cors-headers answers it before URL resolution."""
    settings.CORS_ALLOWED_ORIGINS = ["https://dashboard.example.com"]
    before = requests_seen("unresolved", "OPTIONS")

    Client().options(
        "/v1/models", headers={"Origin": "https://dashboard.example.com", "Access-Control-Request-Method": "GET"}
    )

    assert requests_seen("unresolved", "OPTIONS") == before + 1


# --- Caches, the rate limiter, the key store -----------------------------------------------------------


def lookups(result: str) -> float:
    return sample("model_registry_response_cache_lookups_total", result=result)


def test_response_cache_lookups_count_hits_and_misses() -> None:
    hits, misses = lookups("hit"), lookups("miss")

    assert response_cache.get("response:test:absent") is None
    caches["default"].set("response:test:present", (b"{}", {"Content-Type": "application/json"}))
    assert response_cache.get("response:test:present").content == b"{}"
    assert response_cache.get("response:test:present", prefetched={}) is None  # the limiter's round trip found none

    assert (lookups("hit"), lookups("miss")) == (hits + 1, misses + 2)


@pytest.mark.django_db(transaction=True)  # the cache is keyed by generations bumped on commit
def test_a_second_resolved_read_is_a_hit(admin_client: APIClient, settings: Any) -> None:
    settings.RESPONSE_CACHE_SECONDS = 300
    settings.THROTTLE_RATES = {}
    model = UserModelFactory()
    hits, misses = lookups("hit"), lookups("miss")

    for _ in range(2):
        assert admin_client.get(f"/v1/models/{model.pk}/resolved").status_code == 200

    assert (lookups("hit"), lookups("miss")) == (hits + 1, misses + 1)


def fallbacks(what: str, reason: str) -> float:
    return sample("model_registry_cache_fallbacks_total", what=what, reason=reason)


def test_cache_fallbacks_count_the_failed_call_and_the_calls_skipped_while_the_breaker_is_open() -> None:
    failing = mock.Mock(side_effect=RedisConnectionError("connection refused"))
    errors, skipped = fallbacks("a test", "error"), fallbacks("a test", "open")

    assert guarded(failing, lambda: "fallback", what="a test") == "fallback"
    assert guarded(failing, lambda: "fallback", what="a test") == "fallback"
    assert guarded(failing, lambda: "fallback", what="a test") == "fallback"

    assert failing.call_count == 1
    assert (fallbacks("a test", "error"), fallbacks("a test", "open")) == (errors + 1, skipped + 2)


@pytest.mark.django_db
def test_the_rate_limiter_counts_its_local_fall_backs(admin_client: APIClient) -> None:
    """One cache fallback with what="rate limits" per request counted in the worker's own memory:
    `error` for the request that finds Redis failing, `open` for those skipped while the breaker is open."""

    def counted() -> tuple[float, float]:
        return fallbacks("rate limits", "error"), fallbacks("rate limits", "open")

    def shared_cache_fails(cache, *args, **kwargs):
        if cache is not caches[throttling.LOCAL_ALIAS]:
            raise RedisConnectionError("connection refused")
        return increment_counters(cache, *args, **kwargs)

    errors, skipped = counted()
    assert admin_client.get("/v1/models").status_code == 200  # with the shared cache there
    assert counted() == (errors, skipped)

    with mock.patch("core.throttling.increment_counters", side_effect=shared_cache_fails):
        assert admin_client.get("/v1/models").status_code == 200
        assert admin_client.get("/v1/models").status_code == 200

    assert counted() == (errors + 1, skipped + 1)


def jwks_fetches(outcome: str) -> float:
    return sample("model_registry_jwks_fetches_total", outcome=outcome)


@pytest.mark.django_db
def test_jwks_fetches_are_counted_by_outcome(admin_client: APIClient, settings: Any, tmp_path: Path) -> None:
    successes, failures = jwks_fetches("success"), jwks_fetches("failure")
    assert admin_client.get("/v1/models").status_code == 200  # a fresh key store fetches once
    assert admin_client.get("/v1/models").status_code == 200
    assert (jwks_fetches("success"), jwks_fetches("failure")) == (successes + 1, failures)

    settings.STYTCH_JWKS_URL = (tmp_path / "missing.json").as_uri()  # a new store, whose fetch fails
    assert admin_client.get("/v1/models").status_code == 401  # "signing keys are unavailable"

    assert (jwks_fetches("success"), jwks_fetches("failure")) == (successes + 1, failures + 1)


# --- Multiprocess mode: the workers add up ---------------------------------------------------------------


def _child_env(metrics_dir: Path) -> dict[str, str]:
    return production_env(
        SECRET_KEY=random_secret_key(),
        ALLOWED_HOSTS="testserver,127.0.0.1",
        SECURE_SSL_REDIRECT="false",
        METRICS_TOKEN=TOKEN,
        PROMETHEUS_MULTIPROC_DIR=str(metrics_dir),
        DJANGO_SETTINGS_MODULE="config.settings",
        DATABASE_URL=f"sqlite:///{metrics_dir.parent / 'db.sqlite3'}",
    )


CHILD = textwrap.dedent(
    """
    import os, sys, django
    django.setup()
    from django.test import Client
    for _ in range(int(sys.argv[1])):
        assert Client().get("/healthz").status_code == 200
    response = Client().get("/metrics", headers={"Authorization": "Bearer " + os.environ["METRICS_TOKEN"]})
    assert response.status_code == 200, response.status_code
    sys.stdout.write(response.content.decode())
    """
)


def healthz_count(exposition: str) -> float:
    for family in text_string_to_metric_families(exposition):
        for metric in family.samples:
            if metric.name == f"{DURATION}_count" and metric.labels == {
                "route": "healthz",
                "method": "GET",
                "status": "200",
            }:
                return metric.value
    return 0.0


def test_in_multiprocess_mode_metrics_adds_up_every_process(tmp_path: Path) -> None:
    """Two processes write to one PROMETHEUS_MULTIPROC_DIR; either one's /metrics shows both."""
    env = _child_env(tmp_path)

    def run(requests: int) -> str:
        result = subprocess.run(  # noqa: S603 - our own interpreter
            [sys.executable, "-c", CHILD, str(requests)], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
        )
        assert result.returncode == 0, result.stderr
        return result.stdout

    run(3)
    second = run(4)

    assert healthz_count(second) == 7
    assert len(list(tmp_path.glob("histogram_*.db"))) == 2  # one file per process


@pytest.fixture
def own_environ(monkeypatch: pytest.MonkeyPatch) -> None:
    """gunicorn.conf.py sets variables for the server it configures: keep them from this process."""
    monkeypatch.setattr(os, "environ", dict(os.environ))


def test_gunicorn_conf_empties_the_directory_at_start_and_marks_dead_workers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, own_environ: None
) -> None:
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    (tmp_path / "counter_12345.db").write_bytes(b"stale")
    conf = runpy.run_path(str(ROOT / "gunicorn.conf.py"))

    conf["on_starting"](mock.Mock())
    with mock.patch("prometheus_client.multiprocess.mark_process_dead") as mark_dead:
        conf["child_exit"](mock.Mock(), mock.Mock(pid=4242))
    conf["on_exit"](mock.Mock())

    assert list(tmp_path.iterdir()) == []  # emptied, and kept: it is the operator's directory
    mark_dead.assert_called_once_with(4242, str(tmp_path))


def test_gunicorn_conf_makes_its_own_directory_when_none_is_set(
    monkeypatch: pytest.MonkeyPatch, own_environ: None
) -> None:
    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR", raising=False)
    conf = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    made = Path(os.environ["PROMETHEUS_MULTIPROC_DIR"])
    try:
        assert made.is_dir() and made == conf["metrics_dir"]
    finally:
        conf["on_exit"](mock.Mock())

    assert not made.exists()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _get(port: int, path: str, **headers: str) -> tuple[int, str]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", path, headers={"Connection": "close", **headers})
        response = conn.getresponse()
        return response.status, response.read().decode()
    finally:
        conn.close()


@pytest.fixture
def gunicorn_two_workers(tmp_path: Path) -> Iterator[tuple[int, subprocess.Popen]]:
    gunicorn = shutil.which("gunicorn", path=str(Path(sys.executable).parent))
    if gunicorn is None:
        pytest.skip("gunicorn is not installed in this virtualenv")
    port = _free_port()
    env = {
        **_child_env(tmp_path / "metrics"),
        "WEB_CONCURRENCY": "2",
        "GUNICORN_THREADS": "1",
        "GUNICORN_BIND": f"127.0.0.1:{port}",
    }
    process = subprocess.Popen(  # noqa: S603 - gunicorn from this virtualenv, with the production configuration
        [gunicorn, "-c", "gunicorn.conf.py", "config.wsgi"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, "gunicorn exited"
            try:
                if _get(port, "/healthz")[0] == 200:
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        yield port, process
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()


def _worker_pids(master: int) -> set[int]:
    listed = subprocess.run(["ps", "-o", "pid=", "--ppid", str(master)], capture_output=True, text=True)  # noqa: S603, S607
    return {int(pid) for pid in listed.stdout.split()}


def test_under_gunicorn_a_scrape_adds_up_every_worker_even_the_dead_ones(
    gunicorn_two_workers: tuple[int, subprocess.Popen], tmp_path: Path
) -> None:
    """Whichever worker answers the scrape, it counts what the others served: after both
    workers that served the requests are killed, their replacements still report them."""
    port, process = gunicorn_two_workers
    auth = {"Authorization": f"Bearer {TOKEN}"}
    for _ in range(40):
        assert _get(port, "/healthz")[0] == 200
    first = _worker_pids(process.pid)
    assert len(first) == 2

    for pid in first:
        os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 60
    while len(_worker_pids(process.pid) - first) < 2:
        assert time.monotonic() < deadline, "gunicorn did not replace its workers"
        time.sleep(0.1)
    status, exposition = _get(port, "/metrics", **auth)

    assert status == 200
    assert healthz_count(exposition) >= 40  # and the readiness poll; a worker of its own would show 0
    writers = {path.stem.rsplit("_", 1)[-1] for path in (tmp_path / "metrics").glob("*.db")}
    assert len(writers) >= 3, writers  # the dead workers' files, and the scraping worker's
