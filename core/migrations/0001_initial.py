# AuditEvent and IdempotencyRecord moved here from models_registry. Their tables stay as they
# were (db_table keeps the old names), so this migration changes the state only: an existing
# database keeps its rows, and a new one has the tables from models_registry's 0003.

from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ("models_registry", "0004_idempotency_replays_headers"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
        migrations.CreateModel(
            name='AuditEvent',
            fields=[
                ('id', models.BigAutoField(primary_key=True, serialize=False)),
                ('occurred_at', models.DateTimeField(db_index=True)),
                ('organization_id', models.CharField(blank=True, help_text='The organization owning the object; empty for global objects.', max_length=128, null=True)),
                ('actor', models.CharField(blank=True, default='', help_text='"member:<id>", "m2m:<client id>" or "staff:<username>".', max_length=255)),
                ('action', models.CharField(choices=[('created', 'Created'), ('updated', 'Updated'), ('deleted', 'Deleted')], max_length=16)),
                ('object_type', models.CharField(help_text='model, prompt-particle or prompt-composition.', max_length=64)),
                ('object_id', models.UUIDField()),
                ('object_repr', models.CharField(blank=True, default='', max_length=255)),
                ('changed_fields', models.JSONField(blank=True, default=list, help_text='camelCase names of the changed fields.')),
                ('request_id', models.CharField(blank=True, default='', max_length=128)),
            ],
            options={
                'db_table': 'models_registry_auditevent',
                'ordering': ['-occurred_at', '-id'],
                'indexes': [models.Index(fields=['organization_id', '-occurred_at'], name='audit_org_time'), models.Index(fields=['organization_id', 'object_id'], name='audit_org_object'), models.Index(fields=['organization_id', 'actor'], name='audit_org_actor')],
            },
        ),
        migrations.CreateModel(
            name='IdempotencyRecord',
            fields=[
                ('id', models.BigAutoField(primary_key=True, serialize=False)),
                ('organization_id', models.CharField(max_length=128)),
                ('actor', models.CharField(max_length=255)),
                ('key', models.CharField(max_length=255)),
                ('request_fingerprint', models.CharField(max_length=64)),
                ('response_status', models.PositiveSmallIntegerField(blank=True, null=True)),
                ('response_body', models.JSONField(blank=True, null=True)),
                ('response_headers', models.JSONField(blank=True, default=dict, help_text='The headers a replay repeats (Location, ETag).')),
                ('created_at', models.DateTimeField(auto_now_add=True)),
                ('expires_at', models.DateTimeField(db_index=True)),
            ],
            options={
                'db_table': 'models_registry_idempotencyrecord',
                'constraints': [models.UniqueConstraint(fields=('organization_id', 'actor', 'key'), name='models_registry_idempotencyrecord_unique_key')],
            },
        ),
            ],
        ),
    ]
