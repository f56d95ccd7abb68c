"""Turning particles into the system prompt text a runtime sends: one place for the admin and the API."""

from collections.abc import Iterable

from prompts.limits import PARTICLE_SEPARATOR
from prompts.models import PromptComposition, PromptParticle


def render_particles(particles: Iterable[PromptParticle]) -> str:
    """The particles' content, in the order given, joined by the particle separator."""
    return PARTICLE_SEPARATOR.join(particle.content for particle in particles)


def render_composition(composition: PromptComposition) -> str:
    """The composition's particles in position order, rendered.

    Uses `items` (with their particles) when they were prefetched, e.g. with
    `prefetch_related("items__particle")`; otherwise one query.
    """
    if composition._state.adding:
        return ""
    prefetched = getattr(composition, "_prefetched_objects_cache", {})
    if "items" in prefetched:
        items = sorted(prefetched["items"], key=lambda item: item.position)
    else:
        items = composition.items.select_related("particle").order_by("position")
    return render_particles(item.particle for item in items)
