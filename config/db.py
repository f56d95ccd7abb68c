"""Abstract base models and constraint helpers shared by the apps."""

import uuid

from django.db import models
from django.db.models.functions import Length, Trim
from django.db.models.lookups import GreaterThanOrEqual, LessThanOrEqual


class TimeStampedModel(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True, db_index=True)

    class Meta:
        abstract = True


def length_between(field: str, minimum: int, maximum: int, *, name: str) -> models.CheckConstraint:
    """CHECK that a text column holds minimum..maximum characters, not counting outer whitespace
    for the minimum (a name of spaces is empty)."""
    return models.CheckConstraint(
        condition=GreaterThanOrEqual(Length(Trim(field)), minimum) & LessThanOrEqual(Length(field), maximum),
        name=name,
    )


def length_at_most(field: str, maximum: int, *, name: str) -> models.CheckConstraint:
    return models.CheckConstraint(condition=LessThanOrEqual(Length(field), maximum), name=name)
