"""Errors in the JSON error shape: unknown paths, methods not allowed, validation errors."""

from __future__ import annotations

import uuid

import pytest
from rest_framework.test import APIClient

from models_registry.models import AIModel
from tests.assertions import assert_error_shape
from tests.models_registry.helpers import MODELS_URL, create, detail_url, resolved_url

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("no_rate_limits")]


# --- methods not allowed ---------------------------------------------------------------------------


def test_put_is_not_allowed(admin_client: APIClient, user_model: AIModel) -> None:
    response = admin_client.put(detail_url(user_model.id), {"name": "Replaced"}, format="json")

    assert_error_shape(response, 405)
    user_model.refresh_from_db()
    assert user_model.name == "Support Bot"


def test_post_on_a_model_and_delete_on_the_collection_are_not_allowed(
    admin_client: APIClient, user_model: AIModel
) -> None:
    assert_error_shape(admin_client.post(detail_url(user_model.id), {}, format="json"), 405)
    assert_error_shape(admin_client.delete(MODELS_URL), 405)


# --- error shape -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        detail_url(uuid.UUID(int=42)),
        resolved_url(uuid.UUID(int=42)),
        "/v1/models/abc",
        "/v1/models/abc/resolved",
        "/v1/nope",
        "/v1/models/",
    ],
)
def test_not_found_is_json(admin_client: APIClient, path: str) -> None:
    body = assert_error_shape(admin_client.get(path), 404)

    assert set(body) == {"status", "code", "detail"}


def test_method_not_allowed_is_json(admin_client: APIClient) -> None:
    body = assert_error_shape(admin_client.put(MODELS_URL, {}, format="json"), 405)

    assert set(body) == {"status", "code", "detail"}


def test_validation_error_shape(admin_client: APIClient, parent: AIModel) -> None:
    body = assert_error_shape(create(admin_client, parentId=str(parent.id), name="", contextWindow=0), 400)

    assert set(body) == {"status", "code", "detail", "errors"}
    assert set(body["errors"]) == {"name", "contextWindow"}
    assert all(isinstance(message, str) for messages in body["errors"].values() for message in messages)
