import django_filters
from django.db.models import QuerySet

from models_registry.api.filters import StrictBooleanFilter, StrictFilterSet
from prompts.models import ParticleKind, PromptComposition, PromptParticle

ORDERING_FIELDS = (("name", "name"), ("created_at", "createdAt"), ("updated_at", "updatedAt"))
ORDERING_HELP = "Sort by name, createdAt or updatedAt; prefix with - for descending."


class _StableOrderingFilterSet(StrictFilterSet):
    """Pages stay stable: the id breaks ties of whatever order applies."""

    default_ordering: tuple[str, ...] = ("name",)

    @property
    def qs(self) -> QuerySet:
        queryset = super().qs
        if not self.form.cleaned_data.get("ordering"):
            return queryset.order_by(*self.default_ordering, "id")
        return queryset.order_by(*queryset.query.order_by, "id")


class PromptParticleFilter(_StableOrderingFilterSet):
    kind = django_filters.ChoiceFilter(choices=ParticleKind.choices, help_text="Only particles of this kind.")
    isSystem = StrictBooleanFilter(
        field_name="is_system", help_text="Only global (true) or your organization's own (false) particles."
    )
    search = django_filters.CharFilter(
        field_name="name", lookup_expr="icontains", help_text="Case-insensitive search in the name."
    )
    ordering = django_filters.OrderingFilter(
        fields=ORDERING_FIELDS, help_text=f"{ORDERING_HELP} Default: by kind, then name."
    )

    default_ordering = ("kind", "name")

    class Meta:
        model = PromptParticle
        fields: list[str] = []


class PromptCompositionFilter(_StableOrderingFilterSet):
    isSystem = StrictBooleanFilter(
        field_name="is_system", help_text="Only global (true) or your organization's own (false) compositions."
    )
    search = django_filters.CharFilter(
        field_name="name", lookup_expr="icontains", help_text="Case-insensitive search in the name."
    )
    ordering = django_filters.OrderingFilter(fields=ORDERING_FIELDS, help_text=f"{ORDERING_HELP} Default: by name.")

    class Meta:
        model = PromptComposition
        fields: list[str] = []
