"""GET /v1/models: what is listed and found, filters, ordering and pagination."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from models_registry.api.filters import AIModelFilter
from models_registry.models import AIModel
from tests.assertions import assert_error_shape
from tests.factories import SystemModelFactory, UserModelFactory
from tests.models_registry.helpers import MODELS_URL, assert_refused, detail_url, ids_of, resolved_url

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("no_rate_limits")]


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

    assert set(body) == {"count", "countIsEstimate", "next", "previous", "results"}
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
    assert admin_client.get(MODELS_URL).json() == {
        "count": 0,
        "countIsEstimate": False,
        "next": None,
        "previous": None,
        "results": [],
    }


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
def test_a_filtered_list_read_in_parts_builds_its_filterset_once(admin_client, monkeypatch):
    """The list is read in two parts (system, then user models) and each is filtered: by one
    FilterSet, validated once, not one built per part."""
    SystemModelFactory(name="match-system")
    SystemModelFactory(name="other-system")
    UserModelFactory(name="match-user")
    UserModelFactory(name="other-user")
    built = []
    original_init = AIModelFilter.__init__

    def counting_init(self, *args, **kwargs):
        built.append(self)
        original_init(self, *args, **kwargs)

    monkeypatch.setattr(AIModelFilter, "__init__", counting_init)

    body = admin_client.get("/v1/models?search=match").json()

    assert [row["name"] for row in body["results"]] == ["match-system", "match-user"]
    assert body["count"] == 2
    assert len(built) == 1


@pytest.mark.django_db
def test_a_filter_that_does_not_validate_is_a_400_before_any_part_is_read(admin_client):
    UserModelFactory(name="a-user")

    response = admin_client.get("/v1/models?isSystem=maybe&search=a")

    assert response.status_code == 400, response.content
    assert set(response.json()["errors"]) == {"isSystem"}


@pytest.mark.django_db
@pytest.mark.parametrize(("offset", "status"), [("4611686018427387904", 200), ("4611686018427387905", 400)])
def test_offset_is_bounded_where_the_databases_can_count(admin_client, offset, status):
    response = admin_client.get(f"/v1/models?offset={offset}")

    assert response.status_code == status, response.content
    if status == 400:
        assert "offset" in response.json()["errors"]


def test_a_page_reads_the_day_once_not_per_row(
    admin_client: APIClient, many_models: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every row of a page shows its lifecycle status on one day (and the clock is not read 50 times)."""
    from models_registry import lifecycle

    calls = []
    real_today = lifecycle.today
    monkeypatch.setattr(lifecycle, "today", lambda: calls.append(1) or real_today())

    body = admin_client.get(MODELS_URL).json()

    assert len(body["results"]) == 50
    assert len(calls) <= 2  # the ETag's context, the page


@pytest.mark.parametrize("ordering", [None, "name"])
def test_every_listed_model_reads_as_it_does_alone(admin_client: APIClient, catalogue, ordering) -> None:
    """A list row is the body GET of the model gives, field for field (and `inheritedFields`),
    for system and user models alike, whichever columns the list's read of their part took."""
    deprecated_base = SystemModelFactory(name="Old base", deprecated_at=timezone.now().date() - timedelta(days=1))
    UserModelFactory(parent=deprecated_base, organization_id="org-a", max_tokens=None, description="")

    listed = admin_client.get(MODELS_URL, {"limit": 200, **({"ordering": ordering} if ordering else {})}).json()

    assert {row["isSystem"] for row in listed["results"]} == {True, False}
    for row in listed["results"]:
        assert row == admin_client.get(detail_url(row["id"])).json(), row["name"]


def test_the_system_models_part_of_a_page_joins_no_parent(admin_client: APIClient, catalogue) -> None:
    """A system model has no parent: its part of the page reads its own columns only."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        admin_client.get(f"{MODELS_URL}?offset=0")  # the general path (the one statement: test_first_page.py)

    reads = [query["sql"] for query in queries if "ORDER BY" in query["sql"]]
    assert len(reads) == 2, reads  # the system models, then the organization's
    assert "JOIN" not in reads[0]
    assert "JOIN" in reads[1]
