"""Issue 7: faults. The database goes away, the JWKS endpoint goes away, a write fails half way."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any
from unittest import mock

import pytest
from django.db import DatabaseError, InterfaceError, OperationalError, connection
from rest_framework.test import APIClient

from core import jwks
from core.models import AuditEvent, IdempotencyRecord
from models_registry.models import AIModel
from prompts.models import PromptComposition, PromptCompositionParticle, PromptParticle
from tests.assertions import assert_error_shape
from tests.factories import ParticleFactory
from tests.hardening.conftest import COMPOSITIONS_URL, MODELS_URL, PARTICLES_URL, model_body

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("no_rate_limits")]


# --- The database is unavailable --------------------------------------------------------------------------


def _refuse_queries(execute, sql, params, many, context):
    raise OperationalError("could not connect to server: Connection refused")


def _database_down(how: str):
    if how == "cursor":
        return mock.patch.object(connection, "cursor", side_effect=OperationalError("connection refused"))
    if how == "interface":
        return mock.patch.object(connection, "cursor", side_effect=InterfaceError("connection already closed"))
    return connection.execute_wrapper(_refuse_queries)


DOWN = pytest.mark.parametrize("how", ["cursor", "query", "interface"])


def assert_unavailable(response: Any) -> None:
    body = assert_error_shape(response, 503)
    assert body["code"] == "service_unavailable"
    assert "database" in body["detail"].lower()
    assert b"OperationalError" not in response.content and b"Connection refused" not in response.content
    assert response.get("X-Request-ID")


@DOWN
def test_list_while_the_database_is_down_is_503(admin_client: APIClient, user_model: AIModel, how: str) -> None:
    with _database_down(how):
        response = admin_client.get(MODELS_URL)

    assert_unavailable(response)


@DOWN
def test_retrieve_while_the_database_is_down_is_503(admin_client: APIClient, user_model: AIModel, how: str) -> None:
    with _database_down(how):
        response = admin_client.get(f"{MODELS_URL}/{user_model.pk}")

    assert_unavailable(response)


@DOWN
@pytest.mark.parametrize("key", [None, "retry-me"])
def test_create_while_the_database_is_down_is_503(
    admin_client: APIClient, system_model: AIModel, how: str, key: str | None
) -> None:
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key else {}

    with _database_down(how):
        response = admin_client.post(MODELS_URL, model_body(system_model), format="json", **headers)

    assert_unavailable(response)
    assert not AIModel.objects.filter(is_system=False).exists()
    assert not IdempotencyRecord.objects.exists()
    retried = admin_client.post(MODELS_URL, model_body(system_model), format="json", **headers)
    assert retried.status_code == 201, retried.content


@DOWN
def test_patch_and_delete_while_the_database_is_down_are_503(
    admin_client: APIClient, user_model: AIModel, how: str
) -> None:
    url = f"{MODELS_URL}/{user_model.pk}"

    with _database_down(how):
        patched = admin_client.patch(url, {"description": "changed"}, format="json")
        deleted = admin_client.delete(url)

    assert_unavailable(patched)
    assert_unavailable(deleted)
    user_model.refresh_from_db()
    assert user_model.description == "0"


@DOWN
def test_prompt_endpoints_while_the_database_is_down_are_503(admin_client: APIClient, how: str) -> None:
    with _database_down(how):
        particles = admin_client.get(PARTICLES_URL)
        compositions = admin_client.get(COMPOSITIONS_URL)
        created = admin_client.post(PARTICLES_URL, {"kind": "role", "name": "N", "content": "C"}, format="json")

    for response in (particles, compositions, created):
        assert_unavailable(response)


def test_a_database_outage_is_logged_without_a_traceback(
    admin_client: APIClient, user_model: AIModel, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG), _database_down("cursor"):
        response = admin_client.get(MODELS_URL)

    assert_unavailable(response)
    errors = [record for record in caplog.records if record.name == "model_registry.errors"]
    assert errors and all(record.exc_info is None for record in errors)
    assert "OperationalError" in errors[0].getMessage()


def test_a_failure_mid_write_answers_503_and_releases_the_idempotency_key(
    admin_client: APIClient, system_model: AIModel
) -> None:
    """The claim succeeds, then the database drops the model's INSERT (a failover)."""

    def drop_model_insert(execute, sql, params, many, context):
        if sql.startswith('INSERT INTO "models_registry_aimodel"'):
            raise OperationalError("server closed the connection unexpectedly")
        return execute(sql, params, many, context)

    with connection.execute_wrapper(drop_model_insert):
        response = admin_client.post(MODELS_URL, model_body(system_model), format="json", HTTP_IDEMPOTENCY_KEY="k")

    assert_unavailable(response)
    assert not AIModel.objects.filter(is_system=False).exists()
    assert not IdempotencyRecord.objects.exists(), "a 5xx releases the key"
    retried = admin_client.post(MODELS_URL, model_body(system_model), format="json", HTTP_IDEMPOTENCY_KEY="k")
    assert retried.status_code == 201, retried.content
    assert AIModel.objects.filter(is_system=False).count() == 1


@pytest.mark.django_db(transaction=True)
def test_an_outage_that_starts_when_the_key_is_stored_is_a_503_and_keeps_nothing(
    admin_client: APIClient, system_model: AIModel
) -> None:
    """The work is done, then the database goes away as the key's record is written (after the
    view answered, outside DRF's exception handling). The work and the record share one
    transaction, so neither is kept, and the client is told so with a 503, not a 201 for a
    write that did not happen."""
    admin_client.raise_request_exception = False  # as in production: Django answers, nothing is re-raised
    down = {"now": False}

    def down_from_the_record(execute, sql, params, many, context):
        down["now"] = down["now"] or sql.startswith('INSERT INTO "models_registry_idempotencyrecord"')
        if down["now"] and "SAVEPOINT" not in sql:
            raise OperationalError("server closed the connection unexpectedly")
        return execute(sql, params, many, context)

    with connection.execute_wrapper(down_from_the_record):
        response = admin_client.post(MODELS_URL, model_body(system_model), format="json", HTTP_IDEMPOTENCY_KEY="k2")

    assert down["now"], "the work was done before the outage"
    assert_unavailable(response)
    assert not AIModel.objects.filter(is_system=False).exists()
    assert not IdempotencyRecord.objects.exists()
    retried = admin_client.post(MODELS_URL, model_body(system_model), format="json", HTTP_IDEMPOTENCY_KEY="k2")
    assert retried.status_code == 201, retried.content
    assert AIModel.objects.filter(is_system=False).count() == 1


# --- The JWKS endpoint is down -------------------------------------------------------------------------------


class Clock:
    def __init__(self) -> None:
        self.now = 10_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Iterator[Clock]:
    clock = Clock()
    with mock.patch.object(jwks, "monotonic", clock):
        yield clock


def test_jwks_down_at_the_first_request_is_401_then_recovers_without_a_restart(
    settings: Any, admin_client: APIClient, clock: Clock
) -> None:
    real_fetch = jwks.fetch_jwks
    calls = {"n": 0}
    state = {"down": True}

    def fetch(url: str, timeout: float):
        calls["n"] += 1
        if state["down"]:
            raise jwks.JWKSFetchError("connection refused")
        return real_fetch(url, timeout)

    with mock.patch.object(jwks, "fetch_jwks", fetch):
        first = admin_client.get(MODELS_URL)
        clock.now += 1
        during_cooldown = admin_client.get(MODELS_URL)

        state["down"] = False
        clock.now += 1
        still_cooling = admin_client.get(MODELS_URL)
        clock.now += settings.STYTCH_JWKS_COOLDOWN
        recovered = admin_client.get(MODELS_URL)
        again = admin_client.get(MODELS_URL)

    body = assert_error_shape(first, 401)
    assert "signing keys are unavailable" in body["detail"]
    assert first.get("WWW-Authenticate", "").startswith("Bearer")
    assert_error_shape(during_cooldown, 401)
    assert_error_shape(still_cooling, 401)
    assert recovered.status_code == 200, recovered.content
    assert again.status_code == 200
    assert calls["n"] == 2, "one fetch at the first request, one after the cooldown, none while cooling down"


def test_jwks_down_later_keeps_the_last_good_keys(settings: Any, admin_client: APIClient, clock: Clock) -> None:
    assert admin_client.get(MODELS_URL).status_code == 200  # keys loaded

    with mock.patch.object(jwks, "fetch_jwks", side_effect=jwks.JWKSFetchError("503 from the JWKS endpoint")):
        clock.now += settings.STYTCH_JWKS_COOLDOWN + 1
        response = admin_client.get(MODELS_URL)

    assert response.status_code == 200


def test_an_unknown_kid_during_an_outage_is_401_and_known_keys_still_work(
    settings: Any, make_token, clock: Clock
) -> None:
    known = APIClient()
    known.credentials(HTTP_AUTHORIZATION=f"Bearer {make_token()}")
    assert known.get(MODELS_URL).status_code == 200
    rotated = APIClient()
    rotated.credentials(HTTP_AUTHORIZATION=f"Bearer {make_token(headers_overrides={'kid': 'new-key'})}")

    with mock.patch.object(jwks, "fetch_jwks", side_effect=jwks.JWKSFetchError("timed out")) as fetch:
        clock.now += settings.STYTCH_JWKS_COOLDOWN + 1
        unknown = rotated.get(MODELS_URL)
        still_known = known.get(MODELS_URL)

    body = assert_error_shape(unknown, 401)
    assert "unknown" in body["detail"]
    assert still_known.status_code == 200
    assert fetch.call_count == 1


# --- A write fails half way: nothing partial is left ------------------------------------------------------


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    "error", [DatabaseError("insert failed"), RuntimeError("bulk insert exploded")], ids=["db", "bug"]
)
def test_composition_create_failing_on_its_particles_leaves_nothing(admin_client: APIClient, error: Exception) -> None:
    particles = [ParticleFactory(), ParticleFactory()]
    events = AuditEvent.objects.count()
    history = PromptComposition.history.count()

    with mock.patch.object(PromptCompositionParticle.objects, "bulk_create", side_effect=error):
        response = admin_client.post(
            COMPOSITIONS_URL,
            {"name": "Half Done", "particleIds": [str(p.pk) for p in particles]},
            format="json",
            HTTP_IDEMPOTENCY_KEY="half",
        )

    body = assert_error_shape(response, 500)
    assert body["code"] == "server_error"
    assert str(error) not in body["detail"]
    assert not PromptComposition.objects.exists()
    assert not PromptCompositionParticle.objects.exists()
    assert PromptComposition.history.count() == history
    assert AuditEvent.objects.count() == events
    assert not IdempotencyRecord.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_composition_reorder_failing_on_its_particles_keeps_the_old_order(admin_client: APIClient) -> None:
    first, second = ParticleFactory(), ParticleFactory()
    created = admin_client.post(
        COMPOSITIONS_URL, {"name": "Ordered", "particleIds": [str(first.pk), str(second.pk)]}, format="json"
    )
    assert created.status_code == 201, created.content
    composition_id = created.json()["id"]
    events = AuditEvent.objects.count()

    with mock.patch.object(PromptCompositionParticle.objects, "bulk_create", side_effect=DatabaseError("boom")):
        response = admin_client.patch(
            f"{COMPOSITIONS_URL}/{composition_id}",
            {"name": "Reordered", "particleIds": [str(second.pk), str(first.pk)]},
            format="json",
        )

    assert_error_shape(response, 500)
    after = admin_client.get(f"{COMPOSITIONS_URL}/{composition_id}").json()
    assert after["particleIds"] == [str(first.pk), str(second.pk)]
    assert after["name"] == "Ordered"
    assert AuditEvent.objects.count() == events


@pytest.mark.django_db(transaction=True)
def test_model_create_failing_on_its_audit_event_leaves_nothing(admin_client: APIClient, system_model: AIModel) -> None:
    events = AuditEvent.objects.count()
    history = AIModel.history.count()

    with mock.patch.object(AuditEvent.objects, "create", side_effect=DatabaseError("audit insert failed")):
        response = admin_client.post(MODELS_URL, model_body(system_model), format="json", HTTP_IDEMPOTENCY_KEY="m")

    body = assert_error_shape(response, 500)
    assert "audit" not in body["detail"]
    assert not AIModel.objects.filter(is_system=False).exists()
    assert AIModel.history.count() == history
    assert AuditEvent.objects.count() == events
    assert not IdempotencyRecord.objects.exists()
    retried = admin_client.post(MODELS_URL, model_body(system_model), format="json", HTTP_IDEMPOTENCY_KEY="m")
    assert retried.status_code == 201


@pytest.mark.django_db(transaction=True)
def test_model_change_and_delete_failing_on_the_audit_event_change_nothing(
    admin_client: APIClient, user_model: AIModel
) -> None:
    url = f"{MODELS_URL}/{user_model.pk}"
    history = user_model.history.count()

    with mock.patch.object(AuditEvent.objects, "create", side_effect=DatabaseError("audit insert failed")):
        patched = admin_client.patch(url, {"description": "changed", "contextWindow": 16_000}, format="json")
        deleted = admin_client.delete(url)

    assert_error_shape(patched, 500)
    assert_error_shape(deleted, 500)
    user_model.refresh_from_db()
    assert (user_model.description, user_model.context_window) == ("0", 32_768)
    assert user_model.history.count() == history


@pytest.mark.django_db(transaction=True)
def test_particle_create_failing_on_its_audit_event_leaves_nothing(admin_client: APIClient) -> None:
    with mock.patch.object(AuditEvent.objects, "create", side_effect=DatabaseError("audit insert failed")):
        response = admin_client.post(PARTICLES_URL, {"kind": "role", "name": "N", "content": "C"}, format="json")

    assert_error_shape(response, 500)
    assert not PromptParticle.objects.exists()
    assert PromptParticle.history.count() == 0
