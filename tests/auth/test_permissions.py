from collections.abc import Callable
from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured
from rest_framework.exceptions import NotAuthenticated
from rest_framework.request import Request
from rest_framework.test import APIClient, APIRequestFactory
from rest_framework.views import APIView

from core.authentication import Principal
from core.permissions import ResourcePermission
from tests.conftest import ClientFor

pytestmark = pytest.mark.urls("tests.auth.urls")

MODELS = "/probe/models"
PROMPTS = "/probe/prompts"

M2MClientFor = Callable[..., APIClient]


def test_member_without_write_role_can_read_but_not_write(member_client: APIClient) -> None:
    assert member_client.get(MODELS).status_code == 200

    response = member_client.post(MODELS, {}, format="json")

    assert response.status_code == 403
    assert response.json()["detail"] == "Writing models needs one of the roles: stytch_admin."


def test_member_with_admin_role_can_read_and_write(admin_client: APIClient) -> None:
    assert admin_client.get(MODELS).status_code == 200
    assert admin_client.post(MODELS, {}, format="json").status_code == 201
    assert admin_client.delete(PROMPTS).status_code == 204


def test_member_of_another_organization_is_authenticated_for_that_organization(
    other_org_client: APIClient,
) -> None:
    response = other_org_client.get(MODELS)

    assert response.status_code == 200
    assert response.json()["organization_id"] == "org-b"


def test_write_roles_follow_the_setting(settings: Any, client_for: ClientFor) -> None:
    settings.STYTCH_WRITE_ROLES = ["editor"]

    assert client_for(roles=("stytch_member", "editor")).post(MODELS, {}, format="json").status_code == 201
    response = client_for(roles=("stytch_admin",)).post(MODELS, {}, format="json")
    assert response.status_code == 403
    assert "editor" in response.json()["detail"]


def test_m2m_token_without_read_scope_cannot_read(m2m_client_for: M2MClientFor) -> None:
    response = m2m_client_for("read:prompts write:models").get(MODELS)

    assert response.status_code == 403
    assert "read:models" in response.json()["detail"]


def test_m2m_token_with_read_scope_can_read_but_not_write(m2m_client_for: M2MClientFor) -> None:
    client = m2m_client_for("read:models")

    assert client.get(MODELS).status_code == 200
    response = client.post(MODELS, {}, format="json")
    assert response.status_code == 403
    assert "write:models" in response.json()["detail"]


def test_m2m_token_with_write_scope_can_write(m2m_client_for: M2MClientFor) -> None:
    assert m2m_client_for("write:models").post(MODELS, {}, format="json").status_code == 201


def test_m2m_token_without_scopes_is_forbidden(m2m_client_for: M2MClientFor) -> None:
    client = m2m_client_for("")

    assert client.get(MODELS).status_code == 403
    assert client.post(MODELS, {}, format="json").status_code == 403


@pytest.mark.parametrize("url", [MODELS, PROMPTS])
def test_read_wildcard_scope_reads_every_resource(m2m_client_for: M2MClientFor, url: str) -> None:
    client = m2m_client_for("read:*")

    assert client.get(url).status_code == 200
    assert client.post(url, {}, format="json").status_code == 403


@pytest.mark.parametrize("url", [MODELS, PROMPTS])
def test_write_wildcard_scope_writes_every_resource(m2m_client_for: M2MClientFor, url: str) -> None:
    client = m2m_client_for("write:*")

    assert client.post(url, {}, format="json").status_code == 201
    assert client.get(url).status_code == 403


def test_scope_for_one_resource_does_not_open_another(m2m_client_for: M2MClientFor) -> None:
    client = m2m_client_for("read:prompts write:prompts")

    assert client.get(PROMPTS).status_code == 200
    assert client.get(MODELS).status_code == 403


class ViewWithoutResource(APIView):
    pass


def drf_request(method: str, user: Any) -> Request:
    request = Request(getattr(APIRequestFactory(), method)("/"))
    request.user = user
    return request


@pytest.mark.parametrize(
    "user",
    [None, Principal(kind="member", subject_id="member-test-1", organization_id="org-a")],
    ids=["anonymous", "member"],
)
def test_view_without_resource_is_a_configuration_error(user: Principal | None) -> None:
    with pytest.raises(ImproperlyConfigured, match="ViewWithoutResource must set `resource`"):
        ResourcePermission().has_permission(drf_request("get", user), ViewWithoutResource())


def test_unauthenticated_request_raises_not_authenticated() -> None:
    view = APIView()
    view.resource = "models"  # type: ignore[attr-defined]

    with pytest.raises(NotAuthenticated):
        ResourcePermission().has_permission(drf_request("get", None), view)


@pytest.mark.parametrize(
    ("principal", "resource", "can_read", "can_write"),
    [
        (Principal("member", "m", "org-a", roles=frozenset({"stytch_member"})), "models", True, False),
        (Principal("member", "m", "org-a", roles=frozenset({"stytch_admin"})), "audit", True, True),
        (Principal("m2m", "c", "org-a", scopes=frozenset({"read:audit"})), "audit", True, False),
        (Principal("m2m", "c", "org-a", scopes=frozenset({"write:models"})), "models", False, True),
        (Principal("m2m", "c", "org-a", scopes=frozenset({"read:*", "write:*"})), "audit", True, True),
        (Principal("m2m", "c", "org-a", scopes=frozenset({"read:models*", "models"})), "models", False, False),
        (Principal("m2m", "c", "org-a", roles=frozenset({"stytch_admin"})), "models", False, False),
    ],
)
def test_principal_access_rules(principal: Principal, resource: str, can_read: bool, can_write: bool) -> None:
    assert principal.can_read(resource) is can_read
    assert principal.can_write(resource) is can_write
