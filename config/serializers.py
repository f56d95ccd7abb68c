"""Serializer building blocks shared by the apps' APIs."""

import copy
from typing import Any

from django.core.exceptions import NON_FIELD_ERRORS
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import models
from rest_framework import serializers
from rest_framework.settings import api_settings


class StrictFieldsMixin:
    """Refuse unknown and read-only fields instead of silently ignoring them.

    A client that sends `isSystem` or `provider` believes it set them; a 400 naming the
    field tells it otherwise. `read_only_field_names` lists response fields a client may
    echo back by mistake; they are called read-only rather than unknown.
    """

    read_only_field_names: frozenset[str] = frozenset()

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, dict):
            writable = {name for name, field in self.fields.items() if not field.read_only}
            readable = set(self.fields) | self.read_only_field_names
            errors = {}
            for key in data:
                if key in writable:
                    continue
                errors[key] = ["This field is read-only."] if key in readable else ["Unknown field."]
            if errors:
                raise serializers.ValidationError(errors)
        return super().to_internal_value(data)


class ValidatedModelSerializer(StrictFieldsMixin, serializers.ModelSerializer):
    """Runs the model's own `full_clean()` (field validators, `clean()`, CHECK and UNIQUE
    constraints) on the merged state, so the API and the admin obey the same rules.

    Model errors come back keyed by the serializer's camelCase field names.
    """

    # Unique constraints whose violations belong to one field: {constraint name: model field}.
    constraint_fields: dict[str, str] = {}

    def extra_instance_attrs(self) -> dict[str, Any]:
        """Attributes set on the instance before validation that the client does not send."""
        return {}

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        attrs = super().validate(attrs)
        model = self.Meta.model
        instance = copy.copy(self.instance) if self.instance is not None else model()
        for name, value in {**attrs, **self.extra_instance_attrs()}.items():
            field = model._meta.get_field(name)
            if not field.many_to_many:
                setattr(instance, name, value)
        try:
            instance.full_clean()
        except DjangoValidationError as exc:
            raise serializers.ValidationError(self._to_api_errors(exc)) from exc
        return attrs

    def _to_api_errors(self, exc: DjangoValidationError) -> dict[str, list[str]]:
        source_to_name = {field.source: name for name, field in self.fields.items()}
        constraint_messages = {
            constraint.get_violation_error_message(): self.constraint_fields[constraint.name]
            for constraint in self.Meta.model._meta.constraints
            if constraint.name in self.constraint_fields
        }
        errors: dict[str, list[str]] = {}
        for key, messages in exc.message_dict.items():
            for message in messages:
                target = key
                if key == NON_FIELD_ERRORS and message in constraint_messages:
                    target = constraint_messages[message]
                if target == NON_FIELD_ERRORS:
                    target = api_settings.NON_FIELD_ERRORS_KEY
                name = source_to_name.get(target, target)
                errors.setdefault(name, []).append(message)
        return errors


def field_kwargs_from_model(model: type[models.Model], field: str) -> dict[str, Any]:
    """min/max bounds of a model field for a plain serializer field, so hand-written
    serializer fields carry the same bounds (and the same OpenAPI minimum/maximum)."""
    kwargs: dict[str, Any] = {}
    for validator in model._meta.get_field(field).validators:
        code = getattr(validator, "code", "")
        if code == "min_value":
            kwargs["min_value"] = validator.limit_value
        elif code == "max_value":
            kwargs["max_value"] = validator.limit_value
        elif code == "min_length":
            kwargs["min_length"] = validator.limit_value
        elif code == "max_length":
            kwargs["max_length"] = validator.limit_value
    return kwargs
