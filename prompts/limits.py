"""Every bound on a prompt field, written once (see models_registry/limits.py)."""

from models_registry.limits import SYSTEM_PROMPT_OVERRIDE_MAX_LENGTH

NAME_MIN_LENGTH = 1
NAME_MAX_LENGTH = 200

DESCRIPTION_MAX_LENGTH = 2_000

PARTICLE_CONTENT_MIN_LENGTH = 1
PARTICLE_CONTENT_MAX_LENGTH = 20_000

COMPOSITION_PARTICLES_MIN = 1
COMPOSITION_PARTICLES_MAX = 50

# A rendered composition replaces a model's system prompt override, so it shares its limit.
RENDERED_PROMPT_MAX_LENGTH = SYSTEM_PROMPT_OVERRIDE_MAX_LENGTH

# Particles are joined by a blank line when a composition is rendered.
PARTICLE_SEPARATOR = "\n\n"
