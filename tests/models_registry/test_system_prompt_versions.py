"""A model's system prompt has numbered versions too (`models_registry.selectors.model_prompt_versions`),
and one can be restored (`models_registry.services.model_prompt_restore`); `AIModel.system_prompt()` reads it."""

from __future__ import annotations

import pytest

from core.exceptions import Conflict
from models_registry import selectors as model_selectors
from models_registry import services as model_services
from models_registry.models import AIModel, UserModel
from tests.factories import CompositionFactory, ParticleFactory, SystemModelFactory, UserModelFactory

pytestmark = pytest.mark.django_db

COMPOSITIONS = "/v1/prompt-compositions"
ADMIN_ACTOR = "member:member-test-org-a"
M2M_ACTOR = "m2m:m2m-client-test-org-a"


def test_model_prompt_versions_follow_the_prompt_fields():
    composition = CompositionFactory(particles=[ParticleFactory()])
    model = UserModelFactory(system_prompt_override="First override")
    model.name = "Renamed"  # not a prompt change
    model.save()
    model.system_prompt_override = ""
    model.system_prompt_composition = composition
    model._history_actor = ADMIN_ACTOR
    model.save()

    versions = model_selectors.model_prompt_versions(model)

    assert [record.version_number for record in versions] == [2, 1]
    assert versions[0].system_prompt_composition_id == composition.pk
    assert versions[0].history_actor == ADMIN_ACTOR
    assert versions[1].system_prompt_override == "First override"


def test_model_prompt_restore():
    composition = CompositionFactory(particles=[ParticleFactory()])
    model = UserModelFactory(system_prompt_composition=composition)
    model.system_prompt_override = "Override"
    model.system_prompt_composition = None
    model.save()

    restored = model_services.model_prompt_restore(
        model=model, record=model_selectors.model_prompt_version(model, 1), actor=M2M_ACTOR
    )

    restored.refresh_from_db()
    assert (restored.system_prompt_override, restored.system_prompt_composition_id) == ("", composition.pk)
    versions = model_selectors.model_prompt_versions(restored)
    assert versions[0].version_number == 3
    assert versions[0].history_actor == M2M_ACTOR
    assert versions[0].history_change_reason == "Restored system prompt version 1"
    assert restored.system_prompt()[1] == "composition"


def test_restoring_the_current_model_prompt_still_adds_a_version():
    model = UserModelFactory(system_prompt_override="Same")

    model_services.model_prompt_restore(
        model=model, record=model_selectors.model_prompt_version(model, 1), actor=ADMIN_ACTOR
    )

    assert [record.version_number for record in model_selectors.model_prompt_versions(model)] == [2, 1]


def test_model_prompt_restore_of_a_deleted_composition_is_a_conflict(admin_client):
    composition = CompositionFactory(particles=[ParticleFactory()])
    model = UserModelFactory(system_prompt_composition=composition)
    model.system_prompt_composition = None
    model.save()
    assert admin_client.delete(f"{COMPOSITIONS}/{composition.pk}").status_code == 204

    with pytest.raises(Conflict):
        model_services.model_prompt_restore(
            model=model, record=model_selectors.model_prompt_version(model, 1), actor=ADMIN_ACTOR
        )

    model.refresh_from_db()
    assert model.system_prompt_composition_id is None


def test_model_prompt_restore_of_an_unknown_version():
    model = UserModelFactory()

    assert model_selectors.model_prompt_version(model, 5) is None


def test_proxy_model_writes_are_recorded():
    model = UserModel.objects.create(
        parent=SystemModelFactory(), organization_id="org-a", name="Via proxy", context_window=4_096, is_system=False
    )
    model.system_prompt_override = "Hello"
    model.save()

    assert AIModel.history.filter(id=model.pk).count() == 2
    assert [record.version_number for record in model_selectors.model_prompt_versions(model)] == [2, 1]
