"""The resolved-model cache: served with one query (the generations), and never stale after a write."""

from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from models_registry.models import AIModel
from prompts.models import PromptCompositionParticle
from tests.conftest import counting_redis_round_trips
from tests.factories import CompositionFactory, ParticleFactory, SystemModelFactory, UserModelFactory

pytestmark = pytest.mark.django_db(transaction=True)  # invalidation happens on commit


@pytest.fixture(autouse=True)
def cache_on(response_cache_on: str) -> str:
    return response_cache_on


@pytest.fixture
def model() -> AIModel:
    first, second = ParticleFactory(content="You are helpful."), ParticleFactory(content="Be brief.")
    composition = CompositionFactory(particles=[first, second])
    return UserModelFactory(system_prompt_composition=composition, context_window=8192, max_tokens=1000)


def resolved(client, model: AIModel) -> dict:
    response = client.get(f"/v1/models/{model.pk}/resolved")
    assert response.status_code == 200, response.content
    return response.json()


def test_a_second_read_is_served_from_the_cache_with_one_query(admin_client, model: AIModel) -> None:
    """The one query reads the generations the body is keyed by (fresh by construction)."""
    first = resolved(admin_client, model)
    with CaptureQueriesContext(connection) as queries:
        second = resolved(admin_client, model)

    assert second == first
    assert len(queries) == 1
    assert "core_cachegeneration" in queries[0]["sql"]


def test_with_redis_a_cached_read_is_one_round_trip(cache_on: str, admin_client, model: AIModel) -> None:
    first = resolved(admin_client, model)
    with counting_redis_round_trips() as sent, CaptureQueriesContext(connection) as queries:
        second = resolved(admin_client, model)

    assert second == first
    assert len(queries) == 1  # the generations
    if cache_on == "redis-with-rate-limits":
        assert len(sent) == 1, "the rate-limit counters and the cached entry in one round trip"
    else:
        assert sent == []


def test_changing_the_model_through_the_api_invalidates(admin_client, model: AIModel) -> None:
    resolved(admin_client, model)
    admin_client.patch(f"/v1/models/{model.pk}", {"systemPromptOverride": "Only this."}, format="json")

    body = resolved(admin_client, model)

    assert body["systemPrompt"] == "Only this."
    assert body["systemPromptSource"] == "override"


def test_editing_a_particle_invalidates(admin_client, model: AIModel) -> None:
    assert resolved(admin_client, model)["systemPrompt"] == "You are helpful.\n\nBe brief."
    particle = model.system_prompt_composition.items.get(position=1).particle
    response = admin_client.patch(f"/v1/prompt-particles/{particle.pk}", {"content": "Be thorough."}, format="json")
    assert response.status_code == 200, response.content

    assert resolved(admin_client, model)["systemPrompt"] == "You are helpful.\n\nBe thorough."


def test_reordering_the_composition_invalidates(admin_client, model: AIModel) -> None:
    resolved(admin_client, model)
    composition = model.system_prompt_composition
    ids = [str(item.particle_id) for item in PromptCompositionParticle.objects.filter(composition=composition)]
    response = admin_client.patch(
        f"/v1/prompt-compositions/{composition.pk}", {"particleIds": list(reversed(ids))}, format="json"
    )
    assert response.status_code == 200, response.content

    assert resolved(admin_client, model)["systemPrompt"] == "Be brief.\n\nYou are helpful."


def test_staff_disabling_the_parent_invalidates(admin_client, model: AIModel) -> None:
    assert resolved(admin_client, model)["isUsable"] is True
    parent = model.parent
    parent.is_enabled = False
    parent.save()

    body = resolved(admin_client, model)

    assert body["isUsable"] is False
    assert parent.name in body["unusableReason"]


def test_the_seed_command_changing_a_parent_invalidates(admin_client, tmp_path) -> None:
    call_command("seed_system_models", verbosity=0)
    parent = AIModel.objects.get(is_system=True, provider="openai", provider_model_id="gpt-4o")
    child = UserModelFactory(parent=parent, context_window=8192, max_tokens=1000)
    assert resolved(admin_client, child)["creditMultiplier"] == float(parent.credit_multiplier)

    catalog = tmp_path / "catalog.json"
    catalog.write_text(
        '[{"name": "GPT-4o", "provider": "openai", "providerModelId": "gpt-4o", "contextWindow": 128000, '
        '"maxTokens": 16384, "creditMultiplier": 9.5, "supportsTools": true, "supportsVision": true}]'
    )
    call_command("seed_system_models", "--file", str(catalog), verbosity=0)

    assert resolved(admin_client, child)["creditMultiplier"] == 9.5


def test_a_cached_body_is_never_served_to_another_organization(admin_client, other_org_client, model) -> None:
    resolved(admin_client, model)

    response = other_org_client.get(f"/v1/models/{model.pk}/resolved")

    assert response.status_code == 404


def test_deleting_the_model_invalidates(admin_client, model: AIModel) -> None:
    resolved(admin_client, model)
    assert admin_client.delete(f"/v1/models/{model.pk}").status_code == 204

    assert admin_client.get(f"/v1/models/{model.pk}/resolved").status_code == 404


def test_the_cache_is_off_without_a_shared_cache(settings: Any, admin_client, model: AIModel) -> None:
    settings.RESPONSE_CACHE_SECONDS = 0
    resolved(admin_client, model)
    with CaptureQueriesContext(connection) as queries:
        resolved(admin_client, model)

    assert len(queries) > 0


def test_system_models_resolve_too(admin_client) -> None:
    system = SystemModelFactory(name="Cached Base")
    resolved(admin_client, system)
    system.context_window = 64000
    system.save()

    assert resolved(admin_client, system)["contextWindow"] == 64000


# --- The lifecycle (issue 16): a cached body never outlives its status ---------------------------


def test_deprecating_or_moving_invalidates(admin_client, model: AIModel) -> None:
    from models_registry import lifecycle, services

    assert resolved(admin_client, model)["lifecycleStatus"] == "active"  # now cached
    parent = model.parent
    parent.deprecated_at = lifecycle.today()
    services.system_model_save(instance=parent, actor="staff:test")
    assert resolved(admin_client, model)["lifecycleStatus"] == "deprecated"

    successor = SystemModelFactory()
    services.move_user_models(source=parent, target=successor, actor="staff:test")  # bulk: no save signals
    body = resolved(admin_client, model)
    assert (body["parentId"], body["lifecycleStatus"]) == (str(successor.pk), "active")


def test_a_body_is_not_served_past_the_day_its_status_changes(admin_client) -> None:
    """The UTC day is part of a model's cache key: no write happens when a model retires."""
    from datetime import UTC, datetime, time, timedelta
    from unittest import mock

    from django.utils import timezone

    from models_registry import lifecycle

    tomorrow = lifecycle.today() + timedelta(days=1)
    child = UserModelFactory(parent=SystemModelFactory(deprecated_at=lifecycle.today(), retires_at=tomorrow))
    midnight = datetime.combine(tomorrow, time.min, tzinfo=UTC)

    with mock.patch.object(timezone, "now", return_value=midnight - timedelta(minutes=1)):
        before = resolved(admin_client, child)
        with CaptureQueriesContext(connection) as queries:
            assert resolved(admin_client, child) == before  # cached
        assert len(queries) == 1
    with mock.patch.object(timezone, "now", return_value=midnight):
        after = resolved(admin_client, child)

    assert (before["lifecycleStatus"], before["isUsable"]) == ("deprecated", True)
    assert (after["lifecycleStatus"], after["isUsable"]) == ("retired", False)


# --- Entitlements (issue 16): a change reaches cached bodies at once ------------------------------


def test_revoking_or_changing_the_plan_invalidates(admin_client, model: AIModel) -> None:
    from models_registry import entitlement_services
    from models_registry.entitlements import Plan

    assert resolved(admin_client, model)["isUsable"] is True  # now cached
    plan = entitlement_services.plan_save(plan=Plan(name="Cached"), actor="staff:test", system_models=[model.parent])
    entitlement_services.entitlement_save(organization_id="org-a", actor="staff:test", mode="plan", plan=plan)
    assert resolved(admin_client, model)["isUsable"] is True

    entitlement_services.plan_save(plan=plan, actor="staff:test", system_models=[])  # the plan, not the organization
    assert resolved(admin_client, model)["isUsable"] is False

    entitlement_services.organizations_add_system_model(
        organization_ids=["org-a"], system_model=model.parent, actor="staff:test"
    )
    assert resolved(admin_client, model)["isUsable"] is True
