"""Fixtures for the admin tests: a logged-in staff client and rows made directly in the table.

The shared tests/conftest.py defines `admin_client` for the API, hence `staff_client` here.
"""

from decimal import Decimal
from itertools import count

import pytest
from django.contrib.auth import get_user_model

from models_registry.models import AIModel
from prompts.models import PromptComposition, PromptCompositionParticle, PromptParticle

STAFF_USERNAME = "curator"
STAFF_PASSWORD = "curator-password-1"

_sequence = count(1)


@pytest.fixture
def staff_user(db):
    user = get_user_model().objects.create_superuser(
        username=STAFF_USERNAME, email="curator@example.com", password=STAFF_PASSWORD
    )
    user.raw_password = STAFF_PASSWORD
    return user


@pytest.fixture
def staff_client(client, staff_user):
    client.force_login(staff_user)
    return client


@pytest.fixture
def make_system_model(db):
    def make(**fields) -> AIModel:
        n = next(_sequence)
        values = {
            "name": f"System model {n}",
            "provider": "provider-a",
            "provider_model_id": f"model-{n}",
            "context_window": 128_000,
            "max_tokens": 4_096,
            "credit_multiplier": Decimal("1.5"),
            "supports_tools": True,
            "supports_vision": False,
            "supports_reasoning": False,
            **fields,
        }
        return AIModel.objects.create(is_system=True, **values)

    return make


@pytest.fixture
def make_user_model(db):
    def make(parent: AIModel, **fields) -> AIModel:
        values = {
            "name": f"User model {next(_sequence)}",
            "organization_id": "organization-test-1",
            "context_window": parent.context_window,
            **fields,
        }
        return AIModel.objects.create(is_system=False, parent=parent, **values)

    return make


@pytest.fixture
def make_particle(db):
    def make(content: str, **fields) -> PromptParticle:
        values = {"name": f"Particle {next(_sequence)}", "kind": "custom", "is_system": True, **fields}
        return PromptParticle.objects.create(content=content, **values)

    return make


@pytest.fixture
def make_composition(db):
    def make(particles, **fields) -> PromptComposition:
        values = {"name": f"Composition {next(_sequence)}", "is_system": True, **fields}
        composition = PromptComposition.objects.create(**values)
        for position, particle in enumerate(particles):
            PromptCompositionParticle.objects.create(composition=composition, particle=particle, position=position)
        return composition

    return make
