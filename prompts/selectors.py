"""Reads of prompt particles and compositions: what an organization may see, and what to prefetch."""

from django.db.models import Prefetch, Q, QuerySet

from prompts.models import OwnedPromptObject, PromptComposition, PromptCompositionParticle, PromptParticle


def visible_to(organization_id: str | None) -> Q:
    """The organization's own objects plus the global ones."""
    return OwnedPromptObject.visible_to_q(organization_id)


def particles_visible_to(organization_id: str | None) -> QuerySet[PromptParticle]:
    return PromptParticle.objects.filter(visible_to(organization_id))


def particles_part(organization_id: str | None, is_system: bool) -> QuerySet[PromptParticle]:
    """The global particles, or the organization's own: one half of `particles_visible_to`."""
    return PromptParticle.objects.filter(OwnedPromptObject.visible_part_q(organization_id, is_system))


def with_particles(queryset: QuerySet[PromptComposition]) -> QuerySet[PromptComposition]:
    """Compositions with their items and particles in position order: one query for any number."""
    return queryset.prefetch_related(
        Prefetch("items", queryset=PromptCompositionParticle.objects.select_related("particle").order_by("position"))
    )


def compositions_visible_to(organization_id: str | None) -> QuerySet[PromptComposition]:
    return with_particles(PromptComposition.objects.filter(visible_to(organization_id)))


def compositions_part(organization_id: str | None, is_system: bool) -> QuerySet[PromptComposition]:
    """The global compositions, or the organization's own: one half of `compositions_visible_to`,
    for a list page read as rows (its particles come from `particles_of_compositions`)."""
    return PromptComposition.objects.filter(OwnedPromptObject.visible_part_q(organization_id, is_system))


def composition_particle_ids(composition: PromptComposition) -> list:
    """The composition's particle ids in position order (from the prefetch when there is one)."""
    return [item.particle_id for item in sorted(composition.items.all(), key=lambda item: item.position)]


def particles_of_compositions(composition_ids: list) -> dict:
    """Each composition's particles as (particle id, content) in position order, for a page of
    compositions read as plain rows: one query for any number, no instances."""
    particles: dict = {composition_id: [] for composition_id in composition_ids}
    items = (
        PromptCompositionParticle.objects.filter(composition_id__in=composition_ids)
        .order_by("composition_id", "position")
        .values_list("composition_id", "particle_id", "particle__content")
    )
    for composition_id, particle_id, content in items:
        particles[composition_id].append((particle_id, content))
    return particles


def compositions_using_particle(particle: PromptParticle) -> QuerySet[PromptComposition]:
    return with_particles(PromptComposition.objects.filter(items__particle=particle).distinct().order_by("name", "id"))
