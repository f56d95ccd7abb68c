import django_filters

from core.filters import StrictBooleanFilter, StrictFilterSet
from prompts.models import ParticleKind, PromptComposition, PromptParticle

ORDERING_FIELDS = (("name", "name"), ("created_at", "createdAt"), ("updated_at", "updatedAt"))
ORDERING_HELP = "Sort by name, createdAt or updatedAt; prefix with - for descending."


class PromptParticleFilter(StrictFilterSet):
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


class PromptCompositionFilter(StrictFilterSet):
    default_ordering = ("name",)

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
