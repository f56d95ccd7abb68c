from django.db import migrations

# `search=` reads one part of a tenant's list at a time (core.pagination): the organization's
# user models, or the system models it may use. 0010's trigram index covered the whole table,
# so an organization's search read every matching name of every organization and then dropped
# the others': at 1.1M rows, "000042" (in one name of each of 10,000 organizations) cost 12 ms in
# the organization of 100,000 (BitmapAnd with all 100,000 of its rows). Each part gets its own:
# the user models' leads with the organization (btree_gin, a trusted extension like pg_trgm, lets
# a GIN index hold the equality), the system models' holds their names only. Measured on the
# 1.1M-row scale set: 12.0 -> 3.5 ms for that read, through `aimodel_user_name_trgm`. No query
# searches the whole table (the admin's user-model search ORs the organization id too: a scan
# whatever the index), so the global index goes. What the planner knew of UPPER(name) came from
# that index, and it reads no statistics of a partial one: without them it took a term in every
# name of the organization for 10 rows (a 500 ms bitmap read of 100,000 where the ordered index
# stops after 51). Statistics on the expression itself keep those estimates.
# SQLite has none of them: its search is a scan.
SEARCH_INDEXES = [
    ("aimodel_user_name_trgm", "USING gin (organization_id, UPPER(name) gin_trgm_ops) WHERE NOT is_system"),
    ("aimodel_system_name_trgm", "USING gin (UPPER(name) gin_trgm_ops) WHERE is_system"),
]
GLOBAL_INDEX = ("aimodel_name_trgm", "USING gin (UPPER(name) gin_trgm_ops)")
STATISTICS = "aimodel_upper_name"


def _create(schema_editor, indexes) -> None:
    for index, definition in indexes:
        schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {index} ON models_registry_aimodel {definition}")


def one_index_per_part(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS btree_gin")
    _create(schema_editor, SEARCH_INDEXES)
    schema_editor.execute(
        f"CREATE STATISTICS IF NOT EXISTS {STATISTICS} ON (UPPER(name::text)) FROM models_registry_aimodel"
    )
    schema_editor.execute("ANALYZE models_registry_aimodel")
    schema_editor.execute(f"DROP INDEX IF EXISTS {GLOBAL_INDEX[0]}")


def one_global_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    _create(schema_editor, [GLOBAL_INDEX])
    schema_editor.execute(f"DROP STATISTICS IF EXISTS {STATISTICS}")
    for index, _ in SEARCH_INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {index}")


class Migration(migrations.Migration):
    dependencies = [
        ("models_registry", "0011_slug_prefix_indexes"),
    ]

    operations = [
        migrations.RunPython(one_index_per_part, one_global_index),
    ]
