"""POST /v1/models: 201 with a Location and the model, the defaults it fills in, and the parent it needs."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlparse

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from models_registry.models import AIModel
from tests.factories import SystemModelFactory, UserModelFactory
from tests.models_registry.helpers import ALWAYS_INHERITED, RESPONSE_FIELDS, assert_refused, create

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("no_rate_limits")]


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
