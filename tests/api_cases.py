"""A declarative CRUD test base for the API's resources, as NetBox's `APIViewTestCases`.

Every resource built on `core.api.viewsets.ResourceViewSet` answers list, retrieve, create, PATCH and
DELETE the same way, and applies tenancy the same way. A test class for a resource says what the
resource is and how to make its rows, and inherits the tests of that shared behaviour::

    class TestParticlesCRUD(CRUDTestCase):
        url = "/v1/prompt-particles"
        model = PromptParticle
        factory = ParticleFactory  # an object of org-a, the organization of admin_client and member_client
        global_factory = GlobalParticleFactory  # read by every organization, written by none
        fields = {"id", "kind", ...}  # the wire fields of one object
        patch_body = {"name": "Renamed"}  # a valid PATCH; the response shows these values

        def create_body(self) -> dict: ...  # a valid POST body (may make the rows it refers to)

Override `make`, `make_foreign`, `make_global` or `snapshot` where the factories need more (a
composition needs a particle). What is particular to a resource stays in its own test modules.
"""

from __future__ import annotations

import re
from typing import Any, ClassVar

import pytest
from django.db.models import Model
from rest_framework.test import APIClient

from tests.assertions import assert_error_shape

PAGE_KEYS = {"count", "countIsEstimate", "next", "previous", "results"}
ETAG_SHAPE = re.compile(r'^"[^"\s]+"$')
ORGANIZATION = "org-a"  # admin_client's and member_client's
OTHER_ORGANIZATION = "org-b"


def assert_etag(response: Any) -> str:
    etag = response.get("ETag")
    assert etag and ETAG_SHAPE.match(etag), etag
    return etag


class CRUDTestCase:
    """The generic tests of one resource; a subclass named `Test...` fills in the class attributes."""

    pytestmark: ClassVar[list[pytest.MarkDecorator]] = [
        pytest.mark.django_db,
        pytest.mark.usefixtures("no_rate_limits"),
    ]

    url: ClassVar[str]
    model: ClassVar[type[Model]]
    factory: ClassVar[Any]
    global_factory: ClassVar[Any]
    fields: ClassVar[set[str]]
    patch_body: ClassVar[dict[str, Any]]

    # --- What a subclass may override -----------------------------------------------------------

    def create_body(self) -> dict[str, Any]:
        raise NotImplementedError(f"{type(self).__name__} must define create_body()")

    def make(self) -> Model:
        """An object of the organization the clients belong to."""
        return self.factory(organization_id=ORGANIZATION)

    def make_foreign(self) -> Model:
        """An object of another organization."""
        return self.factory(organization_id=OTHER_ORGANIZATION)

    def make_global(self) -> Model:
        """A global object: every organization reads it, none writes it through the API."""
        return self.global_factory()

    def snapshot(self, obj: Model) -> Any:
        """Everything about the row a refused request must leave as it was."""
        return self.model.objects.values().get(pk=obj.pk)

    # --- Helpers ----------------------------------------------------------------------------------

    def detail(self, obj: Model) -> str:
        return f"{self.url}/{obj.pk}"

    def request(self, client: APIClient, action: str, obj: Model, body: dict[str, Any] | None = None):
        method, path = {
            "list": ("get", self.url),
            "create": ("post", self.url),
            "retrieve": ("get", self.detail(obj)),
            "patch": ("patch", self.detail(obj)),
            "delete": ("delete", self.detail(obj)),
        }[action]
        if method == "get":  # a GET has no body (APIClient would send one as query parameters)
            return client.get(path)
        return getattr(client, method)(path, body if body is not None else {}, format="json")

    # --- Read ---------------------------------------------------------------------------------------

    def test_list_is_a_page_of_own_and_global_objects(self, admin_client: APIClient) -> None:
        own, global_obj, foreign = self.make(), self.make_global(), self.make_foreign()

        response = admin_client.get(self.url)

        assert response.status_code == 200, response.content
        body = response.json()
        assert set(body) == PAGE_KEYS
        listed = [row["id"] for row in body["results"]]
        assert body["count"] == len(listed)
        assert {str(own.pk), str(global_obj.pk)} <= set(listed)
        assert str(foreign.pk) not in listed
        assert all(set(row) == self.fields for row in body["results"])

    def test_retrieve_is_200_with_an_etag(self, admin_client: APIClient) -> None:
        obj = self.make()

        response = admin_client.get(self.detail(obj))

        assert response.status_code == 200, response.content
        assert set(response.json()) == self.fields
        assert response.json()["id"] == str(obj.pk)
        assert_etag(response)

    def test_a_global_object_is_readable(self, admin_client: APIClient) -> None:
        obj = self.make_global()

        response = admin_client.get(self.detail(obj))

        assert response.status_code == 200, response.content
        assert response.json()["isSystem"] is True

    def test_a_member_without_a_write_role_can_read(self, member_client: APIClient) -> None:
        obj = self.make()

        assert member_client.get(self.url).status_code == 200
        assert member_client.get(self.detail(obj)).status_code == 200

    # --- Write ----------------------------------------------------------------------------------------

    def test_create_is_201_with_the_location_of_the_detail_and_an_etag(self, admin_client: APIClient) -> None:
        body = self.create_body()
        before = self.model.objects.count()

        response = admin_client.post(self.url, body, format="json")

        assert response.status_code == 201, response.content
        created = response.json()
        assert set(created) == self.fields
        assert created["isSystem"] is False
        assert response["Location"] == response.wsgi_request.build_absolute_uri(f"{self.url}/{created['id']}")
        assert assert_etag(response) == assert_etag(admin_client.get(f"{self.url}/{created['id']}"))
        row = self.model.objects.get(pk=created["id"])
        assert (row.organization_id, row.is_system) == (ORGANIZATION, False)
        assert self.model.objects.count() == before + 1

    def test_patch_is_200_and_changes_what_is_sent(self, admin_client: APIClient) -> None:
        obj = self.make()

        response = admin_client.patch(self.detail(obj), self.patch_body, format="json")

        assert response.status_code == 200, response.content
        assert {name: response.json()[name] for name in self.patch_body} == self.patch_body
        assert_etag(response)
        shown = admin_client.get(self.detail(obj)).json()
        assert {name: shown[name] for name in self.patch_body} == self.patch_body

    def test_delete_is_204_and_the_row_is_gone(self, admin_client: APIClient) -> None:
        obj = self.make()

        response = admin_client.delete(self.detail(obj))

        assert response.status_code == 204, response.content
        assert not self.model.objects.filter(pk=obj.pk).exists()
        assert_error_shape(admin_client.get(self.detail(obj)), 404)

    # --- Tenancy and permissions -------------------------------------------------------------------

    @pytest.mark.parametrize("action", ["retrieve", "patch", "delete"])
    def test_another_organizations_object_is_not_found(self, admin_client: APIClient, action: str) -> None:
        obj = self.make_foreign()
        before = self.snapshot(obj)

        response = self.request(admin_client, action, obj, self.patch_body)

        assert assert_error_shape(response, 404)["code"] == "not_found"
        assert self.snapshot(obj) == before

    @pytest.mark.parametrize("action", ["patch", "delete"])
    def test_a_global_object_cannot_be_changed(self, admin_client: APIClient, action: str) -> None:
        obj = self.make_global()
        before = self.snapshot(obj)

        response = self.request(admin_client, action, obj, self.patch_body)

        assert assert_error_shape(response, 403)["code"] == "permission_denied"
        assert self.snapshot(obj) == before

    @pytest.mark.parametrize("action", ["list", "create", "retrieve", "patch", "delete"])
    def test_no_token_is_a_401_with_a_bearer_challenge(self, api_client: APIClient, action: str) -> None:
        obj = self.make()
        body = self.create_body() if action == "create" else self.patch_body
        count, before = self.model.objects.count(), self.snapshot(obj)

        response = self.request(api_client, action, obj, body)

        assert_error_shape(response, 401)
        assert response["WWW-Authenticate"].startswith("Bearer")
        assert self.model.objects.count() == count
        assert self.snapshot(obj) == before

    @pytest.mark.parametrize("action", ["create", "patch", "delete"])
    def test_a_member_without_a_write_role_cannot_write(self, member_client: APIClient, action: str) -> None:
        obj = self.make()
        body = self.create_body() if action == "create" else self.patch_body
        count, before = self.model.objects.count(), self.snapshot(obj)

        response = self.request(member_client, action, obj, body)

        assert assert_error_shape(response, 403)["code"] == "permission_denied"
        assert self.model.objects.count() == count
        assert self.snapshot(obj) == before
