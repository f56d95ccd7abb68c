"""The system model catalog file: reading it, and the serializer its entries are validated through.

A catalog is a JSON list of objects with the API's camelCase keys. `SystemModelCatalogSerializer`
is the one statement of those keys (each field's `source` is the model attribute), of their JSON
types (its fields convert a value or say what is wrong with it) and of which are required and
what the others default to. The model's own validators and `clean()` check the rest
(models_registry.seeding).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from rest_framework import serializers


class CatalogError(Exception):
    """The catalog cannot be used; nothing was written. `errors` holds one line per problem."""

    def __init__(self, message: str, errors: list[str] | None = None) -> None:
        super().__init__(message)
        self.errors = list(errors or ())


def json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def load_catalog(path: str | Path) -> list[dict]:
    """Read a catalog file: a JSON list. The entries themselves are checked by seed_system_models."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")  # a BOM is tolerated
    except FileNotFoundError:
        raise CatalogError("file not found.") from None
    except UnicodeDecodeError as exc:
        raise CatalogError(f"not UTF-8 text ({exc.reason} at byte {exc.start}).") from None
    except OSError as exc:
        raise CatalogError(f"cannot read the file: {exc.strerror or exc}.") from None
    try:
        data = json.loads(text, parse_constant=_reject_constant)
    except json.JSONDecodeError as exc:
        raise CatalogError(f"invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}.") from None
    except ValueError as exc:
        raise CatalogError(f"invalid JSON: {exc}") from None
    if not isinstance(data, list):
        raise CatalogError(f"the top level must be a JSON list of model objects, not {json_type(data)}.")
    return data


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a valid JSON value.")


# --- The entries' fields: JSON values of one type each, never coerced -------------------------


class CatalogString(serializers.Field):
    def to_internal_value(self, value: Any) -> str:
        if not isinstance(value, str):
            raise serializers.ValidationError(f"Must be a string (got {json_type(value)}).")
        # Like the API's serializers (DRF trims CharField input), so both store the same text.
        return value.strip()


class CatalogInteger(serializers.Field):
    def to_internal_value(self, value: Any) -> int:
        # bool is a subclass of int in Python; true is not a token count.
        if isinstance(value, bool) or not isinstance(value, int):
            raise serializers.ValidationError(f"Must be an integer (got {json_type(value)}).")
        return value


class CatalogBoolean(serializers.Field):
    def to_internal_value(self, value: Any) -> bool:
        if not isinstance(value, bool):
            raise serializers.ValidationError(f"Must be true or false (got {json_type(value)}).")
        return value


class CatalogDecimal(serializers.Field):
    def to_internal_value(self, value: Any) -> Decimal:
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            raise serializers.ValidationError(
                f"Must be a decimal number or a string holding one (got {json_type(value)})."
            )
        try:
            number = Decimal(str(value).strip())
        except InvalidOperation:
            raise serializers.ValidationError(f"Must be a decimal number, not {value!r}.") from None
        if not number.is_finite():
            raise serializers.ValidationError("Must be a finite decimal number.")
        return number


class CatalogDate(serializers.Field):
    def to_internal_value(self, value: Any) -> date | None:
        if value is None:
            return None
        if not isinstance(value, str):
            raise serializers.ValidationError(f"Must be a date as YYYY-MM-DD or null (got {json_type(value)}).")
        try:
            return date.fromisoformat(value.strip()) if len(value.strip()) == 10 else _bad_date(value)
        except ValueError:
            return _bad_date(value)


def _bad_date(value: str):
    raise serializers.ValidationError(f"Must be a date as YYYY-MM-DD, not {value!r}.")


class CatalogReference(serializers.Field):
    """Another system model, by its key: {"provider": ..., "providerModelId": ...}, or null."""

    def to_internal_value(self, value: Any) -> tuple[str, str] | None:
        if value is None:
            return None
        keys = {"provider", "providerModelId"}
        if not isinstance(value, dict) or set(value) != keys or not all(isinstance(value[k], str) for k in keys):
            raise serializers.ValidationError(
                'Must be {"provider": "...", "providerModelId": "..."} naming a system model, or null '
                f"(got {json_type(value)})."
            )
        return (value["provider"].strip(), value["providerModelId"].strip())


class SystemModelCatalogSerializer(serializers.Serializer):
    """One catalog entry, keyed on (provider, providerModelId); in the order errors list them."""

    name = CatalogString()
    # Default: the provider model id, made a slug, for a new row; an existing row keeps its own.
    slug = CatalogString(required=False, default=None)
    description = CatalogString(required=False, default="")
    provider = CatalogString()
    providerModelId = CatalogString(source="provider_model_id")
    contextWindow = CatalogInteger(source="context_window")
    maxTokens = CatalogInteger(source="max_tokens")
    supportsStreaming = CatalogBoolean(source="supports_streaming", required=False, default=True)
    supportsTools = CatalogBoolean(source="supports_tools", required=False, default=False)
    supportsVision = CatalogBoolean(source="supports_vision", required=False, default=False)
    supportsReasoning = CatalogBoolean(source="supports_reasoning", required=False, default=False)
    creditMultiplier = CatalogDecimal(source="credit_multiplier")
    isEnabled = CatalogBoolean(source="is_enabled", required=False, default=True)
    deprecatedAt = CatalogDate(source="deprecated_at", required=False, default=None)
    retiresAt = CatalogDate(source="retires_at", required=False, default=None)
    # Resolved to the row's id once every entry is read (models_registry.seeding).
    successor = CatalogReference(source="successor_id", required=False, default=None)


@dataclass(frozen=True)
class CatalogField:
    field: str  # the AIModel field
    serializer_field: serializers.Field
    required: bool
    default: Any


# The catalog's camelCase keys, as the serializer declares them.
CATALOG_FIELDS: dict[str, CatalogField] = {
    key: CatalogField(
        field=field.source,
        serializer_field=field,
        required=field.required,
        default=None if field.required else field.default,
    )
    for key, field in SystemModelCatalogSerializer().fields.items()
}
CAMEL_CASE: dict[str, str] = {spec.field: key for key, spec in CATALOG_FIELDS.items()}
SEEDED_FIELDS: tuple[str, ...] = tuple(CAMEL_CASE)
