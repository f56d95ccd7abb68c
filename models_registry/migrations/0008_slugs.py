"""Slugs for every model: the column, then a slug for each existing row (a system model's from its
provider model id, a user model's from its name, unique in its scope), then the constraints.

The rules that make a slug are copied here as they were (models_registry/slugs.py may change
later; this migration must fill the rows the same way whenever it runs)."""

import re

from django.db import migrations, models
from django.utils.text import slugify

import models_registry.slugs

SLUG_MAX_LENGTH = 100
SLUG_PATTERN = re.compile(rf"[a-z0-9][a-z0-9._-]{{0,{SLUG_MAX_LENGTH - 1}}}")
RESERVED = frozenset({"deprecations", "export", "import"})


def slug_from(text: str, *, fallback: str = "model") -> str:
    lowered = (text or "").strip().lower()
    if SLUG_PATTERN.fullmatch(lowered) and lowered not in RESERVED:
        return lowered
    made = slugify(text).strip("-_.")[:SLUG_MAX_LENGTH].strip("-_.")
    if not made or made in RESERVED:
        made = f"{made}-model" if made else fallback
    return made


def first_free(base: str, taken: set[str]) -> str:
    if base not in taken:
        return base
    n = 2
    while True:
        suffix = f"-{n}"
        candidate = base[: SLUG_MAX_LENGTH - len(suffix)].rstrip("-_.") + suffix
        if candidate not in taken:
            return candidate
        n += 1


def fill_slugs(apps, schema_editor):
    AIModel = apps.get_model("models_registry", "AIModel")
    taken: dict[object, set[str]] = {}
    rows = AIModel.objects.order_by("is_system", "organization_id", "created_at", "id")
    changed = []
    for row in rows.iterator():
        scope = "*system*" if row.is_system else row.organization_id
        used = taken.setdefault(scope, set())
        base = slug_from(row.provider_model_id if row.is_system else row.name)
        row.slug = first_free(base, used)
        used.add(row.slug)
        changed.append(row)
    AIModel.objects.bulk_update(changed, ["slug"], batch_size=500)


class Migration(migrations.Migration):
    dependencies = [("models_registry", "0007_entitlements")]

    operations = [
        migrations.AddField(
            model_name="aimodel",
            name="slug",
            field=models.CharField(default="", max_length=100),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="historicalaimodel",
            name="slug",
            field=models.CharField(default="", max_length=100),
            preserve_default=False,
        ),
        migrations.RunPython(fill_slugs, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="aimodel",
            name="slug",
            field=models.CharField(
                help_text="Stable readable id a runtime can use instead of the UUID: lowercase letters, digits, "
                "'.', '_', '-', at most 100 characters; unique among system models, and within an organization "
                "among its user models. Made from the name (a system model: its provider model id) when not given.",
                max_length=100,
                validators=[models_registry.slugs.validate_slug],
            ),
        ),
        migrations.AlterField(
            model_name="historicalaimodel",
            name="slug",
            field=models.CharField(
                help_text="Stable readable id a runtime can use instead of the UUID: lowercase letters, digits, "
                "'.', '_', '-', at most 100 characters; unique among system models, and within an organization "
                "among its user models. Made from the name (a system model: its provider model id) when not given.",
                max_length=100,
                validators=[models_registry.slugs.validate_slug],
            ),
        ),
        migrations.AddConstraint(
            model_name="aimodel",
            constraint=models.UniqueConstraint(
                fields=("slug",),
                condition=models.Q(("is_system", True)),
                name="models_registry_aimodel_unique_system_slug",
                violation_error_message="A system model with this slug already exists.",
            ),
        ),
        migrations.AddConstraint(
            model_name="aimodel",
            constraint=models.UniqueConstraint(
                fields=("slug", "organization_id"),
                condition=models.Q(("is_system", False)),
                name="models_registry_aimodel_unique_slug_per_organization",
                violation_error_message="A model with this slug already exists in your organization.",
            ),
        ),
    ]
