"""A list's first page in one prepared statement (core.pagination.first_page_template).

`GET /v1/models` (and the particles' and compositions' lists, at the end) with nothing but
`limit` is read by one statement compiled once per process on PostgreSQL; with anything else
(here `offset=0`, which names the same page) by the paginator's general path. Both must give
the same body, byte for byte, whatever the data, the entitlement and the limit; the statement
must be prepared, and the general path must still answer where the statement cannot run
(SQLite) or preparing is off.
"""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rest_framework.test import APIClient

from core import pagination
from core.limits import PAGE_MAX_LIMIT
from models_registry import entitlement_services
from models_registry.entitlements import Entitlement, EntitlementMode, Plan
from models_registry.models import AIModel
from prompts.models import ParticleKind
from tests.factories import (
    CompositionFactory,
    GlobalCompositionFactory,
    GlobalParticleFactory,
    ParticleFactory,
    SystemModelFactory,
    UserModelFactory,
)
from tests.models_registry.helpers import MODELS_URL

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("no_rate_limits")]

STAFF = "staff:curator"
FIRST_PAGE_SQL = "SELECT 0 AS _part"


@pytest.fixture
def postgresql() -> None:
    if connection.vendor != "postgresql":
        pytest.skip(f"needs PostgreSQL: one statement orders and limits a UNION's parts; this is {connection.vendor}")


def both_ways(client: APIClient, limit: int) -> tuple[bytes, bytes, list[str]]:
    """The first page's body from the one statement and from the general path (`offset=0`), and
    the statements the first one ran."""
    with CaptureQueriesContext(connection) as ran:
        one = client.get(MODELS_URL, {"limit": limit})
    statements_run = [query["sql"] for query in ran.captured_queries]  # the next request resets the log
    general = client.get(MODELS_URL, {"limit": limit, "offset": 0})
    assert one.status_code == general.status_code == 200, (one.content, general.content)
    return one.content, general.content, statements_run


def rows(parent_count: int = 3, own: int = 7, others: int = 4, disabled: int = 2) -> list[AIModel]:
    parents = SystemModelFactory.create_batch(parent_count)
    SystemModelFactory.create_batch(disabled, is_enabled=False)
    # Names that tie and differ only in case, so the id and the collation decide the order.
    names = [f"Model {n % 3}" if n % 2 else f"model {n}" for n in range(own)]
    AIModel.objects.bulk_create(
        [UserModelFactory.build(parent=parents[n % parent_count], name=f"{name} #{n}") for n, name in enumerate(names)]
        + UserModelFactory.build_batch(others, parent=parents[0], organization_id="org-b")
    )
    return parents


# The limit's bounds and the page's edges: 1, the system models alone (3) and one either side,
# every row (10) and one either side, the largest page.
@pytest.mark.parametrize("limit", [1, 2, 3, 4, 9, 10, 11, PAGE_MAX_LIMIT])
def test_the_one_statement_gives_the_general_paths_page(postgresql, admin_client: APIClient, limit: int) -> None:
    rows()

    one, general, ran = both_ways(admin_client, limit)

    assert one == general
    assert any(sql.startswith(FIRST_PAGE_SQL) for sql in ran), "read by the one statement"


def test_an_organization_on_a_plan_sees_its_plan_and_additions(postgresql, admin_client: APIClient) -> None:
    parents = rows(parent_count=4)
    plan = entitlement_services.plan_save(plan=Plan(name="Starter"), actor=STAFF, system_models=parents[:2])
    entitlement_services.entitlement_save(
        organization_id="org-a", actor=STAFF, mode=EntitlementMode.PLAN, plan=plan, extra_system_models=parents[3:]
    )

    one, general, _ = both_ways(admin_client, 50)
    body = admin_client.get(MODELS_URL).json()

    assert one == general
    assert {row["id"] for row in body["results"] if row["isSystem"]} == {str(p.pk) for p in (*parents[:2], parents[3])}


def test_an_empty_plan_shows_no_system_model(postgresql, admin_client: APIClient) -> None:
    rows()
    entitlement_services.entitlement_save(organization_id="org-a", actor=STAFF, mode=EntitlementMode.PLAN)

    one, general, _ = both_ways(admin_client, 50)

    assert one == general
    assert not [row for row in admin_client.get(MODELS_URL).json()["results"] if row["isSystem"]]


def test_an_organization_without_models_gets_the_system_models(postgresql, client_for) -> None:
    rows()
    client = client_for(org="org-empty")

    one, general, _ = both_ways(client, 2)

    assert one == general
    body = client.get(MODELS_URL, {"limit": 2}).json()
    assert (body["count"], len(body["results"]), body["next"] is not None) == (3, 2, True)


@pytest.mark.parametrize("cap, estimate", [(9, True), (10, False), (11, False)])
def test_the_count_is_capped_as_the_general_paths(
    postgresql, admin_client: APIClient, monkeypatch, cap: int, estimate: bool
) -> None:
    rows()  # 3 system models and 7 of org-a's: 10
    monkeypatch.setattr(pagination, "PAGE_COUNT_CAP", cap)  # a statement of its own for this cap

    one, general, _ = both_ways(admin_client, 4)

    assert one == general
    body = admin_client.get(MODELS_URL, {"limit": 4}).json()
    assert (body["count"], body["countIsEstimate"]) == (min(cap, 10), estimate)


def test_the_page_is_three_statements_and_its_statement_is_prepared(postgresql, admin_client: APIClient) -> None:
    rows()
    admin_client.get(MODELS_URL)

    with CaptureQueriesContext(connection) as ran:
        response = admin_client.get(MODELS_URL)
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        prepared = [sql for (sql,) in cursor.fetchall()]

    assert response.status_code == 200
    # The generations (for the ETag), what the organization may use, the page with its count.
    assert len(ran.captured_queries) == 3, [query["sql"] for query in ran.captured_queries]
    assert any(sql.startswith(FIRST_PAGE_SQL) for sql in prepared)
    assert any("core_cachegeneration" in sql for sql in prepared)


def test_with_preparing_off_the_same_page_is_read_unprepared(postgresql, admin_client: APIClient, settings) -> None:
    rows()
    expected = admin_client.get(MODELS_URL, {"limit": 5}).content
    with connection.cursor() as cursor:
        cursor.execute("DEALLOCATE ALL")  # psycopg forgets what it prepared too (it reads the command)
    settings.DATABASE_PREPARED_STATEMENTS = False

    with CaptureQueriesContext(connection) as ran:
        again = admin_client.get(MODELS_URL, {"limit": 5}).content
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        prepared = cursor.fetchall()

    assert again == expected
    assert any(query["sql"].startswith(FIRST_PAGE_SQL) for query in ran.captured_queries)
    assert prepared == []


def test_statements_are_prepared_again_after_a_rollback(postgresql, admin_client: APIClient) -> None:
    """psycopg deallocates every prepared statement on a ROLLBACK (a savepoint's too): the next
    read prepares them again, and answers the same."""
    rows()
    expected = admin_client.get(MODELS_URL).content
    refused = admin_client.post(MODELS_URL, {"name": ""}, format="json")  # a write refused in its transaction

    assert refused.status_code == 400
    assert admin_client.get(MODELS_URL).content == expected
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        assert any(sql.startswith(FIRST_PAGE_SQL) for (sql,) in cursor.fetchall())


def test_any_other_parameter_takes_the_general_path(admin_client: APIClient) -> None:
    rows()

    with CaptureQueriesContext(connection) as ran:
        for params in ({"limit": 5, "offset": 0}, {"isSystem": "false"}, {"ordering": "name"}, {"search": "model"}):
            assert admin_client.get(MODELS_URL, params).status_code == 200

    assert not [query for query in ran.captured_queries if query["sql"].startswith(FIRST_PAGE_SQL)]


def test_sqlite_reads_the_first_page_by_the_general_path(admin_client: APIClient) -> None:
    if connection.vendor != "sqlite":
        pytest.skip("the SQLite run's case")
    rows()

    with CaptureQueriesContext(connection) as ran:
        body = admin_client.get(MODELS_URL, {"limit": 4}).json()

    assert (body["count"], len(body["results"])) == (10, 4)
    assert not [query for query in ran.captured_queries if query["sql"].startswith(FIRST_PAGE_SQL)]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    system=st.lists(st.tuples(st.sampled_from(["Alpha", "alpha", "Beta", "b", "Zeta"]), st.booleans()), max_size=6),
    own=st.lists(st.sampled_from(["Alpha", "alpha", "beta", "Beta", "z", "Z", "ä"]), max_size=8),
    planned=st.none() | st.sets(st.integers(min_value=0, max_value=5)),
    limit=st.integers(min_value=1, max_value=16),
)
def test_any_data_gives_the_same_page_both_ways(
    postgresql, admin_client: APIClient, system: list, own: list, planned: set | None, limit: int
) -> None:
    AIModel.objects.filter(is_system=False).delete()
    AIModel.objects.all().delete()
    Entitlement.objects.all().delete()
    Plan.objects.all().delete()
    parents = [
        SystemModelFactory(name=f"{name} {n}", is_enabled=enabled)  # unique ignoring case, as the rule wants
        for n, (name, enabled) in enumerate(system)
    ] or [SystemModelFactory(is_enabled=False)]
    AIModel.objects.bulk_create(
        [UserModelFactory.build(parent=parents[n % len(parents)], name=f"{name}{n}") for n, name in enumerate(own)]
    )
    if planned is None:
        entitlement_services.entitlement_save(organization_id="org-a", actor=STAFF, mode=EntitlementMode.ALL)
    else:
        plan = entitlement_services.plan_save(
            plan=Plan(name="Starter"), actor=STAFF, system_models=[p for n, p in enumerate(parents) if n in planned]
        )
        entitlement_services.entitlement_save(
            organization_id="org-a", actor=STAFF, mode=EntitlementMode.PLAN, plan=plan
        )

    one, general, _ = both_ways(admin_client, limit)

    assert one == general


def test_the_system_models_part_joins_no_parent(postgresql, admin_client: APIClient) -> None:
    rows()

    _, _, ran = both_ways(admin_client, 50)

    statement = next(sql for sql in ran if sql.startswith(FIRST_PAGE_SQL))
    system_part, user_part = statement.split(" AS _page0", 1)
    assert "JOIN" not in system_part
    assert "JOIN" in user_part.split(" AS _page1", 1)[0]


# --- The particles' and the compositions' lists: both halves merged in the list's order ------------

PARTICLES_URL = "/v1/prompt-particles"
COMPOSITIONS_URL = "/v1/prompt-compositions"


def prompt_rows() -> None:
    """Global and own particles of several kinds whose names tie across the halves and differ in
    case; compositions of them, global and own; another organization's of each."""
    kinds = [ParticleKind.ROLE, ParticleKind.TONE, ParticleKind.GUARDRAILS]
    shared = [
        GlobalParticleFactory(kind=kinds[n % 3], name=f"{'Shared' if n % 2 else 'shared'} {n % 4}") for n in range(6)
    ]
    own = [ParticleFactory(kind=kinds[n % 3], name=f"{'Shared' if n % 2 else 'shared'} {n % 4}") for n in range(7)]
    ParticleFactory.create_batch(3, organization_id="org-b")
    for n in range(4):
        GlobalCompositionFactory(name=f"Flow {n % 3}", particles=shared[n : n + 2])
        CompositionFactory(name=f"flow {n % 3}", particles=[own[n], shared[n]])
    CompositionFactory(organization_id="org-b", particles=[])


@pytest.mark.parametrize("url", [PARTICLES_URL, COMPOSITIONS_URL])
@pytest.mark.parametrize("limit", [1, 2, 7, 8, 12, 13, 14, PAGE_MAX_LIMIT])
def test_a_merged_lists_one_statement_gives_the_general_paths_page(
    postgresql, admin_client: APIClient, url: str, limit: int
) -> None:
    prompt_rows()

    with CaptureQueriesContext(connection) as ran:
        one = admin_client.get(url, {"limit": limit})
    statements_run = [query["sql"] for query in ran.captured_queries]
    general = admin_client.get(url, {"limit": limit, "offset": 0})

    assert one.status_code == general.status_code == 200
    assert one.content == general.content
    assert any(sql.startswith(FIRST_PAGE_SQL) for sql in statements_run)


@pytest.mark.parametrize("url, total", [(PARTICLES_URL, 13), (COMPOSITIONS_URL, 8)])
@pytest.mark.parametrize("below", [1, 0, -1])
def test_a_merged_lists_count_is_capped_as_the_general_paths(
    postgresql, admin_client: APIClient, monkeypatch, url: str, total: int, below: int
) -> None:
    prompt_rows()
    monkeypatch.setattr(pagination, "PAGE_COUNT_CAP", total - below)

    one = admin_client.get(url, {"limit": 3})
    general = admin_client.get(url, {"limit": 3, "offset": 0})

    assert one.content == general.content
    body = one.json()
    assert (body["count"], body["countIsEstimate"]) == (min(total, total - below), below > 0)
