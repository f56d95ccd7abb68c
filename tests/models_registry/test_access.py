"""Who may read and write: another organization gets 404, roles and M2M scopes decide writes, no token is a 401.

The cases every resource shares (a global object read-only, a member without a write role refused) are in
test_crud.py.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest
from rest_framework.test import APIClient

from models_registry.models import AIModel
from tests.assertions import assert_error_shape
from tests.models_registry.helpers import MODELS_URL, create, detail_url, ids_of, patch, resolved_url

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("no_rate_limits")]


# --- tenancy --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", detail_url),
        ("get", resolved_url),
        ("patch", detail_url),
        ("delete", detail_url),
    ],
    ids=["retrieve", "resolved", "patch", "delete"],
)
def test_another_organization_gets_404_and_changes_nothing(
    other_org_client: APIClient, user_model: AIModel, method: str, path: Callable[[Any], str]
) -> None:
    before = AIModel.objects.values().get(pk=user_model.pk)

    # A GET sends no body (APIClient would turn one into query parameters, now refused as unknown).
    body = {"name": "Taken over"} if method == "patch" else None
    response = getattr(other_org_client, method)(path(user_model.id), body, format="json")

    assert_error_shape(response, 404)
    assert b"Support Bot" not in response.content
    assert AIModel.objects.values().get(pk=user_model.pk) == before


def test_another_organization_cannot_list_or_filter_into_user_models(
    other_org_client: APIClient, user_model: AIModel
) -> None:
    for query in ("", "?isSystem=false", "?search=support", "?isEnabled=true"):
        assert str(user_model.id) not in ids_of(other_org_client.get(MODELS_URL + query))


# --- permissions -------------------------------------------------------------------------------------------


def test_member_without_write_role_can_read(member_client: APIClient, user_model: AIModel) -> None:
    assert member_client.get(MODELS_URL).status_code == 200
    assert member_client.get(detail_url(user_model.id)).status_code == 200
    assert member_client.get(resolved_url(user_model.id)).status_code == 200


def test_m2m_read_scope_reads_but_cannot_write(m2m_client_for, user_model: AIModel) -> None:
    client = m2m_client_for("read:models")

    assert client.get(MODELS_URL).status_code == 200
    assert client.get(resolved_url(user_model.id)).status_code == 200
    assert_error_shape(create(client, parentId=str(user_model.parent_id), name="Nope"), 403)
    assert_error_shape(patch(client, user_model.id, name="Nope"), 403)
    assert_error_shape(client.delete(detail_url(user_model.id)), 403)


def test_m2m_write_scope_writes(m2m_client_for, user_model: AIModel) -> None:
    client = m2m_client_for("read:models write:models")

    created = create(client, parentId=str(user_model.parent_id), name="By a machine")
    changed = patch(client, user_model.id, name="Renamed by a machine")

    assert created.status_code == 201, created.content
    assert AIModel.objects.get(pk=created.json()["id"]).organization_id == "org-a"
    assert changed.status_code == 200, changed.content
    assert client.delete(detail_url(user_model.id)).status_code == 204


def test_m2m_write_wildcard_writes(m2m_client_for, parent: AIModel) -> None:
    assert create(m2m_client_for("write:*"), parentId=str(parent.id), name="Wildcard").status_code == 201


def test_m2m_scope_for_another_resource_cannot_read_models(m2m_client_for, user_model: AIModel) -> None:
    client = m2m_client_for("read:prompts write:prompts")

    assert_error_shape(client.get(MODELS_URL), 403)
    assert_error_shape(client.get(detail_url(user_model.id)), 403)
    assert_error_shape(create(client, parentId=str(user_model.parent_id), name="Nope"), 403)


def test_m2m_read_wildcard_reads(m2m_client_for, user_model: AIModel) -> None:
    client = m2m_client_for("read:*")

    assert str(user_model.id) in ids_of(client.get(MODELS_URL))
    assert_error_shape(create(client, parentId=str(user_model.parent_id), name="Nope"), 403)


def test_m2m_client_sees_its_own_organization_only(m2m_client_for, user_model: AIModel) -> None:
    assert_error_shape(m2m_client_for("read:models", org="org-b").get(detail_url(user_model.id)), 404)


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", MODELS_URL),
        ("post", MODELS_URL),
        ("get", detail_url(uuid.UUID(int=1))),
        ("patch", detail_url(uuid.UUID(int=1))),
        ("delete", detail_url(uuid.UUID(int=1))),
        ("get", resolved_url(uuid.UUID(int=1))),
    ],
)
def test_no_token_is_a_401_with_bearer_challenge(api_client: APIClient, method: str, path: str) -> None:
    response = getattr(api_client, method)(path, {}, format="json")

    assert_error_shape(response, 401)
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_bad_token_is_a_401(api_client: APIClient) -> None:
    api_client.credentials(HTTP_AUTHORIZATION="Bearer not-a-token")

    response = api_client.get(MODELS_URL)

    assert_error_shape(response, 401)
    assert response["WWW-Authenticate"].startswith("Bearer")
