"""The bounds of each field, one at a time, through the API (models_registry.limits)."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from models_registry import limits
from models_registry.models import AIModel
from tests.models_registry.helpers import assert_refused, create, field_errors, resolved_url

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("no_rate_limits")]


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
