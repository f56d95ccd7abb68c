"""Rows for the prompts tests, written directly (not through the API under test)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from itertools import count
from typing import Any

import pytest

from models_registry.models import AIModel
from prompts.models import ParticleKind, PromptComposition, PromptCompositionParticle, PromptParticle

_names = count(1)


@pytest.fixture
def make_particle(db: Any) -> Callable[..., PromptParticle]:
    def make(
        org: str | None = "org-a", *, kind: str = ParticleKind.CUSTOM, name: str | None = None, content: str = "Text."
    ) -> PromptParticle:
        return PromptParticle.objects.create(
            organization_id=org,
            is_system=org is None,
            kind=kind,
            name=name or f"Particle {next(_names)}",
            content=content,
        )

    return make


@pytest.fixture
def make_composition(db: Any, make_particle: Callable[..., PromptParticle]) -> Callable[..., PromptComposition]:
    def make(
        org: str | None = "org-a", *, particles: Sequence[PromptParticle] | None = None, name: str | None = None
    ) -> PromptComposition:
        composition = PromptComposition.objects.create(
            organization_id=org, is_system=org is None, name=name or f"Composition {next(_names)}"
        )
        for position, particle in enumerate(particles if particles is not None else [make_particle(org)]):
            PromptCompositionParticle.objects.create(composition=composition, particle=particle, position=position)
        return composition

    return make


@pytest.fixture
def system_model(db: Any) -> AIModel:
    return AIModel.objects.create(
        is_system=True,
        name="Base model",
        provider="provider-a",
        provider_model_id="base-model",
        context_window=128_000,
        max_tokens=4_096,
        credit_multiplier=1,
        supports_tools=True,
        supports_vision=False,
        supports_reasoning=False,
    )


@pytest.fixture
def make_user_model(system_model: AIModel) -> Callable[..., AIModel]:
    def make(org: str = "org-a", *, name: str | None = None, **fields: Any) -> AIModel:
        return AIModel.objects.create(
            is_system=False,
            parent=system_model,
            organization_id=org,
            name=name or f"Model {next(_names)}",
            context_window=8_192,
            **fields,
        )

    return make
