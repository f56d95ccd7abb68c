# Stored responses keep the headers a replay repeats (Location and now ETag) in one field.

from django.db import migrations, models


def locations_to_headers(apps, schema_editor):
    IdempotencyRecord = apps.get_model("models_registry", "IdempotencyRecord")
    for record in IdempotencyRecord.objects.exclude(response_location=""):
        record.response_headers = {"Location": record.response_location}
        record.save(update_fields=["response_headers"])


def headers_to_locations(apps, schema_editor):
    IdempotencyRecord = apps.get_model("models_registry", "IdempotencyRecord")
    for record in IdempotencyRecord.objects.all():
        record.response_location = record.response_headers.get("Location", "")
        record.save(update_fields=["response_location"])


class Migration(migrations.Migration):
    dependencies = [
        ("models_registry", "0003_audit_idempotency_system_names"),
    ]

    operations = [
        migrations.AddField(
            model_name="idempotencyrecord",
            name="response_headers",
            field=models.JSONField(blank=True, default=dict, help_text="The headers a replay repeats (Location, ETag)."),
        ),
        migrations.RunPython(locations_to_headers, headers_to_locations),
        migrations.RemoveField(
            model_name="idempotencyrecord",
            name="response_location",
        ),
    ]
