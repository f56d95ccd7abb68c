"""core.statements and core.lookups: prepared statements, SQL the ORM compiles once, `__any`.

A template is compiled from querysets built with markers; binding puts each call's values where
the markers were, and a marker the SQL changed on its way in (a `%...%` search) is refused, as
its place could not be bound. `field__any` matches what `field__in` matches, as one array
parameter on PostgreSQL, so the statement's text does not change with the number of values.
"""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.models import F
from django.test.utils import CaptureQueriesContext

from core import statements
from models_registry.models import AIModel
from tests.factories import SystemModelFactory, UserModelFactory

pytestmark = [pytest.mark.django_db]


@pytest.fixture
def postgresql() -> None:
    if connection.vendor != "postgresql":
        pytest.skip(f"needs PostgreSQL: its array parameters and prepared statements; this is {connection.vendor}")


def test_a_template_binds_each_slot_where_its_marker_was() -> None:
    def build(markers: statements.Markers):
        queryset = AIModel.objects.filter(organization_id=markers.text("organization"), name="Fixed").values("pk")
        sql, params = queryset.query.get_compiler(using=queryset.db).as_sql()
        return f"{sql} LIMIT %s", [*params, statements.Slot("limit")]

    template = statements.Template.compile(build)
    queryset = AIModel.objects.filter(organization_id="org-a", name="Fixed").values("pk")
    sql, params = queryset.query.get_compiler(using=queryset.db).as_sql()

    assert template.slots == {"organization", "limit"}
    assert template.sql == f"{sql} LIMIT %s"
    assert template.bind(organization="org-a", limit=3) == [*params, 3]
    with pytest.raises(TypeError, match="limit"):
        template.bind(organization="org-a")


def test_a_marker_changed_on_its_way_into_the_sql_is_refused() -> None:
    def build(markers: statements.Markers):
        queryset = AIModel.objects.filter(name__icontains=markers.text("search")).values("pk")
        return queryset.query.get_compiler(using=queryset.db).as_sql()

    with pytest.raises(Exception, match="marker"):
        statements.Template.compile(build)


def test_a_uuid_list_marker_is_one_parameter_on_postgresql(postgresql) -> None:
    def build(markers: statements.Markers):
        queryset = AIModel.objects.filter(pk__any=markers.uuids("ids")).values("pk")
        return queryset.query.get_compiler(using=queryset.db).as_sql()

    template = statements.Template.compile(build)
    first, second = SystemModelFactory.create_batch(2)

    assert template.slots == {"ids"}
    for ids, expected in (([], set()), ([first.pk], {first.pk}), ([first.pk, second.pk], {first.pk, second.pk})):
        found = {pk for (pk,) in statements.fetch_rows(template.sql, template.bind(ids=ids))}
        assert found == expected


@pytest.mark.parametrize("count", [0, 1, 2, 5])
def test_any_matches_what_in_matches(count: int) -> None:
    models = SystemModelFactory.create_batch(5)
    wanted = [model.pk for model in models[:count]]
    children = {UserModelFactory(parent=model).pk for model in models[:count]}
    if count < 5:
        UserModelFactory(parent=models[-1])  # a child of a parent not asked for

    found = set(AIModel.objects.filter(pk__any=wanted).values_list("pk", flat=True))
    by_parent = set(AIModel.objects.filter(parent_id__any=wanted).values_list("pk", flat=True))

    assert found == set(AIModel.objects.filter(pk__in=wanted).values_list("pk", flat=True)) == set(wanted)
    assert by_parent == set(AIModel.objects.filter(parent_id__in=wanted).values_list("pk", flat=True)) == children


def test_any_writes_the_same_sql_for_any_number_of_values(postgresql) -> None:
    one = str(AIModel.objects.filter(pk__any=[SystemModelFactory().pk]).query)
    texts = {
        AIModel.objects.filter(pk__any=ids).query.get_compiler(using="default").as_sql()[0]
        for ids in ([], [SystemModelFactory().pk], [SystemModelFactory().pk for _ in range(3)])
    }

    assert "ANY" in one
    assert len(texts) == 1


def test_a_prepared_statement_is_logged_with_its_values(postgresql) -> None:
    with CaptureQueriesContext(connection) as ran:
        rows = statements.fetch_rows("SELECT %s::text, %s::int", ["org-a", 3])

    assert rows == [("org-a", 3)]
    assert ran.captured_queries[0]["sql"] == "SELECT 'org-a'::text, 3::int"


def test_the_cursor_prepares_on_postgresql_only_when_asked(settings) -> None:
    expected = connection.vendor == "postgresql"
    with statements.cursor() as cursor:
        assert isinstance(cursor.cursor, statements.PreparingCursor) is expected
    settings.DATABASE_PREPARED_STATEMENTS = False
    with statements.cursor() as cursor:
        assert not isinstance(cursor.cursor, statements.PreparingCursor)


@pytest.mark.parametrize("count", [0, 1, 3])
def test_any_on_text_matches_what_in_matches(count: int) -> None:
    models = SystemModelFactory.create_batch(3)
    names = [model.name for model in models[:count]]

    found = set(AIModel.objects.filter(name__any=names).values_list("name", flat=True))

    assert found == set(AIModel.objects.filter(name__in=names).values_list("name", flat=True)) == set(names)


def test_any_of_expressions_is_written_as_in() -> None:
    parent = SystemModelFactory()
    child = UserModelFactory(parent=parent)
    UserModelFactory()  # another parent's

    queryset = AIModel.objects.filter(pk__any=[F("parent_id")])

    assert list(queryset.values_list("pk", flat=True)) == []  # no model is its own parent
    assert set(AIModel.objects.filter(parent_id__any=[parent.pk, None]).values_list("pk", flat=True)) == {child.pk}
    assert " IN " in str(queryset.query)


def test_a_value_the_log_cannot_write_in_is_logged_as_sent(postgresql, monkeypatch) -> None:
    import psycopg

    def refuse(sql, params):
        raise psycopg.DataError("cannot write it in")

    monkeypatch.setattr(connection.ops, "compose_sql", refuse)
    with CaptureQueriesContext(connection) as ran:
        rows = statements.fetch_rows("SELECT %s::int", [7])

    assert rows == [(7,)]
    assert ran.captured_queries[0]["sql"] == "SELECT %s::int"
