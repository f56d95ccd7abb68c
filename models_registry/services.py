"""Writes of user models. Every rule lives on the model (`clean()`, constraints); these
functions apply a validated change in one transaction."""

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
