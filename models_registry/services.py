"""Writes of user models. Every rule lives on the model (`clean()`, constraints); these
functions apply a validated change in one transaction."""

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from django.db import IntegrityError, transaction
from rest_framework import serializers

from models_registry.models import AIModel


def _save(instance: AIModel) -> AIModel:
    try:
        with transaction.atomic():
            instance.save()
    except IntegrityError as exc:
        # Two concurrent requests can both pass validation; the unique constraint decides.
        if "unique_name_per_organization" in str(exc):
            raise serializers.ValidationError(
                {"name": ["A model with this name already exists in your organization."]}
            ) from exc
        raise
    return instance


def user_model_create(*, organization_id: str, data: dict[str, Any]) -> AIModel:
    instance = AIModel(organization_id=organization_id, is_system=False, **data)
    return _save(instance)


def user_model_update(*, instance: AIModel, data: dict[str, Any]) -> AIModel:
    for field, value in data.items():
        setattr(instance, field, value)
    return _save(instance)


@transaction.atomic
def user_model_delete(*, instance: AIModel) -> None:
    instance.delete()


# The system model fields whose change can invalidate the user models built on it.
LIMIT_FIELDS = ("context_window", "max_tokens", "supports_streaming")
CHILD_CONFLICT_REASONS = {
    "context_window": "a larger context window than the new value",
    "max_tokens": "more max tokens than the new value, or would inherit max tokens not below their context window",
    "supports_streaming": "streaming on",
}


def system_model_child_conflicts(
    new_values: dict[Any, AIModel], *, batch_size: int = 500
) -> dict[tuple[Any, str], list[str]]:
    """Which user models the new limits of system models would make invalid.

    `new_values` maps a system model's pk to an instance holding its new values. The answer
    maps (pk, field) to the names of the user models that break, by the same rules as
    `AIModel._clean_user`, so a change can be refused before it leaves them inconsistent.
    """
    problems: dict[tuple[Any, str], list[str]] = defaultdict(list)
    ids = list(new_values)
    for start in range(0, len(ids), batch_size):
        children: Iterable[tuple] = AIModel.objects.filter(parent_id__in=ids[start : start + batch_size]).values_list(
            "parent_id", "name", "organization_id", "context_window", "max_tokens", "supports_streaming"
        )
        for parent_id, name, organization_id, context_window, max_tokens, streaming in children:
            new = new_values[parent_id]
            child = f"{name!r} ({organization_id})"
            if context_window > new.context_window:
                problems[(parent_id, "context_window")].append(child)
            effective_max_tokens = new.max_tokens if max_tokens is None else max_tokens
            if effective_max_tokens > new.max_tokens or effective_max_tokens >= context_window:
                problems[(parent_id, "max_tokens")].append(child)
            if streaming and not new.supports_streaming:
                problems[(parent_id, "supports_streaming")].append(child)
    return problems


def child_conflict_message(field: str, children: list[str]) -> str:
    example = ", ".join(children[:3]) + (", ..." if len(children) > 3 else "")
    return (
        f"{len(children)} user model(s) built on this model have {CHILD_CONFLICT_REASONS[field]}: {example}. "
        "Change them first."
    )
