"""Numbered versions with who and when, and restoring them: particles and compositions.

A model's system-prompt versions: tests/models_registry/test_system_prompt_versions.py.
"""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from prompts import services
from prompts.models import PromptComposition, PromptParticle
from tests.factories import CompositionFactory, GlobalParticleFactory, ParticleFactory

pytestmark = pytest.mark.django_db

PARTICLES = "/v1/prompt-particles"
COMPOSITIONS = "/v1/prompt-compositions"
ADMIN_ACTOR = "member:member-test-org-a"
M2M_ACTOR = "m2m:m2m-client-test-org-a"


def ids(*particles) -> list[str]:
    return [str(particle.pk) for particle in particles]


def create_particle(client, **body) -> dict:
    response = client.post(PARTICLES, {"kind": "role", "name": "Agent", "content": "v1", **body}, format="json")
    assert response.status_code == 201, response.content
    return response.json()


# --- Particles -------------------------------------------------------------------------------


def test_every_change_to_a_particle_is_a_numbered_version(admin_client):
    particle = create_particle(admin_client)
    url = f"{PARTICLES}/{particle['id']}"
    admin_client.patch(url, {"content": "v2"}, format="json")
    admin_client.patch(url, {"name": "Agent 3", "kind": "tone"}, format="json")

    response = admin_client.get(f"{url}/versions")

    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 3
    versions = body["results"]
    assert [version["number"] for version in versions] == [3, 2, 1]
    assert [version["changeType"] for version in versions] == ["updated", "updated", "created"]
    assert {version["actor"] for version in versions} == {ADMIN_ACTOR}
    assert versions[0]["snapshot"] == {"kind": "tone", "name": "Agent 3", "content": "v2"}
    assert versions[2]["snapshot"] == {"kind": "role", "name": "Agent", "content": "v1"}
    assert versions[0]["createdAt"] >= versions[1]["createdAt"] >= versions[2]["createdAt"]
    assert set(versions[0]) == {"number", "actor", "createdAt", "changeType", "changeReason", "snapshot"}


def test_versions_are_paginated(admin_client):
    particle = create_particle(admin_client)
    for content in ("v2", "v3"):
        admin_client.patch(f"{PARTICLES}/{particle['id']}", {"content": content}, format="json")

    body = admin_client.get(f"{PARTICLES}/{particle['id']}/versions", {"limit": 1, "offset": 1}).json()

    assert body["count"] == 3
    assert [version["number"] for version in body["results"]] == [2]
    assert body["next"] is not None and body["previous"] is not None


def test_the_m2m_client_is_recorded_as_the_actor(m2m_client_for):
    client = m2m_client_for("read:prompts write:prompts")
    particle = create_particle(client)

    versions = client.get(f"{PARTICLES}/{particle['id']}/versions").json()["results"]

    assert [version["actor"] for version in versions] == [M2M_ACTOR]


def test_restoring_a_particle_version_brings_it_back_as_a_new_version(admin_client, m2m_client_for):
    particle = create_particle(admin_client)
    url = f"{PARTICLES}/{particle['id']}"
    admin_client.patch(url, {"content": "v2", "name": "Renamed"}, format="json")
    writer = m2m_client_for("read:prompts write:prompts")

    response = writer.post(f"{url}/versions/1/restore")

    assert response.status_code == 200, response.content
    assert response.json()["content"] == "v1"
    assert response.json()["name"] == "Agent"
    stored = PromptParticle.objects.get(pk=particle["id"])
    assert (stored.name, stored.content) == ("Agent", "v1")
    newest = admin_client.get(f"{url}/versions").json()["results"][0]
    assert newest["number"] == 3
    assert newest["actor"] == M2M_ACTOR
    assert newest["changeReason"] == "Restored version 1"
    assert newest["snapshot"]["content"] == "v1"


def test_restoring_an_unknown_version_is_a_404(admin_client):
    particle = create_particle(admin_client)

    for number in (0, 2, 999999999):
        response = admin_client.post(f"{PARTICLES}/{particle['id']}/versions/{number}/restore")
        assert response.status_code == 404, number


def test_restore_needs_write_access(member_client, m2m_client_for):
    particle = ParticleFactory()
    particle.content = "v2"
    particle.save()
    url = f"{PARTICLES}/{particle.pk}/versions/1/restore"

    assert member_client.get(f"{PARTICLES}/{particle.pk}/versions").status_code == 200
    assert member_client.post(url).status_code == 403
    assert m2m_client_for("read:prompts").post(url).status_code == 403
    particle.refresh_from_db()
    assert particle.content == "v2"


def test_global_particle_versions_are_readable_but_not_restorable(admin_client):
    global_particle = GlobalParticleFactory(content="v1")
    global_particle.content = "v2"
    global_particle.save()

    versions = admin_client.get(f"{PARTICLES}/{global_particle.pk}/versions")
    restore = admin_client.post(f"{PARTICLES}/{global_particle.pk}/versions/1/restore")

    assert versions.status_code == 200
    assert versions.json()["count"] == 2
    assert restore.status_code == 403
    global_particle.refresh_from_db()
    assert global_particle.content == "v2"


def test_restoring_a_particle_checks_the_compositions_using_it(admin_client):
    from prompts import limits

    particle = ParticleFactory(content="x" * limits.PARTICLE_CONTENT_MAX_LENGTH)
    particle.content = "small"
    particle.save()
    others = [ParticleFactory(content="y" * limits.PARTICLE_CONTENT_MAX_LENGTH) for _ in range(2)]
    CompositionFactory(particles=[particle, *others])

    response = admin_client.post(f"{PARTICLES}/{particle.pk}/versions/1/restore")

    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["content"]


def test_a_deleted_particle_keeps_its_history(admin_client):
    particle = create_particle(admin_client)

    admin_client.delete(f"{PARTICLES}/{particle['id']}")

    record = PromptParticle.history.filter(id=particle["id"]).order_by("-history_date").first()
    assert record.history_type == "-"
    assert record.history_actor == ADMIN_ACTOR


# --- Compositions ------------------------------------------------------------------------------


def test_composition_versions_keep_the_particle_order(admin_client):
    first, second, third = (ParticleFactory(content=text) for text in ("ONE", "TWO", "THREE"))
    created = admin_client.post(
        COMPOSITIONS, {"name": "C", "particleIds": ids(first, second, third)}, format="json"
    ).json()
    url = f"{COMPOSITIONS}/{created['id']}"
    admin_client.patch(url, {"particleIds": ids(third, first)}, format="json")
    admin_client.patch(url, {"description": "described"}, format="json")

    versions = admin_client.get(f"{url}/versions").json()["results"]

    assert [version["number"] for version in versions] == [3, 2, 1]
    assert [version["snapshot"]["particleIds"] for version in versions] == [
        ids(third, first),
        ids(third, first),
        ids(first, second, third),
    ]
    assert versions[0]["snapshot"]["description"] == "described"
    assert versions[2]["snapshot"] == {"name": "C", "description": "", "particleIds": ids(first, second, third)}
    assert {version["actor"] for version in versions} == {ADMIN_ACTOR}


def test_restoring_a_composition_brings_back_its_particle_order(admin_client):
    first, second, third = (ParticleFactory(content=text) for text in ("ONE", "TWO", "THREE"))
    created = admin_client.post(
        COMPOSITIONS, {"name": "Original", "particleIds": ids(first, second, third)}, format="json"
    ).json()
    url = f"{COMPOSITIONS}/{created['id']}"
    admin_client.patch(url, {"name": "Changed", "particleIds": ids(third)}, format="json")

    response = admin_client.post(f"{url}/versions/1/restore")

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["name"] == "Original"
    assert body["particleIds"] == ids(first, second, third)
    assert body["renderedPrompt"] == "ONE\n\nTWO\n\nTHREE"
    versions = admin_client.get(f"{url}/versions").json()["results"]
    assert versions[0]["number"] == 3
    assert versions[0]["changeReason"] == "Restored version 1"
    assert versions[0]["snapshot"]["particleIds"] == ids(first, second, third)


def test_restoring_a_composition_whose_particle_was_deleted_is_a_conflict(admin_client):
    kept, dropped = ParticleFactory(content="KEPT"), ParticleFactory(content="DROPPED")
    created = admin_client.post(COMPOSITIONS, {"name": "C", "particleIds": ids(kept, dropped)}, format="json").json()
    url = f"{COMPOSITIONS}/{created['id']}"
    admin_client.patch(url, {"particleIds": ids(kept)}, format="json")
    assert admin_client.delete(f"{PARTICLES}/{dropped.pk}").status_code == 204

    response = admin_client.post(f"{url}/versions/1/restore")

    assert response.status_code == 409
    assert str(dropped.pk) in response.json()["detail"]
    assert "deleted" in response.json()["detail"]
    assert admin_client.get(url).json()["particleIds"] == ids(kept)
    assert admin_client.get(f"{url}/versions").json()["count"] == 2


def test_composition_written_outside_the_services_still_snapshots_its_order():
    first, second = ParticleFactory(), ParticleFactory()
    composition = CompositionFactory(particles=[first, second])

    composition.description = "changed in the shell"
    composition.save()

    assert composition.history.order_by("-history_date").first().particle_ids == ids(first, second)


# --- Actors outside the API ------------------------------------------------------------------------


def test_staff_writes_record_the_django_user():
    staff = get_user_model().objects.create_user(username="alice", is_staff=True)
    particle = ParticleFactory()

    particle._history_user = staff
    particle.content = "edited in the admin"
    particle.save()

    record = particle.history.order_by("-history_date").first()
    assert record.history_actor == "staff:alice"
    assert record.history_user == staff


def test_api_writes_leave_the_django_user_empty(admin_client):
    particle = create_particle(admin_client)

    record = PromptParticle.history.get(id=particle["id"])
    assert record.history_user_id is None
    assert record.history_actor == ADMIN_ACTOR


# --- A composition's history ---------------------------------------------------------------------


def test_the_composition_of_a_deleted_version_is_not_needed_to_read_versions():
    composition = CompositionFactory(particles=[ParticleFactory()])
    composition_id = composition.pk
    services.composition_delete(composition=PromptComposition.objects.get(pk=composition_id), actor=ADMIN_ACTOR)

    record = PromptComposition.history.filter(id=composition_id).order_by("-history_date").first()
    assert record.history_type == "-"
    assert record.history_actor == ADMIN_ACTOR
    assert len(record.particle_ids) == 1
