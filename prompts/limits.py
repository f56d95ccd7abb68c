"""Every bound on a prompt field, written once."""

NAME_MIN_LENGTH = 1
NAME_MAX_LENGTH = 200

DESCRIPTION_MAX_LENGTH = 2_000

PARTICLE_CONTENT_MIN_LENGTH = 1
PARTICLE_CONTENT_MAX_LENGTH = 20_000

COMPOSITION_PARTICLES_MIN = 1
COMPOSITION_PARTICLES_MAX = 50

# The longest system prompt a runtime is sent: a rendered composition (and a model's override).
SYSTEM_PROMPT_MAX_LENGTH = 50_000
RENDERED_PROMPT_MAX_LENGTH = SYSTEM_PROMPT_MAX_LENGTH

# Particles are joined by a blank line when a composition is rendered.
PARTICLE_SEPARATOR = "\n\n"
