"""Fixtures and helpers for the hardening tests (issue 7): rows written directly, not through the API."""

from __future__ import annotations

import time
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
def user_model(system_model: AIModel) -> AIModel:
    return UserModelFactory(
        parent=system_model, name="Support Bot", description="0", context_window=32_768, max_tokens=1_000
    )


@pytest.fixture
def particle(db: Any):
    return ParticleFactory(organization_id="org-a", content="Be helpful.")


@pytest.fixture
def composition(db: Any) -> PromptComposition:
    return CompositionFactory(organization_id="org-a", particles=[ParticleFactory(), ParticleFactory()])


def model_body(parent: AIModel, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "parentId": str(parent.pk),
        "name": "Idempotent Model",
        "contextWindow": 8_192,
        "maxTokens": 1_000,
    }
    body.update(overrides)
    return body


def start_in_a_fresh_window(needs: float = 5) -> None:
    """A counter per calendar minute resets on the minute: keep a test's requests inside one minute
    (`needs`: the seconds they may take)."""
    into_minute = time.time() % 60
    if into_minute > 60 - needs:
        time.sleep(60 - into_minute + 0.05)
