"""Filtering shared by the API's list endpoints (django-filter).

- Strict: a value that does not parse, or an empty value for anything but free text, is a
  400 naming the parameter, never a silently dropped filter.
- Stable: pages never shuffle; the id breaks ties of whatever order applies.
- Cheap when unused: building a FilterSet deep-copies every declared filter, the largest
  single cost of an unfiltered list. A request that names none of the FilterSet's
  parameters gets its default ordering directly (`FilterBackend`).
- Built once a request: a list read in parts (core.pagination) filters each part, and every
  part gets the same FilterSet, bound and validated on the first (`FilterBackend`).
"""

import datetime

import django_filters
from django import forms
from django.db.models import QuerySet
from django_filters import utils
from django_filters.filters import BaseCSVFilter
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.contrib.django_filters import DjangoFilterExtension
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request

EMPTY = "Must not be empty."


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


def boolean_query_parameter(request: Request, name: str, *, default: bool) -> bool:
    """A boolean query parameter that is no filter (`POST /v1/import?dryRun=`), read as a
    StrictBooleanFilter is: the same spellings, and the same 400 naming it when empty or unparsable."""
    if name not in request.query_params:
        return default
    value = request.query_params[name]
    if value == "":
        raise ValidationError({name: [EMPTY]})
    try:
        return StrictBooleanField().to_python(value)
    except forms.ValidationError as exc:
        raise ValidationError({name: exc.messages}) from None


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
                    self.form.add_error(name, EMPTY)
                    valid = False
        return valid

    # The order when the request names none (the id is appended to break ties).
    default_ordering: tuple[str, ...] = ()

    @classmethod
    def order_unfiltered(cls, queryset: QuerySet) -> QuerySet:
        return queryset.order_by(*cls.default_ordering, "id") if cls.default_ordering else queryset

    @property
    def qs(self) -> QuerySet:
        if not hasattr(self, "_qs"):
            self.errors  # noqa: B018 - validated before filtering, as django-filter's own `qs`
            self._qs = self.apply(self.queryset)
        return self._qs

    def apply(self, queryset: QuerySet) -> QuerySet:
        """The request's filters and ordering (validated: `is_valid()`) on `queryset`, which may be
        another than the one it was built with: each part of a list read in parts."""
        queryset = self.filter_queryset(queryset.all())
        if self.form.cleaned_data.get("ordering"):
            return queryset.order_by(*queryset.query.order_by, "id")
        return self.order_unfiltered(queryset)


class FilterBackend(DjangoFilterBackend):
    """django-filter's backend: an unfiltered list skips the FilterSet; a filtered one builds and
    validates it once a request, however many querysets it filters (the view keeps it); a list
    parameter (`ordering`) may come repeated (`?ordering=a&ordering=b`, what the OpenAPI document
    says: `FilterBackendSchema`) or as one comma-separated value (`?ordering=a,b`)."""

    @staticmethod
    def list_parameters(filterset_class) -> list[str]:
        return [name for name, filter_ in filterset_class.base_filters.items() if isinstance(filter_, BaseCSVFilter)]

    def get_filterset_kwargs(self, request, queryset, view):
        kwargs = super().get_filterset_kwargs(request, queryset, view)
        repeated = [name for name in self.list_parameters(type(view).filterset_class) if name in kwargs["data"]]
        if repeated:
            data = kwargs["data"].copy()
            for name in repeated:
                data[name] = ",".join(request.query_params.getlist(name))
            kwargs["data"] = data
        return kwargs

    def filter_queryset(self, request, queryset, view):
        filterset_class = self.get_filterset_class(view, queryset)
        if filterset_class is None:
            return queryset
        if not any(name in request.query_params for name in filterset_class.base_filters):
            return filterset_class.order_unfiltered(queryset)
        return self.validated_filterset(request, queryset, view).apply(queryset)

    def validated_filterset(self, request, queryset, view) -> StrictFilterSet:
        """The request's FilterSet, bound and validated (invalid: a 400 naming the parameters), built
        on the view's first call: a view serves one request, and each of its calls has the same
        parameters. Building one deep-copies every filter, most of a filtered page's Python time."""
        kept = view.__dict__.setdefault("_validated_filtersets", {})
        filterset_class = self.get_filterset_class(view, queryset)
        if filterset_class not in kept:
            filterset = self.get_filterset(request, queryset, view)
            if not filterset.is_valid() and self.raise_exception:
                raise utils.translate_validation(filterset.errors)
            kept[filterset_class] = filterset
        return kept[filterset_class]


class FilterBackendSchema(DjangoFilterExtension):
    """The document's list parameters are form arrays with explode (`?ordering=a&ordering=b`).

    drf-spectacular declares a django-filter CSV filter (`ordering`) `explode: false`, one
    comma-separated value. The server takes both forms, but the document can name one, and
    generated clients must send it: openapi-python-client ignores `explode: false` and always
    repeats the key; hey-api follows the document. The repeated key, OpenAPI's default for a
    form array, is the form every client can send (tests/clients/).
    """

    target_class = FilterBackend
    priority = 1  # before drf-spectacular's own extension for every DjangoFilterBackend

    def resolve_filter_field(self, auto_schema, model, filterset_class, field_name, filter_field):
        parameters = super().resolve_filter_field(auto_schema, model, filterset_class, field_name, filter_field)
        if isinstance(filter_field, BaseCSVFilter):
            for parameter in parameters:
                parameter["explode"] = True
        return parameters
