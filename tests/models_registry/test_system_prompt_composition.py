"""systemPromptCompositionId: the organization's own compositions and global ones; never another organization's."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from rest_framework.test import APIClient

from models_registry.models import AIModel
from tests.factories import CompositionFactory, GlobalParticleFactory, ParticleFactory, UserModelFactory
from tests.models_registry.helpers import assert_refused, create, patch

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("no_rate_limits")]


def test_own_composition_can_be_assigned(admin_client: APIClient, parent: AIModel) -> None:
    composition = CompositionFactory(organization_id="org-a", particles=[ParticleFactory()])

    response = create(
        admin_client, parentId=str(parent.id), name="Composed", systemPromptCompositionId=str(composition.id)
    )

    assert response.status_code == 201, response.content
    assert response.json()["systemPromptCompositionId"] == str(composition.id)


def test_global_composition_can_be_assigned(admin_client: APIClient, parent: AIModel) -> None:
    composition = CompositionFactory(is_system=True, organization_id=None, particles=[GlobalParticleFactory()])

    response = create(
        admin_client, parentId=str(parent.id), name="Global", systemPromptCompositionId=str(composition.id)
    )

    assert response.status_code == 201, response.content
    assert response.json()["systemPromptCompositionId"] == str(composition.id)


def test_another_organizations_composition_is_refused(admin_client: APIClient, parent: AIModel) -> None:
    foreign = CompositionFactory(organization_id="org-b", name="Org B Composition")

    response = create(admin_client, parentId=str(parent.id), name="Borrowed", systemPromptCompositionId=str(foreign.id))

    assert_refused(response, "systemPromptCompositionId")
    assert b"Org B Composition" not in response.content


@pytest.mark.parametrize("value", [str(uuid.UUID(int=7)), "abc", 123, []], ids=["unknown", "abc", "int", "list"])
def test_unknown_or_malformed_composition_is_refused(admin_client: APIClient, parent: AIModel, value: Any) -> None:
    response = create(admin_client, parentId=str(parent.id), name="Composed", systemPromptCompositionId=value)

    assert_refused(response, "systemPromptCompositionId")


def test_composition_can_be_unset_with_null(admin_client: APIClient, parent: AIModel) -> None:
    model = UserModelFactory(parent=parent, system_prompt_composition=CompositionFactory())

    response = patch(admin_client, model.id, systemPromptCompositionId=None)

    assert response.status_code == 200, response.content
    model.refresh_from_db()
    assert model.system_prompt_composition_id is None
