# AuditEvent and IdempotencyRecord now belong to core (core/migrations/0001_initial.py), on the
# same tables: they leave this app's state only, and no table is dropped.

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('models_registry', '0004_idempotency_replays_headers'),
        ('core', '0001_initial'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.DeleteModel(name="AuditEvent"),
                migrations.DeleteModel(name="IdempotencyRecord"),
            ],
        ),
    ]
