"""Reads of AI models that need care: what an organization may see, and what to prefetch."""

from django.db.models import Prefetch, Q, QuerySet

from models_registry.models import AIModel
from prompts.models import PromptCompositionParticle


def models_visible_to(organization_id: str) -> QuerySet[AIModel]:
    """Enabled system models plus the organization's own user models (enabled or not)."""
    return AIModel.objects.filter(
        Q(is_system=True, is_enabled=True) | Q(is_system=False, organization_id=organization_id)
    ).select_related("parent")


def with_system_prompt(queryset: QuerySet[AIModel]) -> QuerySet[AIModel]:
    """Everything the resolved view needs, in a constant number of queries."""
    return queryset.select_related("system_prompt_composition").prefetch_related(
        Prefetch(
            "system_prompt_composition__items",
            queryset=PromptCompositionParticle.objects.select_related("particle").order_by("position"),
        )
    )


def enabled_system_models() -> QuerySet[AIModel]:
    return AIModel.objects.filter(is_system=True, is_enabled=True)
