"""The models API as its tests call it: URLs, request helpers and the expected field sets."""

from __future__ import annotations

from typing import Any

from rest_framework.test import APIClient

from tests.assertions import assert_error_shape

MODELS_URL = "/v1/models"

RESPONSE_FIELDS = {
    "id",
    "name",
    "slug",
    "description",
    "provider",
    "providerModelId",
    "contextWindow",
    "maxTokens",
    "supportsStreaming",
    "supportsTools",
    "supportsVision",
    "supportsReasoning",
    "creditMultiplier",
    "isEnabled",
    "isSystem",
    "lifecycleStatus",
    "deprecatedAt",
    "retiresAt",
    "successorId",
    "parentId",
    "systemPromptCompositionId",
    "systemPromptOverride",
    "createdAt",
    "updatedAt",
    "inheritedFields",
}
RESOLVED_FIELDS = RESPONSE_FIELDS | {"systemPrompt", "systemPromptSource", "isUsable", "unusableReason"}
ALWAYS_INHERITED = {
    "provider",
    "providerModelId",
    "creditMultiplier",
    "supportsTools",
    "supportsVision",
    "supportsReasoning",
    "deprecatedAt",
    "retiresAt",
    "successorId",
}


def detail_url(pk: Any) -> str:
    return f"{MODELS_URL}/{pk}"


def resolved_url(pk: Any) -> str:
    return f"{MODELS_URL}/{pk}/resolved"


def create(client: APIClient, **body: Any):
    return client.post(MODELS_URL, body, format="json")


def patch(client: APIClient, pk: Any, **body: Any):
    return client.patch(detail_url(pk), body, format="json")


def field_errors(response) -> dict[str, list[str]]:
    """The `errors` of a 400, keyed by camelCase field name."""
    body = assert_error_shape(response, 400)
    assert body["code"] == "invalid"
    return body["errors"]


def assert_refused(response, field: str) -> list[str]:
    errors = field_errors(response)
    assert field in errors, errors
    return errors[field]


def ids_of(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [item["id"] for item in response.json()["results"]]
