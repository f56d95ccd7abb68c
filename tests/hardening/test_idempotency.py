"""Issue 7: `Idempotency-Key` on POST /v1/models and /v1/prompt-particles."""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any
from unittest import mock

import orjson
import pytest
from django.db import connection
from django.utils import timezone
from rest_framework.test import APIClient

from core import idempotency
from core.models import AuditEvent, IdempotencyRecord
from models_registry import services as model_services
from models_registry.models import AIModel
from prompts import services as prompt_services
from prompts.models import PromptParticle
from tests.assertions import assert_error_shape
from tests.hardening.conftest import MODELS_URL, PARTICLES_URL, model_body

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("no_rate_limits")]

KEY = "5b0c1e9e-2f7a-4a54-9d55-2c3b8f0b7a11"


def post(client: APIClient, url: str, body: Any, key: str | None = KEY, **extra: Any):
    if key is not None:
        extra["HTTP_IDEMPOTENCY_KEY"] = key
    return client.post(url, body, format="json", **extra)


def particle_body(**overrides: Any) -> dict[str, Any]:
    body = {"kind": "role", "name": "Idempotent Particle", "content": "You are helpful."}
    body.update(overrides)
    return body


def member(make_token, sub: str, org: str = "org-a") -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {make_token(org=org, roles=('stytch_admin',), sub=sub)}")
    return client


# --- Replays --------------------------------------------------------------------------------------


@pytest.mark.parametrize("resource", ["models", "particles"])
def test_same_key_and_body_replays_the_first_response_and_creates_one_row(
    admin_client: APIClient, system_model: AIModel, resource: str
) -> None:
    url, body, model = (
        (MODELS_URL, model_body(system_model), AIModel)
        if resource == "models"
        else (PARTICLES_URL, particle_body(), PromptParticle)
    )
    before = model.objects.count()

    first = post(admin_client, url, body)
    second = post(admin_client, url, body)
    third = post(admin_client, url, body)

    assert first.status_code == 201, first.content
    assert "Idempotent-Replayed" not in first
    for replay in (second, third):
        assert replay.status_code == 201, replay.content
        assert replay["Idempotent-Replayed"] == "true"
        assert replay.json() == first.json()
        assert replay["Location"] == first["Location"]
        assert replay["ETag"] == first["ETag"]
    assert model.objects.count() == before + 1
    assert AuditEvent.objects.filter(action="created", object_id=first.json()["id"]).count() == 1
    assert IdempotencyRecord.objects.count() == 1


def test_a_replay_is_the_same_for_the_same_json_in_another_key_order(
    admin_client: APIClient, system_model: AIModel
) -> None:
    body = model_body(system_model)
    reordered = dict(reversed(list(body.items())))

    first = admin_client.post(MODELS_URL, body, format="json", HTTP_IDEMPOTENCY_KEY=KEY)
    replay = admin_client.post(
        MODELS_URL,
        orjson.dumps(reordered, option=orjson.OPT_INDENT_2),
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY=KEY,
    )

    assert first.status_code == 201
    assert replay.status_code == 201 and replay["Idempotent-Replayed"] == "true"
    assert replay.json() == first.json()
    assert AIModel.objects.filter(is_system=False).count() == 1


@pytest.mark.parametrize("resource", ["models", "particles"])
def test_same_key_with_a_different_body_is_422(admin_client: APIClient, system_model: AIModel, resource: str) -> None:
    if resource == "models":
        url, body, changed, model = (
            MODELS_URL,
            model_body(system_model),
            model_body(system_model, name="Another Name"),
            AIModel,
        )
    else:
        url, body, changed, model = PARTICLES_URL, particle_body(), particle_body(name="Another"), PromptParticle
    assert post(admin_client, url, body).status_code == 201
    count = model.objects.count()

    response = post(admin_client, url, changed)

    body_422 = assert_error_shape(response, 422)
    assert "Idempotency-Key" in body_422["detail"]
    assert "Idempotent-Replayed" not in response
    assert model.objects.count() == count


def test_same_key_on_another_endpoint_is_422(admin_client: APIClient, system_model: AIModel) -> None:
    assert post(admin_client, MODELS_URL, model_body(system_model)).status_code == 201

    response = post(admin_client, PARTICLES_URL, particle_body())

    assert_error_shape(response, 422)
    assert not PromptParticle.objects.exists()


def test_a_validation_error_is_replayed_too(admin_client: APIClient, system_model: AIModel) -> None:
    invalid = model_body(system_model, contextWindow=10_000_000)

    first = post(admin_client, MODELS_URL, invalid)
    second = post(admin_client, MODELS_URL, invalid)

    first_body = assert_error_shape(first, 400)
    assert "contextWindow" in first_body["errors"]
    assert second.status_code == 400
    assert second["Idempotent-Replayed"] == "true"
    assert second.json() == first_body
    assert not AIModel.objects.filter(is_system=False).exists()


# --- Scope ---------------------------------------------------------------------------------------


def test_keys_are_scoped_to_the_organization(
    admin_client: APIClient, other_org_client: APIClient, system_model: AIModel
) -> None:
    body = model_body(system_model)

    ours = post(admin_client, MODELS_URL, body)
    theirs = post(other_org_client, MODELS_URL, body)

    assert ours.status_code == 201 and theirs.status_code == 201, (ours.content, theirs.content)
    assert "Idempotent-Replayed" not in theirs
    assert theirs.json()["id"] != ours.json()["id"]
    assert sorted(AIModel.objects.filter(is_system=False).values_list("organization_id", flat=True)) == [
        "org-a",
        "org-b",
    ]


def test_keys_are_scoped_to_the_member(make_token, system_model: AIModel) -> None:
    alice, bob = member(make_token, "member-alice"), member(make_token, "member-bob")

    first = post(alice, MODELS_URL, model_body(system_model, name="Alice's"))
    second = post(bob, MODELS_URL, model_body(system_model, name="Bob's"))

    assert first.status_code == 201, first.content
    assert second.status_code == 201, second.content
    assert "Idempotent-Replayed" not in second
    assert AIModel.objects.filter(is_system=False, organization_id="org-a").count() == 2


def test_keys_are_scoped_to_the_m2m_client(client_for, make_token, system_model: AIModel) -> None:
    def m2m(sub: str) -> APIClient:
        client = APIClient()
        token = make_token(kind="m2m", org="org-a", scopes="write:prompts read:prompts", sub=sub)
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
        return client

    first = post(m2m("m2m-client-one"), PARTICLES_URL, particle_body(name="One"))
    second = post(m2m("m2m-client-two"), PARTICLES_URL, particle_body(name="Two"))

    assert first.status_code == 201 and second.status_code == 201, (first.content, second.content)
    assert PromptParticle.objects.filter(organization_id="org-a").count() == 2


# --- Key format --------------------------------------------------------------------------------------


def test_a_key_of_255_characters_is_accepted(admin_client: APIClient, system_model: AIModel) -> None:
    response = post(admin_client, MODELS_URL, model_body(system_model), key="k" * 255)

    assert response.status_code == 201, response.content


@pytest.mark.parametrize("key", ["k" * 256, "k" * 1000, ""], ids=["256", "1000", "empty"])
def test_a_key_too_long_or_empty_is_422_and_creates_nothing(
    admin_client: APIClient, system_model: AIModel, key: str
) -> None:
    response = post(admin_client, MODELS_URL, model_body(system_model), key=key)

    body = assert_error_shape(response, 422)
    assert "Idempotency-Key" in body["detail"]
    assert not AIModel.objects.filter(is_system=False).exists()
    assert not IdempotencyRecord.objects.exists()


def test_without_a_key_every_post_is_a_new_request(admin_client: APIClient, system_model: AIModel) -> None:
    first = post(admin_client, MODELS_URL, model_body(system_model, name="First"), key=None)
    second = post(admin_client, MODELS_URL, model_body(system_model, name="Second"), key=None)

    assert (first.status_code, second.status_code) == (201, 201)
    assert not IdempotencyRecord.objects.exists()


# --- In progress, expiry, server errors ------------------------------------------------------------


@pytest.mark.parametrize("age", [timedelta(0), timedelta(minutes=10)], ids=["just-now", "10-minutes"])
def test_a_claim_left_by_an_older_version_counts_as_no_record(
    admin_client: APIClient, system_model: AIModel, age: timedelta
) -> None:
    """Versions before the key's record and the work shared one transaction committed a claim
    first (no response) and the work after. Such a row never blocks the key: nothing today
    commits a record without its response, so the row is what a worker that died left."""
    body = model_body(system_model)
    assert post(admin_client, MODELS_URL, body).status_code == 201
    AIModel.objects.filter(is_system=False).delete()  # that request's work never committed
    IdempotencyRecord.objects.update(
        response_status=None, response_body=None, response_headers={}, created_at=timezone.now() - age
    )

    response = post(admin_client, MODELS_URL, body)

    assert response.status_code == 201, response.content
    assert "Idempotent-Replayed" not in response
    assert AIModel.objects.filter(is_system=False).count() == 1
    record = IdempotencyRecord.objects.get()
    assert (record.response_status, record.response_body["id"]) == (201, response.json()["id"])


@pytest.mark.django_db(transaction=True)
def test_a_crash_after_the_record_is_written_but_before_the_commit_leaves_nothing(
    admin_client: APIClient, system_model: AIModel
) -> None:
    """The work and the key's record are written, then the request dies before its commit:
    both roll back together, so the retry finds nothing and does the work once."""
    admin_client.raise_request_exception = False  # as in production
    real_store = idempotency.store
    crashes = {"left": 1}

    def store_then_crash(pending, response):
        real_store(pending, response)
        assert AIModel.objects.filter(is_system=False).count() == 1  # written, not committed
        if crashes["left"]:
            crashes["left"] -= 1
            raise RuntimeError("the process dies here")

    body = model_body(system_model)
    with mock.patch.object(idempotency, "store", store_then_crash):
        crashed = post(admin_client, MODELS_URL, body)
        assert crashed.status_code == 500
        assert not AIModel.objects.filter(is_system=False).exists()
        assert not IdempotencyRecord.objects.exists()
        retried = post(admin_client, MODELS_URL, body)
    replayed = post(admin_client, MODELS_URL, body)

    assert retried.status_code == 201, retried.content
    assert "Idempotent-Replayed" not in retried
    assert replayed.status_code == 201 and replayed["Idempotent-Replayed"] == "true"
    assert replayed.json()["id"] == retried.json()["id"]
    assert AIModel.objects.filter(is_system=False).count() == 1


def test_an_expired_key_is_fresh_again(admin_client: APIClient, system_model: AIModel) -> None:
    body = model_body(system_model)
    first = post(admin_client, MODELS_URL, body)
    assert first.status_code == 201
    IdempotencyRecord.objects.update(expires_at=timezone.now() - timedelta(seconds=1))

    again = post(admin_client, MODELS_URL, model_body(system_model, name="After Expiry"))

    assert again.status_code == 201, again.content
    assert "Idempotent-Replayed" not in again
    assert again.json()["id"] != first.json()["id"]
    assert AIModel.objects.filter(is_system=False).count() == 2
    assert IdempotencyRecord.objects.count() == 1


def test_the_key_expires_after_the_ttl(settings: Any, admin_client: APIClient, system_model: AIModel) -> None:
    settings.IDEMPOTENCY_KEY_TTL_SECONDS = 3600
    body = model_body(system_model)
    first = post(admin_client, MODELS_URL, body)
    assert first.status_code == 201
    real_now = timezone.now

    with mock.patch("django.utils.timezone.now", lambda: real_now() + timedelta(seconds=3599)):
        within = post(admin_client, MODELS_URL, body)
    with mock.patch("django.utils.timezone.now", lambda: real_now() + timedelta(seconds=3601)):
        after = post(admin_client, MODELS_URL, model_body(system_model, name="Later"))

    assert within.status_code == 201 and within["Idempotent-Replayed"] == "true"
    assert after.status_code == 201 and "Idempotent-Replayed" not in after
    assert AIModel.objects.filter(is_system=False).count() == 2


def test_a_server_error_releases_the_key(admin_client: APIClient, system_model: AIModel) -> None:
    real = model_services.user_model_create
    calls = {"n": 0}

    def flaky(**kwargs: Any) -> AIModel:
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError("unexpected failure")
        return real(**kwargs)

    body = model_body(system_model)
    with mock.patch.object(model_services, "user_model_create", flaky):
        failed = post(admin_client, MODELS_URL, body)
        assert not IdempotencyRecord.objects.exists(), "the key is released after a 5xx"
        retried = post(admin_client, MODELS_URL, body)
        replayed = post(admin_client, MODELS_URL, body)

    result = assert_error_shape(failed, 500)
    assert result["code"] == "server_error"
    assert "unexpected failure" not in result["detail"]
    assert retried.status_code == 201, retried.content
    assert "Idempotent-Replayed" not in retried
    assert replayed.status_code == 201 and replayed["Idempotent-Replayed"] == "true"
    assert AIModel.objects.filter(is_system=False).count() == 1
    assert calls["n"] == 2


def test_a_server_error_on_a_particle_releases_the_key(admin_client: APIClient) -> None:
    real = prompt_services.particle_create
    calls = {"n": 0}

    def flaky(**kwargs: Any) -> PromptParticle:
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError("unexpected failure")
        return real(**kwargs)

    with mock.patch.object(prompt_services, "particle_create", flaky):
        failed = post(admin_client, PARTICLES_URL, particle_body())
        retried = post(admin_client, PARTICLES_URL, particle_body())

    assert_error_shape(failed, 500)
    assert retried.status_code == 201, retried.content
    assert PromptParticle.objects.count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_concurrent_retry_while_the_first_runs_is_409(make_token, system_model: AIModel) -> None:
    if connection.vendor != "postgresql":
        pytest.skip(f"needs PostgreSQL for two requests in flight at once; this run uses {connection.vendor}")
    token = make_token(org="org-a", roles=("stytch_admin",), sub="member-retrier")
    body = model_body(system_model)
    started, release = threading.Event(), threading.Event()
    real = model_services.user_model_create
    first: dict[str, Any] = {}

    def slow(**kwargs: Any) -> AIModel:
        started.set()
        assert release.wait(timeout=30)
        return real(**kwargs)

    def first_request() -> None:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
        try:
            first["response"] = post(client, MODELS_URL, body)
        except BaseException as exc:  # noqa: BLE001
            first["error"] = exc
        finally:
            connection.close()

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    with mock.patch.object(model_services, "user_model_create", slow):
        thread = threading.Thread(target=first_request)
        thread.start()
        try:
            assert started.wait(timeout=30), "the first request never reached the service"
            during = post(client, MODELS_URL, body)
        finally:
            release.set()
            thread.join(timeout=60)
    after = post(client, MODELS_URL, body)

    assert "error" not in first, first.get("error")
    result = assert_error_shape(during, 409)
    assert "Idempotency-Key" in result["detail"]
    assert first["response"].status_code == 201, first["response"].content
    assert after.status_code == 201 and after["Idempotent-Replayed"] == "true"
    assert after.json() == first["response"].json()
    assert AIModel.objects.filter(is_system=False).count() == 1
