"""Turning particles into the system prompt text a runtime sends: one place for the admin and the API."""

from collections.abc import Iterable

from prompts.limits import PARTICLE_SEPARATOR, RENDERED_PROMPT_MAX_LENGTH
from prompts.models import PromptComposition, PromptParticle


def render_texts(contents: Iterable[str]) -> str:
    """Particle contents, in the order given, joined by the particle separator."""
    return PARTICLE_SEPARATOR.join(contents)


def render_particles(particles: Iterable[PromptParticle]) -> str:
    """The particles' content, in the order given, joined by the particle separator."""
    return render_texts(particle.content for particle in particles)


def exceeds_limit(rendered: str) -> bool:
    """Whether a rendered prompt is longer than a system prompt may be: the one statement of the limit."""
    return len(rendered) > RENDERED_PROMPT_MAX_LENGTH


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
