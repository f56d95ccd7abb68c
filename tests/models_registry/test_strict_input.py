"""Strict input: unknown and read-only fields are refused by name; malformed JSON is a 400, other content
types a 415."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from models_registry.models import AIModel
from tests.assertions import assert_error_shape
from tests.models_registry.helpers import MODELS_URL, assert_refused, create, detail_url, field_errors, patch

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("no_rate_limits")]


# --- unknown and read-only fields ------------------------------------------------------------------

FORBIDDEN_FIELDS = {
    "isSystem": True,
    "provider": "provider-z",
    "providerModelId": "z-1",
    "creditMultiplier": 0.5,
    "organization": "org-b",
    "organizationId": "org-b",
    "id": "550e8400-e29b-41d4-a716-446655440000",
    "supportsTools": True,
    "supportsVision": True,
    "supportsReasoning": True,
    "createdAt": "2025-09-08T06:33:19Z",
    "updatedAt": "2025-09-08T06:33:19Z",
    "inheritedFields": [],
    "foo": "bar",
    "context_window": 1000,
    "parent_id": "550e8400-e29b-41d4-a716-446655440000",
}


@pytest.mark.parametrize(("field", "value"), list(FORBIDDEN_FIELDS.items()), ids=list(FORBIDDEN_FIELDS))
def test_unknown_or_read_only_field_is_refused_on_create(
    admin_client: APIClient, parent: AIModel, field: str, value: Any
) -> None:
    before = AIModel.objects.count()

    response = create(admin_client, parentId=str(parent.id), name="Sneaky", **{field: value})

    assert_refused(response, field)
    assert AIModel.objects.count() == before


def test_every_refused_field_is_named(admin_client: APIClient, parent: AIModel) -> None:
    response = create(admin_client, parentId=str(parent.id), name="Sneaky", **FORBIDDEN_FIELDS)

    assert set(FORBIDDEN_FIELDS) <= set(field_errors(response))
    assert not AIModel.objects.filter(is_system=False).exists()


@pytest.mark.parametrize(("field", "value"), list(FORBIDDEN_FIELDS.items()), ids=list(FORBIDDEN_FIELDS))
def test_unknown_or_read_only_field_is_refused_on_patch(
    admin_client: APIClient, user_model: AIModel, field: str, value: Any
) -> None:
    before = AIModel.objects.values().get(pk=user_model.pk)

    response = patch(admin_client, user_model.id, **{field: value})

    assert_refused(response, field)
    assert AIModel.objects.values().get(pk=user_model.pk) == before


@pytest.mark.parametrize(
    "body", ['{"name": ', "{'name': 'x'}", "not json", "\xff"], ids=["truncated", "quotes", "text", "bytes"]
)
def test_malformed_json_is_a_400_in_the_error_shape(admin_client: APIClient, body: str) -> None:
    response = admin_client.generic("POST", MODELS_URL, body.encode("latin-1"), content_type="application/json")

    assert_error_shape(response, 400)


@pytest.mark.parametrize("body", ["[]", '"a string"', "123", "null"], ids=["list", "string", "number", "null"])
def test_json_that_is_not_an_object_is_a_400(admin_client: APIClient, body: str) -> None:
    response = admin_client.generic("POST", MODELS_URL, body, content_type="application/json")

    assert_error_shape(response, 400)


def test_malformed_json_on_patch_is_a_400(admin_client: APIClient, user_model: AIModel) -> None:
    response = admin_client.generic("PATCH", detail_url(user_model.id), '{"name"', content_type="application/json")

    assert_error_shape(response, 400)


@pytest.mark.parametrize(
    "content_type",
    ["text/plain", "application/x-www-form-urlencoded", "application/xml"],
)
def test_wrong_content_type_is_a_415(admin_client: APIClient, parent: AIModel, content_type: str) -> None:
    body = f'{{"parentId": "{parent.id}", "name": "Typed"}}'

    response = admin_client.generic("POST", MODELS_URL, body, content_type=content_type)

    assert_error_shape(response, 415)
    assert not AIModel.objects.filter(is_system=False).exists()


def test_multipart_form_data_is_a_415(admin_client: APIClient, parent: AIModel) -> None:
    response = admin_client.post(MODELS_URL, {"parentId": str(parent.id), "name": "Form"}, format="multipart")

    assert_error_shape(response, 415)


def test_wrong_content_type_on_patch_is_a_415(admin_client: APIClient, user_model: AIModel) -> None:
    response = admin_client.generic("PATCH", detail_url(user_model.id), "name=x", content_type="text/plain")

    assert_error_shape(response, 415)
