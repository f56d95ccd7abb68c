"""Keyset paging (core/pagination.py): every row once, in order, however the list is walked;
a cursor that is not one the list gave is a 400 naming `cursor`; the total is capped."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from core import pagination
from core.limits import CURSOR_MAX_LENGTH
from core.models import AuditEvent
from models_registry.models import AIModel
from prompts.models import PromptParticle
from tests.assertions import assert_error_shape
from tests.factories import (
    CompositionFactory,
    GlobalParticleFactory,
    ParticleFactory,
    SystemModelFactory,
    UserModelFactory,
)
from tests.models_registry.helpers import MODELS_URL, assert_refused

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("no_rate_limits")]


def walk(client: APIClient, url: str, link: str = "next") -> list[list[str]]:
    """The ids of every page, following `link` from `url` to the end."""
    pages = []
    while url:
        response = client.get(url)
        assert response.status_code == 200, response.json()
        body = response.json()
        pages.append([item["id"] for item in body["results"]])
        url = body[link]
    return pages


def everything(client: APIClient, url: str) -> list[str]:
    body = client.get(f"{url}{'&' if '?' in url else '?'}limit=200").json()
    assert body["next"] is None
    return [item["id"] for item in body["results"]]


@pytest.fixture
def models(parent: AIModel) -> list[AIModel]:
    """Both parts of the models list: 4 system models (one of them the parent), 23 of org-a's
    user models (some names shared, so the id breaks ties), and another organization's."""
    SystemModelFactory.create_batch(3)
    names = [f"Model {n % 9}" if n % 2 else f"model {n}" for n in range(23)]
    own = [UserModelFactory.build(parent=parent, name=f"{name} #{n}") for n, name in enumerate(names)]
    AIModel.objects.bulk_create(own + UserModelFactory.build_batch(5, parent=parent, organization_id="org-b"))
    return own


@pytest.mark.parametrize("limit", [1, 3, 4, 5, 26, 27, 28])
def test_next_links_walk_every_row_once_in_order(admin_client: APIClient, models: list, limit: int) -> None:
    expected = everything(admin_client, MODELS_URL)
    assert len(expected) == 27

    pages = walk(admin_client, f"{MODELS_URL}?limit={limit}")

    assert [row for page in pages for row in page] == expected
    assert all(len(page) == limit for page in pages[:-1])


@pytest.mark.parametrize("limit", [1, 4, 5, 27])
def test_previous_links_walk_back_the_same_pages(admin_client: APIClient, models: list, limit: int) -> None:
    forwards = walk(admin_client, f"{MODELS_URL}?limit={limit}")
    last = admin_client.get(f"{MODELS_URL}?limit={limit}")
    for _ in range(len(forwards) - 1):
        last = admin_client.get(last.json()["next"])

    backwards = walk(admin_client, last.json()["previous"], link="previous") if len(forwards) > 1 else []

    assert backwards == forwards[-2::-1]
    first = admin_client.get(f"{MODELS_URL}?limit={limit}").json()
    assert first["previous"] is None


def test_a_row_added_or_deleted_before_the_cursor_shifts_nothing(
    admin_client: APIClient, models: list, parent: AIModel
) -> None:
    first = admin_client.get(f"{MODELS_URL}?limit=10").json()
    seen = [item["id"] for item in first["results"]]
    expected_rest = [row for row in everything(admin_client, MODELS_URL) if row not in seen]

    UserModelFactory(parent=parent, name="000 first of all")  # sorts before every page read so far
    AIModel.objects.filter(pk=seen[-1]).delete()  # the cursor's own row

    rest = walk(admin_client, first["next"])

    assert [row for page in rest for row in page] == expected_rest


def test_next_link_carries_a_cursor_and_no_offset(admin_client: APIClient, models: list) -> None:
    body = admin_client.get(f"{MODELS_URL}?limit=5&offset=5").json()

    assert "cursor=" in body["next"] and "offset=" not in body["next"]
    assert "cursor=" in body["previous"]
    following = admin_client.get(body["next"]).json()
    assert [item["id"] for item in following["results"]] == everything(admin_client, MODELS_URL)[10:15]


def test_a_descending_time_order_keeps_microseconds(admin_client: APIClient, models: list) -> None:
    """Rows one microsecond apart: a cursor rounded to the millisecond would show one twice."""
    base = timezone.now().replace(microsecond=500_000)
    for n, model in enumerate(models):
        AIModel.objects.filter(pk=model.pk).update(created_at=base + datetime.timedelta(microseconds=n % 3))
    url = f"{MODELS_URL}?isSystem=false&ordering=-createdAt&limit=2"

    rows = [row for page in walk(admin_client, url) for row in page]

    assert rows == everything(admin_client, f"{MODELS_URL}?isSystem=false&ordering=-createdAt")
    assert len(rows) == len(set(rows)) == 23


@pytest.mark.parametrize("ordering", ["name", "-name", "contextWindow", "-updatedAt", "name,-createdAt"])
def test_every_ordering_walks_in_order(admin_client: APIClient, models: list, ordering: str) -> None:
    expected = everything(admin_client, f"{MODELS_URL}?ordering={ordering}")

    pages = walk(admin_client, f"{MODELS_URL}?ordering={ordering}&limit=4")

    assert [row for page in pages for row in page] == expected


def test_filters_and_search_walk_too(admin_client: APIClient, models: list) -> None:
    url = f"{MODELS_URL}?search=model%201&isEnabled=true"
    expected = everything(admin_client, url)
    assert 2 < len(expected) < 27

    assert [row for page in walk(admin_client, f"{url}&limit=2") for row in page] == expected


def test_particles_compositions_and_audit_events_walk(admin_client: APIClient) -> None:
    GlobalParticleFactory.create_batch(4)
    own = ParticleFactory.create_batch(7)
    ParticleFactory.create_batch(2, organization_id="org-b")
    for n in range(6):
        CompositionFactory(name=f"Composition {n % 4}.{n}", particles=own[:n])
    assert PromptParticle.objects.count() == 13
    events = AuditEvent.objects.filter(organization_id="org-a").count()
    assert events >= 6

    for url, total in (("/v1/prompt-particles", 11), ("/v1/prompt-compositions", 6), ("/v1/audit-events", events)):
        expected = everything(admin_client, url)
        pages = walk(admin_client, f"{url}?limit=3")
        assert [row for page in pages for row in page] == expected
        assert len(expected) == total


# --- What is not a cursor ----------------------------------------------------------------------


def cursor_of(client: APIClient, url: str) -> str:
    next_link = client.get(url).json()["next"]
    return next_link.split("cursor=")[1].split("&")[0]


@pytest.mark.parametrize(
    "cursor",
    [
        "",
        "not-base64!",
        "bm90IGpzb24",  # "not json"
        "WzEsMl0",  # [1,2]: not [order, values, backwards]
        "WyItaXNfc3lzdGVtLG5hbWUsaWQiLFt0cnVlLCJhIl0sZmFsc2Vd",  # two values for three keys
        "WyItaXNfc3lzdGVtLG5hbWUsaWQiLFt0cnVlLCJhIiwibm90LWEtdXVpZCJdLGZhbHNlXQ",  # an id that is no UUID
        "WyItaXNfc3lzdGVtLG5hbWUsaWQiLFt0cnVlLG51bGwsbnVsbF0sZmFsc2Vd",  # nulls
        "WyItaXNfc3lzdGVtLG5hbWUsaWQiLFt0cnVlLCJhIiwiYSJdLCJubyJd",  # backwards is not a boolean
    ],
)
def test_a_cursor_the_list_did_not_give_is_a_400(admin_client: APIClient, models: list, cursor: str) -> None:
    response = admin_client.get(MODELS_URL, {"cursor": cursor})

    assert_error_shape(response, 400)
    assert "Not a cursor this list gave" in assert_refused(response, "cursor")[0]


def test_a_cursor_of_another_order_is_a_400(admin_client: APIClient, models: list) -> None:
    cursor = cursor_of(admin_client, f"{MODELS_URL}?limit=2")

    response = admin_client.get(MODELS_URL, {"cursor": cursor, "ordering": "name"})

    assert_error_shape(response, 400)
    assert "another order" in assert_refused(response, "cursor")[0]


def test_cursor_with_offset_is_a_400(admin_client: APIClient, models: list) -> None:
    cursor = cursor_of(admin_client, f"{MODELS_URL}?limit=2")

    response = admin_client.get(MODELS_URL, {"cursor": cursor, "offset": 0})

    assert_error_shape(response, 400)
    assert assert_refused(response, "cursor") == ["Send cursor or offset, not both."]


def cursor_of_length(length: int, model_id: str) -> str:
    """A cursor of the models list, `length` characters long (its name padded to fit)."""
    keys = pagination.sort_keys(AIModel.objects.order_by("-is_system", "name", "id"))
    for size in range(length):
        encoded = pagination.Cursor([True, "a" * size, model_id], backwards=False).encode(keys)
        if len(encoded) >= length:
            return encoded if len(encoded) == length else encoded[:-1] + "A" * (length - len(encoded) + 1)
    raise AssertionError(length)


@pytest.mark.parametrize(
    "length, status",
    [(CURSOR_MAX_LENGTH - 1, 200), (CURSOR_MAX_LENGTH, 200), (CURSOR_MAX_LENGTH + 2, 400)],
)
def test_cursor_length_is_bounded(admin_client: APIClient, models: list, length: int, status: int) -> None:
    """A cursor at the bound is read; one past it is refused before it is decoded. (Base64 has no
    length of 4n + 1: max + 2 is the shortest well-formed one past the bound.)"""
    cursor = cursor_of_length(length, str(models[0].id))
    assert len(cursor) == length

    response = admin_client.get(MODELS_URL, {"cursor": cursor})

    assert response.status_code == status, response.content[:300]


def test_one_character_past_the_bound_is_refused(admin_client: APIClient, models: list) -> None:
    response = admin_client.get(MODELS_URL, {"cursor": "A" * (CURSOR_MAX_LENGTH + 1)})

    assert_error_shape(response, 400)
    assert "Not a cursor this list gave" in assert_refused(response, "cursor")[0]


def test_version_lists_page_by_offset(admin_client: APIClient, parent: AIModel) -> None:
    model = UserModelFactory(parent=parent)

    response = admin_client.get(f"{MODELS_URL}/{model.id}/versions", {"cursor": "abc"})

    assert_error_shape(response, 400)
    assert assert_refused(response, "cursor") == ["Unknown query parameter."]
    admin_client.patch(f"{MODELS_URL}/{model.id}", {"systemPromptOverride": "Be brief."}, format="json")
    first = admin_client.get(f"{MODELS_URL}/{model.id}/versions?limit=1").json()
    assert (first["count"], first["countIsEstimate"]) == (2, False)
    assert "offset=1" in first["next"] and first["previous"] is None


# --- The capped total --------------------------------------------------------------------------


@pytest.mark.parametrize("rows, count, estimate", [(4, 4, False), (5, 5, False), (6, 5, True)])
def test_count_is_exact_up_to_the_cap(
    admin_client: APIClient, parent: AIModel, monkeypatch: pytest.MonkeyPatch, rows: int, count: int, estimate: bool
) -> None:
    monkeypatch.setattr(pagination, "PAGE_COUNT_CAP", 5)
    AIModel.objects.bulk_create(UserModelFactory.build_batch(rows, parent=parent))
    url = f"{MODELS_URL}?isSystem=false"

    first = admin_client.get(f"{url}&limit=1").json()
    second = admin_client.get(first["next"]).json()
    whole = admin_client.get(f"{url}&limit=200").json()

    for body in (first, second):  # pages that count what they did not read
        assert (body["count"], body["countIsEstimate"]) == (count, estimate)
    assert (whole["count"], whole["countIsEstimate"]) == (rows, False)  # one page read them all: exact


def test_parts_read_whole_are_counted_as_read(admin_client: APIClient, models: list, django_assert_num_queries) -> None:
    """The system models fit on the first page: only the organization's part is counted."""
    admin_client.get(f"{MODELS_URL}?limit=10&offset=0")
    # The general path (`offset` given; only `limit` is one statement on PostgreSQL, test_first_page.py):
    # the generations, the entitled set, the two parts, the count of the second.
    with django_assert_num_queries(5):
        body = admin_client.get(f"{MODELS_URL}?limit=10&offset=0").json()

    assert (body["count"], body["countIsEstimate"]) == (27, False)


@pytest.mark.parametrize("own, count, estimate", [(4, 4, False), (5, 5, False), (6, 5, True)])
def test_capped_count_is_one_statement_over_the_parts_as_django_compiled_them(
    monkeypatch: pytest.MonkeyPatch, django_assert_num_queries, own: int, count: int, estimate: bool
) -> None:
    """`capped_count` wraps each part's own SQL and parameters: another organization's rows and
    the other half's never count, and the cap holds at cap-1, cap and cap+1."""
    monkeypatch.setattr(pagination, "PAGE_COUNT_CAP", 5)
    ParticleFactory.create_batch(own)
    ParticleFactory.create_batch(7, organization_id="org-b")
    GlobalParticleFactory.create_batch(2)
    own_part = PromptParticle.objects.filter(organization_id="org-a", is_system=False).order_by("name")

    with django_assert_num_queries(1):
        assert pagination.capped_count(own_part) == (count, estimate)


def test_capped_count_of_parts_nothing_can_match() -> None:
    """A part whose filter can match nothing (`pk__in=[]`, as an organization entitled to no
    system model has) compiles to no SQL: it counts 0 and the other parts are still counted."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    ParticleFactory.create_batch(3)
    nothing = PromptParticle.objects.filter(pk__in=[])
    own_part = PromptParticle.objects.filter(organization_id="org-a", is_system=False)

    with CaptureQueriesContext(connection) as captured:
        assert pagination.capped_count(nothing) == (0, False)
    assert captured.captured_queries == []
    parts = (nothing, own_part) if connection.features.supports_slicing_ordering_in_compound else (own_part,)
    assert pagination.capped_count(*parts) == (3, False)


# --- Lists merged from their parts (PostgreSQL) ------------------------------------------------


@pytest.fixture
def interleaved_particles() -> list[PromptParticle]:
    """Global and own particles whose kinds and names interleave (and tie across the halves, so
    the id decides), plus another organization's that must never show."""
    made = []
    for n in range(13):
        kind = ("role", "tone", "format")[n % 3]
        factory = GlobalParticleFactory if n % 2 else ParticleFactory
        made.append(factory(kind=kind, name=f"Particle {n % 5}"))
    ParticleFactory.create_batch(3, organization_id="org-b")
    return made


@pytest.mark.parametrize("limit", [1, 2, 5, 12, 13, 14])
@pytest.mark.parametrize(
    "url", ["/v1/prompt-particles", "/v1/prompt-particles?ordering=-name", MODELS_URL + "?ordering=name"]
)
def test_a_merged_list_walks_forwards_and_back_in_order(
    admin_client: APIClient, interleaved_particles, models, url: str, limit: int
) -> None:
    """Where the list is read as its parts merged (its order does not start with `isSystem`),
    `next` and `previous` walk every row once, in the order of the whole list read at once."""
    expected = everything(admin_client, url)
    separator = "&" if "?" in url else "?"
    pages = walk(admin_client, f"{url}{separator}limit={limit}")
    assert [row for page in pages for row in page] == expected

    last = admin_client.get(f"{url}{separator}limit={limit}&offset={(len(expected) - 1) // limit * limit}").json()
    back = walk(admin_client, last["previous"], link="previous") if last["previous"] else []
    assert [row for page in reversed(back) for row in page] + [r["id"] for r in last["results"]] == expected


@pytest.mark.parametrize("offset", [0, 1, 6, 12, 13, 14])
def test_a_merged_list_pages_by_offset(admin_client: APIClient, interleaved_particles, offset: int) -> None:
    expected = everything(admin_client, "/v1/prompt-particles")
    body = admin_client.get(f"/v1/prompt-particles?limit=4&offset={offset}").json()

    assert [row["id"] for row in body["results"]] == expected[offset : offset + 4]
    assert (body["count"], body["countIsEstimate"]) == (13, False)


@pytest.mark.parametrize("own, count, estimate", [(4, 4, False), (5, 5, False), (6, 5, True)])
def test_one_half_alone_is_counted_up_to_one_past_the_cap(
    admin_client: APIClient, monkeypatch: pytest.MonkeyPatch, own: int, count: int, estimate: bool
) -> None:
    """No global particles, `own` of the organization's, the cap at 5: cap-1, cap and cap+1 in
    one half (a half counted only up to the cap would report 6 rows as exactly 5)."""
    monkeypatch.setattr(pagination, "PAGE_COUNT_CAP", 5)
    ParticleFactory.create_batch(own)

    body = admin_client.get("/v1/prompt-particles?limit=1").json()

    assert (body["count"], body["countIsEstimate"]) == (count, estimate)


@pytest.mark.parametrize("own, count, estimate", [(1, 5, False), (2, 5, True), (3, 5, True)])
def test_a_merged_lists_count_is_capped_across_its_parts(
    admin_client: APIClient, monkeypatch: pytest.MonkeyPatch, own: int, count: int, estimate: bool
) -> None:
    """4 global particles and `own` of the organization's, the cap at 5: neither part is past it
    alone, their sum is."""
    monkeypatch.setattr(pagination, "PAGE_COUNT_CAP", 5)
    GlobalParticleFactory.create_batch(4)
    ParticleFactory.create_batch(own)

    body = admin_client.get("/v1/prompt-particles?limit=1").json()

    assert (body["count"], body["countIsEstimate"]) == (count, estimate)


@pytest.mark.postgres
def test_a_merged_list_is_one_statement_reading_each_part_through_its_index(
    admin_client: APIClient, interleaved_particles
) -> None:
    """On PostgreSQL the page is one UNION ALL of the two halves, each an index scan in the
    list's order (no OR sorted after reading every visible row)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    if connection.vendor != "postgresql":
        pytest.skip(
            f"needs PostgreSQL: SQLite cannot order and limit each part of a UNION; this run uses {connection.vendor}"
        )
    with CaptureQueriesContext(connection) as queries:
        admin_client.get("/v1/prompt-particles?limit=5&offset=0")  # the general path
    statements = [query["sql"] for query in queries]
    (page,) = [sql for sql in statements if "UNION ALL" in sql and not sql.startswith("SELECT COUNT")]
    # The total (the list is longer than the page): one statement too, the two halves' capped counts.
    (count,) = [sql for sql in statements if sql.startswith("SELECT COUNT")]
    assert "UNION ALL" in count and count.count("LIMIT") == 2, count  # each half capped on its own
    # The first page with nothing but `limit`: one statement, the page and the counts (test_first_page.py).
    with CaptureQueriesContext(connection) as queries:
        admin_client.get("/v1/prompt-particles?limit=5")
    (first_page,) = [query["sql"] for query in queries if query["sql"].startswith("SELECT 0 AS _part")]

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE prompts_promptparticle")
        cursor.execute("SET LOCAL enable_seqscan = off")  # a table of a few pages is scanned whatever its indexes
        for statement in (page, first_page):
            # The one statement sorts its parts' rows again (a few): on a table this small the
            # planner may then sort a half read through another index; without sorts to choose
            # from, it reads each half through the index of its order, which must exist for it.
            cursor.execute(f"SET LOCAL enable_sort = {'off' if statement is first_page else 'on'}")
            cursor.execute(f"EXPLAIN {statement}")
            plan = "\n".join(row[0] for row in cursor.fetchall())
            assert "particle_global_order" in plan, plan
            assert "particle_own_order" in plan, plan
            assert "BitmapOr" not in plan, plan


@pytest.mark.postgres
def test_a_search_reads_each_part_through_its_own_trigram_index(admin_client: APIClient, models: list) -> None:
    """`search=` reads the organization's part through the trigram index that leads with the
    organization (only its names' matches read), and the system part through the system models'
    one; no search reads a whole-table index (migration models_registry 0012)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    if connection.vendor != "postgresql":
        pytest.skip(f"needs PostgreSQL: its trigram indexes (pg_trgm, btree_gin); this run uses {connection.vendor}")
    with CaptureQueriesContext(connection) as queries:
        body = admin_client.get(f"{MODELS_URL}?search=model%201&limit=2").json()
    assert body["results"], body
    reads = [query["sql"] for query in queries if "LIKE UPPER(" in query["sql"] and "LIMIT" in query["sql"]]
    own = [sql for sql in reads if "NOT " in sql and "organization_id" in sql]
    system = [sql for sql in reads if sql not in own]
    assert own and system, reads

    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname FROM pg_indexes WHERE indexname LIKE 'aimodel_%%name_trgm'")
        assert sorted(name for (name,) in cursor.fetchall()) == ["aimodel_system_name_trgm", "aimodel_user_name_trgm"]
        # The planner's estimates of UPPER(name), which no partial index gives it.
        cursor.execute("SELECT stxname FROM pg_statistic_ext WHERE stxname = 'aimodel_upper_name'")
        assert cursor.fetchall() == [("aimodel_upper_name",)]

        # On a table of a few pages the planner picks whichever index names the organization: in
        # this test's transaction (rolled back after it) only the key and the trigram indexes stay.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # checks the rows' deferred keys now: no ALTER while pending
        cursor.execute(
            "SELECT indexname FROM pg_indexes WHERE tablename = 'models_registry_aimodel' "
            "AND indexname NOT LIKE '%%_name_trgm' AND indexname NOT LIKE '%%_pkey'"
        )
        others = [name for (name,) in cursor.fetchall()]
        for index in others:
            cursor.execute(f'ALTER TABLE models_registry_aimodel DROP CONSTRAINT IF EXISTS "{index}"')
            cursor.execute(f'DROP INDEX IF EXISTS "{index}"')
        cursor.execute("ANALYZE models_registry_aimodel")
        cursor.execute("SET LOCAL enable_seqscan = off")
        plans = {}
        for name, sql in (("own", own[0]), ("system", system[0])):
            cursor.execute(f"EXPLAIN {sql}")
            plans[name] = "\n".join(row[0] for row in cursor.fetchall())
    assert "aimodel_user_name_trgm" in plans["own"], plans["own"]
    own_condition = next(line for line in plans["own"].splitlines() if "Index Cond" in line)
    assert "organization_id" in own_condition and "~~" in own_condition, plans["own"]
    assert "aimodel_system_name_trgm" in plans["system"], plans["system"]


@pytest.mark.parametrize("offset", [1, 20, 26, 27])
def test_an_offset_page_reads_the_skipped_rows_as_ids_only(admin_client: APIClient, models: list, offset: int) -> None:
    """Past an offset, the rows skipped come from a subquery of ids (which the index that serves
    the order answers alone), and only the page's rows are read whole; the page is the same."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    expected = everything(admin_client, MODELS_URL)
    with CaptureQueriesContext(connection) as queries:
        body = admin_client.get(f"{MODELS_URL}?limit=3&offset={offset}").json()

    assert [row["id"] for row in body["results"]] == expected[offset : offset + 3]
    deferred = [query["sql"] for query in queries if " IN (SELECT" in query["sql"] and "OFFSET" in query["sql"]]
    assert deferred, [query["sql"] for query in queries]
    assert all("LEFT OUTER JOIN" not in sql.split(" IN (SELECT", 1)[1] for sql in deferred)  # ids: no join
