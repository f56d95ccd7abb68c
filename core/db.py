"""Abstract base models, constraint helpers and the unique-constraint check shared by the apps."""

import uuid
from collections.abc import Iterable
from typing import Any

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import connection, models
from django.db.models import F, Q
from django.db.models.functions import Length, Trim
from django.db.models.lookups import GreaterThanOrEqual, LessThanOrEqual


class TimeStampedModel(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # Not indexed: no query filters on them, and sorting a list by them (`ordering=createdAt`)
    # sorts the organization's rows the index of its part already narrowed (core.pagination).
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


def validate_not_blank(value: str) -> None:
    """A name of spaces is empty: the same rule the CHECK constraint applies with TRIM."""
    if isinstance(value, str) and value and not value.strip():
        raise ValidationError("This field cannot be blank.", code="blank")


def length_between(field: str, minimum: int, maximum: int, *, name: str) -> models.CheckConstraint:
    """CHECK that a text column holds minimum..maximum characters, not counting outer whitespace
    for the minimum (a name of spaces is empty)."""
    return models.CheckConstraint(
        condition=GreaterThanOrEqual(Length(Trim(field)), minimum) & LessThanOrEqual(Length(field), maximum),
        name=name,
    )


def length_at_most(field: str, maximum: int, *, name: str) -> models.CheckConstraint:
    return models.CheckConstraint(condition=LessThanOrEqual(Length(field), maximum), name=name)


def _plain_condition(condition: Q) -> dict[str, object] | None:
    """{field: value} when the condition is a plain `Q(field=value, ...)`, else None."""
    if condition.connector != Q.AND or condition.negated:
        return None
    pairs = {}
    for child in condition.children:
        if not isinstance(child, tuple) or "__" in child[0]:
            return None
        pairs[child[0]] = child[1]
    return pairs


def _for_instance(constraint: models.UniqueConstraint, instance: models.Model) -> models.UniqueConstraint | None:
    """The constraint as it applies to this instance: None when its condition rules the instance
    out; for a plain condition the instance meets, the same constraint without the condition and
    with the condition's fields added (rows meeting it are exactly the rows sharing those values),
    which the database answers with one plain query."""
    if constraint.condition is None:
        return constraint
    pairs = _plain_condition(constraint.condition)
    if pairs is None:
        return constraint
    meta = instance._meta
    if any(getattr(instance, meta.get_field(name).attname) != value for name, value in pairs.items()):
        return None
    options = {
        "name": constraint.name,
        "violation_error_code": constraint.violation_error_code,
        "violation_error_message": constraint.violation_error_message,
        "nulls_distinct": constraint.nulls_distinct,
    }
    if constraint.fields:
        return models.UniqueConstraint(fields=[*constraint.fields, *pairs], **options)
    return models.UniqueConstraint(*constraint.expressions, *(F(name) for name in pairs), **options)


def _first_field(constraint: models.UniqueConstraint) -> str | None:
    if constraint.fields:
        return constraint.fields[0]
    for expression in constraint.expressions:
        for node in expression.flatten():
            if isinstance(node, F):
                return node.name
    return None


def validate_unique_constraints(instance: models.Model, *, exclude: Iterable[str] | None = None) -> None:
    """Check the instance against its model's unique constraints, each by the constraint itself
    (`UniqueConstraint.validate()`, so the database folds case as the index does).

    A constraint whose plain condition the instance does not meet costs no query, one whose
    condition it meets a plain one. A violation is a `ValidationError` keyed by the first field
    the constraint names.
    """
    model = type(instance)
    errors: dict[str, list[ValidationError]] = {}
    for declared in model._meta.constraints:
        if not isinstance(declared, models.UniqueConstraint):
            continue
        constraint = _for_instance(declared, instance)
        if constraint is None:
            continue
        try:
            constraint.validate(model, instance, exclude=set(exclude or ()))
        except ValidationError as exc:
            errors.setdefault(_first_field(constraint) or NON_FIELD_ERRORS, []).append(exc)
    if errors:
        raise ValidationError(errors)


def validate_for_write(
    instance: models.Model,
    *,
    exclude: Iterable[str] = (),
    relations_checked: Iterable[str] = (),
    unique_checked_on_save: bool = False,
) -> None:
    """The model's own rules on the state a write is about to save, as every write path checks
    them (the API's serializers, the services that build an object themselves, the import):
    field validators and `clean()` by `full_clean()`, then the unique constraints by the
    constraints themselves (`validate_unique_constraints`). CHECK constraints are not run again:
    the validators and `clean()` state the same rules, and the database still enforces them.

    `exclude`: fields the write fills and checks itself (e.g. a slug made when saved), skipped by
    both; `relations_checked`: relations already looked up, skipped by `full_clean()` only;
    `unique_checked_on_save`: the write's save lets the unique constraints themselves refuse it and
    turns their IntegrityError into this same ValidationError (models_registry.services._save), so
    asking first would only repeat it."""
    exclude = set(exclude)
    instance.full_clean(exclude=exclude | set(relations_checked), validate_unique=False, validate_constraints=False)
    if not unique_checked_on_save:
        validate_unique_constraints(instance, exclude=exclude)


def ensure_used_only_within(users: models.QuerySet, organization_id: str | None, *, what: str) -> None:
    """An object given to one organization may be used only by that organization's objects (a
    global object fits everywhere): `users` are what uses it, `what` names them in the error."""
    if organization_id is None:
        return
    names = sorted({user.name for user in users.exclude(is_system=False, organization_id=organization_id)})
    if names:
        raise ValidationError({"organization_id": [f"Used by {what} outside this organization: {', '.join(names)}."]})


def lock_for_reference(model: type[models.Model], pks: Iterable[Any]) -> set[Any]:
    """Lock the rows a write is about to reference until its transaction ends, and return the pks
    that still exist. PostgreSQL's FOR KEY SHARE (what a foreign key check takes) lets writers that
    reference the same row go on together and makes a concurrent DELETE wait for them; elsewhere
    (SQLite: one writer at a time) a plain read."""
    pks = list(pks)
    queryset = model._default_manager.filter(pk__in=pks)
    if connection.vendor != "postgresql":
        return set(queryset.values_list("pk", flat=True))
    table, pk_column = model._meta.db_table, model._meta.pk.column
    with connection.cursor() as cursor:
        cursor.execute(
            f'SELECT "{pk_column}" FROM "{table}" WHERE "{pk_column}" = ANY(%s) FOR KEY SHARE',  # noqa: S608
            [pks],
        )
        return {row[0] for row in cursor.fetchall()}
