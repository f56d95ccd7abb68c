import django_filters
from django.db.models import Q, QuerySet

from core.filters import StrictBooleanFilter, StrictFilterSet
from models_registry import lifecycle
from models_registry.lifecycle import LifecycleStatus
from models_registry.models import AIModel


class InheritedBooleanFilter(StrictBooleanFilter):
    """Filters on the effective value: a user model's own column is NULL, its parent's counts."""

    def filter(self, qs: QuerySet, value: bool | None) -> QuerySet:
        if value is None:
            return qs
        return qs.filter(Q(**{self.field_name: value}) | Q(**{f"parent__{self.field_name}": value}))


class AIModelFilter(StrictFilterSet):
    isSystem = StrictBooleanFilter(field_name="is_system", help_text="Only system (true) or user (false) models.")
    isEnabled = StrictBooleanFilter(field_name="is_enabled", help_text="Only enabled (true) or disabled models.")
    provider = django_filters.CharFilter(
        method="filter_provider", help_text="Provider name (user models match their parent's provider)."
    )
    supportsTools = InheritedBooleanFilter(field_name="supports_tools", help_text="Tool/function calling support.")
    supportsVision = InheritedBooleanFilter(field_name="supports_vision", help_text="Vision/image input support.")
    supportsReasoning = InheritedBooleanFilter(field_name="supports_reasoning", help_text="Reasoning token support.")
    supportsStreaming = StrictBooleanFilter(field_name="supports_streaming", help_text="Streaming support.")
    lifecycleStatus = django_filters.ChoiceFilter(
        choices=LifecycleStatus.choices,
        method="filter_lifecycle_status",
        help_text="Only models in this lifecycle status today (a user model: its base model's).",
    )
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

    def filter_lifecycle_status(self, qs: QuerySet, name: str, value: str) -> QuerySet:
        on = lifecycle.today()
        return qs.filter(
            (Q(is_system=True) & lifecycle.status_q(value, on))
            | (Q(is_system=False) & lifecycle.status_q(value, on, prefix="parent__"))
        )

    def filter_provider(self, qs: QuerySet, name: str, value: str) -> QuerySet:
        return qs.filter(Q(provider=value) | Q(parent__provider=value))

    default_ordering = ("-is_system", "name")
