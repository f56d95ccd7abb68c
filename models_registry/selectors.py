"""Reads of AI models that need care: what an organization may see, and what to prefetch."""

from typing import Any

from django.db.models import Prefetch, Q, QuerySet

from models_registry.models import AIModel
from prompts.models import PromptCompositionParticle


def models_visible_to(organization_id: str) -> QuerySet[AIModel]:
    """Enabled system models plus the organization's own user models (enabled or not)."""
    return AIModel.objects.filter(
        Q(is_system=True, is_enabled=True) | Q(is_system=False, organization_id=organization_id)
    ).select_related("parent")


def with_system_prompt(queryset: QuerySet[AIModel]) -> QuerySet[AIModel]:
    """Everything the resolved view needs, in a constant number of queries."""
    return queryset.select_related("system_prompt_composition").prefetch_related(
        Prefetch(
            "system_prompt_composition__items",
            queryset=PromptCompositionParticle.objects.select_related("particle").order_by("position"),
        )
    )


# --- Versions of a model's system prompt -------------------------------------------------------

MODEL_PROMPT_FIELDS = ("system_prompt_override", "system_prompt_composition_id")
MODEL_PROMPT_RESTORE_REASON = "Restored system prompt version {number}"


def _prompt_values(record: Any) -> tuple:
    return tuple(getattr(record, field) for field in MODEL_PROMPT_FIELDS)


def model_prompt_versions(model: AIModel) -> list:
    """The versions of a model's system prompt (`systemPromptOverride`, `systemPromptCompositionId`),
    newest first, each historical row with `version_number` (1 = the first, chronological).

    A model's history records every change to any of its fields; a prompt version is the first
    row and each row where the prompt fields changed (or were restored).
    """
    versions = []
    previous = None
    restore_prefix = MODEL_PROMPT_RESTORE_REASON.split("{")[0]
    for record in model.history.order_by("history_date", "history_id"):
        values = _prompt_values(record)
        restored = (record.history_change_reason or "").startswith(restore_prefix)
        if previous is None or values != previous or restored:
            versions.append(record)
        previous = values
    for number, record in enumerate(versions, start=1):
        record.version_number = number
    return versions[::-1]


def model_prompt_version(model: AIModel, number: int) -> Any | None:
    return next((record for record in model_prompt_versions(model) if record.version_number == number), None)
