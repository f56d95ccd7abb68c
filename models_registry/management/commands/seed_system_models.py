"""Create or update the system models from a JSON catalog (see models_registry.seeding)."""

from __future__ import annotations

from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from models_registry.seeding import DEFAULT_CATALOG_PATH, CatalogError, load_catalog, seed_system_models
from prompts.seeding import seed_global_prompts, summary


class Command(BaseCommand):
    help = (
        "Create or update system models from a JSON catalog: a list of objects with the API's "
        "camelCase fields (name, description, provider, providerModelId, contextWindow, maxTokens, "
        "supportsStreaming, supportsTools, supportsVision, supportsReasoning, creditMultiplier, "
        "isEnabled), keyed on provider and providerModelId. Every entry is validated before anything "
        "is written; one bad entry writes nothing. Running it twice changes nothing the second time. "
        "System models in the database that the file does not list are left alone (never deleted or "
        "disabled). The global prompt particles and compositions (prompts/fixtures/global_prompts.json) "
        "are seeded in the same transaction (as seed_global_prompts does on its own)."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--file",
            type=Path,
            default=DEFAULT_CATALOG_PATH,
            help="The catalog to read (default: the bundled models_registry/fixtures/system_models.json).",
        )
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Validate the catalog and report what would change, without writing.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["file"]
        try:
            entries = load_catalog(path)
            with transaction.atomic():
                result = seed_system_models(entries, dry_run=options["dry_run"])
                prompt_counts = seed_global_prompts(dry_run=options["dry_run"])
        except CatalogError as exc:
            raise CommandError(f"{path}: {exc}") from exc
        except ValidationError as exc:
            raise CommandError(f"global prompts: {'; '.join(exc.messages)}") from exc
        if options["verbosity"] >= 2:
            for line in result.changes:
                self.stdout.write(f"  {line}")
        self.stdout.write(self.style.SUCCESS(result.summary()))
        self.stdout.write(self.style.SUCCESS(summary(prompt_counts)))
