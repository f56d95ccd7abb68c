"""Issue 7: lost updates. Models, particles and compositions carry an ETag; PATCH and DELETE honour If-Match."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.db import connection
from rest_framework.test import APIClient

from core.models import AuditEvent
from models_registry.models import AIModel
from prompts.models import PromptComposition, PromptParticle
from tests.assertions import assert_error_shape
from tests.factories import CompositionFactory, ParticleFactory, UserModelFactory
from tests.hardening.conftest import (
    COMPOSITIONS_URL,
    MODELS_URL,
    PARTICLES_URL,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("no_rate_limits")]

ETAG_SHAPE = re.compile(r'^"[^"\s]+"$')


@dataclass
class Resource:
    """One kind of object: how to make one, how to change it, how to read the changed field back."""

    url: str
    model: type
    make: Callable[[Any], Any]
    change: Callable[[int], dict[str, Any]]
    field: str  # attribute changed by `change`
    wire: str  # its wire name

    def detail(self, obj: Any) -> str:
        return f"{self.url}/{obj.pk}"


@pytest.fixture(params=["models", "particles", "compositions"])
def resource(request: pytest.FixtureRequest, system_model: AIModel) -> Resource:
    if request.param == "models":
        return Resource(
            url=MODELS_URL,
            model=AIModel,
            make=lambda _: UserModelFactory(parent=system_model, description="original"),
            change=lambda n: {"description": f"change {n}"},
            field="description",
            wire="description",
        )
    if request.param == "particles":
        return Resource(
            url=PARTICLES_URL,
            model=PromptParticle,
            make=lambda _: ParticleFactory(content="original"),
            change=lambda n: {"content": f"change {n}"},
            field="content",
            wire="content",
        )
    return Resource(
        url=COMPOSITIONS_URL,
        model=PromptComposition,
        make=lambda _: CompositionFactory(
            organization_id="org-a", description="original", particles=[ParticleFactory()]
        ),
        change=lambda n: {"description": f"change {n}"},
        field="description",
        wire="description",
    )


def create_body(resource: Resource, system_model: AIModel) -> dict[str, Any]:
    if resource.url == MODELS_URL:
        return {
            "parentId": str(system_model.pk),
            "name": "Created With ETag",
            "contextWindow": 8_192,
            "maxTokens": 1_000,
        }
    if resource.url == PARTICLES_URL:
        return {"kind": "role", "name": "Created With ETag", "content": "You help."}
    return {"name": "Created With ETag", "particleIds": [str(ParticleFactory().pk)]}


def etag_of_response(response: Any) -> str:
    etag = response.get("ETag")
    assert etag, f"no ETag on {response.status_code} {response.request['REQUEST_METHOD']}"
    assert ETAG_SHAPE.match(etag), etag
    return etag


# --- ETags on responses ----------------------------------------------------------------------------


def test_get_carries_an_etag(admin_client: APIClient, resource: Resource) -> None:
    obj = resource.make(None)

    response = admin_client.get(resource.detail(obj))

    assert response.status_code == 200, response.content
    first = etag_of_response(response)
    assert etag_of_response(admin_client.get(resource.detail(obj))) == first, "the ETag is stable between reads"


def test_post_carries_the_etag_a_get_then_shows(
    admin_client: APIClient, resource: Resource, system_model: AIModel
) -> None:
    response = admin_client.post(resource.url, create_body(resource, system_model), format="json")

    assert response.status_code == 201, response.content
    etag = etag_of_response(response)
    follow = admin_client.get(f"{resource.url}/{response.json()['id']}")
    assert etag_of_response(follow) == etag


def test_patch_carries_the_new_etag(admin_client: APIClient, resource: Resource) -> None:
    obj = resource.make(None)
    before = etag_of_response(admin_client.get(resource.detail(obj)))

    response = admin_client.patch(resource.detail(obj), resource.change(1), format="json")

    assert response.status_code == 200, response.content
    after = etag_of_response(response)
    assert after != before, "the ETag changes after a write"
    assert etag_of_response(admin_client.get(resource.detail(obj))) == after


def test_etags_differ_between_objects(admin_client: APIClient, resource: Resource) -> None:
    first, second = resource.make(None), resource.make(None)

    assert etag_of_response(admin_client.get(resource.detail(first))) != etag_of_response(
        admin_client.get(resource.detail(second))
    )


def test_a_write_by_someone_else_changes_the_etag(admin_client: APIClient, client_for, resource: Resource) -> None:
    obj = resource.make(None)
    before = etag_of_response(admin_client.get(resource.detail(obj)))
    colleague = client_for(org="org-a", roles=("stytch_admin",))

    assert colleague.patch(resource.detail(obj), resource.change(2), format="json").status_code == 200

    assert etag_of_response(admin_client.get(resource.detail(obj))) != before


# --- If-Match on PATCH ------------------------------------------------------------------------------


def test_patch_with_the_current_etag_succeeds(admin_client: APIClient, resource: Resource) -> None:
    obj = resource.make(None)
    etag = etag_of_response(admin_client.get(resource.detail(obj)))

    response = admin_client.patch(resource.detail(obj), resource.change(1), format="json", HTTP_IF_MATCH=etag)

    assert response.status_code == 200, response.content
    assert response.json()[resource.wire] == "change 1"
    obj.refresh_from_db()
    assert getattr(obj, resource.field) == "change 1"


def test_patch_with_a_stale_etag_is_412_and_changes_nothing(admin_client: APIClient, resource: Resource) -> None:
    obj = resource.make(None)
    stale = etag_of_response(admin_client.get(resource.detail(obj)))
    assert admin_client.patch(resource.detail(obj), resource.change(1), format="json").status_code == 200
    obj.refresh_from_db()
    snapshot = (getattr(obj, resource.field), obj.updated_at)
    history = obj.history.count()
    events = AuditEvent.objects.count()

    response = admin_client.patch(resource.detail(obj), resource.change(2), format="json", HTTP_IF_MATCH=stale)

    body = assert_error_shape(response, 412)
    assert body["code"] == "precondition_failed"
    obj.refresh_from_db()
    assert (getattr(obj, resource.field), obj.updated_at) == snapshot
    assert obj.history.count() == history
    assert AuditEvent.objects.count() == events


def test_a_weak_etag_never_satisfies_if_match(admin_client: APIClient, resource: Resource) -> None:
    """If-Match compares strongly (RFC 9110): W/"<current etag>" can never match, so it is a 400
    naming the header (issue 15), not a 412 saying the object changed."""
    obj = resource.make(None)
    etag = etag_of_response(admin_client.get(resource.detail(obj)))

    response = admin_client.patch(resource.detail(obj), resource.change(1), format="json", HTTP_IF_MATCH=f"W/{etag}")

    assert list(assert_error_shape(response, 400)["errors"]) == ["If-Match"]
    obj.refresh_from_db()
    assert getattr(obj, resource.field) == "original"


def test_patch_with_a_made_up_etag_is_412(admin_client: APIClient, resource: Resource) -> None:
    obj = resource.make(None)

    response = admin_client.patch(
        resource.detail(obj), resource.change(1), format="json", HTTP_IF_MATCH='"0123456789abcdef"'
    )

    assert_error_shape(response, 412)
    obj.refresh_from_db()
    assert getattr(obj, resource.field) == "original"


@pytest.mark.parametrize("header", ["", " ", "0123456789abcdef", '"unterminated', '"a", b', ","])
def test_a_malformed_if_match_is_a_400_naming_the_header(admin_client: APIClient, resource: Resource, header) -> None:
    obj = resource.make(None)

    response = admin_client.patch(resource.detail(obj), resource.change(1), format="json", HTTP_IF_MATCH=header)

    body = assert_error_shape(response, 400)
    assert list(body["errors"]) == ["If-Match"]
    obj.refresh_from_db()
    assert getattr(obj, resource.field) == "original"


def test_if_match_with_several_etags_matches_any(admin_client: APIClient, resource: Resource) -> None:
    obj = resource.make(None)
    etag = etag_of_response(admin_client.get(resource.detail(obj)))

    response = admin_client.patch(
        resource.detail(obj), resource.change(1), format="json", HTTP_IF_MATCH=f'"other", {etag}'
    )

    assert response.status_code == 200, response.content


def test_patch_with_if_match_star_proceeds(admin_client: APIClient, resource: Resource) -> None:
    obj = resource.make(None)

    response = admin_client.patch(resource.detail(obj), resource.change(1), format="json", HTTP_IF_MATCH="*")

    assert response.status_code == 200, response.content
    obj.refresh_from_db()
    assert getattr(obj, resource.field) == "change 1"


def test_patch_without_if_match_proceeds(admin_client: APIClient, resource: Resource) -> None:
    obj = resource.make(None)

    response = admin_client.patch(resource.detail(obj), resource.change(1), format="json")

    assert response.status_code == 200, response.content
    obj.refresh_from_db()
    assert getattr(obj, resource.field) == "change 1"


def test_patch_with_a_list_of_etags_including_the_current_one_succeeds(
    admin_client: APIClient, resource: Resource
) -> None:
    obj = resource.make(None)
    etag = etag_of_response(admin_client.get(resource.detail(obj)))

    response = admin_client.patch(
        resource.detail(obj), resource.change(1), format="json", HTTP_IF_MATCH=f'"not-it", {etag}'
    )

    assert response.status_code == 200, response.content


def test_the_etag_of_a_patch_response_is_good_for_the_next_patch(admin_client: APIClient, resource: Resource) -> None:
    obj = resource.make(None)
    etag = etag_of_response(admin_client.get(resource.detail(obj)))

    first = admin_client.patch(resource.detail(obj), resource.change(1), format="json", HTTP_IF_MATCH=etag)
    second = admin_client.patch(
        resource.detail(obj), resource.change(2), format="json", HTTP_IF_MATCH=etag_of_response(first)
    )
    replayed_old = admin_client.patch(resource.detail(obj), resource.change(3), format="json", HTTP_IF_MATCH=etag)

    assert second.status_code == 200, second.content
    assert_error_shape(replayed_old, 412)
    obj.refresh_from_db()
    assert getattr(obj, resource.field) == "change 2"


# --- If-Match on DELETE -----------------------------------------------------------------------------


def test_delete_with_the_current_etag_succeeds(admin_client: APIClient, resource: Resource) -> None:
    obj = resource.make(None)
    etag = etag_of_response(admin_client.get(resource.detail(obj)))

    response = admin_client.delete(resource.detail(obj), HTTP_IF_MATCH=etag)

    assert response.status_code == 204, response.content
    assert not resource.model.objects.filter(pk=obj.pk).exists()


def test_delete_with_a_stale_etag_is_412_and_deletes_nothing(admin_client: APIClient, resource: Resource) -> None:
    obj = resource.make(None)
    stale = etag_of_response(admin_client.get(resource.detail(obj)))
    assert admin_client.patch(resource.detail(obj), resource.change(1), format="json").status_code == 200
    events = AuditEvent.objects.count()

    response = admin_client.delete(resource.detail(obj), HTTP_IF_MATCH=stale)

    body = assert_error_shape(response, 412)
    assert body["code"] == "precondition_failed"
    assert resource.model.objects.filter(pk=obj.pk).exists()
    assert AuditEvent.objects.count() == events


def test_delete_with_if_match_star_proceeds(admin_client: APIClient, resource: Resource) -> None:
    obj = resource.make(None)

    response = admin_client.delete(resource.detail(obj), HTTP_IF_MATCH="*")

    assert response.status_code == 204, response.content
    assert not resource.model.objects.filter(pk=obj.pk).exists()


def test_delete_without_if_match_proceeds(admin_client: APIClient, resource: Resource) -> None:
    obj = resource.make(None)

    response = admin_client.delete(resource.detail(obj))

    assert response.status_code == 204, response.content
    assert not resource.model.objects.filter(pk=obj.pk).exists()


def test_if_match_does_not_reveal_another_organizations_object(
    other_org_client: APIClient, admin_client: APIClient, resource: Resource
) -> None:
    obj = resource.make(None)
    etag = etag_of_response(admin_client.get(resource.detail(obj)))

    assert_error_shape(other_org_client.patch(resource.detail(obj), {}, format="json", HTTP_IF_MATCH=etag), 404)
    assert_error_shape(other_org_client.delete(resource.detail(obj), HTTP_IF_MATCH=etag), 404)
    assert resource.model.objects.filter(pk=obj.pk).exists()


# --- Concurrency (PostgreSQL: real row locks) --------------------------------------------------------


def _require_postgresql() -> None:
    if connection.vendor != "postgresql":
        pytest.skip(
            f"needs PostgreSQL: concurrent writers need real row locks (SELECT ... FOR UPDATE); "
            f"this run uses {connection.vendor}"
        )


def _client(token: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


THREADS = 8


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_patches_with_the_same_if_match_let_exactly_one_win(make_token, system_model: AIModel) -> None:
    _require_postgresql()
    model = UserModelFactory(parent=system_model, name="Contended", description="original")
    url = f"{MODELS_URL}/{model.pk}"
    tokens = [make_token(org="org-a", roles=("stytch_admin",), sub=f"member-writer-{i}") for i in range(THREADS)]
    barrier = threading.Barrier(THREADS)
    etags: list[str | None] = [None] * THREADS
    results: list[tuple[int, dict] | BaseException | None] = [None] * THREADS

    def writer(index: int) -> None:
        client = _client(tokens[index])
        try:
            read = client.get(url)
            etags[index] = read["ETag"]
            connection.close()  # hand the connection back while the others read
            barrier.wait(timeout=60)
            response = client.patch(url, {"description": f"writer {index}"}, format="json", HTTP_IF_MATCH=etags[index])
            results[index] = (response.status_code, response.json())
        except BaseException as exc:  # noqa: BLE001 - reported below
            results[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    errors = [result for result in results if isinstance(result, BaseException) or result is None]
    assert not errors, errors
    assert len(set(etags)) == 1, "every writer read the same version"
    statuses = sorted(status for status, _ in results)
    assert statuses == [200] + [412] * (THREADS - 1), statuses
    (winner,) = [index for index, (status, _) in enumerate(results) if status == 200]
    for status, body in results:
        if status == 412:
            assert body["status"] == 412 and body["code"] == "precondition_failed"
    model.refresh_from_db()
    assert model.description == f"writer {winner}"
    assert model.history.filter(history_type="~").count() == 1, "exactly one update was written"
    updates = AuditEvent.objects.filter(object_id=model.pk, action="updated")
    assert [event.actor for event in updates] == [f"member:member-writer-{winner}"]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_read_patch_retry_loops_lose_no_increment(make_token, system_model: AIModel) -> None:
    _require_postgresql()
    increments_per_thread = 5
    model = UserModelFactory(parent=system_model, name="Counter", description="0")
    url = f"{MODELS_URL}/{model.pk}"
    tokens = [make_token(org="org-a", roles=("stytch_admin",), sub=f"member-counter-{i}") for i in range(THREADS)]
    barrier = threading.Barrier(THREADS)
    successes = [0] * THREADS
    conflicts = [0] * THREADS
    failures: list[BaseException | str] = []

    def incrementer(index: int) -> None:
        client = _client(tokens[index])
        try:
            barrier.wait(timeout=60)
            attempts = 0
            while successes[index] < increments_per_thread:
                attempts += 1
                if attempts > 500:
                    failures.append(f"thread {index} gave up after {attempts} attempts")
                    return
                read = client.get(url)
                connection.close()
                assert read.status_code == 200, read.content
                value = int(read.json()["description"])
                response = client.patch(url, {"description": str(value + 1)}, format="json", HTTP_IF_MATCH=read["ETag"])
                connection.close()
                if response.status_code == 200:
                    successes[index] += 1
                elif response.status_code == 412:
                    conflicts[index] += 1
                else:
                    failures.append(f"thread {index}: {response.status_code} {response.content!r}")
                    return
        except BaseException as exc:  # noqa: BLE001 - reported below
            failures.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=incrementer, args=(i,)) for i in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)

    assert not failures, failures
    assert sum(successes) == THREADS * increments_per_thread
    model.refresh_from_db()
    assert int(model.description) == sum(successes), (model.description, successes, conflicts)
    assert model.history.filter(history_type="~").count() == sum(successes)
