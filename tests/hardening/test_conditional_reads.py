"""Issue 17: conditional reads. Every GET of an object, a list page or a resolved model carries a
strong ETag; If-None-Match with a current tag answers 304 with no body, and never for a body
that has changed.

The staleness tests work the way a polling runtime or dashboard does: read every endpoint and
keep its tag and body, make one write (through the API, the services the admin calls, the seed
command, or the passing of a day), then ask again with the tag. A 304 is only right if the body
is still what the caller holds; so each answer is either a 200, or a 304 whose fresh read equals
the kept body. Each write also names the reads it must change, so a test that never gets to the
staleness check fails too.
"""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from unittest import mock

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from core import conditional
from models_registry import entitlement_services, lifecycle, services
from models_registry.entitlements import Plan
from models_registry.models import AIModel
from prompts.models import PromptComposition, PromptParticle
from tests.assertions import assert_error_shape
from tests.factories import CompositionFactory, ParticleFactory, SystemModelFactory, UserModelFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("no_rate_limits")]

STAFF = "staff:test"


@dataclass
class World:
    parent: AIModel
    successor: AIModel
    model: AIModel
    composition: PromptComposition
    first: PromptParticle
    second: PromptParticle

    def reads(self) -> dict[str, str]:
        """Every conditional read, by a short name."""
        model, parent = self.model.pk, self.parent.pk
        return {
            "models": "/v1/models",
            "models page 2": "/v1/models?limit=1&offset=1",
            "model": f"/v1/models/{model}",
            "model by slug": f"/v1/models/{self.model.slug}",
            "resolved": f"/v1/models/{model}/resolved",
            "system model": f"/v1/models/{parent}",
            "model versions": f"/v1/models/{model}/versions",
            "deprecations": "/v1/models/deprecations",
            "particles": "/v1/prompt-particles",
            "particle": f"/v1/prompt-particles/{self.first.pk}",
            "particle versions": f"/v1/prompt-particles/{self.first.pk}/versions",
            "compositions": "/v1/prompt-compositions",
            "composition": f"/v1/prompt-compositions/{self.composition.pk}",
            "audit events": "/v1/audit-events",
            "openai models": "/openai/v1/models",
            "openai model": f"/openai/v1/models/{self.model.slug}",
        }


@pytest.fixture
def world(db: Any) -> World:
    successor = SystemModelFactory(name="Successor", context_window=200_000, max_tokens=8_192)
    parent = SystemModelFactory(name="Parent", context_window=200_000, max_tokens=8_192)
    first = ParticleFactory(organization_id="org-a", content="You are helpful.")
    second = ParticleFactory(organization_id="org-a", content="Be brief.")
    composition = CompositionFactory(organization_id="org-a", particles=[first, second])
    model = UserModelFactory(
        organization_id="org-a",
        parent=parent,
        name="Support Bot",
        system_prompt_composition=composition,
        context_window=8_192,
        max_tokens=1_000,
    )
    UserModelFactory(organization_id="org-a", parent=parent, name="Second Bot", context_window=8_192, max_tokens=500)
    return World(parent, successor, model, composition, first, second)


def tag_of(response: Any) -> str:
    etag = response.get("ETag")
    assert etag, f"no ETag on {response.status_code} {response.request['PATH_INFO']}"
    return etag


def snapshot(client: APIClient, world: World) -> dict[str, tuple[str, bytes]]:
    kept = {}
    for name, url in world.reads().items():
        response = client.get(url)
        assert response.status_code == 200, (name, response.content)
        kept[name] = (tag_of(response), response.content)
    return kept


def changed_reads(client: APIClient, world: World, kept: dict[str, tuple[str, bytes]]) -> set[str]:
    """Ask each read again with its kept tag; the names of those that answered with a new body.
    Fails on a 304 for a body that is no longer the kept one."""
    changed = set()
    for name, url in world.reads().items():
        tag, body = kept[name]
        response = client.get(url, HTTP_IF_NONE_MATCH=tag)
        if response.status_code == 304:
            fresh = client.get(url)
            assert fresh.content == body, f"{name}: 304 for a body that changed"
            continue
        assert response.status_code in (200, 404), (name, response.status_code, response.content)
        if response.content != body:
            changed.add(name)
    return changed


# --- The writes, each with the reads it must change -------------------------------------------------


def patch_model(client: APIClient, world: World) -> None:
    response = client.patch(f"/v1/models/{world.model.pk}", {"description": "Changed."}, format="json")
    assert response.status_code == 200, response.content


def override_prompt(client: APIClient, world: World) -> None:
    response = client.patch(f"/v1/models/{world.model.pk}", {"systemPromptOverride": "Only this."}, format="json")
    assert response.status_code == 200, response.content


def edit_particle(client: APIClient, world: World) -> None:
    response = client.patch(f"/v1/prompt-particles/{world.first.pk}", {"content": "You are kind."}, format="json")
    assert response.status_code == 200, response.content


def reorder_composition(client: APIClient, world: World) -> None:
    body = {"particleIds": [str(world.second.pk), str(world.first.pk)]}
    response = client.patch(f"/v1/prompt-compositions/{world.composition.pk}", body, format="json")
    assert response.status_code == 200, response.content


def staff_disable_parent(client: APIClient, world: World) -> None:
    world.parent.is_enabled = False
    services.system_model_save(instance=world.parent, actor=STAFF, changed={"is_enabled"})


def staff_reprice_parent(client: APIClient, world: World) -> None:
    world.parent.credit_multiplier = Decimal("7.5")  # user models inherit pricing live
    services.system_model_save(instance=world.parent, actor=STAFF, changed={"credit_multiplier"})


def deprecate_parent(client: APIClient, world: World) -> None:
    world.parent.deprecated_at = lifecycle.today()
    world.parent.retires_at = lifecycle.today() + datetime.timedelta(days=10)
    world.parent.successor = world.successor
    services.system_model_save(instance=world.parent, actor=STAFF, changed={"deprecated_at", "retires_at"})


def move_to_successor(client: APIClient, world: World) -> None:
    deprecate_parent(client, world)
    moved = services.move_user_models(source=world.parent, target=world.successor, actor=STAFF)
    assert moved.moved and len(moved.models) == 2, moved.problems


def revoke_entitlement(client: APIClient, world: World) -> None:
    plan = entitlement_services.plan_save(
        plan=Plan(name="Successor only"), actor=STAFF, system_models=[world.successor]
    )
    entitlement_services.entitlement_save(organization_id="org-a", actor=STAFF, mode="plan", plan=plan)


def delete_model(client: APIClient, world: World) -> None:
    assert client.delete(f"/v1/models/{world.model.pk}").status_code == 204


WRITES: dict[str, tuple[Callable[[APIClient, World], None], set[str]]] = {
    "patch the model": (patch_model, {"models", "model", "model by slug", "resolved", "audit events"}),
    "override its prompt": (override_prompt, {"model", "resolved", "model versions", "openai model"}),
    "edit a particle of its composition": (edit_particle, {"resolved", "particle", "particles", "particle versions"}),
    "reorder its composition": (reorder_composition, {"resolved", "composition", "compositions"}),
    "staff disable the parent": (staff_disable_parent, {"resolved", "openai models"}),
    "staff reprice the parent": (staff_reprice_parent, {"model", "resolved", "system model", "models"}),
    "deprecate the parent": (deprecate_parent, {"model", "resolved", "system model", "deprecations"}),
    "move to the successor": (move_to_successor, {"model", "resolved", "models", "audit events"}),
    "revoke the entitlement": (revoke_entitlement, {"resolved", "system model", "models", "openai models"}),
    "delete the model": (delete_model, {"model", "resolved", "models", "openai models", "audit events"}),
}


@pytest.mark.parametrize("write", list(WRITES))
def test_no_304_for_a_body_a_write_changed(admin_client: APIClient, world: World, write: str) -> None:
    make, must_change = WRITES[write]
    kept = snapshot(admin_client, world)

    make(admin_client, world)

    changed = changed_reads(admin_client, world, kept)
    assert must_change <= changed, f"unchanged after {write!r}: {must_change - changed}"


def test_the_seed_command_changes_the_tags(admin_client: APIClient, tmp_path: Any) -> None:
    call_command("seed_system_models", verbosity=0)
    parent = AIModel.objects.get(is_system=True, provider="openai", provider_model_id="gpt-4o")
    child = UserModelFactory(organization_id="org-a", parent=parent, context_window=8192, max_tokens=1000)
    url = f"/v1/models/{child.pk}/resolved"
    tag = tag_of(admin_client.get(url))
    catalog = tmp_path / "catalog.json"
    catalog.write_text(
        '[{"name": "GPT-4o", "provider": "openai", "providerModelId": "gpt-4o", "contextWindow": 128000, '
        '"maxTokens": 16384, "creditMultiplier": 9.5, "supportsTools": true, "supportsVision": true}]'
    )

    call_command("seed_system_models", "--file", str(catalog), verbosity=0)

    response = admin_client.get(url, HTTP_IF_NONE_MATCH=tag)
    assert response.status_code == 200
    assert response.json()["creditMultiplier"] == 9.5


def test_the_day_a_status_changes_the_tags_change(admin_client: APIClient, world: World) -> None:
    """Lifecycle statuses are a function of the UTC day: no write happens when a model retires."""
    world.parent.deprecated_at = lifecycle.today()
    world.parent.retires_at = lifecycle.today() + datetime.timedelta(days=1)
    world.parent.save()
    kept = snapshot(admin_client, world)

    with mock.patch.object(lifecycle, "today", return_value=lifecycle.today() + datetime.timedelta(days=1)):
        changed = changed_reads(admin_client, world, kept)

    assert {"resolved", "model", "system model", "openai models", "deprecations"} <= changed


def test_another_organizations_writes_leave_the_tags_current(
    admin_client: APIClient, other_org_client: APIClient, world: World
) -> None:
    kept = snapshot(admin_client, world)
    response = other_org_client.post(
        "/v1/models",
        {"parentId": str(world.parent.pk), "name": "Theirs", "contextWindow": 8192, "maxTokens": 100},
        format="json",
    )
    assert response.status_code == 201, response.content

    for name, url in world.reads().items():
        assert admin_client.get(url, HTTP_IF_NONE_MATCH=kept[name][0]).status_code == 304, name


# --- The 304 itself ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    ["models", "models page 2", "model", "resolved", "model versions", "particles", "composition", "audit events"],
)
def test_a_current_tag_answers_304_with_no_body(admin_client: APIClient, world: World, name: str) -> None:
    url = world.reads()[name]
    first = admin_client.get(url)

    response = admin_client.get(url, HTTP_IF_NONE_MATCH=tag_of(first))

    assert response.status_code == 304
    assert response.content == b""
    assert response["ETag"] == first["ETag"]
    assert first["Cache-Control"] == response["Cache-Control"] == "private, no-cache"
    assert "Authorization" in response["Vary"]


def test_tags_are_strong_and_stable(admin_client: APIClient, world: World) -> None:
    for name, url in world.reads().items():
        first, second = admin_client.get(url), admin_client.get(url)
        assert not first["ETag"].startswith("W/"), name
        assert first["ETag"] == second["ETag"], name
        assert first.content == second.content, name


def test_tags_differ_between_pages_queries_and_hosts(admin_client: APIClient, world: World, settings: Any) -> None:
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "registry.example.com"]
    tags = {
        tag_of(admin_client.get("/v1/models")),
        tag_of(admin_client.get("/v1/models?limit=1")),
        tag_of(admin_client.get("/v1/models?limit=1&offset=1")),
        tag_of(admin_client.get("/v1/models?ordering=-name")),
        tag_of(admin_client.get("/v1/models", HTTP_HOST="registry.example.com")),  # paging links are absolute
    }
    assert len(tags) == 5


def test_a_weak_comparison_list_and_star_match(admin_client: APIClient, world: World) -> None:
    url = f"/v1/models/{world.model.pk}/resolved"
    tag = tag_of(admin_client.get(url))

    assert admin_client.get(url, HTTP_IF_NONE_MATCH=f"W/{tag}").status_code == 304
    assert admin_client.get(url, HTTP_IF_NONE_MATCH=f'"other", {tag}').status_code == 304
    assert admin_client.get(url, HTTP_IF_NONE_MATCH="*").status_code == 304
    assert admin_client.get(url, HTTP_IF_NONE_MATCH='"other"').status_code == 200
    assert admin_client.head(url, HTTP_IF_NONE_MATCH=tag).status_code == 304


def test_star_does_not_hide_a_missing_object(admin_client: APIClient, world: World) -> None:
    assert admin_client.get(f"/v1/models/{uuid.uuid4()}/resolved", HTTP_IF_NONE_MATCH="*").status_code == 404
    assert admin_client.get("/v1/models/no-such-slug", HTTP_IF_NONE_MATCH="*").status_code == 404


@pytest.mark.parametrize("value", ["unquoted", '"a" "b"', '"with space"', '""x', ","])
def test_a_malformed_if_none_match_is_a_400_naming_it(admin_client: APIClient, world: World, value: str) -> None:
    response = admin_client.get("/v1/models", HTTP_IF_NONE_MATCH=value)

    assert "If-None-Match" in assert_error_shape(response, 400)["errors"]


def test_another_organization_never_gets_a_304_for_a_tag_it_did_not_get(
    admin_client: APIClient, other_org_client: APIClient, world: World
) -> None:
    for url in ("/v1/models", "/v1/prompt-particles", f"/v1/models/{world.parent.pk}"):
        tag = tag_of(admin_client.get(url))
        assert other_org_client.get(url, HTTP_IF_NONE_MATCH=tag).status_code == 200, url
    tag = tag_of(admin_client.get(f"/v1/models/{world.model.pk}"))
    assert other_org_client.get(f"/v1/models/{world.model.pk}", HTTP_IF_NONE_MATCH=tag).status_code == 404


def test_a_deleted_object_is_a_404_not_a_304(admin_client: APIClient, world: World) -> None:
    url = f"/v1/models/{world.model.pk}"
    tag = tag_of(admin_client.get(url))
    assert admin_client.delete(url).status_code == 204

    assert admin_client.get(url, HTTP_IF_NONE_MATCH=tag).status_code == 404


# --- If-Match compares the object's own version ---------------------------------------------------


def test_if_match_ignores_changes_elsewhere_in_the_organization(admin_client: APIClient, world: World) -> None:
    url = f"/v1/models/{world.model.pk}"
    tag = tag_of(admin_client.get(url))
    edit_particle(admin_client, world)  # the organization's generation moves on
    assert admin_client.get(url, HTTP_IF_NONE_MATCH=tag).status_code == 200  # a new context

    response = admin_client.patch(url, {"description": "Mine."}, format="json", HTTP_IF_MATCH=tag)

    assert response.status_code == 200, response.content
    stale = admin_client.patch(url, {"description": "Lost."}, format="json", HTTP_IF_MATCH=tag)
    assert stale.status_code == 412


def test_the_tag_of_a_write_is_current_for_the_next_read(admin_client: APIClient, world: World) -> None:
    url = f"/v1/models/{world.model.pk}"
    response = admin_client.patch(url, {"description": "Mine."}, format="json")

    assert admin_client.get(url, HTTP_IF_NONE_MATCH=tag_of(response)).status_code == 304


def test_a_tag_is_a_version_and_a_context() -> None:
    """The shape If-Match relies on: `"<version>.<context>"` for objects, `"<context>"` otherwise."""
    model = UserModelFactory()
    tag = conditional.object_tag(model, "c" * 24)
    version, context = tag.strip('"').split(".")
    assert version == conditional.version_of(model)
    assert conditional.current_tag({tag}, "c" * 24) == tag
    assert conditional.current_tag({tag}, "d" * 24) is None
    assert conditional.if_match_allows({f'"{version}.{"d" * 24}"'}, model)
    assert not conditional.if_match_allows({f'"{"0" * 24}.{context}"'}, model)


def test_the_generations_are_read_before_the_body(admin_client: APIClient, world: World) -> None:
    """The order that keeps a tag from ever naming a body older than it: a write committing
    between the two reads makes a tag older than its body (the next request gets a 200), never a
    tag newer than it (which would be a 304 for a stale body forever)."""
    for name, url in world.reads().items():
        with CaptureQueriesContext(connection) as queries:
            assert admin_client.get(url).status_code == 200
        tables = [
            query["sql"]
            for query in queries  # the organization's first request records it (core.organizations)
            if "core_organization" not in query["sql"] and not query["sql"].startswith(("SAVEPOINT", "RELEASE"))
        ]
        assert "core_cachegeneration" in tables[0], (name, tables)
        assert all("core_cachegeneration" not in sql for sql in tables[1:]), name
