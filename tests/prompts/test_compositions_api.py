"""`/v1/prompt-compositions`: ordered particles, rendering, limits, visibility, integrity.

What every resource answers alike (list, retrieve, create, PATCH, DELETE, tenancy, roles, no token) is in
tests/prompts/test_crud.py.
"""

from __future__ import annotations

import uuid

import pytest

from prompts import limits
from prompts.models import PromptComposition, PromptCompositionParticle
from prompts.rendering import render_composition
from tests.factories import (
    CompositionFactory,
    GlobalCompositionFactory,
    GlobalParticleFactory,
    ParticleFactory,
    UserModelFactory,
)

pytestmark = pytest.mark.django_db

URL = "/v1/prompt-compositions"
PREVIEW_URL = f"{URL}/preview"
SEP = limits.PARTICLE_SEPARATOR


def detail(composition_id) -> str:
    return f"{URL}/{composition_id}"


def ids(*particles) -> list[str]:
    return [str(particle.pk) for particle in particles]


@pytest.fixture
def three():
    return (
        ParticleFactory(kind="role", content="ROLE"),
        ParticleFactory(kind="tone", content="TONE"),
        ParticleFactory(kind="guardrails", content="GUARD"),
    )


# --- Create, order, rendering ------------------------------------------------------------------


def test_create_keeps_the_particle_order_and_renders_in_it(admin_client, three):
    role, tone, guard = three

    response = admin_client.post(URL, {"name": "Support", "particleIds": ids(guard, role, tone)}, format="json")

    assert response.status_code == 201, response.content
    body = response.json()
    assert set(body) == {
        "id",
        "name",
        "description",
        "particleIds",
        "renderedPrompt",
        "isSystem",
        "createdAt",
        "updatedAt",
    }
    assert body["particleIds"] == ids(guard, role, tone)
    assert body["renderedPrompt"] == f"GUARD{SEP}ROLE{SEP}TONE"
    assert body["renderedPrompt"] == "GUARD\n\nROLE\n\nTONE"
    assert body["isSystem"] is False
    assert response["Location"].endswith(detail(body["id"]))
    positions = PromptCompositionParticle.objects.filter(composition_id=body["id"]).order_by("position")
    assert [(item.position, item.particle_id) for item in positions] == [(0, guard.pk), (1, role.pk), (2, tone.pk)]


def test_retrieve_shows_the_order(admin_client, three):
    role, tone, guard = three
    composition = CompositionFactory(particles=[tone, guard, role])

    body = admin_client.get(detail(composition.pk)).json()

    assert body["particleIds"] == ids(tone, guard, role)
    assert body["renderedPrompt"] == "TONE\n\nGUARD\n\nROLE"


def test_patch_reorders_the_particles(admin_client, three):
    role, tone, guard = three
    composition = CompositionFactory(particles=[role, tone, guard])

    response = admin_client.patch(detail(composition.pk), {"particleIds": ids(guard, tone)}, format="json")

    assert response.status_code == 200, response.content
    assert response.json()["particleIds"] == ids(guard, tone)
    assert response.json()["renderedPrompt"] == "GUARD\n\nTONE"
    assert PromptCompositionParticle.objects.filter(composition=composition).count() == 2


def test_patch_without_particle_ids_keeps_them(admin_client, three):
    composition = CompositionFactory(particles=list(three))

    response = admin_client.patch(detail(composition.pk), {"description": "New"}, format="json")

    assert response.status_code == 200
    assert response.json()["description"] == "New"
    assert response.json()["particleIds"] == ids(*three)


def test_global_particles_can_be_used(admin_client):
    global_particle = GlobalParticleFactory(content="GLOBAL")
    own = ParticleFactory(content="OWN")

    response = admin_client.post(URL, {"name": "Mixed", "particleIds": ids(own, global_particle)}, format="json")

    assert response.status_code == 201
    assert response.json()["renderedPrompt"] == "OWN\n\nGLOBAL"


# --- particleIds rules -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("count", "expected_status"),
    [
        (limits.COMPOSITION_PARTICLES_MIN - 1, 400),
        (limits.COMPOSITION_PARTICLES_MIN, 201),
        (limits.COMPOSITION_PARTICLES_MAX, 201),
        (limits.COMPOSITION_PARTICLES_MAX + 1, 400),
    ],
)
def test_particle_count_bounds(admin_client, count, expected_status):
    particles = [ParticleFactory(content=f"p{index}") for index in range(count)]

    response = admin_client.post(URL, {"name": "Bounds", "particleIds": ids(*particles)}, format="json")

    assert response.status_code == expected_status, response.content[:300]
    if expected_status == 400:
        assert list(response.json()["errors"]) == ["particleIds"]
    else:
        assert response.json()["particleIds"] == ids(*particles)


def test_particle_ids_are_required_on_create(admin_client):
    response = admin_client.post(URL, {"name": "No particles"}, format="json")

    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["particleIds"]


def test_duplicate_particles_are_refused(admin_client, three):
    role, tone, _ = three

    response = admin_client.post(URL, {"name": "Dup", "particleIds": ids(role, tone, role)}, format="json")

    assert response.status_code == 400
    errors = response.json()["errors"]
    assert list(errors) == ["particleIds"]
    assert str(role.pk) in errors["particleIds"][0]
    assert not PromptComposition.objects.exists()


def test_another_organizations_particle_is_refused_like_a_missing_one(admin_client):
    own = ParticleFactory()
    foreign = ParticleFactory(organization_id="org-b")
    missing = uuid.uuid4()

    foreign_response = admin_client.post(URL, {"name": "X", "particleIds": ids(own, foreign)}, format="json")
    missing_response = admin_client.post(URL, {"name": "X", "particleIds": [str(own.pk), str(missing)]}, format="json")

    assert foreign_response.status_code == 400
    assert missing_response.status_code == 400
    foreign_message = foreign_response.json()["errors"]["particleIds"][0]
    missing_message = missing_response.json()["errors"]["particleIds"][0]
    assert foreign_message.replace(str(foreign.pk), "ID") == missing_message.replace(str(missing), "ID")
    assert not PromptComposition.objects.exists()


def test_another_organizations_particle_is_refused_on_patch(admin_client):
    composition = CompositionFactory(particles=[ParticleFactory()])
    foreign = ParticleFactory(organization_id="org-b")

    response = admin_client.patch(detail(composition.pk), {"particleIds": ids(foreign)}, format="json")

    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["particleIds"]


def test_a_malformed_particle_id_is_refused(admin_client):
    response = admin_client.post(URL, {"name": "X", "particleIds": ["not-a-uuid"]}, format="json")

    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["particleIds.0"]


def _particles_rendering_to(total: int):
    """Three particles whose rendered prompt is exactly `total` characters."""
    first = ParticleFactory(content="a" * limits.PARTICLE_CONTENT_MAX_LENGTH)
    second = ParticleFactory(content="b" * limits.PARTICLE_CONTENT_MAX_LENGTH)
    rest = total - 2 * limits.PARTICLE_CONTENT_MAX_LENGTH - 2 * len(SEP)
    return first, second, ParticleFactory(content="c" * rest)


def test_rendered_prompt_of_exactly_the_limit_is_accepted(admin_client):
    particles = _particles_rendering_to(limits.RENDERED_PROMPT_MAX_LENGTH)

    response = admin_client.post(URL, {"name": "Full", "particleIds": ids(*particles)}, format="json")

    assert response.status_code == 201
    assert len(response.json()["renderedPrompt"]) == limits.RENDERED_PROMPT_MAX_LENGTH == 50_000


def test_rendered_prompt_over_the_limit_is_refused(admin_client):
    particles = _particles_rendering_to(limits.RENDERED_PROMPT_MAX_LENGTH + 1)

    response = admin_client.post(URL, {"name": "Too long", "particleIds": ids(*particles)}, format="json")

    assert response.status_code == 400
    errors = response.json()["errors"]
    assert list(errors) == ["particleIds"]
    assert "50,001" in errors["particleIds"][0]
    assert not PromptComposition.objects.exists()


@pytest.mark.parametrize("field", ["renderedPrompt", "isSystem", "organizationId", "particle_ids"])
def test_read_only_and_unknown_fields_are_refused(admin_client, three, field):
    response = admin_client.post(URL, {"name": "X", "particleIds": ids(*three), field: "x"}, format="json")

    assert response.status_code == 400
    assert list(response.json()["errors"]) == [field]


def test_malformed_json_is_a_400(admin_client):
    response = admin_client.post(URL, data="{not json", content_type="application/json")

    assert response.status_code == 400
    assert response.json()["code"] == "parse_error"


def test_name_is_required_and_bounded(admin_client, three):
    empty = admin_client.post(URL, {"name": "", "particleIds": ids(*three)}, format="json")
    too_long = "n" * (limits.NAME_MAX_LENGTH + 1)
    long = admin_client.post(URL, {"name": too_long, "particleIds": ids(*three)}, format="json")

    assert list(empty.json()["errors"]) == ["name"]
    assert list(long.json()["errors"]) == ["name"]


# --- Preview -------------------------------------------------------------------------------


def test_preview_renders_without_saving(admin_client, three):
    role, tone, guard = three

    response = admin_client.post(PREVIEW_URL, {"particleIds": ids(tone, role)}, format="json")

    assert response.status_code == 200, response.content
    assert response.json() == {"renderedPrompt": "TONE\n\nROLE", "length": 10, "particleIds": ids(tone, role)}
    assert not PromptComposition.objects.exists()


def test_preview_needs_read_access_only(member_client, m2m_client_for, three):
    assert member_client.post(PREVIEW_URL, {"particleIds": ids(*three)}, format="json").status_code == 200
    read_only_m2m = m2m_client_for("read:prompts")
    assert read_only_m2m.post(PREVIEW_URL, {"particleIds": ids(*three)}, format="json").status_code == 200
    no_scope = m2m_client_for("read:models")
    assert no_scope.post(PREVIEW_URL, {"particleIds": ids(*three)}, format="json").status_code == 403


def test_preview_validates_like_a_composition(admin_client, three):
    role, _, _ = three
    foreign = ParticleFactory(organization_id="org-b")
    over = _particles_rendering_to(limits.RENDERED_PROMPT_MAX_LENGTH + 1)

    for particle_ids in ([], ids(role, role), ids(foreign), ids(*over)):
        response = admin_client.post(PREVIEW_URL, {"particleIds": particle_ids}, format="json")
        assert response.status_code == 400, particle_ids
        assert list(response.json()["errors"]) == ["particleIds"]

    unknown = admin_client.post(PREVIEW_URL, {"particleIds": ids(role), "name": "x"}, format="json")
    assert unknown.json()["errors"] == {"name": ["Unknown field."]}


def test_preview_at_the_limit(admin_client):
    particles = _particles_rendering_to(limits.RENDERED_PROMPT_MAX_LENGTH)

    response = admin_client.post(PREVIEW_URL, {"particleIds": ids(*particles)}, format="json")

    assert response.status_code == 200
    assert response.json()["length"] == limits.RENDERED_PROMPT_MAX_LENGTH


# --- Live rendering --------------------------------------------------------------------------


def test_editing_a_particle_changes_every_rendered_prompt(admin_client, three):
    role, tone, guard = three
    first = CompositionFactory(particles=[role, tone])
    second = CompositionFactory(particles=[tone, guard])
    model = UserModelFactory(system_prompt_composition=second)

    response = admin_client.patch(f"/v1/prompt-particles/{tone.pk}", {"content": "NEW TONE"}, format="json")

    assert response.status_code == 200
    assert admin_client.get(detail(first.pk)).json()["renderedPrompt"] == "ROLE\n\nNEW TONE"
    assert admin_client.get(detail(second.pk)).json()["renderedPrompt"] == "NEW TONE\n\nGUARD"
    model.refresh_from_db()
    assert render_composition(model.system_prompt_composition) == "NEW TONE\n\nGUARD"
    assert model.system_prompt() == ("NEW TONE\n\nGUARD", "composition")


# --- Visibility and permissions --------------------------------------------------------------


def test_list_shows_own_and_global_compositions_only(admin_client):
    own = CompositionFactory(particles=[ParticleFactory()])
    global_composition = GlobalCompositionFactory(particles=[GlobalParticleFactory()])
    CompositionFactory(organization_id="org-b", particles=[ParticleFactory(organization_id="org-b")])

    body = admin_client.get(URL).json()

    assert body["count"] == 2
    assert {row["id"] for row in body["results"]} == {str(own.pk), str(global_composition.pk)}


def test_filters_and_ordering(admin_client):
    CompositionFactory(name="Beta", particles=[ParticleFactory()])
    alpha = CompositionFactory(name="Alpha support", particles=[ParticleFactory()])
    global_composition = GlobalCompositionFactory(name="Gamma", particles=[GlobalParticleFactory()])

    assert [r["name"] for r in admin_client.get(URL, {"ordering": "-name"}).json()["results"]] == [
        "Gamma",
        "Beta",
        "Alpha support",
    ]
    assert [r["id"] for r in admin_client.get(URL, {"search": "SUPPORT"}).json()["results"]] == [str(alpha.pk)]
    assert [r["id"] for r in admin_client.get(URL, {"isSystem": "true"}).json()["results"]] == [
        str(global_composition.pk)
    ]


@pytest.mark.parametrize(
    ("method", "suffix"),
    [("get", ""), ("patch", ""), ("delete", ""), ("get", "/versions"), ("post", "/versions/1/restore")],
)
def test_another_organizations_composition_is_not_found(other_org_client, method, suffix):
    composition = CompositionFactory(particles=[ParticleFactory()])

    body = None if method == "get" else {"name": "x"}  # a GET has no body, and no query parameters
    response = getattr(other_org_client, method)(detail(composition.pk) + suffix, body, format="json")

    assert response.status_code == 404
    assert PromptComposition.objects.filter(pk=composition.pk).exclude(name="x").exists()


def test_m2m_scopes(m2m_client_for, three):
    composition = CompositionFactory(particles=[ParticleFactory()])
    reader = m2m_client_for("read:prompts")
    writer = m2m_client_for("write:prompts")

    assert reader.get(detail(composition.pk)).status_code == 200
    assert reader.post(URL, {"name": "X", "particleIds": ids(*three)}, format="json").status_code == 403
    assert reader.delete(detail(composition.pk)).status_code == 403
    assert writer.post(URL, {"name": "X", "particleIds": ids(*three)}, format="json").status_code == 201


# --- Integrity ------------------------------------------------------------------------------


def test_deleting_an_unused_composition_keeps_its_particles(admin_client, three):
    composition = CompositionFactory(particles=list(three))

    response = admin_client.delete(detail(composition.pk))

    assert response.status_code == 204
    assert not PromptComposition.objects.filter(pk=composition.pk).exists()
    assert all(type(particle).objects.filter(pk=particle.pk).exists() for particle in three)


def test_deleting_a_composition_used_by_a_model_is_a_conflict(admin_client):
    composition = CompositionFactory(particles=[ParticleFactory()])
    model = UserModelFactory(name="Support bot", system_prompt_composition=composition)

    response = admin_client.delete(detail(composition.pk))

    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "conflict"
    assert "1 model" in body["detail"]
    assert body["references"] == [{"type": "AI model", "id": str(model.pk), "name": "Support bot"}]
    assert PromptComposition.objects.filter(pk=composition.pk).exists()


# --- Query counts ---------------------------------------------------------------------------


@pytest.mark.parametrize("particles_per_composition", [1, 50])
def test_list_query_count_is_constant(admin_client, django_assert_num_queries, particles_per_composition):
    for _ in range(3):
        CompositionFactory(particles=[ParticleFactory() for _ in range(particles_per_composition)])

    admin_client.get("/v1/prompt-particles")  # the organization's first request records it
    with django_assert_num_queries(3):  # the ETag's generations, the page with its total, items with their particles
        response = admin_client.get(URL)

    assert response.json()["count"] == 3
    assert all(len(row["particleIds"]) == particles_per_composition for row in response.json()["results"])


@pytest.mark.parametrize("particles_per_composition", [1, 50])
def test_retrieve_query_count_is_constant(admin_client, django_assert_num_queries, particles_per_composition):
    composition = CompositionFactory(particles=[ParticleFactory() for _ in range(particles_per_composition)])

    admin_client.get("/v1/prompt-particles")  # the organization's first request records it
    with django_assert_num_queries(3):  # the generations, the composition, its items with their particles
        response = admin_client.get(detail(composition.pk))

    assert len(response.json()["particleIds"]) == particles_per_composition
