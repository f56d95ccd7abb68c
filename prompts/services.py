"""Writes of prompt particles and compositions, and restores of their versions.

Every function applies one change in one transaction and records who made it (`actor`,
e.g. "member:<id>" or "m2m:<client id>") on the version simple-history keeps. Rules across
rows live here: a composition's particles must be visible to its organization and render
within the limit, and nothing still in use may be deleted.

Rule violations raise Django's `ValidationError` keyed by model field name (`particle_ids`
for the particle list), so the admin, commands and the API can all use them; objects in use
raise `core.exceptions.Conflict` naming what uses them (the API's 409).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import ProtectedError

from core.db import ensure_used_only_within, lock_for_reference
from core.exceptions import Conflict, reference_of
from core.history import delete_with_actor, save_with_actor
from prompts import limits, selectors
from prompts.models import OwnedPromptObject, PromptComposition, PromptCompositionParticle, PromptParticle
from prompts.rendering import exceeds_limit, render_particles, render_texts

PARTICLE_FIELDS = ("kind", "name", "content")
COMPOSITION_FIELDS = ("name", "description")
RESTORE_REASON = "Restored version {number}"


# --- Particles -------------------------------------------------------------------------------


def _uses_summary(count: int, what: str) -> str:
    return f"{count} {what}{'' if count == 1 else 's'}"


def ensure_compositions_fit(particle: PromptParticle, content: str) -> None:
    """Every composition using the particle must still render within the limit with `content`."""
    too_long = []
    for composition in selectors.compositions_using_particle(particle):
        rendered = render_texts(
            content if item.particle_id == particle.pk else item.particle.content
            for item in sorted(composition.items.all(), key=lambda item: item.position)
        )
        if exceeds_limit(rendered):
            too_long.append(f"'{composition.name}' ({len(rendered):,} characters)")
    if too_long:
        raise ValidationError(
            {
                "content": [
                    "With this content the rendered prompt of "
                    + ", ".join(too_long)
                    + f" would exceed {limits.RENDERED_PROMPT_MAX_LENGTH:,} characters."
                ]
            }
        )


def ensure_owner_fits_compositions(particle: PromptParticle, organization_id: str | None) -> None:
    """A particle given to one organization may be used only by that organization's compositions
    (a global particle fits everywhere)."""
    ensure_used_only_within(particle.compositions.all(), organization_id, what="compositions")


def owner_of(data: dict[str, Any]) -> str | None:
    """The organization an object with these owner fields (a form's or a change's) would belong to."""
    return OwnedPromptObject.owner_of(bool(data.get("is_system")), data.get("organization_id"))


@transaction.atomic
def particle_create(*, organization_id: str | None, actor: str, data: dict[str, Any]) -> PromptParticle:
    """An organization's particle; with `organization_id=None`, a global one (staff, seeding)."""
    particle = PromptParticle(organization_id=organization_id, is_system=organization_id is None, **data)
    save_with_actor(particle, actor=actor)
    return particle


@transaction.atomic
def particle_update(
    *, particle: PromptParticle, actor: str, data: dict[str, Any], change_reason: str | None = None
) -> PromptParticle:
    """Change a particle. Every composition using it renders the new content from now on.

    `data` may change the owner (`is_system`, `organization_id`: staff in the admin).
    """
    if "content" in data and data["content"] != particle.content:
        ensure_compositions_fit(particle, data["content"])
    if "is_system" in data or "organization_id" in data:
        owner_fields = {"is_system": particle.is_system, "organization_id": particle.organization_id}
        ensure_owner_fits_compositions(particle, owner_of({**owner_fields, **data}))
    for field, value in data.items():
        setattr(particle, field, value)
    save_with_actor(particle, actor=actor, change_reason=change_reason)
    return particle


@transaction.atomic
def particle_delete(*, particle: PromptParticle, actor: str) -> None:
    # Locked first: a composition being given this particle (resolve_particles(lock=True)) has
    # either committed, and is seen below, or waits and then finds it gone.
    PromptParticle.objects.select_for_update().filter(pk=particle.pk).values_list("pk", flat=True).first()
    compositions = list(selectors.compositions_using_particle(particle))
    if compositions:
        raise Conflict(
            f"This particle is used by {_uses_summary(len(compositions), 'composition')}; "
            "remove it from them before deleting it.",
            references=[reference_of(composition) for composition in compositions],
        )
    delete_with_actor(particle, actor=actor)


# --- Compositions ----------------------------------------------------------------------------


def _as_uuid(value: Any) -> uuid.UUID | None:
    try:
        return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))
    except (TypeError, ValueError, AttributeError):
        return None


def resolve_particles(
    *, organization_id: str | None, particle_ids: Sequence[Any], lock: bool = False
) -> list[PromptParticle]:
    """The particles named by `particle_ids`, in that order, checked as a composition's list:
    1 to 50 ids, no repeats, each the organization's own or global, rendering within the limit.

    Another organization's particle is reported like a missing one: its existence is not told.
    With `lock` (a write, inside its transaction) the particles stay locked until it ends, so a
    concurrent delete either waits and then finds them used (409), or goes first and they are
    missing here (400): never a dangling reference failing at commit.
    """
    count = len(particle_ids)
    if count < limits.COMPOSITION_PARTICLES_MIN or count > limits.COMPOSITION_PARTICLES_MAX:
        raise ValidationError(
            {
                "particle_ids": [
                    f"A composition has {limits.COMPOSITION_PARTICLES_MIN} to {limits.COMPOSITION_PARTICLES_MAX} "
                    f"particles, not {count}."
                ]
            }
        )
    ids = [_as_uuid(value) for value in particle_ids]
    malformed = [str(value) for value, parsed in zip(particle_ids, ids, strict=True) if parsed is None]
    if malformed:
        raise ValidationError({"particle_ids": [f"Not a valid UUID: {', '.join(malformed)}."]})
    seen: set[uuid.UUID] = set()
    repeated = []
    for particle_id in ids:
        if particle_id in seen and particle_id not in repeated:
            repeated.append(particle_id)
        seen.add(particle_id)
    if repeated:
        raise ValidationError(
            {"particle_ids": [f"Each particle may appear once; repeated: {', '.join(map(str, repeated))}."]}
        )
    if lock:
        lock_for_reference(PromptParticle, ids)
    found = {particle.pk: particle for particle in selectors.particles_visible_to(organization_id).filter(pk__in=ids)}
    missing = [str(particle_id) for particle_id in ids if particle_id not in found]
    if missing and organization_id is None:
        raise ValidationError(
            {"particle_ids": [f"A global composition can use global particles only, not: {', '.join(missing)}."]}
        )
    if missing:
        raise ValidationError(
            {"particle_ids": [f"No particle visible to your organization has the id: {', '.join(missing)}."]}
        )
    particles = [found[particle_id] for particle_id in ids]
    ensure_renders_within_limit(particles)
    return particles


def ensure_renders_within_limit(particles: Iterable[PromptParticle]) -> str:
    rendered = render_particles(particles)
    if exceeds_limit(rendered):
        raise ValidationError(
            {
                "particle_ids": [
                    f"The rendered prompt would be {len(rendered):,} characters; "
                    f"at most {limits.RENDERED_PROMPT_MAX_LENGTH:,} are allowed."
                ]
            }
        )
    return rendered


def _set_particles(composition: PromptComposition, particles: Sequence[PromptParticle]) -> None:
    composition.items.all().delete()
    PromptCompositionParticle.objects.bulk_create(
        PromptCompositionParticle(composition=composition, particle=particle, position=position)
        for position, particle in enumerate(particles)
    )


def _lock(composition: PromptComposition) -> None:
    """Serialize writers of one composition (its through rows are replaced as a whole)."""
    PromptComposition.objects.select_for_update().filter(pk=composition.pk).values_list("pk", flat=True).first()


def _current_particle_ids(composition: PromptComposition) -> list:
    """Read after `_lock`, not from a prefetch that may predate it."""
    return list(composition.items.order_by("position").values_list("particle_id", flat=True))


def _reloaded(composition: PromptComposition) -> PromptComposition:
    return selectors.with_particles(PromptComposition.objects.all()).get(pk=composition.pk)


@transaction.atomic
def composition_create(*, organization_id: str | None, actor: str, data: dict[str, Any]) -> PromptComposition:
    """`data`: name, description (optional), particle_ids (ordered).

    With `organization_id=None`, a global composition (staff, seeding) of global particles.
    """
    data = dict(data)
    particles = resolve_particles(organization_id=organization_id, particle_ids=data.pop("particle_ids"), lock=True)
    composition = PromptComposition(organization_id=organization_id, is_system=organization_id is None, **data)
    composition._history_particle_ids = [particle.pk for particle in particles]
    save_with_actor(composition, actor=actor)
    _set_particles(composition, particles)
    return _reloaded(composition)


@transaction.atomic
def composition_update(
    *, composition: PromptComposition, actor: str, data: dict[str, Any], change_reason: str | None = None
) -> PromptComposition:
    """Change the name, description and/or the ordered particle list: one new version.

    `data` may change the owner (`is_system`, `organization_id`: staff in the admin); the
    particles are then checked against the new owner.
    """
    _lock(composition)
    data = dict(data)
    particle_ids = data.pop("particle_ids", None)
    owner_changes = "is_system" in data or "organization_id" in data
    for field, value in data.items():
        setattr(composition, field, value)
    if particle_ids is None and owner_changes:
        particle_ids = _current_particle_ids(composition)
    if particle_ids is not None:
        particles = resolve_particles(organization_id=composition.owner, particle_ids=particle_ids, lock=True)
        _set_particles(composition, particles)
        composition._history_particle_ids = [particle.pk for particle in particles]
    else:
        composition._history_particle_ids = _current_particle_ids(composition)
    save_with_actor(composition, actor=actor, change_reason=change_reason)
    return _reloaded(composition)


@transaction.atomic
def composition_delete(*, composition: PromptComposition, actor: str) -> None:
    """Delete a composition nothing uses; what still refers to it (PROTECT) makes it a Conflict."""
    _lock(composition)
    composition._history_particle_ids = _current_particle_ids(composition)
    try:
        with transaction.atomic():
            delete_with_actor(composition, actor=actor)
    except ProtectedError as exc:
        users = sorted(exc.protected_objects, key=lambda obj: (str(obj), str(obj.pk)))
        raise Conflict(
            f"This composition is the system prompt of {_uses_summary(len(users), 'model')}; "
            "assign them another prompt before deleting it.",
            references=[reference_of(obj) for obj in users],
        ) from exc


# --- Restoring versions ------------------------------------------------------------------------


def _restore_reason(record: Any) -> str:
    return RESTORE_REASON.format(number=record.version_number)


def particle_restore(*, particle: PromptParticle, record: Any, actor: str) -> PromptParticle:
    """Bring a version's kind, name and content back, as a new version."""
    data = {field: getattr(record, field) for field in PARTICLE_FIELDS}
    return particle_update(particle=particle, actor=actor, data=data, change_reason=_restore_reason(record))


def composition_restore(*, composition: PromptComposition, record: Any, actor: str) -> PromptComposition:
    """Bring a version's name, description and particle order back, as a new version.

    A version naming a particle that no longer exists cannot come back: 409.
    """
    particle_ids = list(record.particle_ids)
    existing = {str(pk) for pk in PromptParticle.objects.filter(pk__in=particle_ids).values_list("pk", flat=True)}
    deleted = [particle_id for particle_id in particle_ids if particle_id not in existing]
    if deleted:
        raise Conflict(
            f"Version {record.version_number} cannot be restored: it uses particles that have since been "
            f"deleted ({', '.join(deleted)}). Edit the composition instead."
        )
    data = {field: getattr(record, field) for field in COMPOSITION_FIELDS}
    data["particle_ids"] = particle_ids
    return composition_update(composition=composition, actor=actor, data=data, change_reason=_restore_reason(record))
