"""`/v1/prompt-particles`: shape, bounds, visibility, permissions, integrity.

What every resource answers alike (list, retrieve, create, PATCH, DELETE, tenancy, roles, no token) is in
tests/prompts/test_crud.py.
"""

from __future__ import annotations

import pytest

from prompts import limits
from prompts.models import PromptParticle
from tests.factories import CompositionFactory, GlobalParticleFactory, ParticleFactory

pytestmark = pytest.mark.django_db

URL = "/v1/prompt-particles"


def detail(particle_id) -> str:
    return f"{URL}/{particle_id}"


def valid_body(**overrides):
    return {"kind": "role", "name": "Support agent", "content": "You are a support agent.", **overrides}


# --- Create and read ------------------------------------------------------------------


def test_kind_defaults_to_custom(admin_client):
    response = admin_client.post(URL, {"name": "x", "content": "y"}, format="json")

    assert response.status_code == 201
    assert response.json()["kind"] == "custom"


def test_unknown_kind_is_refused(admin_client):
    response = admin_client.post(URL, valid_body(kind="poem"), format="json")

    assert response.status_code == 400
    assert "kind" in response.json()["errors"]


def test_name_is_trimmed(admin_client):
    response = admin_client.post(URL, valid_body(name="  Support agent \n"), format="json")

    assert response.status_code == 201
    assert response.json()["name"] == "Support agent"


@pytest.mark.parametrize(
    ("length", "expected_status"),
    [
        (limits.NAME_MIN_LENGTH - 1, 400),
        (limits.NAME_MIN_LENGTH, 201),
        (limits.NAME_MAX_LENGTH, 201),
        (limits.NAME_MAX_LENGTH + 1, 400),
    ],
)
def test_name_length_bounds(admin_client, length, expected_status):
    response = admin_client.post(URL, valid_body(name="n" * length), format="json")

    assert response.status_code == expected_status, response.content
    if expected_status == 400:
        assert list(response.json()["errors"]) == ["name"]


def test_name_of_spaces_is_refused(admin_client):
    response = admin_client.post(URL, valid_body(name="   "), format="json")

    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["name"]


@pytest.mark.parametrize(
    ("length", "expected_status"),
    [
        (limits.PARTICLE_CONTENT_MIN_LENGTH - 1, 400),
        (limits.PARTICLE_CONTENT_MIN_LENGTH, 201),
        (limits.PARTICLE_CONTENT_MAX_LENGTH, 201),
        (limits.PARTICLE_CONTENT_MAX_LENGTH + 1, 400),
    ],
)
def test_content_length_bounds(admin_client, length, expected_status):
    response = admin_client.post(URL, valid_body(content="c" * length), format="json")

    assert response.status_code == expected_status, response.content[:300]
    if expected_status == 400:
        assert list(response.json()["errors"]) == ["content"]
    else:
        assert len(response.json()["content"]) == length


@pytest.mark.parametrize(
    ("field", "message"),
    [("isSystem", "This field is read-only."), ("organizationId", "Unknown field."), ("is_system", "Unknown field.")],
)
def test_unknown_and_read_only_fields_are_refused_by_name(admin_client, field, message):
    response = admin_client.post(URL, valid_body(**{field: True}), format="json")

    assert response.status_code == 400
    assert response.json()["errors"] == {field: [message]}
    assert not PromptParticle.objects.exists()


def test_unknown_field_in_a_patch_is_refused(admin_client):
    particle = ParticleFactory()

    response = admin_client.patch(detail(particle.pk), {"organizationId": "org-b"}, format="json")

    assert response.status_code == 400
    assert response.json()["errors"] == {"organizationId": ["Unknown field."]}


def test_malformed_json_is_a_400(admin_client):
    response = admin_client.post(URL, data='{"name": "x",', content_type="application/json")

    assert response.status_code == 400
    assert response.json()["status"] == 400


def test_put_is_not_allowed(admin_client):
    particle = ParticleFactory()

    response = admin_client.put(detail(particle.pk), valid_body(), format="json")

    assert response.status_code == 405


def test_patch_changes_only_what_is_sent(admin_client):
    particle = ParticleFactory(name="Old", content="Old content.")

    response = admin_client.patch(detail(particle.pk), {"content": "New content."}, format="json")

    assert response.status_code == 200
    particle.refresh_from_db()
    assert (particle.name, particle.content) == ("Old", "New content.")


def test_patch_bounds_are_checked(admin_client):
    particle = ParticleFactory()

    response = admin_client.patch(
        detail(particle.pk), {"content": "c" * (limits.PARTICLE_CONTENT_MAX_LENGTH + 1)}, format="json"
    )

    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["content"]


# --- Visibility, filters, ordering ---------------------------------------------------------


def test_list_shows_own_and_global_particles_only(admin_client):
    own = ParticleFactory()
    global_particle = GlobalParticleFactory()
    ParticleFactory(organization_id="org-b")

    response = admin_client.get(URL)

    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 2
    assert {row["id"] for row in body["results"]} == {str(own.pk), str(global_particle.pk)}


def test_filters_kind_is_system_and_search(admin_client):
    role = ParticleFactory(kind="role", name="Support Agent")
    tone = ParticleFactory(kind="tone", name="Concise")
    global_tone = GlobalParticleFactory(kind="tone", name="Formal")

    def ids(query):
        response = admin_client.get(URL, query)
        assert response.status_code == 200, response.content
        return {row["id"] for row in response.json()["results"]}

    assert ids({"kind": "tone"}) == {str(tone.pk), str(global_tone.pk)}
    assert ids({"isSystem": "true"}) == {str(global_tone.pk)}
    assert ids({"isSystem": "false"}) == {str(role.pk), str(tone.pk)}
    assert ids({"search": "agent"}) == {str(role.pk)}


@pytest.mark.parametrize(("ordering", "expected"), [("name", ["A", "B", "C"]), ("-name", ["C", "B", "A"])])
def test_ordering_by_name(admin_client, ordering, expected):
    for name in ("B", "C", "A"):
        ParticleFactory(name=name)

    response = admin_client.get(URL, {"ordering": ordering})

    assert [row["name"] for row in response.json()["results"]] == expected


def test_ordering_by_created_at(admin_client):
    first, second = ParticleFactory(name="Z"), ParticleFactory(name="A")

    response = admin_client.get(URL, {"ordering": "-createdAt"})

    assert [row["id"] for row in response.json()["results"]] == [str(second.pk), str(first.pk)]


def test_unknown_ordering_is_a_400(admin_client):
    response = admin_client.get(URL, {"ordering": "created_at"})

    assert response.status_code == 400
    assert "ordering" in response.json()["errors"]


@pytest.mark.parametrize(
    ("method", "suffix"),
    [("get", ""), ("patch", ""), ("delete", ""), ("get", "/versions"), ("post", "/versions/1/restore")],
)
def test_another_organizations_particle_is_not_found(other_org_client, method, suffix):
    particle = ParticleFactory()

    body = None if method == "get" else {"name": "x"}  # a GET has no body, and no query parameters
    response = getattr(other_org_client, method)(detail(particle.pk) + suffix, body, format="json")

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    particle.refresh_from_db()
    assert particle.name != "x"


# --- Permissions ------------------------------------------------------------------------------


def test_m2m_read_scope_reads_but_cannot_write(m2m_client_for):
    client = m2m_client_for("read:prompts")
    particle = ParticleFactory()

    assert client.get(URL).status_code == 200
    assert client.get(detail(particle.pk)).status_code == 200
    assert client.post(URL, valid_body(), format="json").status_code == 403
    assert client.patch(detail(particle.pk), {"name": "x"}, format="json").status_code == 403


def test_m2m_write_scope_writes(m2m_client_for):
    client = m2m_client_for("read:prompts write:prompts")

    response = client.post(URL, valid_body(), format="json")

    assert response.status_code == 201


def test_m2m_models_scope_does_not_reach_prompts(m2m_client_for):
    client = m2m_client_for("read:models write:models")

    assert client.get(URL).status_code == 403
    assert client.post(URL, valid_body(), format="json").status_code == 403


# --- Integrity ------------------------------------------------------------------------------


def test_deleting_a_particle_in_use_is_a_conflict_naming_the_compositions(admin_client):
    particle = ParticleFactory()
    first = CompositionFactory(particles=[particle], name="First")
    second = CompositionFactory(particles=[ParticleFactory(), particle], name="Second")

    response = admin_client.delete(detail(particle.pk))

    assert response.status_code == 409
    body = response.json()
    assert body["status"] == 409
    assert body["code"] == "conflict"
    assert "2 compositions" in body["detail"]
    assert body["references"] == [
        {"type": "prompt composition", "id": str(first.pk), "name": "First"},
        {"type": "prompt composition", "id": str(second.pk), "name": "Second"},
    ]
    assert PromptParticle.objects.filter(pk=particle.pk).exists()


def test_an_edit_may_not_push_a_composition_over_the_rendered_limit(admin_client):
    big = ParticleFactory(content="b" * limits.PARTICLE_CONTENT_MAX_LENGTH)
    big_too = ParticleFactory(content="b" * limits.PARTICLE_CONTENT_MAX_LENGTH)
    small = ParticleFactory(content="s")
    CompositionFactory(particles=[big, big_too, small], name="Large")
    separators = 2 * len(limits.PARTICLE_SEPARATOR)
    room = limits.RENDERED_PROMPT_MAX_LENGTH - 2 * limits.PARTICLE_CONTENT_MAX_LENGTH - separators

    fits = admin_client.patch(detail(small.pk), {"content": "s" * room}, format="json")
    too_long = admin_client.patch(detail(small.pk), {"content": "s" * (room + 1)}, format="json")

    assert fits.status_code == 200
    assert too_long.status_code == 400
    assert list(too_long.json()["errors"]) == ["content"]
    assert "'Large'" in too_long.json()["errors"]["content"][0]


# --- Query counts ---------------------------------------------------------------------------


@pytest.mark.parametrize("rows", [1, 50])
def test_list_query_count_is_constant(admin_client, django_assert_num_queries, rows):
    for _ in range(rows):
        ParticleFactory()

    admin_client.get("/v1/prompt-particles")  # the organization's first request records it
    with django_assert_num_queries(2):  # the ETag's generations, the page with its total (COUNT(*) OVER ())
        response = admin_client.get(URL)

    assert response.json()["count"] == rows


def test_retrieve_is_one_query(admin_client, django_assert_num_queries):
    particle = ParticleFactory()

    admin_client.get("/v1/prompt-particles")  # the organization's first request records it
    with django_assert_num_queries(2):
        response = admin_client.get(detail(particle.pk))

    assert response.status_code == 200
