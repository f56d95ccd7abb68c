"""Abstract base models and constraint helpers shared by the apps."""

import uuid

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models.functions import Length, Trim
from django.db.models.lookups import GreaterThanOrEqual, LessThanOrEqual


class TimeStampedModel(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True, db_index=True)

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
