"""Create or update the global prompt particles and compositions (see prompts.seeding)."""

from __future__ import annotations

from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from prompts.seeding import DEFAULT_DATA_PATH, seed_global_prompts, summary


class Command(BaseCommand):
    help = (
        "Create or update the global prompt particles and compositions every organization can use "
        "(prompts/fixtures/global_prompts.json): particles keyed on kind and name, compositions on name. "
        "Running it twice changes nothing the second time. seed_system_models runs it too."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--file", type=Path, default=DEFAULT_DATA_PATH, help="The data to read.")
        parser.add_argument("--dry-run", action="store_true", help="Report what would change, without writing.")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            counts = seed_global_prompts(dry_run=options["dry_run"], path=options["file"])
        except (OSError, ValueError) as exc:
            raise CommandError(f"{options['file']}: {exc}") from exc
        except ValidationError as exc:
            raise CommandError(f"global prompts: {'; '.join(exc.messages)}") from exc
        self.stdout.write(self.style.SUCCESS(summary(counts)))
