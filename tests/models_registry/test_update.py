"""PATCH /v1/models/{id}: only the fields sent change, and the merged state is checked as a whole.

PATCH and DELETE as every resource answers them (200/204, a system model 403): test_crud.py.
"""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from models_registry.models import AIModel
from tests.factories import SystemModelFactory, UserModelFactory
from tests.models_registry.helpers import assert_refused, patch

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("no_rate_limits")]


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
