from django.db import migrations

# A model given no slug takes the first free one after its base (AIModel.ensure_slug), reading
# the slugs of its scope that start with the base: on PostgreSQL `slug::text LIKE 'base%'`.
# Under a collation other than C no b-tree of the default operator class serves LIKE (not the
# unique constraints' indexes on the slug), so an organization's read filtered its rows one by
# one; one with varchar_pattern_ops does, as a range on the slug. Each index has its unique
# constraint's scope: an organization's user models, and the system models (whose read names
# no organization). SQLite has no such operator class: its read stays as it was.
SLUG_PREFIX_INDEXES = [
    ("aimodel_user_slug_prefix", "(organization_id, slug varchar_pattern_ops) WHERE NOT is_system"),
    ("aimodel_system_slug_prefix", "(slug varchar_pattern_ops) WHERE is_system"),
]


def create_slug_prefix_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for index, definition in SLUG_PREFIX_INDEXES:
        schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {index} ON models_registry_aimodel {definition}")


def drop_slug_prefix_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for index, _ in SLUG_PREFIX_INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {index}")


class Migration(migrations.Migration):
    dependencies = [
        ("models_registry", "0010_indexes_for_the_queries_the_api_runs"),
    ]

    operations = [
        migrations.RunPython(create_slug_prefix_indexes, drop_slug_prefix_indexes),
    ]
