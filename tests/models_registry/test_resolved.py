"""GET /v1/models/{id}/resolved: the effective configuration, the system prompt and its source, and whether
the model is usable."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from models_registry.models import AIModel
from prompts.models import PromptParticle
from tests.factories import (
    CompositionFactory,
    GlobalParticleFactory,
    ParticleFactory,
    SystemModelFactory,
    UserModelFactory,
)
from tests.models_registry.helpers import MODELS_URL, RESOLVED_FIELDS, detail_url, ids_of, resolved_url

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("no_rate_limits")]


def test_resolved_returns_the_effective_configuration(
    admin_client: APIClient, parent: AIModel, user_model: AIModel
) -> None:
    response = admin_client.get(resolved_url(user_model.id))

    assert response.status_code == 200, response.content
    body = response.json()
    assert set(body) == RESOLVED_FIELDS
    assert body["provider"] == parent.provider
    assert body["creditMultiplier"] == 2.25
    assert body["maxTokens"] == 4_000
    assert body["contextWindow"] == user_model.context_window
    assert (body["isUsable"], body["unusableReason"]) == (True, None)


def test_resolved_prompt_is_the_override(admin_client: APIClient, parent: AIModel) -> None:
    model = UserModelFactory(parent=parent, system_prompt_override="You are a helpful assistant.")

    body = admin_client.get(resolved_url(model.id)).json()

    assert (body["systemPrompt"], body["systemPromptSource"]) == ("You are a helpful assistant.", "override")


def test_resolved_prompt_is_the_composition_in_particle_order(admin_client: APIClient, parent: AIModel) -> None:
    role = ParticleFactory(content="You are a support agent.")
    tone = ParticleFactory(content="Be concise.")
    guardrails = ParticleFactory(content="Never share secrets.")
    composition = CompositionFactory(particles=[tone, role, guardrails])
    model = UserModelFactory(parent=parent, system_prompt_composition=composition)

    body = admin_client.get(resolved_url(model.id)).json()

    assert body["systemPromptSource"] == "composition"
    assert body["systemPrompt"] == "Be concise.\n\nYou are a support agent.\n\nNever share secrets."


def test_resolved_prompt_is_none_without_override_or_composition(admin_client: APIClient, user_model: AIModel) -> None:
    body = admin_client.get(resolved_url(user_model.id)).json()

    assert (body["systemPrompt"], body["systemPromptSource"]) == (None, "none")


def test_override_beats_composition(admin_client: APIClient, parent: AIModel) -> None:
    composition = CompositionFactory(particles=[ParticleFactory(content="From the composition.")])
    model = UserModelFactory(parent=parent, system_prompt_composition=composition, system_prompt_override="Override.")

    body = admin_client.get(resolved_url(model.id)).json()

    assert (body["systemPrompt"], body["systemPromptSource"]) == ("Override.", "override")


def test_resolved_prompt_follows_particle_edits(admin_client: APIClient, parent: AIModel) -> None:
    particle = ParticleFactory(content="Version one.")
    model = UserModelFactory(parent=parent, system_prompt_composition=CompositionFactory(particles=[particle]))
    assert admin_client.get(resolved_url(model.id)).json()["systemPrompt"] == "Version one."

    particle.content = "Version two."
    particle.save()

    assert admin_client.get(resolved_url(model.id)).json()["systemPrompt"] == "Version two."
    PromptParticle.objects.filter(pk=particle.pk).update(content="Version three.")
    assert admin_client.get(resolved_url(model.id)).json()["systemPrompt"] == "Version three."


def test_resolved_with_a_global_composition(admin_client: APIClient, parent: AIModel) -> None:
    composition = CompositionFactory(
        is_system=True, organization_id=None, particles=[GlobalParticleFactory(content="Global rule.")]
    )
    model = UserModelFactory(parent=parent, system_prompt_composition=composition)

    body = admin_client.get(resolved_url(model.id)).json()

    assert (body["systemPrompt"], body["systemPromptSource"]) == ("Global rule.", "composition")


def test_user_model_of_a_disabled_parent_is_listed_but_not_usable(admin_client: APIClient) -> None:
    retired = SystemModelFactory(name="Retired Base")
    model = UserModelFactory(parent=retired)
    retired.is_enabled = False
    retired.save()

    assert model.id.__str__() in ids_of(admin_client.get(MODELS_URL))
    assert admin_client.get(detail_url(model.id)).status_code == 200
    body = admin_client.get(resolved_url(model.id)).json()
    assert body["isUsable"] is False
    assert "Retired Base" in body["unusableReason"]


def test_disabled_user_model_is_not_usable(admin_client: APIClient, parent: AIModel) -> None:
    model = UserModelFactory(parent=parent, is_enabled=False)

    body = admin_client.get(resolved_url(model.id)).json()

    assert body["isUsable"] is False
    assert body["unusableReason"]


def test_resolved_system_model(admin_client: APIClient, parent: AIModel) -> None:
    body = admin_client.get(resolved_url(parent.id)).json()

    assert body["isSystem"] is True
    assert (body["isUsable"], body["systemPromptSource"]) == (True, "none")
