"""Every rule of the models API (issue 4.8): /v1/models, /v1/models/{id}, /v1/models/{id}/resolved."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import urlparse

import orjson
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from models_registry import limits
from models_registry.models import AIModel
from prompts.models import PromptParticle
from tests.assertions import assert_error_shape
from tests.factories import (
    CompositionFactory,
    GlobalParticleFactory,
    ParticleFactory,
    SystemModelFactory,
    UserModelFactory,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("no_rate_limits")]

MODELS_URL = "/v1/models"

RESPONSE_FIELDS = {
    "id",
    "name",
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
}


# --- helpers ----------------------------------------------------------------------------------


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


def count_queries(request: Callable[[], Any]):
    with CaptureQueriesContext(connection) as context:
        response = request()
    return response, len(context.captured_queries)


# --- fixtures ---------------------------------------------------------------------------------


@pytest.fixture
def parent() -> AIModel:
    return SystemModelFactory(
        name="Base Omni",
        description="Advanced language model for complex tasks",
        provider="provider-a",
        provider_model_id="large-modelo",
        context_window=128_000,
        max_tokens=16_384,
        supports_streaming=True,
        supports_tools=True,
        supports_vision=True,
        supports_reasoning=False,
        credit_multiplier=Decimal("2.25"),
    )


@pytest.fixture
def roomy_parent() -> AIModel:
    """The largest context window, room for the largest inherited max tokens."""
    return SystemModelFactory(context_window=limits.CONTEXT_WINDOW_MAX, max_tokens=100_000)


@pytest.fixture
def generous_parent() -> AIModel:
    """Allows every max tokens value up to the bound."""
    return SystemModelFactory(context_window=limits.CONTEXT_WINDOW_MAX, max_tokens=limits.MAX_TOKENS_MAX)


@pytest.fixture
def non_streaming_parent() -> AIModel:
    return SystemModelFactory(supports_streaming=False)


@pytest.fixture
def user_model(parent: AIModel) -> AIModel:
    return UserModelFactory(parent=parent, organization_id="org-a", name="Support Bot", max_tokens=4_000)


# --- create -------------------------------------------------------------------------------------


def test_create_returns_201_with_location_and_the_model(admin_client: APIClient, parent: AIModel) -> None:
    response = create(
        admin_client, parentId=str(parent.id), name="Custom Support Model", contextWindow=32_768, maxTokens=1_000
    )

    assert response.status_code == 201, response.content
    body = response.json()
    assert set(body) == RESPONSE_FIELDS
    model = AIModel.objects.get(pk=body["id"])
    assert urlparse(response["Location"]).path == f"/v1/models/{model.pk}"
    assert body["id"] == str(uuid.UUID(body["id"]))
    assert body["parentId"] == str(parent.id)
    assert body["name"] == "Custom Support Model"
    assert body["contextWindow"] == 32_768
    assert body["maxTokens"] == 1_000
    assert body["isSystem"] is False
    assert body["isEnabled"] is True
    assert body["systemPromptCompositionId"] is None
    assert body["systemPromptOverride"] == ""
    assert set(body["inheritedFields"]) == ALWAYS_INHERITED | {"description"}
    assert (model.organization_id, model.is_system, model.parent_id) == ("org-a", False, parent.id)


def test_location_header_names_the_created_model(admin_client: APIClient, parent: AIModel) -> None:
    response = create(admin_client, parentId=str(parent.id), name="Findable")

    follow = admin_client.get(urlparse(response["Location"]).path)

    assert follow.status_code == 200
    assert follow.json()["id"] == response.json()["id"]


def test_timestamps_are_iso_8601_utc_ending_in_z(admin_client: APIClient, parent: AIModel) -> None:
    body = create(admin_client, parentId=str(parent.id), name="Timestamps").json()

    for field in ("createdAt", "updatedAt"):
        assert body[field].endswith("Z"), body[field]
        moment = datetime.fromisoformat(body[field])
        assert moment.utcoffset() == timedelta(0)
        assert abs(timezone.now() - moment) < timedelta(minutes=1)


def test_context_window_and_streaming_default_to_the_parents(
    admin_client: APIClient, non_streaming_parent: AIModel
) -> None:
    response = create(admin_client, parentId=str(non_streaming_parent.id), name="Defaults")

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["contextWindow"] == non_streaming_parent.context_window
    assert body["supportsStreaming"] is False
    model = AIModel.objects.get(pk=body["id"])
    assert model.context_window == non_streaming_parent.context_window
    assert model.supports_streaming is False


def test_omitted_max_tokens_is_stored_null_and_shown_inherited(admin_client: APIClient, parent: AIModel) -> None:
    response = create(admin_client, parentId=str(parent.id), name="Inherits max tokens")

    body = response.json()
    assert body["maxTokens"] == parent.max_tokens
    assert "maxTokens" in body["inheritedFields"]
    assert AIModel.objects.get(pk=body["id"]).max_tokens is None


def test_is_enabled_defaults_to_true_and_can_be_false(admin_client: APIClient, parent: AIModel) -> None:
    assert create(admin_client, parentId=str(parent.id), name="On").json()["isEnabled"] is True
    assert create(admin_client, parentId=str(parent.id), name="Off", isEnabled=False).json()["isEnabled"] is False


# --- single-field bounds through the API ---------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "stored"),
    [
        ("", None),
        ("   ", None),
        ("n" * limits.NAME_MIN_LENGTH, "n" * limits.NAME_MIN_LENGTH),
        ("n" * limits.NAME_MAX_LENGTH, "n" * limits.NAME_MAX_LENGTH),
        ("  " + "n" * limits.NAME_MAX_LENGTH + "  ", "n" * limits.NAME_MAX_LENGTH),
        ("n" * (limits.NAME_MAX_LENGTH + 1), None),
    ],
    ids=["empty", "blank", "min", "max", "max_after_trimming", "max_plus_1"],
)
def test_name_length_is_checked_after_trimming(
    admin_client: APIClient, parent: AIModel, name: str, stored: str | None
) -> None:
    response = create(admin_client, parentId=str(parent.id), name=name)

    if stored is None:
        assert_refused(response, "name")
        assert not AIModel.objects.filter(is_system=False).exists()
    else:
        assert response.status_code == 201, response.content
        assert response.json()["name"] == stored


def test_name_is_required(admin_client: APIClient, parent: AIModel) -> None:
    assert_refused(create(admin_client, parentId=str(parent.id)), "name")


@pytest.mark.parametrize(
    ("context_window", "accepted"),
    [(limits.CONTEXT_WINDOW_MIN - 1, False), (limits.CONTEXT_WINDOW_MAX, True), (limits.CONTEXT_WINDOW_MAX + 1, False)],
    ids=["min_minus_1", "max", "max_plus_1"],
)
def test_context_window_bounds(
    admin_client: APIClient, roomy_parent: AIModel, context_window: int, accepted: bool
) -> None:
    response = create(admin_client, parentId=str(roomy_parent.id), name="Window", contextWindow=context_window)

    if accepted:
        assert response.status_code == 201, response.content
        assert response.json()["contextWindow"] == context_window
    else:
        assert_refused(response, "contextWindow")


def test_context_window_at_its_minimum_passes_its_bound_but_leaves_no_room_for_max_tokens(
    admin_client: APIClient, parent: AIModel
) -> None:
    """contextWindow=1 is within 1..2,000,000; maxTokens (at least 1) can never be below it."""
    response = create(
        admin_client,
        parentId=str(parent.id),
        name="Tiny",
        contextWindow=limits.CONTEXT_WINDOW_MIN,
        maxTokens=limits.MAX_TOKENS_MIN,
    )

    assert set(field_errors(response)) == {"maxTokens"}
    smallest = create(admin_client, parentId=str(parent.id), name="Smallest", contextWindow=2, maxTokens=1)
    assert smallest.status_code == 201, smallest.content


@pytest.mark.parametrize(
    ("max_tokens", "accepted"),
    [
        (limits.MAX_TOKENS_MIN - 1, False),
        (limits.MAX_TOKENS_MIN, True),
        (limits.MAX_TOKENS_MAX, True),
        (limits.MAX_TOKENS_MAX + 1, False),
    ],
    ids=["min_minus_1", "min", "max", "max_plus_1"],
)
def test_max_tokens_bounds(admin_client: APIClient, generous_parent: AIModel, max_tokens: int, accepted: bool) -> None:
    response = create(admin_client, parentId=str(generous_parent.id), name="Tokens", maxTokens=max_tokens)

    if accepted:
        assert response.status_code == 201, response.content
        assert response.json()["maxTokens"] == max_tokens
        assert "maxTokens" not in response.json()["inheritedFields"]
    else:
        assert_refused(response, "maxTokens")


@pytest.mark.parametrize(
    ("length", "accepted"),
    [
        (0, True),
        (limits.SYSTEM_PROMPT_OVERRIDE_MAX_LENGTH, True),
        (limits.SYSTEM_PROMPT_OVERRIDE_MAX_LENGTH + 1, False),
    ],
    ids=["empty_means_none", "max", "max_plus_1"],
)
def test_system_prompt_override_length(admin_client: APIClient, parent: AIModel, length: int, accepted: bool) -> None:
    override = "p" * length
    response = create(admin_client, parentId=str(parent.id), name="Override", systemPromptOverride=override)

    if accepted:
        assert response.status_code == 201, response.content
        assert response.json()["systemPromptOverride"] == override
    else:
        assert_refused(response, "systemPromptOverride")


@pytest.mark.parametrize(
    ("length", "accepted"),
    [(0, True), (limits.DESCRIPTION_MAX_LENGTH, True), (limits.DESCRIPTION_MAX_LENGTH + 1, False)],
    ids=["empty_means_inherit", "max", "max_plus_1"],
)
def test_description_length(admin_client: APIClient, parent: AIModel, length: int, accepted: bool) -> None:
    response = create(admin_client, parentId=str(parent.id), name="Described", description="d" * length)

    if accepted:
        assert response.status_code == 201, response.content
    else:
        assert_refused(response, "description")


def test_empty_override_means_no_override(admin_client: APIClient, parent: AIModel) -> None:
    created = create(admin_client, parentId=str(parent.id), name="No override", systemPromptOverride="").json()

    resolved = admin_client.get(resolved_url(created["id"])).json()

    assert resolved["systemPromptSource"] == "none"
    assert resolved["systemPrompt"] is None


@pytest.mark.parametrize("value", [-1, 1.5, "many", True, None], ids=["negative", "float", "string", "bool", "null"])
def test_context_window_must_be_an_integer(admin_client: APIClient, parent: AIModel, value: Any) -> None:
    assert_refused(create(admin_client, parentId=str(parent.id), name="Typed", contextWindow=value), "contextWindow")


@pytest.fixture
def schema(api_client: APIClient) -> dict[str, Any]:
    response = api_client.get("/api/schema/?format=json")
    assert response.status_code == 200, response.content
    return orjson.loads(response.content)


@pytest.mark.parametrize("component", ["UserModelWriteRequest", "PatchedUserModelWriteRequest"])
def test_schema_states_the_same_bounds_as_limits(schema: dict[str, Any], component: str) -> None:
    properties = schema["components"]["schemas"][component]["properties"]

    assert properties["name"]["minLength"] == limits.NAME_MIN_LENGTH
    assert properties["name"]["maxLength"] == limits.NAME_MAX_LENGTH
    assert properties["contextWindow"]["minimum"] == limits.CONTEXT_WINDOW_MIN
    assert properties["contextWindow"]["maximum"] == limits.CONTEXT_WINDOW_MAX
    assert properties["maxTokens"]["minimum"] == limits.MAX_TOKENS_MIN
    assert properties["maxTokens"]["maximum"] == limits.MAX_TOKENS_MAX
    assert properties["maxTokens"]["nullable"] is True
    assert properties["systemPromptOverride"]["maxLength"] == limits.SYSTEM_PROMPT_OVERRIDE_MAX_LENGTH
    assert properties["description"]["maxLength"] == limits.DESCRIPTION_MAX_LENGTH


def test_schema_requires_parent_and_name_on_create_only(schema: dict[str, Any]) -> None:
    components = schema["components"]["schemas"]

    assert set(components["UserModelWriteRequest"]["required"]) == {"parentId", "name"}
    assert "required" not in components["PatchedUserModelWriteRequest"]


def test_schema_response_states_the_bounds(schema: dict[str, Any]) -> None:
    properties = schema["components"]["schemas"]["AIModel"]["properties"]

    assert set(properties) == RESPONSE_FIELDS
    assert (properties["contextWindow"]["minimum"], properties["contextWindow"]["maximum"]) == (
        limits.CONTEXT_WINDOW_MIN,
        limits.CONTEXT_WINDOW_MAX,
    )
    assert (properties["maxTokens"]["minimum"], properties["maxTokens"]["maximum"]) == (
        limits.MAX_TOKENS_MIN,
        limits.MAX_TOKENS_MAX,
    )


# --- parentId ---------------------------------------------------------------------------------------


def test_parent_id_is_required(admin_client: APIClient) -> None:
    assert_refused(create(admin_client, name="Orphan"), "parentId")


@pytest.mark.parametrize("value", ["abc", 123, "", None, -1, 2**200, [], {}], ids=repr)
def test_malformed_parent_id_is_refused_with_400(admin_client: APIClient, value: Any) -> None:
    response = create(admin_client, parentId=value, name="Malformed parent")

    assert_refused(response, "parentId")


def test_unknown_parent_id_is_refused_with_400(admin_client: APIClient) -> None:
    assert_refused(create(admin_client, parentId=str(uuid.uuid4()), name="Unknown parent"), "parentId")


def test_parent_must_reference_a_system_model(admin_client: APIClient, user_model: AIModel) -> None:
    messages = assert_refused(create(admin_client, parentId=str(user_model.id), name="Grandchild"), "parentId")

    assert any("must reference a system model" in message.lower() for message in messages), messages


def test_parent_from_another_organization_is_refused_without_revealing_it(
    admin_client: APIClient, parent: AIModel
) -> None:
    foreign = UserModelFactory(parent=parent, organization_id="org-b", name="Org B Secret Model")
    unknown = uuid.uuid4()

    foreign_response = create(admin_client, parentId=str(foreign.id), name="Borrowed")
    unknown_response = create(admin_client, parentId=str(unknown), name="Borrowed")

    foreign_messages = assert_refused(foreign_response, "parentId")
    unknown_messages = assert_refused(unknown_response, "parentId")
    assert [m.replace(str(foreign.id), "<id>") for m in foreign_messages] == [
        m.replace(str(unknown), "<id>") for m in unknown_messages
    ]
    assert b"Org B Secret Model" not in foreign_response.content


def test_disabled_system_model_cannot_be_a_parent(admin_client: APIClient) -> None:
    disabled = SystemModelFactory(is_enabled=False)

    assert_refused(create(admin_client, parentId=str(disabled.id), name="On a disabled base"), "parentId")


# --- rules across fields -----------------------------------------------------------------------------


def test_context_window_may_not_exceed_the_parents(admin_client: APIClient, parent: AIModel) -> None:
    response = create(admin_client, parentId=str(parent.id), name="Too wide", contextWindow=parent.context_window + 1)

    assert_refused(response, "contextWindow")


def test_context_window_equal_to_the_parents_is_accepted(admin_client: APIClient, parent: AIModel) -> None:
    response = create(admin_client, parentId=str(parent.id), name="As wide", contextWindow=parent.context_window)

    assert response.status_code == 201, response.content


def test_max_tokens_must_stay_below_context_window(admin_client: APIClient, parent: AIModel) -> None:
    response = create(admin_client, parentId=str(parent.id), name="Full window", contextWindow=8192, maxTokens=8192)

    messages = assert_refused(response, "maxTokens")
    assert any("maxTokens must be below contextWindow (8192)" in message for message in messages), messages
    accepted = create(admin_client, parentId=str(parent.id), name="Room left", contextWindow=8192, maxTokens=8191)
    assert accepted.status_code == 201, accepted.content


def test_inherited_max_tokens_too_large_for_a_smaller_window_is_refused(
    admin_client: APIClient, parent: AIModel
) -> None:
    # The parent's max tokens (16,384) would not fit in a window of 8,192.
    response = create(admin_client, parentId=str(parent.id), name="Small window", contextWindow=8192)

    assert_refused(response, "maxTokens")
    assert not AIModel.objects.filter(is_system=False).exists()


def test_max_tokens_may_not_exceed_the_parents(admin_client: APIClient, parent: AIModel) -> None:
    response = create(admin_client, parentId=str(parent.id), name="Talkative", maxTokens=parent.max_tokens + 1)

    assert_refused(response, "maxTokens")
    equal = create(admin_client, parentId=str(parent.id), name="As talkative", maxTokens=parent.max_tokens)
    assert equal.status_code == 201, equal.content


def test_streaming_needs_a_streaming_parent(admin_client: APIClient, non_streaming_parent: AIModel) -> None:
    refused = create(admin_client, parentId=str(non_streaming_parent.id), name="Streams", supportsStreaming=True)
    accepted = create(
        admin_client, parentId=str(non_streaming_parent.id), name="Does not stream", supportsStreaming=False
    )

    assert_refused(refused, "supportsStreaming")
    assert accepted.status_code == 201, accepted.content
    assert accepted.json()["supportsStreaming"] is False


def test_streaming_parent_allows_turning_streaming_off(admin_client: APIClient, parent: AIModel) -> None:
    response = create(admin_client, parentId=str(parent.id), name="Quiet", supportsStreaming=False)

    assert response.status_code == 201, response.content
    assert response.json()["supportsStreaming"] is False


# --- systemPromptCompositionId -------------------------------------------------------------------


def test_own_composition_can_be_assigned(admin_client: APIClient, parent: AIModel) -> None:
    composition = CompositionFactory(organization_id="org-a", particles=[ParticleFactory()])

    response = create(
        admin_client, parentId=str(parent.id), name="Composed", systemPromptCompositionId=str(composition.id)
    )

    assert response.status_code == 201, response.content
    assert response.json()["systemPromptCompositionId"] == str(composition.id)


def test_global_composition_can_be_assigned(admin_client: APIClient, parent: AIModel) -> None:
    composition = CompositionFactory(is_system=True, organization_id=None, particles=[GlobalParticleFactory()])

    response = create(
        admin_client, parentId=str(parent.id), name="Global", systemPromptCompositionId=str(composition.id)
    )

    assert response.status_code == 201, response.content
    assert response.json()["systemPromptCompositionId"] == str(composition.id)


def test_another_organizations_composition_is_refused(admin_client: APIClient, parent: AIModel) -> None:
    foreign = CompositionFactory(organization_id="org-b", name="Org B Composition")

    response = create(admin_client, parentId=str(parent.id), name="Borrowed", systemPromptCompositionId=str(foreign.id))

    assert_refused(response, "systemPromptCompositionId")
    assert b"Org B Composition" not in response.content


@pytest.mark.parametrize("value", [str(uuid.UUID(int=7)), "abc", 123, []], ids=["unknown", "abc", "int", "list"])
def test_unknown_or_malformed_composition_is_refused(admin_client: APIClient, parent: AIModel, value: Any) -> None:
    response = create(admin_client, parentId=str(parent.id), name="Composed", systemPromptCompositionId=value)

    assert_refused(response, "systemPromptCompositionId")


def test_composition_can_be_unset_with_null(admin_client: APIClient, parent: AIModel) -> None:
    model = UserModelFactory(parent=parent, system_prompt_composition=CompositionFactory())

    response = patch(admin_client, model.id, systemPromptCompositionId=None)

    assert response.status_code == 200, response.content
    model.refresh_from_db()
    assert model.system_prompt_composition_id is None


# --- name unique per organization --------------------------------------------------------------------


def test_name_is_unique_per_organization_ignoring_case(admin_client: APIClient, user_model: AIModel) -> None:
    response = create(admin_client, parentId=str(user_model.parent_id), name=user_model.name.upper())

    assert_refused(response, "name")
    assert AIModel.objects.filter(is_system=False).count() == 1


def test_rename_to_a_taken_name_is_refused(admin_client: APIClient, user_model: AIModel) -> None:
    other = UserModelFactory(parent=user_model.parent, name="Finance Bot")

    response = patch(admin_client, other.id, name=user_model.name.lower())

    assert_refused(response, "name")
    other.refresh_from_db()
    assert other.name == "Finance Bot"


def test_rename_to_own_name_in_another_case_is_accepted(admin_client: APIClient, user_model: AIModel) -> None:
    response = patch(admin_client, user_model.id, name=user_model.name.upper())

    assert response.status_code == 200, response.content
    assert response.json()["name"] == user_model.name.upper()


def test_same_name_in_another_organization_is_accepted(other_org_client: APIClient, user_model: AIModel) -> None:
    response = create(other_org_client, parentId=str(user_model.parent_id), name=user_model.name)

    assert response.status_code == 201, response.content


def test_user_model_may_take_a_system_models_name(admin_client: APIClient, parent: AIModel) -> None:
    assert create(admin_client, parentId=str(parent.id), name=parent.name).status_code == 201


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


# --- PATCH, DELETE, PUT -----------------------------------------------------------------------------


def test_patch_changes_only_the_fields_sent(admin_client: APIClient, user_model: AIModel) -> None:
    response = patch(admin_client, user_model.id, contextWindow=64_000)

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["contextWindow"] == 64_000
    assert body["name"] == user_model.name
    assert body["maxTokens"] == 4_000
    user_model.refresh_from_db()
    assert user_model.context_window == 64_000


def test_patch_validates_the_merged_state(admin_client: APIClient, user_model: AIModel) -> None:
    # The stored max tokens (4,000) would no longer fit below the new window.
    response = patch(admin_client, user_model.id, contextWindow=4_000)

    assert_refused(response, "maxTokens")
    user_model.refresh_from_db()
    assert user_model.context_window == user_model.parent.context_window


def test_patch_max_tokens_above_parent_is_refused(admin_client: APIClient, user_model: AIModel) -> None:
    assert_refused(patch(admin_client, user_model.id, maxTokens=user_model.parent.max_tokens + 1), "maxTokens")


def test_patch_context_window_above_parent_is_refused(admin_client: APIClient, user_model: AIModel) -> None:
    response = patch(admin_client, user_model.id, contextWindow=user_model.parent.context_window + 1)

    assert_refused(response, "contextWindow")


def test_patch_max_tokens_null_inherits_the_parents(admin_client: APIClient, user_model: AIModel) -> None:
    response = patch(admin_client, user_model.id, maxTokens=None)

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["maxTokens"] == user_model.parent.max_tokens
    assert "maxTokens" in body["inheritedFields"]
    user_model.refresh_from_db()
    assert user_model.max_tokens is None


def test_patch_streaming_on_under_a_non_streaming_parent_is_refused(
    admin_client: APIClient, non_streaming_parent: AIModel
) -> None:
    model = UserModelFactory(parent=non_streaming_parent)

    assert_refused(patch(admin_client, model.id, supportsStreaming=True), "supportsStreaming")


def test_patch_parent_rechecks_the_limits_against_the_new_parent(admin_client: APIClient, user_model: AIModel) -> None:
    narrow = SystemModelFactory(context_window=8_192, max_tokens=2_048)

    assert_refused(patch(admin_client, user_model.id, parentId=str(narrow.id)), "contextWindow")
    accepted = patch(admin_client, user_model.id, parentId=str(narrow.id), contextWindow=8_192, maxTokens=None)
    assert accepted.status_code == 200, accepted.content
    assert accepted.json()["maxTokens"] == 2_048


def test_patch_parent_to_a_user_model_is_refused(admin_client: APIClient, user_model: AIModel) -> None:
    sibling = UserModelFactory(parent=user_model.parent)

    assert_refused(patch(admin_client, user_model.id, parentId=str(sibling.id)), "parentId")


def test_patch_with_a_blank_name_is_refused(admin_client: APIClient, user_model: AIModel) -> None:
    assert_refused(patch(admin_client, user_model.id, name="   "), "name")


def test_patch_with_an_empty_body_changes_nothing(admin_client: APIClient, user_model: AIModel) -> None:
    before = AIModel.objects.values().get(pk=user_model.pk)

    response = patch(admin_client, user_model.id)

    assert response.status_code == 200, response.content
    after = AIModel.objects.values().get(pk=user_model.pk)
    assert {k: v for k, v in after.items() if k != "updated_at"} == {
        k: v for k, v in before.items() if k != "updated_at"
    }


def test_patch_of_a_system_model_is_forbidden(admin_client: APIClient, parent: AIModel) -> None:
    response = patch(admin_client, parent.id, name="Hijacked")

    assert_error_shape(response, 403)
    parent.refresh_from_db()
    assert parent.name == "Base Omni"


def test_delete_of_a_system_model_is_forbidden(admin_client: APIClient, parent: AIModel) -> None:
    assert_error_shape(admin_client.delete(detail_url(parent.id)), 403)
    assert AIModel.objects.filter(pk=parent.pk).exists()


def test_delete_removes_a_user_model(admin_client: APIClient, user_model: AIModel) -> None:
    response = admin_client.delete(detail_url(user_model.id))

    assert response.status_code == 204
    assert not AIModel.objects.filter(pk=user_model.pk).exists()
    assert_error_shape(admin_client.get(detail_url(user_model.id)), 404)


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


# --- malformed bodies and content types ---------------------------------------------------------


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


# --- inheritance -------------------------------------------------------------------------------------


def test_user_model_shows_the_parents_provider_pricing_and_capabilities(
    admin_client: APIClient, parent: AIModel, user_model: AIModel
) -> None:
    response = admin_client.get(detail_url(user_model.id))

    body = response.json()
    assert body["provider"] == "provider-a"
    assert body["providerModelId"] == "large-modelo"
    assert body["creditMultiplier"] == 2.25
    assert b'"creditMultiplier":2.25' in response.content.replace(b" ", b"")
    assert (body["supportsTools"], body["supportsVision"], body["supportsReasoning"]) == (True, True, False)


def test_description_falls_back_to_the_parents(admin_client: APIClient, parent: AIModel, user_model: AIModel) -> None:
    body = admin_client.get(detail_url(user_model.id)).json()

    assert body["description"] == parent.description
    assert "description" in body["inheritedFields"]


def test_own_description_is_shown_when_set(admin_client: APIClient, parent: AIModel) -> None:
    model = UserModelFactory(parent=parent, description="Tuned for support tickets")

    body = admin_client.get(detail_url(model.id)).json()

    assert body["description"] == "Tuned for support tickets"
    assert "description" not in body["inheritedFields"]


def test_inherited_fields_lists_exactly_the_inherited_ones(admin_client: APIClient, parent: AIModel) -> None:
    inheriting = UserModelFactory(parent=parent, max_tokens=None, description="")
    overriding = UserModelFactory(parent=parent, max_tokens=2_000, description="Own")

    assert set(admin_client.get(detail_url(inheriting.id)).json()["inheritedFields"]) == ALWAYS_INHERITED | {
        "maxTokens",
        "description",
    }
    assert set(admin_client.get(detail_url(overriding.id)).json()["inheritedFields"]) == ALWAYS_INHERITED


def test_system_model_inherits_nothing(admin_client: APIClient, parent: AIModel) -> None:
    body = admin_client.get(detail_url(parent.id)).json()

    assert set(body) == RESPONSE_FIELDS
    assert body["inheritedFields"] == []
    assert body["isSystem"] is True
    assert body["parentId"] is None
    assert body["creditMultiplier"] == 2.25


def test_change_to_the_parent_shows_in_the_user_model_at_once(
    admin_client: APIClient, parent: AIModel, user_model: AIModel
) -> None:
    parent.credit_multiplier = Decimal("3")
    parent.supports_reasoning = True
    parent.save()

    body = admin_client.get(detail_url(user_model.id)).json()

    assert body["creditMultiplier"] == 3
    assert body["supportsReasoning"] is True


# --- resolved ----------------------------------------------------------------------------------------


def test_resolved_returns_the_effective_configuration(
    admin_client: APIClient, parent: AIModel, user_model: AIModel
) -> None:
    response = admin_client.get(resolved_url(user_model.id))

    assert response.status_code == 200, response.content
    body = response.json()
    assert set(body) == RESOLVED_FIELDS
    assert body["provider"] == parent.provider
    assert body["creditMultiplier"] == 2.25
    assert body["maxTokens"] == 4_000
    assert body["contextWindow"] == user_model.context_window
    assert (body["isUsable"], body["unusableReason"]) == (True, None)


def test_resolved_prompt_is_the_override(admin_client: APIClient, parent: AIModel) -> None:
    model = UserModelFactory(parent=parent, system_prompt_override="You are a helpful assistant.")

    body = admin_client.get(resolved_url(model.id)).json()

    assert (body["systemPrompt"], body["systemPromptSource"]) == ("You are a helpful assistant.", "override")


def test_resolved_prompt_is_the_composition_in_particle_order(admin_client: APIClient, parent: AIModel) -> None:
    role = ParticleFactory(content="You are a support agent.")
    tone = ParticleFactory(content="Be concise.")
    guardrails = ParticleFactory(content="Never share secrets.")
    composition = CompositionFactory(particles=[tone, role, guardrails])
    model = UserModelFactory(parent=parent, system_prompt_composition=composition)

    body = admin_client.get(resolved_url(model.id)).json()

    assert body["systemPromptSource"] == "composition"
    assert body["systemPrompt"] == "Be concise.\n\nYou are a support agent.\n\nNever share secrets."


def test_resolved_prompt_is_none_without_override_or_composition(admin_client: APIClient, user_model: AIModel) -> None:
    body = admin_client.get(resolved_url(user_model.id)).json()

    assert (body["systemPrompt"], body["systemPromptSource"]) == (None, "none")


def test_override_beats_composition(admin_client: APIClient, parent: AIModel) -> None:
    composition = CompositionFactory(particles=[ParticleFactory(content="From the composition.")])
    model = UserModelFactory(parent=parent, system_prompt_composition=composition, system_prompt_override="Override.")

    body = admin_client.get(resolved_url(model.id)).json()

    assert (body["systemPrompt"], body["systemPromptSource"]) == ("Override.", "override")


def test_resolved_prompt_follows_particle_edits(admin_client: APIClient, parent: AIModel) -> None:
    particle = ParticleFactory(content="Version one.")
    model = UserModelFactory(parent=parent, system_prompt_composition=CompositionFactory(particles=[particle]))
    assert admin_client.get(resolved_url(model.id)).json()["systemPrompt"] == "Version one."

    particle.content = "Version two."
    particle.save()

    assert admin_client.get(resolved_url(model.id)).json()["systemPrompt"] == "Version two."
    PromptParticle.objects.filter(pk=particle.pk).update(content="Version three.")
    assert admin_client.get(resolved_url(model.id)).json()["systemPrompt"] == "Version three."


def test_resolved_with_a_global_composition(admin_client: APIClient, parent: AIModel) -> None:
    composition = CompositionFactory(
        is_system=True, organization_id=None, particles=[GlobalParticleFactory(content="Global rule.")]
    )
    model = UserModelFactory(parent=parent, system_prompt_composition=composition)

    body = admin_client.get(resolved_url(model.id)).json()

    assert (body["systemPrompt"], body["systemPromptSource"]) == ("Global rule.", "composition")


def test_user_model_of_a_disabled_parent_is_listed_but_not_usable(admin_client: APIClient) -> None:
    retired = SystemModelFactory(name="Retired Base")
    model = UserModelFactory(parent=retired)
    retired.is_enabled = False
    retired.save()

    assert model.id.__str__() in ids_of(admin_client.get(MODELS_URL))
    assert admin_client.get(detail_url(model.id)).status_code == 200
    body = admin_client.get(resolved_url(model.id)).json()
    assert body["isUsable"] is False
    assert "Retired Base" in body["unusableReason"]


def test_disabled_user_model_is_not_usable(admin_client: APIClient, parent: AIModel) -> None:
    model = UserModelFactory(parent=parent, is_enabled=False)

    body = admin_client.get(resolved_url(model.id)).json()

    assert body["isUsable"] is False
    assert body["unusableReason"]


def test_resolved_system_model(admin_client: APIClient, parent: AIModel) -> None:
    body = admin_client.get(resolved_url(parent.id)).json()

    assert body["isSystem"] is True
    assert (body["isUsable"], body["systemPromptSource"]) == (True, "none")


# --- visibility ---------------------------------------------------------------------------------------


def test_list_shows_enabled_system_models_and_own_user_models(admin_client: APIClient, parent: AIModel) -> None:
    disabled_system = SystemModelFactory(is_enabled=False)
    own_enabled = UserModelFactory(parent=parent, organization_id="org-a")
    own_disabled = UserModelFactory(parent=parent, organization_id="org-a", is_enabled=False)
    foreign = UserModelFactory(parent=parent, organization_id="org-b")

    listed = ids_of(admin_client.get(MODELS_URL))

    assert set(listed) == {str(parent.id), str(own_enabled.id), str(own_disabled.id)}
    assert str(disabled_system.id) not in listed
    assert str(foreign.id) not in listed


def test_disabled_system_model_is_not_found(admin_client: APIClient) -> None:
    disabled = SystemModelFactory(is_enabled=False)

    assert_error_shape(admin_client.get(detail_url(disabled.id)), 404)
    assert_error_shape(admin_client.get(resolved_url(disabled.id)), 404)


def test_system_model_is_visible_to_every_organization(other_org_client: APIClient, parent: AIModel) -> None:
    assert other_org_client.get(detail_url(parent.id)).status_code == 200
    assert str(parent.id) in ids_of(other_org_client.get(MODELS_URL))


# --- tenancy --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", detail_url),
        ("get", resolved_url),
        ("patch", detail_url),
        ("delete", detail_url),
    ],
    ids=["retrieve", "resolved", "patch", "delete"],
)
def test_another_organization_gets_404_and_changes_nothing(
    other_org_client: APIClient, user_model: AIModel, method: str, path: Callable[[Any], str]
) -> None:
    before = AIModel.objects.values().get(pk=user_model.pk)

    response = getattr(other_org_client, method)(path(user_model.id), {"name": "Taken over"}, format="json")

    assert_error_shape(response, 404)
    assert b"Support Bot" not in response.content
    assert AIModel.objects.values().get(pk=user_model.pk) == before


def test_another_organization_cannot_list_or_filter_into_user_models(
    other_org_client: APIClient, user_model: AIModel
) -> None:
    for query in ("", "?isSystem=false", "?search=support", "?isEnabled=true"):
        assert str(user_model.id) not in ids_of(other_org_client.get(MODELS_URL + query))


# --- permissions -------------------------------------------------------------------------------------------


def test_member_without_write_role_can_read(member_client: APIClient, user_model: AIModel) -> None:
    assert member_client.get(MODELS_URL).status_code == 200
    assert member_client.get(detail_url(user_model.id)).status_code == 200
    assert member_client.get(resolved_url(user_model.id)).status_code == 200


def test_member_without_write_role_cannot_write(member_client: APIClient, user_model: AIModel) -> None:
    before = AIModel.objects.values().get(pk=user_model.pk)

    assert_error_shape(create(member_client, parentId=str(user_model.parent_id), name="Nope"), 403)
    assert_error_shape(patch(member_client, user_model.id, name="Nope"), 403)
    assert_error_shape(member_client.delete(detail_url(user_model.id)), 403)

    assert AIModel.objects.count() == 2
    assert AIModel.objects.values().get(pk=user_model.pk) == before


def test_m2m_read_scope_reads_but_cannot_write(m2m_client_for, user_model: AIModel) -> None:
    client = m2m_client_for("read:models")

    assert client.get(MODELS_URL).status_code == 200
    assert client.get(resolved_url(user_model.id)).status_code == 200
    assert_error_shape(create(client, parentId=str(user_model.parent_id), name="Nope"), 403)
    assert_error_shape(patch(client, user_model.id, name="Nope"), 403)
    assert_error_shape(client.delete(detail_url(user_model.id)), 403)


def test_m2m_write_scope_writes(m2m_client_for, user_model: AIModel) -> None:
    client = m2m_client_for("read:models write:models")

    created = create(client, parentId=str(user_model.parent_id), name="By a machine")
    changed = patch(client, user_model.id, name="Renamed by a machine")

    assert created.status_code == 201, created.content
    assert AIModel.objects.get(pk=created.json()["id"]).organization_id == "org-a"
    assert changed.status_code == 200, changed.content
    assert client.delete(detail_url(user_model.id)).status_code == 204


def test_m2m_write_wildcard_writes(m2m_client_for, parent: AIModel) -> None:
    assert create(m2m_client_for("write:*"), parentId=str(parent.id), name="Wildcard").status_code == 201


def test_m2m_scope_for_another_resource_cannot_read_models(m2m_client_for, user_model: AIModel) -> None:
    client = m2m_client_for("read:prompts write:prompts")

    assert_error_shape(client.get(MODELS_URL), 403)
    assert_error_shape(client.get(detail_url(user_model.id)), 403)
    assert_error_shape(create(client, parentId=str(user_model.parent_id), name="Nope"), 403)


def test_m2m_read_wildcard_reads(m2m_client_for, user_model: AIModel) -> None:
    client = m2m_client_for("read:*")

    assert str(user_model.id) in ids_of(client.get(MODELS_URL))
    assert_error_shape(create(client, parentId=str(user_model.parent_id), name="Nope"), 403)


def test_m2m_client_sees_its_own_organization_only(m2m_client_for, user_model: AIModel) -> None:
    assert_error_shape(m2m_client_for("read:models", org="org-b").get(detail_url(user_model.id)), 404)


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", MODELS_URL),
        ("post", MODELS_URL),
        ("get", detail_url(uuid.UUID(int=1))),
        ("patch", detail_url(uuid.UUID(int=1))),
        ("delete", detail_url(uuid.UUID(int=1))),
        ("get", resolved_url(uuid.UUID(int=1))),
    ],
)
def test_no_token_is_a_401_with_bearer_challenge(api_client: APIClient, method: str, path: str) -> None:
    response = getattr(api_client, method)(path, {}, format="json")

    assert_error_shape(response, 401)
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_bad_token_is_a_401(api_client: APIClient) -> None:
    api_client.credentials(HTTP_AUTHORIZATION="Bearer not-a-token")

    response = api_client.get(MODELS_URL)

    assert_error_shape(response, 401)
    assert response["WWW-Authenticate"].startswith("Bearer")


# --- list: filters, ordering, pagination --------------------------------------------------------------------


@pytest.fixture
def catalogue() -> dict[str, AIModel]:
    sys_a = SystemModelFactory(
        name="Alpha System",
        provider="provider-a",
        context_window=128_000,
        max_tokens=16_384,
        supports_tools=True,
        supports_vision=False,
        supports_reasoning=False,
        supports_streaming=True,
    )
    sys_b = SystemModelFactory(
        name="Beta System",
        provider="provider-b",
        context_window=64_000,
        max_tokens=8_192,
        supports_tools=False,
        supports_vision=True,
        supports_reasoning=True,
        supports_streaming=False,
    )
    models = {
        "sys_a": sys_a,
        "sys_b": sys_b,
        "sys_disabled": SystemModelFactory(name="Gamma Disabled", provider="provider-a", is_enabled=False),
        "user_a": UserModelFactory(parent=sys_a, name="Support Assistant", context_window=100_000),
        "user_b": UserModelFactory(parent=sys_b, name="Finance Helper", context_window=32_000),
        "user_a_off": UserModelFactory(parent=sys_a, name="Zed Disabled", context_window=50_000, is_enabled=False),
        "foreign": UserModelFactory(parent=sys_a, name="Other Support", organization_id="org-b"),
    }
    start = timezone.now() - timedelta(days=1)
    for offset, key in enumerate(["user_b", "sys_a", "user_a_off", "sys_b", "user_a"]):
        AIModel.objects.filter(pk=models[key].pk).update(created_at=start + timedelta(minutes=offset))
    return models


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("isSystem=true", {"sys_a", "sys_b"}),
        ("isSystem=false", {"user_a", "user_b", "user_a_off"}),
        ("isEnabled=true", {"sys_a", "sys_b", "user_a", "user_b"}),
        ("isEnabled=false", {"user_a_off"}),
        ("provider=provider-a", {"sys_a", "user_a", "user_a_off"}),
        ("provider=provider-b", {"sys_b", "user_b"}),
        ("provider=provider-z", set()),
        ("supportsTools=true", {"sys_a", "user_a", "user_a_off"}),
        ("supportsTools=false", {"sys_b", "user_b"}),
        ("supportsVision=true", {"sys_b", "user_b"}),
        ("supportsVision=false", {"sys_a", "user_a", "user_a_off"}),
        ("supportsReasoning=true", {"sys_b", "user_b"}),
        ("supportsReasoning=false", {"sys_a", "user_a", "user_a_off"}),
        ("supportsStreaming=false", {"sys_b", "user_b"}),
        ("supportsStreaming=true", {"sys_a", "user_a", "user_a_off"}),
        ("search=SUPPORT", {"user_a"}),
        ("search=system", {"sys_a", "sys_b"}),
        ("search=disabled", {"user_a_off"}),
        ("isSystem=false&provider=provider-a&isEnabled=true", {"user_a"}),
    ],
)
def test_list_filters(admin_client: APIClient, catalogue: dict[str, AIModel], query: str, expected: set[str]) -> None:
    listed = ids_of(admin_client.get(f"{MODELS_URL}?{query}"))

    assert set(listed) == {str(catalogue[key].id) for key in expected}


@pytest.mark.parametrize(
    ("ordering", "expected"),
    [
        (None, ["sys_a", "sys_b", "user_b", "user_a", "user_a_off"]),
        ("name", ["sys_a", "sys_b", "user_b", "user_a", "user_a_off"]),
        ("-name", ["user_a_off", "user_a", "user_b", "sys_b", "sys_a"]),
        ("createdAt", ["user_b", "sys_a", "user_a_off", "sys_b", "user_a"]),
        ("-createdAt", ["user_a", "sys_b", "user_a_off", "sys_a", "user_b"]),
        ("contextWindow", ["user_b", "user_a_off", "sys_b", "user_a", "sys_a"]),
        ("-contextWindow", ["sys_a", "user_a", "sys_b", "user_a_off", "user_b"]),
    ],
)
def test_list_ordering(
    admin_client: APIClient, catalogue: dict[str, AIModel], ordering: str | None, expected: list[str]
) -> None:
    query = f"?ordering={ordering}" if ordering else ""

    listed = ids_of(admin_client.get(MODELS_URL + query))

    assert listed == [str(catalogue[key].id) for key in expected]


def test_default_order_is_system_models_first_then_name(admin_client: APIClient, parent: AIModel) -> None:
    UserModelFactory(parent=parent, name="Aardvark")
    SystemModelFactory(name="Zulu System")

    names = [item["name"] for item in admin_client.get(MODELS_URL).json()["results"]]

    assert names == ["Base Omni", "Zulu System", "Aardvark"]


@pytest.mark.parametrize("ordering", ["bogus", "provider", "context_window", "-organization_id"])
def test_invalid_ordering_is_a_400(admin_client: APIClient, parent: AIModel, ordering: str) -> None:
    assert_refused(admin_client.get(f"{MODELS_URL}?ordering={ordering}"), "ordering")


@pytest.mark.parametrize("query", ["isSystem=maybe", "supportsTools=perhaps"])
def test_invalid_boolean_filter_is_a_400_not_ignored(admin_client: APIClient, parent: AIModel, query: str) -> None:
    response = admin_client.get(f"{MODELS_URL}?{query}")

    assert_error_shape(response, 400)


@pytest.fixture
def many_models(parent: AIModel) -> None:
    """250 visible models: the parent and 249 user models."""
    AIModel.objects.bulk_create(UserModelFactory.build_batch(249, parent=parent))


def test_list_is_paginated_by_50_by_default(admin_client: APIClient, many_models: None) -> None:
    body = admin_client.get(MODELS_URL).json()

    assert set(body) == {"count", "next", "previous", "results"}
    assert body["count"] == 250
    assert len(body["results"]) == 50
    assert body["next"] is not None
    assert body["previous"] is None


def test_limit_is_capped_at_200(admin_client: APIClient, many_models: None) -> None:
    body = admin_client.get(f"{MODELS_URL}?limit=500").json()

    assert body["count"] == 250
    assert len(body["results"]) == 200


def test_offset_pages_through_the_list(admin_client: APIClient, many_models: None) -> None:
    first = admin_client.get(f"{MODELS_URL}?limit=200").json()
    last = admin_client.get(f"{MODELS_URL}?limit=200&offset=200").json()

    assert len(last["results"]) == 50
    assert last["next"] is None
    assert last["previous"] is not None
    all_ids = [item["id"] for item in first["results"] + last["results"]]
    assert len(set(all_ids)) == 250


def test_empty_list_has_the_same_shape(admin_client: APIClient) -> None:
    assert admin_client.get(MODELS_URL).json() == {"count": 0, "next": None, "previous": None, "results": []}


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


# --- query counts (authentication makes no query) -------------------------------------------------------


def test_list_query_count_does_not_grow_with_rows(admin_client: APIClient, parent: AIModel) -> None:
    UserModelFactory(parent=parent, system_prompt_composition=CompositionFactory(particles=[ParticleFactory()]))
    admin_client.get(MODELS_URL)  # warm per-process caches
    _, with_one = count_queries(lambda: admin_client.get(MODELS_URL))

    other_parents = SystemModelFactory.create_batch(3)
    AIModel.objects.bulk_create(
        UserModelFactory.build_batch(25, parent=parent)
        + [model for base in other_parents for model in UserModelFactory.build_batch(24, parent=base)]
    )
    response, with_many = count_queries(lambda: admin_client.get(f"{MODELS_URL}?limit=200"))

    assert response.json()["count"] == 1 + 1 + 3 + 25 + 72
    assert with_many == with_one
    assert with_many <= 4


def test_list_query_count_is_pinned(
    admin_client: APIClient, parent: AIModel, django_assert_max_num_queries: Callable
) -> None:
    UserModelFactory.create_batch(3, parent=parent)

    with django_assert_max_num_queries(4):
        admin_client.get(MODELS_URL)


def test_retrieve_query_count(admin_client: APIClient, user_model: AIModel) -> None:
    admin_client.get(detail_url(user_model.id))
    response, queries = count_queries(lambda: admin_client.get(detail_url(user_model.id)))

    assert response.status_code == 200
    assert queries <= 4


def test_resolved_query_count_does_not_grow_with_particles(admin_client: APIClient, parent: AIModel) -> None:
    one = UserModelFactory(parent=parent, system_prompt_composition=CompositionFactory(particles=[ParticleFactory()]))
    fifty = UserModelFactory(
        parent=parent, system_prompt_composition=CompositionFactory(particles=ParticleFactory.create_batch(50))
    )
    admin_client.get(resolved_url(one.id))

    response_one, with_one = count_queries(lambda: admin_client.get(resolved_url(one.id)))
    response_fifty, with_fifty = count_queries(lambda: admin_client.get(resolved_url(fifty.id)))

    assert response_one.json()["systemPromptSource"] == "composition"
    assert response_fifty.json()["systemPrompt"].count("\n\n") == 49
    assert with_fifty == with_one
    assert with_fifty <= 4


def test_create_query_count(admin_client: APIClient, parent: AIModel) -> None:
    create(admin_client, parentId=str(parent.id), name="Warm-up")

    response, queries = count_queries(lambda: create(admin_client, parentId=str(parent.id), name="Counted"))

    assert response.status_code == 201, response.content
    assert queries <= 8, f"create took {queries} queries"


@pytest.mark.django_db
def test_a_page_past_the_end_still_reports_the_total(admin_client):
    SystemModelFactory.create_batch(3)

    body = admin_client.get("/v1/models?offset=10").json()

    assert body["count"] == 3
    assert body["results"] == []
    assert body["next"] is None


@pytest.mark.django_db
def test_an_unfiltered_list_uses_the_default_order_without_building_the_filterset(admin_client):
    SystemModelFactory(name="b-system")
    SystemModelFactory(name="a-system")
    UserModelFactory(name="a-user")

    names = [row["name"] for row in admin_client.get("/v1/models").json()["results"]]

    assert names.index("a-system") < names.index("b-system") < names.index("a-user")


@pytest.mark.django_db
@pytest.mark.parametrize(("offset", "status"), [("4611686018427387904", 200), ("4611686018427387905", 400)])
def test_offset_is_bounded_where_the_databases_can_count(admin_client, offset, status):
    response = admin_client.get(f"/v1/models?offset={offset}")

    assert response.status_code == status, response.content
    if status == 400:
        assert "offset" in response.json()["errors"]
