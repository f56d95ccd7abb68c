"""The shared cache of rendered reads (core/response_cache.py): a list page, an object or a
resolved model is answered from it with one query (the generations), per organization, and
never after a write that could change it has committed."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from models_registry import services
from tests.factories import ParticleFactory, SystemModelFactory, UserModelFactory

pytestmark = pytest.mark.django_db(transaction=True)  # the generations a key is made of commit

READS = ("/v1/models", "/v1/models?limit=1&offset=1", "/v1/prompt-particles", "/v1/audit-events")


@pytest.fixture(autouse=True)
def cache_on(response_cache_on: str) -> str:
    return response_cache_on


@pytest.fixture
def world(db: Any) -> dict[str, Any]:
    parent = SystemModelFactory(name="Base")
    return {
        "parent": parent,
        "a": UserModelFactory(organization_id="org-a", parent=parent, name="Theirs A"),
        "b": UserModelFactory(organization_id="org-b", parent=parent, name="Theirs B"),
        "particle": ParticleFactory(organization_id="org-a"),
    }


def read(client: APIClient, url: str) -> tuple[bytes, str, int]:
    """The body, the ETag and the number of queries of a GET."""
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, response.content
    return response.content, response["ETag"], len(queries)


@pytest.mark.parametrize("url", READS)
def test_a_second_read_is_the_same_response_from_one_query(admin_client: APIClient, world: dict, url: str) -> None:
    first = read(admin_client, url)
    second = read(admin_client, url)

    assert second[:2] == first[:2]
    assert second[2] == 1, "only the generations are read"


def test_a_write_in_the_organization_is_seen_at_once(admin_client: APIClient, world: dict) -> None:
    before = {url: read(admin_client, url) for url in READS}
    response = admin_client.patch(f"/v1/models/{world['a'].pk}", {"name": "Renamed A"}, format="json")
    assert response.status_code == 200

    after = {url: read(admin_client, url) for url in READS}

    assert b"Renamed A" in after["/v1/models"][0]
    assert all(after[url][1] != before[url][1] for url in READS)  # a new generation: new keys
    assert all(after[url][2] > 1 for url in READS), "rendered afresh"


def test_another_organizations_write_leaves_the_cache_warm(
    admin_client: APIClient, other_org_client: APIClient, world: dict
) -> None:
    warm = {url: read(admin_client, url) for url in READS}
    response = other_org_client.patch(f"/v1/models/{world['b'].pk}", {"name": "Renamed B"}, format="json")
    assert response.status_code == 200

    for url in READS:
        assert read(admin_client, url) == (*warm[url][:2], 1), url


def test_staff_changing_a_system_model_refreshes_every_organization(
    admin_client: APIClient, other_org_client: APIClient, world: dict
) -> None:
    for client in (admin_client, other_org_client):
        read(client, "/v1/models")
    parent = world["parent"]
    parent.name = "Renamed Base"
    services.system_model_save(instance=parent, actor="staff:test", changed={"name"})

    for client in (admin_client, other_org_client):
        body, _, queries = read(client, "/v1/models")
        assert b"Renamed Base" in body
        assert queries > 1


def test_a_cached_response_is_never_another_organizations(
    admin_client: APIClient, other_org_client: APIClient, world: dict
) -> None:
    mine = read(admin_client, "/v1/models")[0]
    theirs = read(other_org_client, "/v1/models")[0]

    assert b"Theirs A" in mine and b"Theirs A" not in theirs
    assert b"Theirs B" in theirs and b"Theirs B" not in mine


def test_if_none_match_beats_the_cache_and_a_cached_entry_keeps_its_headers(
    admin_client: APIClient, world: dict
) -> None:
    url = f"/v1/models/{world['a'].pk}/resolved"
    first = admin_client.get(url)
    cached = admin_client.get(url)

    assert {name: cached[name] for name in ("ETag", "Content-Type", "Cache-Control")} == {
        name: first[name] for name in ("ETag", "Content-Type", "Cache-Control")
    }
    assert "Authorization" in cached["Vary"]
    assert cached["X-Request-ID"] != first["X-Request-ID"], "the request's own id, not the cached one"
    assert admin_client.get(url, HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 304


def test_the_cache_is_off_at_zero_seconds(settings: Any, admin_client: APIClient, world: dict) -> None:
    settings.RESPONSE_CACHE_SECONDS = 0
    read(admin_client, "/v1/models")

    assert read(admin_client, "/v1/models")[2] > 1
