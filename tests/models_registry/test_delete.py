"""DELETE /v1/models/{id}: a user model goes; a system model stays."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from models_registry.models import AIModel
from tests.assertions import assert_error_shape
from tests.models_registry.helpers import detail_url

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("no_rate_limits")]


def test_delete_of_a_system_model_is_forbidden(admin_client: APIClient, parent: AIModel) -> None:
    assert_error_shape(admin_client.delete(detail_url(parent.id)), 403)
    assert AIModel.objects.filter(pk=parent.pk).exists()


def test_delete_removes_a_user_model(admin_client: APIClient, user_model: AIModel) -> None:
    response = admin_client.delete(detail_url(user_model.id))

    assert response.status_code == 204
    assert not AIModel.objects.filter(pk=user_model.pk).exists()
    assert_error_shape(admin_client.get(detail_url(user_model.id)), 404)
