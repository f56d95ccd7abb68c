"""Fixtures for the admin tests: a logged-in staff client and rows made with tests/factories.py.

The shared tests/conftest.py defines `admin_client` for the API, hence `staff_client` here.
"""

import pytest
from django.contrib.auth import get_user_model

from models_registry.models import AIModel
from prompts.models import PromptComposition, PromptParticle
from tests.factories import CompositionFactory, GlobalParticleFactory, SystemModelFactory, UserModelFactory

STAFF_USERNAME = "curator"
STAFF_PASSWORD = "curator-password-1"


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
        return SystemModelFactory(**{"max_tokens": 4_096, "description": "", **fields})

    return make


@pytest.fixture
def make_user_model(db):
    def make(parent: AIModel, **fields) -> AIModel:
        return UserModelFactory(parent=parent, **{"organization_id": "organization-test-1", **fields})

    return make


@pytest.fixture
def make_particle(db):
    def make(content: str, **fields) -> PromptParticle:
        return GlobalParticleFactory(content=content, **{"kind": "custom", **fields})

    return make


@pytest.fixture
def make_composition(db):
    def make(particles, **fields) -> PromptComposition:
        return CompositionFactory(particles=list(particles), **{"organization_id": None, "is_system": True, **fields})

    return make
