"""Issue 7: rate limits per organization and per client (429 + Retry-After), and the request size limit (413)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import orjson
import pytest
from django.conf import settings as django_settings
from django.core.cache import cache, caches
from rest_framework.test import APIClient

from core.models import AuditEvent, IdempotencyRecord
from core.throttling import increment_counters
from models_registry.models import AIModel
from tests.assertions import assert_error_shape
from tests.concurrency import race
from tests.conftest import REDIS_LOCATION, REDIS_PREFIX, counting_redis_round_trips
from tests.hardening.conftest import MODELS_URL, PARTICLES_URL, model_body, start_in_a_fresh_window

pytestmark = pytest.mark.django_db


def client_with(make_token, **kwargs: Any) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {make_token(**kwargs)}")
    return client


def assert_throttled(response: Any) -> int:
    body = assert_error_shape(response, 429)
    assert body["code"] == "throttled"
    retry_after = response.get("Retry-After")
    assert retry_after is not None, "a 429 says when to come back"
    assert retry_after.isdigit() and 1 <= int(retry_after) <= 60, retry_after
    return int(retry_after)


@pytest.fixture
def org_limit_3(settings: Any) -> None:
    settings.THROTTLE_RATES = {"organization": "3/minute", "client": "100/minute"}
    start_in_a_fresh_window()


# --- Per organization ----------------------------------------------------------------------------


def test_the_fourth_request_of_an_organization_is_429_with_retry_after(
    org_limit_3: None, admin_client: APIClient
) -> None:
    responses = [admin_client.get(MODELS_URL) for _ in range(4)]

    assert [r.status_code for r in responses[:3]] == [200, 200, 200]
    assert_throttled(responses[3])


def test_every_member_of_the_organization_counts_toward_its_limit(org_limit_3: None, make_token) -> None:
    members = [client_with(make_token, org="org-a", sub=f"member-{i}") for i in range(3)]
    m2m = client_with(make_token, kind="m2m", org="org-a", scopes="read:models", sub="m2m-client-x")

    statuses = [member.get(MODELS_URL).status_code for member in members]
    blocked = m2m.get(MODELS_URL)

    assert statuses == [200, 200, 200]
    assert_throttled(blocked)


def test_another_organization_is_unaffected(
    org_limit_3: None, admin_client: APIClient, other_org_client: APIClient
) -> None:
    for _ in range(3):
        assert admin_client.get(MODELS_URL).status_code == 200
    assert_throttled(admin_client.get(MODELS_URL))

    theirs = [other_org_client.get(MODELS_URL).status_code for _ in range(3)]

    assert theirs == [200, 200, 200]
    assert_throttled(other_org_client.get(MODELS_URL))


def test_writes_are_throttled_and_a_throttled_write_writes_nothing(
    org_limit_3: None, admin_client: APIClient, system_model: AIModel
) -> None:
    for index in range(3):
        response = admin_client.post(MODELS_URL, model_body(system_model, name=f"Model {index}"), format="json")
        assert response.status_code == 201, response.content

    response = admin_client.post(
        MODELS_URL, model_body(system_model, name="One Too Many"), format="json", HTTP_IDEMPOTENCY_KEY="k-4"
    )

    assert_throttled(response)
    assert AIModel.objects.filter(is_system=False).count() == 3
    assert not IdempotencyRecord.objects.filter(key="k-4").exists()


# --- Per client ------------------------------------------------------------------------------------


def test_two_m2m_clients_of_one_organization_are_counted_separately(settings: Any, make_token) -> None:
    settings.THROTTLE_RATES = {"organization": "100/minute", "client": "2/minute"}
    start_in_a_fresh_window()
    one = client_with(make_token, kind="m2m", org="org-a", scopes="read:models", sub="m2m-client-one")
    two = client_with(make_token, kind="m2m", org="org-a", scopes="read:models", sub="m2m-client-two")

    assert [one.get(MODELS_URL).status_code for _ in range(2)] == [200, 200]
    assert_throttled(one.get(MODELS_URL))

    assert [two.get(MODELS_URL).status_code for _ in range(2)] == [200, 200]
    assert_throttled(two.get(MODELS_URL))


def test_two_members_of_one_organization_are_counted_separately(settings: Any, make_token) -> None:
    settings.THROTTLE_RATES = {"organization": "100/minute", "client": "2/minute"}
    start_in_a_fresh_window()
    alice = client_with(make_token, org="org-a", sub="member-alice")
    bob = client_with(make_token, org="org-a", sub="member-bob")

    assert [alice.get(MODELS_URL).status_code for _ in range(2)] == [200, 200]
    assert_throttled(alice.get(MODELS_URL))
    assert bob.get(MODELS_URL).status_code == 200


def test_the_same_client_id_in_another_organization_is_another_client(settings: Any, make_token) -> None:
    settings.THROTTLE_RATES = {"organization": "100/minute", "client": "2/minute"}
    start_in_a_fresh_window()
    here = client_with(make_token, kind="m2m", org="org-a", scopes="read:models", sub="m2m-shared")
    there = client_with(make_token, kind="m2m", org="org-b", scopes="read:models", sub="m2m-shared")

    assert [here.get(MODELS_URL).status_code for _ in range(2)] == [200, 200]
    assert_throttled(here.get(MODELS_URL))
    assert there.get(MODELS_URL).status_code == 200


# --- Shared counters in Redis --------------------------------------------------------------------------


def _another_worker_requests(token: str, tmp_path: Path) -> tuple[int, str | None]:
    """GET /v1/models from a separate process (another gunicorn worker) sharing only Redis.

    Its database is an empty file: a throttled request never reaches it. (Its response cache is
    off: with it on, a read first reads the cache generations from the database, to name the
    cached entry the limiter's round trip fetches with the counters, core/response_cache.py.)
    """
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "REDIS_URL": REDIS_LOCATION,
        "CACHE_KEY_PREFIX": REDIS_PREFIX,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'worker-2.sqlite3'}",
        "THROTTLE_RATE_ORGANIZATION": "3/minute",
        "THROTTLE_RATE_CLIENT": "100/minute",
        "RESPONSE_CACHE_SECONDS": "0",
        "STYTCH_JWKS_URL": django_settings.STYTCH_JWKS_URL,
        "STYTCH_PROJECT_ID": django_settings.STYTCH_PROJECT_ID,
        "ALLOWED_HOSTS": "testserver",
        "HARDENING_TOKEN": token,
    }
    script = (
        "import os, django; django.setup(); from django.test import Client; "
        "r = Client(raise_request_exception=False).get('/v1/models', "
        "HTTP_AUTHORIZATION='Bearer ' + os.environ['HARDENING_TOKEN']); "
        "print(r.status_code); print(r.get('Retry-After'))"
    )
    result = subprocess.run(  # noqa: S603 - our own interpreter
        [sys.executable, "-c", script],
        cwd=Path(__file__).resolve().parents[2],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    status, retry_after = result.stdout.strip().splitlines()[-2:]
    return int(status), None if retry_after == "None" else retry_after


def test_with_redis_the_counters_are_shared_between_worker_processes(
    redis_cache: None, org_limit_3: None, make_token, tmp_path: Path
) -> None:
    token = make_token(org="org-a", roles=("stytch_admin",))
    here = client_with(make_token, org="org-a", roles=("stytch_admin",))
    start_in_a_fresh_window(needs=20)  # the other worker is a new process: seconds to start on a busy machine

    assert [here.get(MODELS_URL).status_code for _ in range(3)] == [200, 200, 200]
    status, retry_after = _another_worker_requests(token, tmp_path)

    assert status == 429, "the other worker sees the three requests this one counted"
    assert retry_after is not None and retry_after.isdigit()
    assert_throttled(here.get(MODELS_URL))


def test_with_redis_the_counters_live_in_redis(redis_cache: None, org_limit_3: None, admin_client: APIClient) -> None:
    import redis

    admin_client.get(MODELS_URL)

    keys = [key.decode() for key in redis.Redis.from_url(REDIS_LOCATION).keys(f"{REDIS_PREFIX}*org-a*")]
    assert keys, "the organization's counter is kept in Redis"


def test_with_redis_every_counter_expires_with_its_window(
    redis_cache: None, settings: Any, admin_client: APIClient
) -> None:
    import redis

    settings.THROTTLE_RATES = {"organization": "100/hour", "client": "100/minute"}
    admin_client.get(MODELS_URL)
    admin_client.get(MODELS_URL)

    server = redis.Redis.from_url(REDIS_LOCATION)
    ttls = {key.decode().split(":")[3]: server.ttl(key) for key in server.keys(f"{REDIS_PREFIX}*throttle*")}
    assert set(ttls) == {"organization", "client"}
    assert 3500 < ttls["organization"] <= 3600
    assert 0 < ttls["client"] <= 60
    assert [int(server.get(key)) for key in server.keys(f"{REDIS_PREFIX}*throttle*")] == [2, 2]


def test_with_redis_a_lost_script_is_loaded_again(
    redis_cache: None, org_limit_3: None, admin_client: APIClient
) -> None:
    import redis

    assert admin_client.get(MODELS_URL).status_code == 200
    redis.Redis.from_url(REDIS_LOCATION).script_flush()  # a restarted Redis forgets loaded scripts
    assert admin_client.get(MODELS_URL).status_code == 200
    assert admin_client.get(MODELS_URL).status_code == 200
    assert_throttled(admin_client.get(MODELS_URL))


def test_with_redis_counters_and_prefetched_keys_share_one_round_trip(redis_cache: None) -> None:
    cache.set("prefetch:body", {"name": "Omni"})
    cache.set("prefetch:generation", 7)

    with counting_redis_round_trips() as sent:
        counts, found = increment_counters(
            caches["default"], [("prefetch:counter", 60)], ["prefetch:body", "prefetch:generation", "prefetch:missing"]
        )

    assert len(sent) == 1
    assert b"EVALSHA" in sent[0] and b"MGET" in sent[0]
    assert counts == [1]
    assert found == {"prefetch:body": {"name": "Omni"}, "prefetch:generation": 7}
    assert increment_counters(caches["default"], [("prefetch:counter", 60)], ["prefetch:body"])[0] == [2]


def test_with_redis_a_lost_script_is_loaded_again_with_prefetched_keys(redis_cache: None) -> None:
    import redis

    cache.set("prefetch:body", "text")
    assert increment_counters(caches["default"], [("prefetch:counter", 60)], ["prefetch:body"]) == (
        [1],
        {"prefetch:body": "text"},
    )
    redis.Redis.from_url(REDIS_LOCATION).script_flush()

    assert increment_counters(caches["default"], [("prefetch:counter", 60)], ["prefetch:body"]) == (
        [2],
        {"prefetch:body": "text"},
    )


def test_with_redis_scripts_flushed_again_before_the_retry_still_count(
    redis_cache: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another client (a second test run on the same Redis, an operator) flushes the scripts again
    between this request's NoScript reply and its retry: the retry sends the script itself, so the
    request is still counted in Redis, not handed to the per-process fallback."""
    import redis
    from redis.client import Pipeline

    server = redis.Redis.from_url(REDIS_LOCATION)
    assert increment_counters(caches["default"], [("flush:counter", 60)])[0] == [1]
    server.script_flush()
    original_execute = Pipeline.execute
    calls = []

    def flushing_execute(self, *args, **kwargs):
        if calls:  # the retry: the scripts are gone again by the time it is sent
            server.script_flush()
        calls.append(1)
        return original_execute(self, *args, **kwargs)

    monkeypatch.setattr(Pipeline, "execute", flushing_execute)

    assert increment_counters(caches["default"], [("flush:counter", 60)])[0] == [2]
    assert len(calls) == 2
    assert [int(server.get(key)) for key in server.keys(f"{REDIS_PREFIX}*flush:counter*")] == [2]


def test_without_redis_prefetched_keys_are_read_from_the_cache() -> None:
    cache.set("prefetch:body", "text")

    assert increment_counters(caches["default"], [("prefetch:counter", 60)], ["prefetch:body", "prefetch:missing"]) == (
        [1],
        {"prefetch:body": "text"},
    )


@pytest.mark.django_db(transaction=True)
def test_with_redis_concurrent_requests_lose_no_count(redis_cache: None, settings: Any, make_token) -> None:
    """Twelve requests at once against a limit of five: exactly five get through."""
    settings.THROTTLE_RATES = {"organization": "5/minute", "client": "100/minute"}
    start_in_a_fresh_window()

    results = race(make_token, [lambda client: client.get(MODELS_URL)] * 12)

    statuses = [status for status, _ in results]
    assert sorted(statuses) == [200] * 5 + [429] * 7, statuses


# --- Request body too large ---------------------------------------------------------------------------


def _body_of_size(system_model: AIModel, size: int) -> bytes:
    body = model_body(system_model, name="Large", description="")
    padding = size - len(orjson.dumps(body))
    body["description"] = "x" * padding
    raw = orjson.dumps(body)
    assert len(raw) == size
    return raw


@pytest.mark.usefixtures("no_rate_limits")
def test_a_body_over_the_limit_is_413_and_writes_nothing(
    settings: Any, admin_client: APIClient, system_model: AIModel
) -> None:
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    raw = _body_of_size(system_model, 2000)
    events = AuditEvent.objects.count()

    response = admin_client.post(MODELS_URL, raw, content_type="application/json", HTTP_IDEMPOTENCY_KEY="big")

    body = assert_error_shape(response, 413)
    assert body["code"] == "request_too_large"
    assert "1000" in body["detail"]
    assert response.get("X-Request-ID")
    assert not AIModel.objects.filter(is_system=False).exists()
    assert not IdempotencyRecord.objects.exists()
    assert AuditEvent.objects.count() == events


@pytest.mark.usefixtures("no_rate_limits")
def test_a_body_at_the_limit_is_accepted(settings: Any, admin_client: APIClient, system_model: AIModel) -> None:
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000

    response = admin_client.post(MODELS_URL, _body_of_size(system_model, 1000), content_type="application/json")

    assert response.status_code == 201, response.content


@pytest.mark.usefixtures("no_rate_limits")
def test_a_patch_over_the_limit_is_413_and_changes_nothing(
    settings: Any, admin_client: APIClient, user_model: AIModel
) -> None:
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000

    response = admin_client.patch(f"{MODELS_URL}/{user_model.pk}", {"description": "y" * 1500}, format="json")

    assert_error_shape(response, 413)
    user_model.refresh_from_db()
    assert user_model.description == "0"


@pytest.mark.usefixtures("no_rate_limits")
def test_a_particle_over_the_limit_is_413(settings: Any, admin_client: APIClient) -> None:
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000

    response = admin_client.post(PARTICLES_URL, {"kind": "role", "name": "Big", "content": "z" * 2000}, format="json")

    assert_error_shape(response, 413)
