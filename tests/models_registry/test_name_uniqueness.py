"""A user model's name is unique in its organization, ignoring case; other organizations and system models
do not count."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from core import generations
from core.models import AuditEvent
from models_registry.models import AIModel
from tests.factories import UserModelFactory
from tests.models_registry.helpers import assert_refused, create, patch

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("no_rate_limits")]

HistoricalAIModel = AIModel.history.model


def test_name_is_unique_per_organization_ignoring_case(admin_client: APIClient, user_model: AIModel) -> None:
    response = create(admin_client, parentId=str(user_model.parent_id), name=user_model.name.upper())

    assert_refused(response, "name")
    assert AIModel.objects.filter(is_system=False).count() == 1


def test_a_taken_name_found_on_save_writes_nothing(admin_client: APIClient, user_model: AIModel) -> None:
    generation = generations.read("org-a")
    versions, events = HistoricalAIModel.objects.count(), AuditEvent.objects.count()

    response = create(admin_client, parentId=str(user_model.parent_id), name=user_model.name.lower())

    assert_refused(response, "name")
    assert (HistoricalAIModel.objects.count(), AuditEvent.objects.count()) == (versions, events)
    assert generations.read("org-a") == generation


def test_rename_to_a_taken_name_is_refused(admin_client: APIClient, user_model: AIModel) -> None:
    other = UserModelFactory(parent=user_model.parent, name="Finance Bot")

    response = patch(admin_client, other.id, name=user_model.name.lower())

    assert_refused(response, "name")
    other.refresh_from_db()
    assert other.name == "Finance Bot"


def test_rename_to_own_name_in_another_case_is_accepted(admin_client: APIClient, user_model: AIModel) -> None:
    response = patch(admin_client, user_model.id, name=user_model.name.upper())

    assert response.status_code == 200, response.content
    assert response.json()["name"] == user_model.name.upper()


def test_same_name_in_another_organization_is_accepted(other_org_client: APIClient, user_model: AIModel) -> None:
    response = create(other_org_client, parentId=str(user_model.parent_id), name=user_model.name)

    assert response.status_code == 201, response.content


def test_user_model_may_take_a_system_models_name(admin_client: APIClient, parent: AIModel) -> None:
    assert create(admin_client, parentId=str(parent.id), name=parent.name).status_code == 201
