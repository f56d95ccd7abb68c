"""Moving AuditEvent and IdempotencyRecord from models_registry to core keeps every row.

The move is state-only (`SeparateDatabaseAndState` in core 0001 and models_registry 0005): the
tables keep their names through `db_table`, and no table is dropped or created. The first test
takes the database back to the schema before the move, fills every table of the apps (history
included) through the historical models of that state, migrates forward and finds every row,
with its values, through the current models; the others check that the two migrations hold no
SQL statement, forwards or backwards. CI runs them on SQLite and on PostgreSQL.

The first test leaves the database migrated to the latest state whatever happens in it, so the
tests after it find the schema they expect (the transactional test's flush empties the rows).
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from decimal import Decimal
from typing import Any

import pytest
from django.apps import apps as current_apps
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.test.utils import CaptureQueriesContext

from core.models import AuditEvent, IdempotencyRecord
from models_registry.models import AIModel
from models_registry.slugs import SLUG_PATTERN
from prompts.models import PromptComposition, PromptCompositionParticle, PromptParticle

pytestmark = pytest.mark.django_db(transaction=True)

APPS = ("models_registry", "prompts", "core")
# The schema before the move: core not applied at all.
BEFORE_MOVE = [
    ("models_registry", "0004_idempotency_replays_headers"),
    ("prompts", "0003_name_not_blank"),
    ("core", None),
]
MOVE = [
    ("core", "0001_initial"),
    ("models_registry", "0005_move_audit_and_idempotency_to_core"),
]
MOVED_TABLES = ("models_registry_auditevent", "models_registry_idempotencyrecord")
# Tables that migrations after the move create (core 0002: the resolved cache's generations).
TABLES_ADDED_SINCE = {
    "core_cachegeneration",
    "core_organization",
    "models_registry_plan",
    "models_registry_plan_system_models",
    "models_registry_entitlement",
    "models_registry_entitlement_extra_system_models",
}
# Columns that migrations after the move add (models_registry 0006: the lifecycle), empty on old rows.
COLUMNS_ADDED_SINCE = {
    "models_registry_aimodel": ("deprecated_at", "retires_at", "successor_id"),
    "models_registry_historicalaimodel": ("deprecated_at", "retires_at", "successor_id"),
}
# Every table of the apps before the move: each one gets rows.
APP_TABLES = {
    "models_registry_aimodel",
    "models_registry_historicalaimodel",
    "models_registry_auditevent",
    "models_registry_idempotencyrecord",
    "prompts_promptparticle",
    "prompts_promptcomposition",
    "prompts_promptcompositionparticle",
    "prompts_historicalpromptparticle",
    "prompts_historicalpromptcomposition",
}
TABLE_DDL = re.compile(r"\b(CREATE|DROP|ALTER|RENAME)\s+TABLE\b", re.IGNORECASE)

T0 = dt.datetime(2026, 1, 2, 3, 4, 5, 123456, tzinfo=dt.UTC)
ORG = "organization-test-migrations"
ACTOR = "member:member-test-migrations"


def migrate(targets: list[tuple[str, str | None]]) -> None:
    """Migrate to `targets` with a fresh executor (its graph read from the database now)."""
    MigrationExecutor(connection).migrate(targets)


def migrate_to_latest() -> None:
    migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())


def state_apps(targets: list[tuple[str, str | None]]) -> Any:
    """The historical apps at `targets` (an unapplied app, `(app, None)`, is simply left out)."""
    nodes = [target for target in targets if target[1] is not None]
    return MigrationExecutor(connection).loader.project_state(nodes).apps


def app_models(apps: Any) -> list[Any]:
    """The concrete models of the apps, each with a table of its own."""
    return [
        model
        for model in apps.get_models()
        if model._meta.app_label in APPS and model._meta.managed and not model._meta.proxy
    ]


def table_rows(apps: Any) -> dict[str, list[dict[str, Any]]]:
    """Every row of every app table, by table name, read through the given apps' models."""
    return {model._meta.db_table: list(model._default_manager.order_by("pk").values()) for model in app_models(apps)}


def table_oids(tables: set[str]) -> dict[str, int]:
    """PostgreSQL's identity of each table (a table dropped and created again has a new one)."""
    if connection.vendor != "postgresql":
        return {}
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relname, oid FROM pg_class WHERE relkind = 'r' AND relname = ANY(%s)",
            [sorted(tables)],
        )
        oids = {name: int(oid) for name, oid in cursor.fetchall()}
    assert set(oids) == tables
    return oids


def fill_before_move(apps: Any) -> dict[str, Any]:
    """One row (at least) in every app table, written at the schema before the move."""
    old_aimodel = apps.get_model("models_registry", "AIModel")
    old_historical_aimodel = apps.get_model("models_registry", "HistoricalAIModel")
    old_audit_event = apps.get_model("models_registry", "AuditEvent")
    old_idempotency_record = apps.get_model("models_registry", "IdempotencyRecord")
    old_particle = apps.get_model("prompts", "PromptParticle")
    old_historical_particle = apps.get_model("prompts", "HistoricalPromptParticle")
    old_composition = apps.get_model("prompts", "PromptComposition")
    old_historical_composition = apps.get_model("prompts", "HistoricalPromptComposition")
    old_item = apps.get_model("prompts", "PromptCompositionParticle")

    particle = old_particle.objects.create(
        organization_id=ORG, is_system=False, name="Migration tone", kind="tone", content="Be brief."
    )
    composition = old_composition.objects.create(
        organization_id=ORG, is_system=False, name="Migration prompt", description="Kept across the move."
    )
    item = old_item.objects.create(composition=composition, particle=particle, position=0)
    system = old_aimodel.objects.create(
        name="Migration system model",
        description="A system model.",
        is_system=True,
        organization_id=None,
        parent=None,
        provider="openai",
        provider_model_id="gpt-migration",
        context_window=128_000,
        max_tokens=16_384,
        supports_streaming=True,
        supports_tools=True,
        supports_vision=False,
        supports_reasoning=True,
        credit_multiplier=Decimal("1.2500"),
    )
    user = old_aimodel.objects.create(
        name="Migration user model",
        is_system=False,
        organization_id=ORG,
        parent=system,
        provider=None,
        provider_model_id=None,
        credit_multiplier=None,
        supports_tools=None,
        supports_vision=None,
        supports_reasoning=None,
        context_window=64_000,
        max_tokens=4_096,
        supports_streaming=False,
        system_prompt_composition=composition,
    )
    history = {"history_date": T0, "history_type": "+", "history_actor": ACTOR}
    old_historical_particle.objects.create(
        id=particle.id,
        created_at=particle.created_at,
        updated_at=particle.updated_at,
        organization_id=particle.organization_id,
        is_system=particle.is_system,
        name=particle.name,
        kind=particle.kind,
        content=particle.content,
        **history,
    )
    old_historical_composition.objects.create(
        id=composition.id,
        created_at=composition.created_at,
        updated_at=composition.updated_at,
        organization_id=composition.organization_id,
        is_system=composition.is_system,
        name=composition.name,
        description=composition.description,
        particle_ids=[str(particle.id)],
        **history,
    )
    for row in (system, user):
        old_historical_aimodel.objects.create(
            **{
                field.attname: getattr(row, field.attname)
                for field in old_aimodel._meta.concrete_fields
                if field.attname in {f.attname for f in old_historical_aimodel._meta.concrete_fields}
            },
            **history,
        )
    audit = old_audit_event.objects.create(
        occurred_at=T0,
        organization_id=ORG,
        actor=ACTOR,
        action="created",
        object_type="model",
        object_id=user.id,
        object_repr=user.name,
        changed_fields=["name", "parentId"],
        request_id="req-migration-1",
    )
    idempotency = old_idempotency_record.objects.create(
        organization_id=ORG,
        actor=ACTOR,
        key="key-migration-1",
        request_fingerprint="f" * 64,
        response_status=201,
        response_body={"id": str(user.id), "name": user.name},
        response_headers={"Location": f"/v1/models/{user.id}", "ETag": '"1"'},
        expires_at=T0 + dt.timedelta(days=1),
    )
    return {
        "particle": particle.pk,
        "composition": composition.pk,
        "item": item.pk,
        "system": system.pk,
        "user": user.pk,
        "audit": audit.pk,
        "idempotency": idempotency.pk,
    }


def assert_rows_found_through_current_models(pks: dict[str, Any]) -> None:
    system = AIModel.objects.get(pk=pks["system"])
    assert (system.is_system, system.parent_id, system.organization_id) == (True, None, None)
    assert (system.provider, system.provider_model_id) == ("openai", "gpt-migration")
    assert (system.credit_multiplier, system.context_window, system.max_tokens) == (Decimal("1.25"), 128_000, 16_384)
    assert (system.supports_tools, system.supports_vision, system.supports_reasoning) == (True, False, True)

    user = AIModel.objects.get(pk=pks["user"])
    assert (user.is_system, user.parent_id, user.organization_id) == (False, pks["system"], ORG)
    assert user.system_prompt_composition_id == pks["composition"]
    assert (user.context_window, user.max_tokens, user.supports_streaming) == (64_000, 4_096, False)
    assert user.effective("provider") == "openai"

    particle = PromptParticle.objects.get(pk=pks["particle"])
    assert (particle.name, particle.kind, particle.content) == ("Migration tone", "tone", "Be brief.")
    composition = PromptComposition.objects.get(pk=pks["composition"])
    assert composition.description == "Kept across the move."
    assert list(composition.particles.values_list("pk", flat=True)) == [pks["particle"]]
    item = PromptCompositionParticle.objects.get(pk=pks["item"])
    assert (item.composition_id, item.particle_id, item.position) == (pks["composition"], pks["particle"], 0)

    history = {"history_date": T0, "history_type": "+", "history_actor": ACTOR}
    assert set(AIModel.history.model.objects.filter(**history).values_list("id", flat=True)) == {
        pks["system"],
        pks["user"],
    }
    assert list(system.history.values_list("name", flat=True)) == ["Migration system model"]
    assert list(user.history.values_list("parent_id", flat=True)) == [pks["system"]]
    assert list(particle.history.filter(**history).values_list("content", flat=True)) == ["Be brief."]
    assert list(composition.history.filter(**history).values_list("particle_ids", flat=True)) == [
        [str(pks["particle"])]
    ]

    audit = AuditEvent.objects.get(pk=pks["audit"])
    assert (audit.occurred_at, audit.actor, audit.action) == (T0, ACTOR, "created")
    assert (audit.object_type, audit.object_id, audit.object_repr) == ("model", pks["user"], "Migration user model")
    assert (audit.changed_fields, audit.request_id) == (["name", "parentId"], "req-migration-1")

    record = IdempotencyRecord.objects.get(pk=pks["idempotency"])
    assert (record.organization_id, record.actor, record.key) == (ORG, ACTOR, "key-migration-1")
    assert (record.response_status, record.expires_at) == (201, T0 + dt.timedelta(days=1))
    assert record.response_body == {"id": str(pks["user"]), "name": "Migration user model"}
    assert record.response_headers == {"Location": f"/v1/models/{pks['user']}", "ETag": '"1"'}

    # The moved tables take new rows through core's models, their id sequences carried on.
    later = AuditEvent.objects.create(
        occurred_at=T0, action="updated", object_type="model", object_id=uuid.uuid4(), organization_id=ORG
    )
    assert later.pk > pks["audit"]
    another = IdempotencyRecord.objects.create(
        organization_id=ORG, actor=ACTOR, key="key-migration-2", request_fingerprint="0" * 64, expires_at=T0
    )
    assert another.pk > pks["idempotency"]


def test_rows_survive_the_move_to_core() -> None:
    try:
        migrate(BEFORE_MOVE)
        old_apps = state_apps(BEFORE_MOVE)
        assert old_apps.get_model("models_registry", "AuditEvent")._meta.db_table == MOVED_TABLES[0]
        assert old_apps.get_model("models_registry", "IdempotencyRecord")._meta.db_table == MOVED_TABLES[1]

        pks = fill_before_move(old_apps)
        rows_before = table_rows(old_apps)
        assert set(rows_before) == APP_TABLES
        assert all(rows_before.values()), {table: len(rows) for table, rows in rows_before.items()}
        tables_before = set(connection.introspection.table_names())
        assert set(MOVED_TABLES) <= tables_before
        oids_before = table_oids(APP_TABLES)

        with CaptureQueriesContext(connection) as move_queries:
            migrate(MOVE)
        # No statement of the move touches a table's definition (ALTER included: SQLite would
        # remake the table), nor names a moved table.
        statements = [query["sql"] for query in move_queries.captured_queries]
        assert [sql for sql in statements if TABLE_DDL.search(sql)] == []
        assert [sql for sql in statements if any(table in sql for table in MOVED_TABLES)] == []
        assert table_oids(APP_TABLES) == oids_before

        assert set(connection.introspection.table_names()) == tables_before

        # Then on to the latest state: later migrations only add tables of their own.
        migrate_to_latest()
        assert set(connection.introspection.table_names()) - tables_before == TABLES_ADDED_SINCE
        assert AuditEvent._meta.db_table == MOVED_TABLES[0]
        assert IdempotencyRecord._meta.db_table == MOVED_TABLES[1]
        assert not current_apps.get_app_config("models_registry").models.get("auditevent")
        assert not current_apps.get_app_config("models_registry").models.get("idempotencyrecord")

        # Every row, every value, read through the current models (AuditEvent and
        # IdempotencyRecord now core's), then the explicit checks of a few values.
        rows_after = table_rows(current_apps)
        assert rows_after["core_cachegeneration"] == [{"scope": "*global*", "value": 0}]  # made by core 0002
        for table, columns in COLUMNS_ADDED_SINCE.items():
            for row in rows_after[table]:
                assert [row.pop(column) for column in columns] == [None] * len(columns), table
        # models_registry 0008 gives every model a slug (its historical rows keep an empty one).
        for row in rows_after["models_registry_aimodel"]:
            assert SLUG_PATTERN.fullmatch(row.pop("slug")), row
        for row in rows_after["models_registry_historicalaimodel"]:
            assert row.pop("slug") == ""
        assert {table: rows for table, rows in rows_after.items() if table not in TABLES_ADDED_SINCE} == rows_before
        assert_rows_found_through_current_models(pks)
    finally:
        migrate_to_latest()


@pytest.mark.parametrize("app_label, name", MOVE)
def test_the_move_changes_the_state_only(app_label: str, name: str) -> None:
    """What `sqlmigrate` prints, forwards and backwards: comments only, no SQL statement.

    (Transactional like the test above: SQLite's schema editor refuses to run in a transaction.)
    """
    loader = MigrationExecutor(connection).loader
    migration = loader.get_migration(app_label, name)
    for backwards in (False, True):
        collected = loader.collect_sql([(migration, backwards)])
        assert [sql for sql in collected if not sql.lstrip().startswith("--")] == [], (backwards, collected)
