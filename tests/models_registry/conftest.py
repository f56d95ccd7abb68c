"""Rows for the models API tests, made with tests/factories.py."""

from __future__ import annotations

from decimal import Decimal

import pytest

from models_registry import limits
from models_registry.models import AIModel
from tests.factories import SystemModelFactory, UserModelFactory


@pytest.fixture
def parent() -> AIModel:
    return SystemModelFactory(
        name="Base Omni",
        description="Advanced language model for complex tasks",
        provider="provider-a",
        provider_model_id="large-modelo",
        context_window=128_000,
        max_tokens=16_384,
        supports_streaming=True,
        supports_tools=True,
        supports_vision=True,
        supports_reasoning=False,
        credit_multiplier=Decimal("2.25"),
    )


@pytest.fixture
def roomy_parent() -> AIModel:
    """The largest context window, room for the largest inherited max tokens."""
    return SystemModelFactory(context_window=limits.CONTEXT_WINDOW_MAX, max_tokens=100_000)


@pytest.fixture
def generous_parent() -> AIModel:
    """Allows every max tokens value up to the bound."""
    return SystemModelFactory(context_window=limits.CONTEXT_WINDOW_MAX, max_tokens=limits.MAX_TOKENS_MAX)


@pytest.fixture
def non_streaming_parent() -> AIModel:
    return SystemModelFactory(supports_streaming=False)


@pytest.fixture
def user_model(parent: AIModel) -> AIModel:
    return UserModelFactory(parent=parent, organization_id="org-a", name="Support Bot", max_tokens=4_000)
