"""`seed_global_prompts`: useful global particles and a default composition, idempotently."""

from __future__ import annotations

import json

import pytest

from prompts.models import PromptComposition, PromptParticle
from prompts.rendering import render_composition
from prompts.seeding import DEFAULT_DATA_PATH, SEED_ACTOR, seed_global_prompts
from tests.factories import ParticleFactory

pytestmark = pytest.mark.django_db

DEFAULT_COMPOSITION = "Helpful assistant (default)"


def history_rows() -> int:
    return PromptParticle.history.count() + PromptComposition.history.count()


def test_first_run_creates_the_global_prompts():
    counts = seed_global_prompts()

    assert counts == {
        "particles_created": 5,
        "particles_updated": 0,
        "particles_unchanged": 0,
        "compositions_created": 1,
        "compositions_updated": 0,
        "compositions_unchanged": 0,
    }
    assert not PromptParticle.objects.filter(is_system=False).exists()
    assert set(PromptParticle.objects.values_list("kind", "name")) == {
        ("role", "Helpful assistant"),
        ("tone", "Concise"),
        ("tone", "Formal"),
        ("guardrails", "No legal or medical advice"),
        ("guardrails", "Protect secrets"),
    }
    assert all(particle.organization_id is None for particle in PromptParticle.objects.all())


def test_the_default_composition_is_role_concise_tone_and_both_guardrails():
    seed_global_prompts()

    composition = PromptComposition.objects.get(name=DEFAULT_COMPOSITION)
    names = [item.particle.name for item in composition.items.order_by("position")]

    assert composition.is_system and composition.organization_id is None
    assert names == ["Helpful assistant", "Concise", "No legal or medical advice", "Protect secrets"]
    assert render_composition(composition).startswith("You are a helpful")
    assert composition.history.get().history_actor == SEED_ACTOR


def test_second_run_changes_nothing():
    seed_global_prompts()
    before = history_rows()
    updated_at = sorted(PromptParticle.objects.values_list("updated_at", flat=True))

    counts = seed_global_prompts()

    assert counts == {
        "particles_created": 0,
        "particles_updated": 0,
        "particles_unchanged": 5,
        "compositions_created": 0,
        "compositions_updated": 0,
        "compositions_unchanged": 1,
    }
    assert history_rows() == before
    assert sorted(PromptParticle.objects.values_list("updated_at", flat=True)) == updated_at
    assert PromptParticle.objects.count() == 5
    assert PromptComposition.objects.count() == 1


def test_dry_run_writes_nothing_and_reports_what_it_would_do():
    counts = seed_global_prompts(dry_run=True)

    assert counts["particles_created"] == 5
    assert counts["compositions_created"] == 1
    assert not PromptParticle.objects.exists()
    assert not PromptComposition.objects.exists()
    assert history_rows() == 0


def test_a_changed_global_particle_and_composition_are_put_back():
    seed_global_prompts()
    particle = PromptParticle.objects.get(kind="tone", name="Concise")
    particle.content = "Edited by hand."
    particle.save()
    composition = PromptComposition.objects.get(name=DEFAULT_COMPOSITION)
    composition.items.exclude(position=0).delete()

    counts = seed_global_prompts()

    assert counts["particles_updated"] == 1
    assert counts["particles_unchanged"] == 4
    assert counts["compositions_updated"] == 1
    particle.refresh_from_db()
    assert particle.content != "Edited by hand."
    assert composition.items.count() == 4


def test_organizations_objects_of_the_same_name_are_left_alone():
    own = ParticleFactory(kind="tone", name="Concise", content="Our own concise tone.")

    counts = seed_global_prompts()

    assert counts["particles_created"] == 5
    own.refresh_from_db()
    assert own.content == "Our own concise tone." and not own.is_system


def test_every_organization_can_read_the_seeded_prompts(admin_client, other_org_client):
    seed_global_prompts()

    for client in (admin_client, other_org_client):
        compositions = client.get("/v1/prompt-compositions", {"isSystem": "true"}).json()
        assert [row["name"] for row in compositions["results"]] == [DEFAULT_COMPOSITION]
        assert client.get("/v1/prompt-particles").json()["count"] == 5


def test_the_data_file_is_valid_json_with_the_expected_keys():
    data = json.loads(DEFAULT_DATA_PATH.read_text(encoding="utf-8"))

    assert set(data) == {"particles", "compositions"}
    assert {(entry["kind"], entry["name"]) for entry in data["particles"]} >= {
        (ref["kind"], ref["name"]) for composition in data["compositions"] for ref in composition["particles"]
    }
