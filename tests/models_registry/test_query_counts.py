"""How many queries each read and write takes (authentication makes none)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from models_registry.models import AIModel
from tests.factories import CompositionFactory, ParticleFactory, SystemModelFactory, UserModelFactory
from tests.models_registry.helpers import MODELS_URL, create, detail_url, resolved_url

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("no_rate_limits")]


def count_queries(request: Callable[[], Any]):
    with CaptureQueriesContext(connection) as context:
        response = request()
    return response, len(context.captured_queries)


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
