import datetime

import django_filters
from django import forms
from django.db.models import Q, QuerySet

from models_registry.models import AIModel


class StrictBooleanField(forms.Field):
    """`true`/`false` (or 1/0); anything else is an error, not a silently dropped filter."""

    VALUES = {"true": True, "1": True, "false": False, "0": False}

    def to_python(self, value):
        if value in (None, ""):
            return None
        normalized = str(value).strip().lower()
        if normalized not in self.VALUES:
            raise forms.ValidationError("Must be true or false.", code="invalid")
        return self.VALUES[normalized]


class StrictBooleanFilter(django_filters.BooleanFilter):
    field_class = StrictBooleanField


class UTCIsoDateTimeField(django_filters.fields.IsoDateTimeField):
    """An ISO 8601 date-time, converted to UTC before it reaches the database.

    The databases differ in the offsets they take (PostgreSQL stops at 15:59), and a time at
    the edge of the calendar (`0001-01-01T00:00:00+01:00`) has no UTC equivalent: a 400.
    """

    def to_python(self, value):
        value = super().to_python(value)
        if value is None:
            return None
        try:
            return value.astimezone(datetime.UTC)
        except OverflowError:
            raise forms.ValidationError("Out of range once converted to UTC.", code="invalid") from None


class UTCIsoDateTimeFilter(django_filters.IsoDateTimeFilter):
    field_class = UTCIsoDateTimeField


class StrictFilterSet(django_filters.FilterSet):
    """A filter named in the query string needs a value: `?until=` is a 400, not "no filter".

    Only free text (`search=`) may be empty; a boolean, a choice, an ordering, a UUID or a
    date-time may not.
    """

    blank_allowed: tuple[type[django_filters.Filter], ...] = (django_filters.CharFilter,)

    def is_valid(self) -> bool:
        valid = super().is_valid()
        if self.is_bound:
            for name, filter_ in self.filters.items():
                if self.data.get(name) == "" and not isinstance(filter_, self.blank_allowed):
                    self.form.add_error(name, "Must not be empty.")
                    valid = False
        return valid


class InheritedBooleanFilter(StrictBooleanFilter):
    """Filters on the effective value: a user model's own column is NULL, its parent's counts."""

    def filter(self, qs: QuerySet, value: bool | None) -> QuerySet:
        if value is None:
            return qs
        return qs.filter(Q(**{self.field_name: value}) | Q(**{f"parent__{self.field_name}": value}))


class AIModelFilter(StrictFilterSet):
    isSystem = StrictBooleanFilter(
        field_name="is_system", help_text="Only system (true) or user (false) models."
    )
    isEnabled = StrictBooleanFilter(
        field_name="is_enabled", help_text="Only enabled (true) or disabled models."
    )
    provider = django_filters.CharFilter(
        method="filter_provider", help_text="Provider name (user models match their parent's provider)."
    )
    supportsTools = InheritedBooleanFilter(field_name="supports_tools", help_text="Tool/function calling support.")
    supportsVision = InheritedBooleanFilter(field_name="supports_vision", help_text="Vision/image input support.")
    supportsReasoning = InheritedBooleanFilter(field_name="supports_reasoning", help_text="Reasoning token support.")
    supportsStreaming = StrictBooleanFilter(field_name="supports_streaming", help_text="Streaming support.")
    search = django_filters.CharFilter(
        field_name="name", lookup_expr="icontains", help_text="Case-insensitive search in the name."
    )
    ordering = django_filters.OrderingFilter(
        fields=(
            ("name", "name"),
            ("created_at", "createdAt"),
            ("updated_at", "updatedAt"),
            ("context_window", "contextWindow"),
        ),
        help_text="Sort by name, createdAt, updatedAt or contextWindow; prefix with - for descending. "
        "Default: system models first, then by name.",
    )

    class Meta:
        model = AIModel
        fields: list[str] = []

    def filter_provider(self, qs: QuerySet, name: str, value: str) -> QuerySet:
        return qs.filter(Q(provider=value) | Q(parent__provider=value))

    @property
    def qs(self) -> QuerySet:
        queryset = super().qs
        if not self.form.cleaned_data.get("ordering"):
            return queryset.order_by("-is_system", "name", "id")
        return queryset.order_by(*queryset.query.order_by, "id")
