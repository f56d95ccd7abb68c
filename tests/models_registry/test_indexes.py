"""The indexes on an organization id: the ones its queries use, none they don't (issue 19).

Django gives an indexed CharField a second btree, `varchar_pattern_ops`, which serves only
`LIKE 'prefix%'`; no query runs one on an organization id, so every write paid for an index
that nothing read (migrations models_registry 0013, prompts 0006). History rows are read by
their object's id, never by organization: their tables carry no organization index at all.
"""

import re

import pytest
from django.db import connection

from models_registry.models import AIModel

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]

TENANT_TABLES = {
    "models_registry_aimodel": "aimodel_organization",
    "prompts_promptparticle": "particle_organization",
    "prompts_promptcomposition": "composition_organization",
}
# The system models' partial indexes (WHERE is_system): their order, search, slugs and unique names.
PARTIAL_SYSTEM_INDEXES = (
    "aimodel_system_",
    "models_registry_aimodel_unique_system_",
    "models_registry_aimodel_unique_provider",
)
HISTORY_TABLES = (
    "models_registry_historicalaimodel",
    "prompts_historicalpromptparticle",
    "prompts_historicalpromptcomposition",
)


@pytest.fixture(autouse=True)
def _postgresql() -> None:
    if connection.vendor != "postgresql":
        pytest.skip(f"reads PostgreSQL's catalog; this run uses {connection.vendor}")


def indexes_on_organization(table: str) -> dict[str, str]:
    """Every index of `table` whose first column is organization_id: name -> definition."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = %s", [table])
        rows = cursor.fetchall()
    return {name: definition for name, definition in rows if "(organization_id" in definition}


@pytest.mark.parametrize("table", sorted(TENANT_TABLES))
def test_a_tenant_table_has_no_pattern_index_on_the_organization(table: str) -> None:
    found = indexes_on_organization(table)
    assert not [name for name, definition in found.items() if "(organization_id varchar_pattern_ops" in definition], (
        found
    )
    plain = found[TENANT_TABLES[table]]
    assert plain.endswith("USING btree (organization_id)"), plain


@pytest.mark.parametrize("table", HISTORY_TABLES)
def test_a_history_table_has_no_organization_index(table: str) -> None:
    assert indexes_on_organization(table) == {}


def test_a_read_by_organization_alone_uses_the_plain_index() -> None:
    """The admin's organization filter (no `is_system` in it, so no partial index applies)."""
    sql, params = (
        AIModel.objects.filter(organization_id="organization-test-x").order_by().values("id").query
    ).sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "aimodel_organization" in plan, plan


def test_the_system_flag_has_no_index_of_its_own() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'models_registry_aimodel'")
        standalone = [name for name, definition in cursor.fetchall() if definition.endswith("(is_system)")]
    assert standalone == []


@pytest.mark.parametrize(
    "queryset",
    [
        pytest.param(lambda: AIModel.objects.filter(is_system=True).order_by("name").values("id"), id="by-name"),
        pytest.param(lambda: AIModel.objects.filter(is_system=True, slug="gpt-4o").values("id"), id="by-slug"),
        pytest.param(lambda: AIModel.objects.filter(is_system=True, is_enabled=True).order_by(), id="enabled"),
    ],
)
def test_a_read_of_the_system_models_alone_uses_a_partial_index(queryset) -> None:
    sql, params = queryset().query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    used = re.findall(r"Index (?:Only )?Scan (?:Backward )?(?:using|on) (\w+)", plan)
    assert used, plan
    assert all(name.startswith(PARTIAL_SYSTEM_INDEXES) for name in used), plan
