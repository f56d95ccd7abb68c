"""Rows for the prompts tests, made with tests/factories.py (not through the API under test)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import pytest

from models_registry.models import AIModel
from prompts.models import ParticleKind, PromptComposition, PromptParticle
from tests.factories import CompositionFactory, ParticleFactory, SystemModelFactory, UserModelFactory


@pytest.fixture
def make_particle(db: Any) -> Callable[..., PromptParticle]:
    def make(
        org: str | None = "org-a", *, kind: str = ParticleKind.CUSTOM, name: str | None = None, content: str = "Text."
    ) -> PromptParticle:
        names = {"name": name} if name else {}
        return ParticleFactory(organization_id=org, is_system=org is None, kind=kind, content=content, **names)

    return make


@pytest.fixture
def make_composition(db: Any, make_particle: Callable[..., PromptParticle]) -> Callable[..., PromptComposition]:
    def make(
        org: str | None = "org-a", *, particles: Sequence[PromptParticle] | None = None, name: str | None = None
    ) -> PromptComposition:
        names = {"name": name} if name else {}
        return CompositionFactory(
            organization_id=org,
            is_system=org is None,
            particles=list(particles) if particles is not None else [make_particle(org)],
            **names,
        )

    return make


@pytest.fixture
def system_model(db: Any) -> AIModel:
    return SystemModelFactory(
        name="Base model", description="", provider_model_id="base-model", max_tokens=4_096, credit_multiplier=1
    )


@pytest.fixture
def make_user_model(system_model: AIModel) -> Callable[..., AIModel]:
    def make(org: str = "org-a", *, name: str | None = None, **fields: Any) -> AIModel:
        names = {"name": name} if name else {}
        return UserModelFactory(
            parent=system_model, organization_id=org, **{"context_window": 8_192, **names, **fields}
        )

    return make
