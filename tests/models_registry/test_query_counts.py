"""How many queries each read and write takes, exactly (authentication makes none).

The counts are the same on SQLite and PostgreSQL, but for the models list's first page with
nothing but `limit`: one statement on PostgreSQL (core.pagination.first_page_template).
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.db import connection
from rest_framework.test import APIClient

from models_registry.models import AIModel
from tests.factories import CompositionFactory, ParticleFactory, SystemModelFactory, UserModelFactory
from tests.models_registry.helpers import MODELS_URL, create, detail_url, resolved_url

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("no_rate_limits")]

# Every read first reads the two cache generations its ETag is made of (core.conditional), then
# what the organization may use (`entitlements.entitled_set`, issue 19: one plain query instead of
# three subqueries compiled into each read).
# The page in two parts, each through its own index (core.pagination): the system models, then the
# organization's, the parents' columns joined in; a page with a next one adds its capped COUNT.
LIST_QUERIES = 4
# The generations, what the organization may use, and the page with its count in one statement;
# SQLite cannot order and limit the parts of a UNION and reads the page as any other.
FIRST_PAGE_QUERIES = 3 if connection.features.supports_slicing_ordering_in_compound else LIST_QUERIES
RETRIEVE_QUERIES = 3  # the model with its parent
RESOLVED_QUERIES = 4  # the model with its parent and composition; the composition's particles in order
NOT_MODIFIED_QUERIES = 1  # the generations, and nothing else: the body is neither read nor rendered
# What the organization may use, the parent with that answer for it (issue 16), then in a savepoint (SAVEPOINT
# and RELEASE count): the quota's entitlement row (locked), the model (its unique constraints judge
# its name and the slug its name makes, issue 17), its history row, its audit event, and the UPDATE
# that bumps the organization's cache generation (issue 15); after the write, the generations for
# the ETag.
CREATE_QUERIES = 10


def test_list_query_count_does_not_grow_with_rows(
    admin_client: APIClient, parent: AIModel, django_assert_num_queries: Callable
) -> None:
    UserModelFactory(parent=parent, system_prompt_composition=CompositionFactory(particles=[ParticleFactory()]))
    admin_client.get(MODELS_URL)  # warm per-process caches
    with django_assert_num_queries(FIRST_PAGE_QUERIES):
        admin_client.get(MODELS_URL)
    with django_assert_num_queries(LIST_QUERIES):
        admin_client.get(f"{MODELS_URL}?offset=0")

    other_parents = SystemModelFactory.create_batch(3)
    AIModel.objects.bulk_create(
        UserModelFactory.build_batch(25, parent=parent)
        + [model for base in other_parents for model in UserModelFactory.build_batch(24, parent=base)]
    )
    with django_assert_num_queries(FIRST_PAGE_QUERIES):  # the same with 102 rows as with 2
        response = admin_client.get(f"{MODELS_URL}?limit=200")
    with django_assert_num_queries(LIST_QUERIES):
        admin_client.get(f"{MODELS_URL}?limit=200&offset=0")

    assert response.json()["count"] == 1 + 1 + 3 + 25 + 72


def test_list_query_count_is_pinned(
    admin_client: APIClient, parent: AIModel, django_assert_num_queries: Callable
) -> None:
    UserModelFactory.create_batch(3, parent=parent)
    admin_client.get(MODELS_URL)  # the organization's first request records it (core.organizations)

    with django_assert_num_queries(FIRST_PAGE_QUERIES):
        admin_client.get(MODELS_URL)
    with django_assert_num_queries(LIST_QUERIES):
        admin_client.get(f"{MODELS_URL}?offset=0")


def test_retrieve_query_count(
    admin_client: APIClient, user_model: AIModel, django_assert_num_queries: Callable
) -> None:
    admin_client.get(detail_url(user_model.id))
    with django_assert_num_queries(RETRIEVE_QUERIES):
        response = admin_client.get(detail_url(user_model.id))

    assert response.status_code == 200


def test_resolved_query_count_does_not_grow_with_particles(
    admin_client: APIClient, parent: AIModel, django_assert_num_queries: Callable
) -> None:
    one = UserModelFactory(parent=parent, system_prompt_composition=CompositionFactory(particles=[ParticleFactory()]))
    fifty = UserModelFactory(
        parent=parent, system_prompt_composition=CompositionFactory(particles=ParticleFactory.create_batch(50))
    )
    admin_client.get(resolved_url(one.id))

    with django_assert_num_queries(RESOLVED_QUERIES):
        response_one = admin_client.get(resolved_url(one.id))
    with django_assert_num_queries(RESOLVED_QUERIES):  # the same with 50 particles as with 1
        response_fifty = admin_client.get(resolved_url(fifty.id))

    assert response_one.json()["systemPromptSource"] == "composition"
    assert response_fifty.json()["systemPrompt"].count("\n\n") == 49


def test_create_query_count(admin_client: APIClient, parent: AIModel, django_assert_num_queries: Callable) -> None:
    create(admin_client, parentId=str(parent.id), name="Warm-up")

    with django_assert_num_queries(CREATE_QUERIES):
        response = create(admin_client, parentId=str(parent.id), name="Counted")

    assert response.status_code == 201, response.content


@pytest.mark.parametrize("kind", ["list", "retrieve", "resolved"])
def test_a_304_reads_only_the_generations(
    admin_client: APIClient, user_model: AIModel, django_assert_num_queries: Callable, kind: str
) -> None:
    url = {"list": MODELS_URL, "retrieve": detail_url(user_model.pk), "resolved": resolved_url(user_model.pk)}[kind]
    etag = admin_client.get(url)["ETag"]
    with django_assert_num_queries(NOT_MODIFIED_QUERIES):
        response = admin_client.get(url, HTTP_IF_NONE_MATCH=etag)
    assert response.status_code == 304
    assert response.content == b""
