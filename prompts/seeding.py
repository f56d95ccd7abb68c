"""Seed the global prompt particles and compositions every organization can use.

The data is `fixtures/global_prompts.json`: particles keyed on (kind, name), compositions
keyed on name, each naming its particles by (kind, name) in order. Only global objects are
touched; a second run with the same data changes nothing. Changes are recorded as versions
by "system:seed".
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from prompts import services
from prompts.models import PromptComposition, PromptParticle
from prompts.selectors import composition_particle_ids, with_particles

DEFAULT_DATA_PATH = Path(__file__).resolve().parent / "fixtures" / "global_prompts.json"
SEED_ACTOR = "system:seed"
COUNT_KEYS = (
    "particles_created",
    "particles_updated",
    "particles_unchanged",
    "compositions_created",
    "compositions_updated",
    "compositions_unchanged",
)


def load_global_prompts(path: str | Path = DEFAULT_DATA_PATH) -> dict[str, Any]:
    return json.loads(Path(path).read_text(encoding="utf-8"))


def _validated_particle(entry: dict[str, Any]) -> PromptParticle:
    particle = PromptParticle(
        is_system=True, organization_id=None, kind=entry["kind"], name=entry["name"], content=entry["content"]
    )
    try:
        particle.full_clean(exclude=["id"])
    except ValidationError as exc:
        raise ValidationError(f"Global particle {entry['kind']}/{entry['name']}: {exc.messages}") from exc
    return particle


def _seed_particle(entry: dict[str, Any], counts: dict[str, int]) -> PromptParticle:
    wanted = _validated_particle(entry)
    particle = (
        PromptParticle.objects.filter(is_system=True, kind=wanted.kind, name=wanted.name).order_by("created_at").first()
    )
    if particle is None:
        counts["particles_created"] += 1
        data = {"kind": wanted.kind, "name": wanted.name, "content": wanted.content}
        return services.particle_create(organization_id=None, actor=SEED_ACTOR, data=data)
    if particle.content != wanted.content:
        counts["particles_updated"] += 1
        return services.particle_update(particle=particle, actor=SEED_ACTOR, data={"content": wanted.content})
    counts["particles_unchanged"] += 1
    return particle


def _seed_composition(
    entry: dict[str, Any], particles: dict[tuple[str, str], PromptParticle], counts: dict[str, int]
) -> None:
    try:
        particle_ids = [particles[(ref["kind"], ref["name"])].pk for ref in entry["particles"]]
    except KeyError as exc:
        raise ValidationError(f"Global composition {entry['name']!r} names an unknown particle {exc.args[0]}.") from exc
    data = {"name": entry["name"], "description": entry.get("description", ""), "particle_ids": particle_ids}
    existing = PromptComposition.objects.filter(is_system=True, name=entry["name"]).order_by("created_at")
    composition = with_particles(existing).first()
    if composition is None:
        counts["compositions_created"] += 1
        services.composition_create(organization_id=None, actor=SEED_ACTOR, data=data)
        return
    if composition.description == data["description"] and composition_particle_ids(composition) == particle_ids:
        counts["compositions_unchanged"] += 1
        return
    counts["compositions_updated"] += 1
    services.composition_update(composition=composition, actor=SEED_ACTOR, data=data)


def seed_global_prompts(*, dry_run: bool = False, path: str | Path = DEFAULT_DATA_PATH) -> dict[str, int]:
    """Create or update the global particles and compositions; returns what was (or would be) done.

    With `dry_run`, everything runs and is rolled back, so the counts are exact.
    """
    data = load_global_prompts(path)
    counts = dict.fromkeys(COUNT_KEYS, 0)
    with transaction.atomic():
        particles = {
            (particle.kind, particle.name): particle
            for particle in (_seed_particle(entry, counts) for entry in data.get("particles", []))
        }
        for entry in data.get("compositions", []):
            _seed_composition(entry, particles, counts)
        if dry_run:
            transaction.set_rollback(True)
    return counts


def summary(counts: dict[str, int]) -> str:
    return "global prompts: " + ", ".join(f"{key.replace('_', ' ')} {value}" for key, value in counts.items())
