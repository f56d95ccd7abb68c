"""Turning particles into the system prompt text a runtime sends: one place for the admin and the API."""

from collections.abc import Iterable
from typing import TYPE_CHECKING

from prompts.limits import PARTICLE_SEPARATOR
from prompts.models import PromptComposition, PromptParticle

if TYPE_CHECKING:
    from models_registry.models import AIModel

SOURCE_OVERRIDE = "override"
SOURCE_COMPOSITION = "composition"
SOURCE_NONE = "none"


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


def resolve_system_prompt(model: "AIModel") -> tuple[str, str]:
    """The system prompt a model runs with and where it comes from.

    The override wins; otherwise the assigned composition, rendered; otherwise nothing.
    Returns `(text, source)` with source one of "override", "composition", "none".
    """
    if model.system_prompt_override:
        return model.system_prompt_override, SOURCE_OVERRIDE
    if model.system_prompt_composition_id is not None:
        return render_composition(model.system_prompt_composition), SOURCE_COMPOSITION
    return "", SOURCE_NONE
