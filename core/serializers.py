"""Serializer building blocks shared by the apps' APIs."""

import copy
import datetime
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils import timezone
from django.utils.timezone import is_aware
from rest_framework import ISO_8601, serializers
from rest_framework.settings import api_settings

from core.db import validate_for_write
from core.errors import as_api_errors, wire_names

# The JSON type a field's value must have, by field class (the first match wins). DRF would
# coerce `0` to "0" for a string, "12" or 12.0 to 12 for an integer and "yes" to true for a
# boolean; the OpenAPI document promises a string, an integer and a boolean.
_JSON_TYPES: tuple[tuple[type[serializers.Field], tuple[type, ...], str], ...] = (
    (serializers.BooleanField, (bool,), "a boolean"),
    (serializers.IntegerField, (int,), "an integer"),
    (serializers.FloatField, (int, float), "a number"),
    (serializers.CharField, (str,), "a string"),
    (serializers.UUIDField, (str,), "a string"),
    (serializers.DateTimeField, (str,), "a string"),
    (serializers.DateField, (str,), "a string"),
    (serializers.ListField, (list,), "a list"),
    (serializers.DictField, (dict,), "an object"),
)


def json_type_errors(field: serializers.Field, value: Any) -> Any:
    """Why `value` has the wrong JSON type for `field` (DRF's error detail shape), or None.

    `null` is left to the field (`allow_null`); so are fields of other classes.
    """
    if value is None:
        return None
    if isinstance(field, serializers.PrimaryKeyRelatedField) and field.pk_field is not None:
        return json_type_errors(field.pk_field, value)
    if (
        isinstance(field, serializers.ChoiceField)
        and not isinstance(field, serializers.MultipleChoiceField)
        and all(isinstance(key, str) for key in field.choices)
    ):
        return None if isinstance(value, str) else ["Must be a string."]
    for field_class, json_types, name in _JSON_TYPES:
        if isinstance(field, field_class):
            if not isinstance(value, json_types) or (isinstance(value, bool) and bool not in json_types):
                return [f"Must be {name}."]
            if isinstance(field, serializers.ListField):
                items = {index: json_type_errors(field.child, item) for index, item in enumerate(value)}
                return {index: errors for index, errors in items.items() if errors} or None
            return None
    return None


class StrictFieldsMixin:
    """Refuse unknown and read-only fields, and values of the wrong JSON type, instead of
    silently ignoring or coercing them.

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
            for key, value in data.items():
                if key in writable:
                    type_errors = json_type_errors(self.fields[key], value)
                    if type_errors:
                        errors[key] = type_errors
                    continue
                errors[key] = ["This field is read-only."] if key in readable else ["Unknown field."]
            if errors:
                raise serializers.ValidationError(errors)
        return super().to_internal_value(data)


class ValidatedModelSerializer(StrictFieldsMixin, serializers.ModelSerializer):
    """Runs the model's own `full_clean()` (field validators, `clean()`, CHECK and UNIQUE
    constraints) on the merged state, so the API and the admin obey the same rules.

    Model errors come back keyed by the serializer's camelCase field names.

    CHECK constraints are not re-run here: each would cost a query, and the field validators
    and `clean()` already state the same rules (the database still enforces them). Unique
    constraints are checked by the constraints themselves (`core.db.validate_for_write`);
    the database still decides between two concurrent writers.
    """

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
        # Relations in attrs were already looked up by their serializer fields.
        resolved_relations = {name for name in attrs if model._meta.get_field(name).is_relation}
        later = self.fields_checked_later(attrs)
        try:
            validate_for_write(
                instance,
                exclude=later,
                relations_checked=resolved_relations,
                unique_checked_on_save=self.unique_checked_on_save(),
            )
        except DjangoValidationError as exc:
            raise serializers.ValidationError(self._to_api_errors(exc)) from exc
        return attrs

    def fields_checked_later(self, attrs: dict[str, Any]) -> set[str]:
        """Model fields the write's service fills and checks itself (e.g. a slug made from the
        name when not given), so they are not validated here."""
        return set()

    def unique_checked_on_save(self) -> bool:
        """Whether the write's service saves with the unique constraints as the judge, naming the
        field of one that refuses it, so they are not asked first here (a query per constraint)."""
        return False

    def _to_api_errors(self, exc: DjangoValidationError) -> dict[str, list[str]]:
        return as_api_errors(exc, wire_names(self))


class RowRepresentation:
    """The bodies a serializer gives objects, built from their plain rows (`.values(*columns)`)
    instead: a list page reads dicts rather than model instances and writes each field as the
    serializer's field would, without DRF walking every field of every row (for 50 particles,
    most of the page's Python time).

    For a serializer whose every readable field shows one column of its model, except those
    named `computed`: fields whose values the caller works out for a whole page at once (a
    composition's particle ids and rendered prompt, from one query for the page) and puts in
    each row under the field's name, already as the field writes them. Anything else (a method
    field, a dotted source, the whole object) is refused when it is built. The serializer stays
    the one statement of the body: the wire names, their order, sources and output formats come
    from its fields, and a field this does not know how to write fast is written by the field
    itself.
    """

    def __init__(self, serializer_class: type[serializers.Serializer], computed: tuple[str, ...] = ()) -> None:
        model = serializer_class.Meta.model
        columns = {field.attname for field in model._meta.concrete_fields}
        self.fields: list[tuple[str, str, serializers.Field | None]] = []
        readable = {name: field for name, field in serializer_class().fields.items() if not field.write_only}
        unknown = set(computed) - set(readable)
        if unknown:
            raise ImproperlyConfigured(f"{serializer_class.__name__} has no readable field {sorted(unknown)}.")
        for name, field in readable.items():
            if name in computed:
                self.fields.append((name, name, None))
                continue
            if field.source not in columns:
                raise ImproperlyConfigured(
                    f"{serializer_class.__name__}.{name} shows {field.source!r}, not a column of "
                    f"{model.__name__}: its bodies cannot be built from rows."
                )
            self.fields.append((name, field.source, field))
        self.columns: tuple[str, ...] = tuple(
            dict.fromkeys(source for name, source, _ in self.fields if name not in computed)
        )

    def represent(self, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Each row's body, as `serializer_class(instance).data` would be (a None stays null)."""
        zone = timezone.get_current_timezone()  # what DRF's DateTimeField writes in
        fields = [
            (name, source, _as_given if field is None else _row_writer(field, zone))
            for name, source, field in self.fields
        ]
        return [
            {name: None if (value := row[source]) is None else write(value) for name, source, write in fields}
            for row in rows
        ]


def _as_given(value: Any) -> Any:
    """A computed field's value: the caller wrote it as the field would."""
    return value


def _row_writer(field: serializers.Field, zone: datetime.tzinfo) -> Any:
    """How `field` writes a column's value (not None) in the time zone `zone`: the common cases as
    DRF writes them, without its per-value checks; the field's own `to_representation` for every
    other value or field."""
    own = field.to_representation
    if isinstance(field, serializers.ChoiceField):
        choices = field.choice_strings_to_values
        return lambda value: choices.get(value, value) if type(value) is str else own(value)
    if isinstance(field, serializers.UUIDField) and field.uuid_format == "hex_verbose":
        return str
    if (
        isinstance(field, serializers.DateTimeField)
        and (getattr(field, "format", api_settings.DATETIME_FORMAT) or "").lower() == ISO_8601
        and not hasattr(field, "timezone")
        and settings.USE_TZ
    ):
        return lambda value: iso_timestamp(value.astimezone(zone)) if is_aware(value) else own(value)
    python_type = next(
        (kind for base, kind in _PLAIN_TYPES if type(field).to_representation is base.to_representation), None
    )
    if python_type is not None:
        return lambda value: value if type(value) is python_type else own(value)
    return own


# Fields whose `to_representation` writes a value of this exact type as it is (`str(value)`,
# `bool(value)`, `int(value)`): a subclass that writes its own way is not one of them.
_PLAIN_TYPES = (
    (serializers.CharField, str),
    (serializers.BooleanField, bool),
    (serializers.IntegerField, int),
)


def iso_timestamp(value: datetime.datetime) -> str:
    """An aware date-time as DRF's DateTimeField writes it by default: ISO 8601, UTC as `Z`."""
    text = value.isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text
