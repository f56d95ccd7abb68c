"""The rules between fields: a user model stays within its parent's limits, and maxTokens below contextWindow."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from models_registry.models import AIModel
from tests.models_registry.helpers import assert_refused, create

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("no_rate_limits")]


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
