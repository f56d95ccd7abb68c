"""Slugs: the stable, readable name a runtime's configuration uses for a model ("acme-support",
"gpt-4.1"). Lowercase `[a-z0-9][a-z0-9._-]*`, at most SLUG_MAX_LENGTH characters; unique among
system models, and per organization among user models (the constraints on AIModel).

A user model without one gets it from its name on create ("Support Bot" -> "support-bot", then
"support-bot-2" if taken); a system model from its provider model id. A slug can be changed;
the old one then no longer resolves (it is free for another model). Some words are reserved:
they name routes beside `/v1/models/{id}`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.utils.text import slugify

from models_registry import limits

SLUG_PATTERN = re.compile(rf"[a-z0-9][a-z0-9._-]{{0,{limits.SLUG_MAX_LENGTH - 1}}}")
RESERVED = frozenset({"deprecations", "export", "import"})
# What the URL pattern of `/v1/models/{id}` accepts besides a UUID: any slug but a reserved word
# (those name the routes beside it), so the OpenAPI document does not offer them as ids either.
SLUG_URL_PATTERN = rf"(?!(?:{'|'.join(sorted(RESERVED))})(?:/|$)){SLUG_PATTERN.pattern}"


def validate_slug(value: str) -> None:
    if not SLUG_PATTERN.fullmatch(value or ""):
        raise ValidationError(
            f"Must be 1 to {limits.SLUG_MAX_LENGTH} characters: lowercase letters, digits, '.', '_' or '-', "
            "starting with a letter or digit.",
            code="invalid_slug",
        )
    if value in RESERVED:
        raise ValidationError(f"{value!r} is reserved; choose another slug.", code="reserved_slug")


def slug_from(text: str, *, fallback: str = "model") -> str:
    """A slug for a name or a provider model id: kept as it is when it already is one."""
    lowered = (text or "").strip().lower()
    if SLUG_PATTERN.fullmatch(lowered) and lowered not in RESERVED:
        return lowered
    made = slugify(text).strip("-_.")[: limits.SLUG_MAX_LENGTH].strip("-_.")
    if not made or made in RESERVED:
        made = f"{made}-model" if made else fallback
    return made


def first_free(base: str, taken: Iterable[str]) -> str:
    """`base`, or `base-2`, `base-3`, ... the first not in `taken` (shortened to fit the length)."""
    taken = set(taken)
    if base not in taken:
        return base
    n = 2
    while True:
        suffix = f"-{n}"
        candidate = base[: limits.SLUG_MAX_LENGTH - len(suffix)].rstrip("-_.") + suffix
        if candidate not in taken:
            return candidate
        n += 1
