"""Hostile input gets a 4xx in the API's error shape, never a 500, and writes nothing: JSON nested
past any sane depth, strings no one can store or send back (lone surrogates, NUL), more query
parameters than Django parses."""

from __future__ import annotations

import json
from typing import Any

import pytest
from rest_framework.test import APIClient

from core.limits import MAX_JSON_DEPTH
from core.models import AuditEvent
from models_registry.models import AIModel
from prompts.models import PromptComposition, PromptParticle
from tests.assertions import assert_error_shape
from tests.hardening.conftest import COMPOSITIONS_URL, MODELS_URL, PARTICLES_URL

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("no_rate_limits")]

WRITES = [
    ("post", MODELS_URL),
    ("post", PARTICLES_URL),
    ("post", COMPOSITIONS_URL),
    ("post", f"{COMPOSITIONS_URL}/preview"),
]


def _nested(depth: int) -> str:
    """A JSON object whose `name` holds lists nested so that the document is `depth` levels deep."""
    return '{"name": ' + "[" * (depth - 1) + "]" * (depth - 1) + "}"


def _send(client: APIClient, method: str, url: str, body: str) -> Any:
    return getattr(client, method)(url, data=body, content_type="application/json")


def _nothing_written() -> None:
    assert not AIModel.objects.filter(is_system=False).exists()
    assert not PromptParticle.objects.exists()
    assert not PromptComposition.objects.exists()
    assert not AuditEvent.objects.exists()


@pytest.mark.parametrize(("method", "url"), WRITES)
def test_json_nested_ten_thousand_deep_is_a_400(admin_client: APIClient, method: str, url: str) -> None:
    body = assert_error_shape(_send(admin_client, method, url, _nested(10_000)), 400)

    assert body["code"] == "parse_error"
    assert f"deeper than {MAX_JSON_DEPTH} levels" in body["detail"]
    _nothing_written()


@pytest.mark.parametrize(
    ("depth", "parse_error"),
    [(MAX_JSON_DEPTH - 1, False), (MAX_JSON_DEPTH, False), (MAX_JSON_DEPTH + 1, True), (MAX_JSON_DEPTH + 2, True)],
)
def test_the_depth_bound(admin_client: APIClient, depth: int, parse_error: bool) -> None:
    body = assert_error_shape(_send(admin_client, "post", PARTICLES_URL, _nested(depth)), 400)

    assert (body["code"] == "parse_error") is parse_error, body
    if not parse_error:
        assert body["errors"]["name"] == ["Must be a string."]


def test_a_patch_nested_too_deeply_is_a_400(admin_client: APIClient, user_model: AIModel) -> None:
    before = user_model.updated_at

    body = assert_error_shape(_send(admin_client, "patch", f"{MODELS_URL}/{user_model.pk}", _nested(5_000)), 400)

    assert body["code"] == "parse_error"
    user_model.refresh_from_db()
    assert user_model.updated_at == before


@pytest.mark.parametrize(
    ("body", "where"),
    [
        ('{"name": "bad \\ud800 name", "content": "x"}', "name"),
        ('{"name": "x", "content": "\\udfff"}', "content"),
        ('{"name": "ok", "content": "nul \\u0000 inside"}', "content"),
        ('{"name\\ud800": "x", "content": "x"}', "the top"),
        ('{"name": "x\\u0000", "content": "x"}', "name"),
    ],
)
def test_strings_that_cannot_be_stored_are_a_400_naming_where(admin_client: APIClient, body: str, where: str) -> None:
    response = _send(admin_client, "post", PARTICLES_URL, body)

    payload = assert_error_shape(response, 400)
    assert payload["code"] == "parse_error"
    assert where in payload["detail"]
    response.content.decode("utf-8")  # the answer itself is valid UTF-8
    _nothing_written()


def test_a_lone_surrogate_in_a_list_item_is_named_by_its_index(admin_client: APIClient) -> None:
    body = json.dumps({"name": "Composition", "particleIds": ["\ud800"]})

    payload = assert_error_shape(_send(admin_client, "post", COMPOSITIONS_URL, body), 400)

    assert "particleIds[0]" in payload["detail"]


def test_more_query_parameters_than_django_parses_is_a_400(admin_client: APIClient, settings: Any) -> None:
    query = "&".join(f"p{index}=1" for index in range(settings.DATA_UPLOAD_MAX_NUMBER_FIELDS + 1))

    payload = assert_error_shape(admin_client.get(f"{MODELS_URL}?{query}"), 400)

    assert "fields" in payload["detail"].lower()


@pytest.mark.parametrize("key", ["nul\x00key", "with space", "tab\tkey", "café", "x" * 256])
def test_an_idempotency_key_that_cannot_be_stored_is_a_422(admin_client: APIClient, key: str) -> None:
    body = json.dumps({"kind": "tone", "name": "Tone", "content": "Be kind."})

    response = admin_client.post(PARTICLES_URL, data=body, content_type="application/json", HTTP_IDEMPOTENCY_KEY=key)

    assert "visible ASCII characters" in assert_error_shape(response, 422)["detail"]
    _nothing_written()


@pytest.mark.parametrize("key", ["k", "x" * 255, "Order-42_retry.1~!"])
def test_idempotency_keys_within_the_bounds_are_taken(admin_client: APIClient, key: str) -> None:
    body = json.dumps({"kind": "tone", "name": f"Tone {len(key)}", "content": "Be kind."})

    response = admin_client.post(PARTICLES_URL, data=body, content_type="application/json", HTTP_IDEMPOTENCY_KEY=key)

    assert response.status_code == 201, response.content
