"""Move the user models built on one system model onto another (see services.move_user_models)."""

from __future__ import annotations

import uuid
from argparse import ArgumentParser
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from models_registry import services
from models_registry.models import AIModel

ACTOR = "system:migrate_user_models"
MAX_LISTED = 50


def find_system_model(reference: str, *, option: str) -> AIModel:
    """A system model by id, by `provider/providerModelId`, or by a providerModelId or name that
    only one system model has."""
    models = AIModel.objects.filter(is_system=True)
    try:
        found = list(models.filter(pk=uuid.UUID(reference)))
    except ValueError:
        provider, _, model_id = reference.partition("/")
        found = list(models.filter(provider=provider, provider_model_id=model_id)) if model_id else []
        found = found or list(models.filter(provider_model_id=reference)) or list(models.filter(name__iexact=reference))
    if len(found) != 1:
        what = "No" if not found else f"{len(found)}"
        raise CommandError(
            f"{option} {reference!r}: {what} system models match; give its id or provider/providerModelId."
        )
    return found[0]


class Command(BaseCommand):
    help = (
        "Move every user model built on one system model (--from) onto another (--to), e.g. from a "
        "deprecated model to its successor. All or nothing: each user model is checked against the new "
        "base's limits as a create would be; if any would break, none moves and each problem is listed. "
        "Each move is a version and an audit event (actor system:migrate_user_models). System models are "
        "given by id, by provider/providerModelId, or by a providerModelId or name only one has."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--from", dest="source", required=True, help="The system model to move away from.")
        parser.add_argument("--to", dest="target", required=True, help="The system model to move onto.")
        parser.add_argument("--organization", help="Move only this organization's user models (a Stytch id).")
        parser.add_argument("--dry-run", action="store_true", help="Check and report, without moving anything.")

    def handle(self, *args: Any, **options: Any) -> None:
        source = find_system_model(options["source"], option="--from")
        target = find_system_model(options["target"], option="--to")
        try:
            result = services.move_user_models(
                source=source,
                target=target,
                actor=ACTOR,
                organization_id=options["organization"],
                dry_run=options["dry_run"],
            )
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from exc
        count, route = len(result.models), f"from {source.name!r} to {target.name!r}"
        if result.problems:
            listed = "\n".join(f"  {line}" for line in result.problems[:MAX_LISTED])
            more = len(result.problems) - MAX_LISTED
            tail = f"\n  ... and {more} more" if more > 0 else ""
            raise CommandError(
                f"{len(result.problems)} problem(s): nothing moved {route}; change these user models first "
                f"or pick another target:\n{listed}{tail}"
            )
        if result.dry_run:
            self.stdout.write(self.style.SUCCESS(f"dry run: would move {count} user model(s) {route}; all fit."))
            if options["verbosity"] >= 2:
                for model in result.models:
                    self.stdout.write(f"  {model.name!r} ({model.organization_id}, {model.pk})")
            return
        self.stdout.write(self.style.SUCCESS(f"moved {count} user model(s) {route}."))
