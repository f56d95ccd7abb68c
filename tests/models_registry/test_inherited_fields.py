"""What a user model shows of its parent: provider, pricing and capabilities always; limits and description
when it has none of its own."""

from __future__ import annotations

from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from models_registry.models import AIModel
from tests.factories import UserModelFactory
from tests.models_registry.helpers import ALWAYS_INHERITED, RESPONSE_FIELDS, detail_url

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("no_rate_limits")]


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
