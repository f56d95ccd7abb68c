"""Issue 7: the audit trail. Every API write leaves an AuditEvent; GET /v1/audit-events lists the organization's."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from core.models import AuditEvent
from models_registry.models import AIModel
from tests.factories import AuditEventFactory, ParticleFactory
from tests.hardening.conftest import AUDIT_URL, COMPOSITIONS_URL, MODELS_URL, PARTICLES_URL, model_body

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("no_rate_limits")]

MEMBER_ACTOR = "member:member-test-org-a"
M2M_ACTOR = "m2m:m2m-client-test-org-a"
EVENT_FIELDS = {
    "id",
    "occurredAt",
    "organizationId",
    "actor",
    "action",
    "objectType",
    "objectId",
    "objectRepr",
    "changedFields",
    "requestId",
}


def events_of(object_id: Any) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(object_id=object_id).order_by("occurred_at", "id"))


def only_event(object_id: Any, action: str) -> AuditEvent:
    events = [event for event in events_of(object_id) if event.action == action]
    assert len(events) == 1, [(e.action, e.changed_fields) for e in events_of(object_id)]
    return events[0]


def assert_event(event: AuditEvent, response: Any, *, actor: str, action: str, object_type: str, object_id: Any):
    assert event.actor == actor
    assert event.organization_id == "org-a"
    assert event.action == action
    assert event.object_type == object_type
    assert str(event.object_id) == str(object_id)
    assert event.request_id == response["X-Request-ID"]
    assert event.occurred_at is not None


# --- Events are written -------------------------------------------------------------------------------


def test_model_create_change_delete_leave_events(admin_client: APIClient, system_model: AIModel) -> None:
    created = admin_client.post(MODELS_URL, model_body(system_model, name="Audited"), format="json")
    assert created.status_code == 201, created.content
    model_id = created.json()["id"]
    changed = admin_client.patch(f"{MODELS_URL}/{model_id}", {"contextWindow": 16_384}, format="json")
    assert changed.status_code == 200, changed.content
    deleted = admin_client.delete(f"{MODELS_URL}/{model_id}")
    assert deleted.status_code == 204

    create_event = only_event(model_id, "created")
    assert_event(create_event, created, actor=MEMBER_ACTOR, action="created", object_type="model", object_id=model_id)
    assert {"name", "contextWindow", "maxTokens", "parentId"} <= set(create_event.changed_fields)
    assert create_event.object_repr == "Audited"

    update_event = only_event(model_id, "updated")
    assert_event(update_event, changed, actor=MEMBER_ACTOR, action="updated", object_type="model", object_id=model_id)
    assert update_event.changed_fields == ["contextWindow"]

    delete_event = only_event(model_id, "deleted")
    assert_event(delete_event, deleted, actor=MEMBER_ACTOR, action="deleted", object_type="model", object_id=model_id)
    assert delete_event.object_repr == "Audited"


def test_m2m_writes_are_attributed_to_the_client(m2m_client_for, system_model: AIModel) -> None:
    client = m2m_client_for("write:models read:models write:prompts read:prompts")

    created = client.post(MODELS_URL, model_body(system_model), format="json")
    assert created.status_code == 201, created.content
    model_id = created.json()["id"]
    changed = client.patch(f"{MODELS_URL}/{model_id}", {"isEnabled": False, "maxTokens": 500}, format="json")
    particle = client.post(PARTICLES_URL, {"kind": "role", "name": "By a robot", "content": "Beep."}, format="json")

    assert changed.status_code == 200 and particle.status_code == 201
    assert only_event(model_id, "created").actor == M2M_ACTOR
    update = only_event(model_id, "updated")
    assert update.actor == M2M_ACTOR
    assert update.changed_fields == ["isEnabled", "maxTokens"]
    assert only_event(particle.json()["id"], "created").actor == M2M_ACTOR


def test_changed_relations_have_their_wire_names(admin_client: APIClient, user_model: AIModel, composition) -> None:
    url = f"{MODELS_URL}/{user_model.pk}"

    assigned = admin_client.patch(url, {"systemPromptCompositionId": str(composition.pk)}, format="json")
    overridden = admin_client.patch(
        url, {"systemPromptOverride": "Be brief.", "supportsStreaming": False}, format="json"
    )

    assert (assigned.status_code, overridden.status_code) == (200, 200), (assigned.content, overridden.content)
    updates = [event for event in events_of(user_model.pk) if event.action == "updated"]
    assert [event.changed_fields for event in updates] == [
        ["systemPromptCompositionId"],
        ["supportsStreaming", "systemPromptOverride"],
    ]


def test_particle_create_change_delete_leave_events(admin_client: APIClient) -> None:
    created = admin_client.post(PARTICLES_URL, {"kind": "tone", "name": "Warm", "content": "Be warm."}, format="json")
    assert created.status_code == 201, created.content
    particle_id = created.json()["id"]
    changed = admin_client.patch(f"{PARTICLES_URL}/{particle_id}", {"content": "Be warmer."}, format="json")
    deleted = admin_client.delete(f"{PARTICLES_URL}/{particle_id}")
    assert (changed.status_code, deleted.status_code) == (200, 204)

    kind = "prompt-particle"
    create_event = only_event(particle_id, "created")
    assert_event(create_event, created, actor=MEMBER_ACTOR, action="created", object_type=kind, object_id=particle_id)
    assert {"kind", "name", "content"} <= set(create_event.changed_fields)
    update_event = only_event(particle_id, "updated")
    assert_event(update_event, changed, actor=MEMBER_ACTOR, action="updated", object_type=kind, object_id=particle_id)
    assert update_event.changed_fields == ["content"]
    delete_event = only_event(particle_id, "deleted")
    assert_event(delete_event, deleted, actor=MEMBER_ACTOR, action="deleted", object_type=kind, object_id=particle_id)


def test_composition_create_reorder_rename_delete_leave_events(admin_client: APIClient) -> None:
    first, second = ParticleFactory(), ParticleFactory()
    created = admin_client.post(
        COMPOSITIONS_URL, {"name": "Flow", "particleIds": [str(first.pk), str(second.pk)]}, format="json"
    )
    assert created.status_code == 201, created.content
    composition_id = created.json()["id"]
    url = f"{COMPOSITIONS_URL}/{composition_id}"
    reordered = admin_client.patch(url, {"particleIds": [str(second.pk), str(first.pk)]}, format="json")
    renamed = admin_client.patch(url, {"name": "Flow 2"}, format="json")
    deleted = admin_client.delete(url)
    assert (reordered.status_code, renamed.status_code, deleted.status_code) == (200, 200, 204)

    kind = "prompt-composition"
    create_event = only_event(composition_id, "created")
    assert_event(
        create_event, created, actor=MEMBER_ACTOR, action="created", object_type=kind, object_id=composition_id
    )
    assert {"name", "particleIds"} <= set(create_event.changed_fields)
    updates = [event for event in events_of(composition_id) if event.action == "updated"]
    assert [event.changed_fields for event in updates] == [["particleIds"], ["name"]]
    assert [event.request_id for event in updates] == [reordered["X-Request-ID"], renamed["X-Request-ID"]]
    assert all(event.actor == MEMBER_ACTOR for event in updates)
    delete_event = only_event(composition_id, "deleted")
    assert_event(
        delete_event, deleted, actor=MEMBER_ACTOR, action="deleted", object_type=kind, object_id=composition_id
    )


def test_the_event_request_id_is_the_incoming_x_request_id(admin_client: APIClient, system_model: AIModel) -> None:
    response = admin_client.post(
        MODELS_URL, model_body(system_model), format="json", HTTP_X_REQUEST_ID="trace-1234.abc_DEF"
    )

    assert response["X-Request-ID"] == "trace-1234.abc_DEF"
    assert only_event(response.json()["id"], "created").request_id == "trace-1234.abc_DEF"


def test_a_refused_write_leaves_no_event(admin_client: APIClient, user_model: AIModel) -> None:
    before = AuditEvent.objects.count()

    invalid = admin_client.patch(f"{MODELS_URL}/{user_model.pk}", {"contextWindow": 10_000_000}, format="json")
    stale = admin_client.patch(
        f"{MODELS_URL}/{user_model.pk}", {"description": "x"}, format="json", HTTP_IF_MATCH='"stale"'
    )

    assert (invalid.status_code, stale.status_code) == (400, 412)
    assert AuditEvent.objects.count() == before


# --- GET /v1/audit-events ------------------------------------------------------------------------------


def ids_in(response: Any) -> list[int]:
    assert response.status_code == 200, response.content
    return [item["id"] for item in response.json()["results"]]


def test_the_list_is_the_callers_organization_newest_first_paginated(
    admin_client: APIClient, other_org_client: APIClient
) -> None:
    oldest = AuditEventFactory(minutes_ago=30)
    newest = AuditEventFactory(minutes_ago=1)
    middle = AuditEventFactory(minutes_ago=10)
    AuditEventFactory(organization_id="org-b", minutes_ago=5)
    AuditEventFactory(organization_id=None, minutes_ago=2)  # a global object's event

    response = admin_client.get(AUDIT_URL)

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"count", "countIsEstimate", "next", "previous", "results"}
    assert body["count"] == 3
    assert [item["id"] for item in body["results"]] == [newest.id, middle.id, oldest.id]
    assert set(body["results"][0]) == EVENT_FIELDS
    assert body["results"][0]["organizationId"] == "org-a"
    assert body["results"][0]["objectId"] == str(newest.object_id)
    assert body["results"][0]["requestId"] == newest.request_id

    page = admin_client.get(AUDIT_URL, {"limit": 2})
    assert page.json()["count"] == 3
    assert ids_in(page) == [newest.id, middle.id]
    assert page.json()["previous"] is None
    assert page.json()["next"]
    rest = admin_client.get(AUDIT_URL, {"limit": 2, "offset": 2})
    assert ids_in(rest) == [oldest.id]
    assert rest.json()["next"] is None


def test_another_organization_never_sees_our_events(
    admin_client: APIClient, other_org_client: APIClient, system_model: AIModel
) -> None:
    created = admin_client.post(MODELS_URL, model_body(system_model), format="json")
    model_id = created.json()["id"]
    ours = AuditEventFactory()

    theirs = other_org_client.get(AUDIT_URL)
    by_object = other_org_client.get(AUDIT_URL, {"objectId": model_id})
    by_actor = other_org_client.get(AUDIT_URL, {"actor": MEMBER_ACTOR})

    assert theirs.json()["count"] == 0
    assert ids_in(by_object) == []
    assert ids_in(by_actor) == []
    assert ours.id not in ids_in(theirs)


def test_filters(admin_client: APIClient) -> None:
    target = uuid.uuid4()
    old = AuditEventFactory(minutes_ago=60, object_id=target, action="created")
    recent = AuditEventFactory(minutes_ago=5, object_id=target, action="updated", actor=M2M_ACTOR)
    particle = AuditEventFactory(minutes_ago=3, object_type="prompt-particle", action="deleted")
    composition = AuditEventFactory(minutes_ago=1, object_type="prompt-composition")

    assert ids_in(admin_client.get(AUDIT_URL, {"objectId": str(target)})) == [recent.id, old.id]
    assert ids_in(admin_client.get(AUDIT_URL, {"objectType": "prompt-particle"})) == [particle.id]
    assert ids_in(admin_client.get(AUDIT_URL, {"objectType": "prompt-composition"})) == [composition.id]
    assert ids_in(admin_client.get(AUDIT_URL, {"objectType": "model"})) == [recent.id, old.id]
    assert ids_in(admin_client.get(AUDIT_URL, {"actor": M2M_ACTOR})) == [recent.id]
    assert ids_in(admin_client.get(AUDIT_URL, {"action": "deleted"})) == [particle.id]
    assert ids_in(admin_client.get(AUDIT_URL, {"action": "created"})) == [old.id]
    since = (timezone.now() - timedelta(minutes=10)).isoformat()
    until = (timezone.now() - timedelta(minutes=2)).isoformat()
    assert ids_in(admin_client.get(AUDIT_URL, {"since": since})) == [composition.id, particle.id, recent.id]
    assert ids_in(admin_client.get(AUDIT_URL, {"until": until})) == [particle.id, recent.id, old.id]
    assert ids_in(admin_client.get(AUDIT_URL, {"since": since, "until": until})) == [particle.id, recent.id]
    assert ids_in(admin_client.get(AUDIT_URL, {"objectId": str(target), "action": "updated"})) == [recent.id]


def test_since_and_until_accept_a_utc_z_suffix(admin_client: APIClient) -> None:
    event = AuditEventFactory(minutes_ago=5)
    since = (timezone.now() - timedelta(minutes=10)).strftime("%Y-%m-%dT%H:%M:%SZ")

    assert ids_in(admin_client.get(AUDIT_URL, {"since": since})) == [event.id]


@pytest.mark.parametrize(
    "params",
    [{"objectId": "not-a-uuid"}, {"objectType": "spaceship"}, {"action": "exploded"}, {"since": "yesterday"}],
)
def test_bad_filter_values_are_400(admin_client: APIClient, params: dict[str, str]) -> None:
    response = admin_client.get(AUDIT_URL, params)

    assert response.status_code == 400, response.content
    assert response.json()["status"] == 400


def test_the_list_of_a_real_flow_is_newest_first(admin_client: APIClient, system_model: AIModel) -> None:
    created = admin_client.post(MODELS_URL, model_body(system_model), format="json")
    model_id = created.json()["id"]
    changed = admin_client.patch(f"{MODELS_URL}/{model_id}", {"name": "Renamed"}, format="json")

    results = admin_client.get(AUDIT_URL, {"objectId": model_id}).json()["results"]

    assert [(item["action"], item["changedFields"]) for item in results][0] == ("updated", ["name"])
    assert [item["action"] for item in results] == ["updated", "created"]
    assert results[0]["requestId"] == changed["X-Request-ID"]
    assert results[1]["requestId"] == created["X-Request-ID"]
    assert results[0]["actor"] == MEMBER_ACTOR
    assert results[0]["objectType"] == "model"


# --- Who may read it -------------------------------------------------------------------------------------


def test_a_member_without_the_admin_role_is_403(member_client: APIClient) -> None:
    AuditEventFactory()

    response = member_client.get(AUDIT_URL)

    assert response.status_code == 403
    assert response.json()["status"] == 403


def test_m2m_with_read_audit_may_read(m2m_client_for) -> None:
    event = AuditEventFactory()

    assert ids_in(m2m_client_for("read:audit").get(AUDIT_URL)) == [event.id]
    assert ids_in(m2m_client_for("read:*").get(AUDIT_URL)) == [event.id]


@pytest.mark.parametrize("scopes", ["read:models", "read:models read:prompts write:models write:prompts", ""])
def test_m2m_without_read_audit_is_403(m2m_client_for, scopes: str) -> None:
    AuditEventFactory()

    response = m2m_client_for(scopes).get(AUDIT_URL)

    assert response.status_code == 403
    assert response.json()["status"] == 403


def test_no_token_is_401(api_client: APIClient) -> None:
    assert api_client.get(AUDIT_URL).status_code == 401


def test_the_audit_trail_is_read_only(admin_client: APIClient) -> None:
    event = AuditEventFactory()

    assert admin_client.post(AUDIT_URL, {}, format="json").status_code == 405
    assert admin_client.delete(f"{AUDIT_URL}/{event.id}").status_code in (404, 405)
    assert AuditEvent.objects.filter(pk=event.pk).exists()
