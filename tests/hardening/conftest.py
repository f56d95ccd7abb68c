"""Fixtures and helpers for the hardening tests (issue 7): rows written directly, not through the API."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest

from models_registry.models import AIModel
from prompts.models import PromptComposition
from tests.factories import CompositionFactory, ParticleFactory, SystemModelFactory, UserModelFactory

MODELS_URL = "/v1/models"
PARTICLES_URL = "/v1/prompt-particles"
COMPOSITIONS_URL = "/v1/prompt-compositions"
AUDIT_URL = "/v1/audit-events"


@pytest.fixture
def system_model(db: Any) -> AIModel:
    return SystemModelFactory(
        name="Hardening Base",
        context_window=128_000,
        max_tokens=16_384,
        credit_multiplier=Decimal("1.5"),
    )


@pytest.fixture
def make_model(system_model: AIModel) -> Callable[..., AIModel]:
    def make(org: str = "org-a", **fields: Any) -> AIModel:
        fields.setdefault("context_window", 32_768)
        fields.setdefault("max_tokens", 1_000)
        return UserModelFactory(parent=system_model, organization_id=org, **fields)

    return make


@pytest.fixture
def user_model(make_model: Callable[..., AIModel]) -> AIModel:
    return make_model(name="Support Bot", description="0")


@pytest.fixture
def particle(db: Any):
    return ParticleFactory(organization_id="org-a", content="Be helpful.")


@pytest.fixture
def make_particle(db: Any):
    def make(org: str = "org-a", **fields: Any):
        return ParticleFactory(organization_id=org, **fields)

    return make


@pytest.fixture
def composition(make_particle) -> PromptComposition:
    return CompositionFactory(organization_id="org-a", particles=[make_particle(), make_particle()])


def model_body(parent: AIModel, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "parentId": str(parent.pk),
        "name": "Idempotent Model",
        "contextWindow": 8_192,
        "maxTokens": 1_000,
    }
    body.update(overrides)
    return body
