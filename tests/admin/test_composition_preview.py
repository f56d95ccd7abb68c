"""The composition form's live preview endpoint: staff only, POST with a CSRF token, renders the
form's particles in the form's order exactly as the API renders a saved composition, and
saves nothing. The browser side is in test_staff_tools_browser.py."""

import pytest
from django.test import Client
from django.urls import reverse

from prompts.models import PromptComposition
from tests.factories import ParticleFactory

pytestmark = pytest.mark.django_db

PREVIEW_URL = reverse("admin:prompts_promptcomposition_preview")


def test_the_preview_renders_the_particles_in_the_order_given_as_the_api_does(
    staff_client, make_particle, make_composition, client_for
):
    role, tone = make_particle("You are a support agent."), make_particle("Be friendly.")
    saved = make_composition([tone, role])

    response = staff_client.post(PREVIEW_URL, {"particle_ids": [str(tone.pk), str(role.pk)], "is_system": "on"})

    assert response.status_code == 200
    data = response.json()
    assert data == {
        "renderedPrompt": "Be friendly.\n\nYou are a support agent.",
        "characters": 38,
        "maxCharacters": 50_000,
        "errors": [],
    }
    api = client_for(org="org-a")
    assert api.get(f"/v1/prompt-compositions/{saved.pk}").json()["renderedPrompt"] == data["renderedPrompt"]
    assert PromptComposition.objects.count() == 1  # nothing saved


def test_the_preview_says_what_the_save_would_refuse(staff_client, make_particle):
    theirs = ParticleFactory(organization_id="org-b", content="Theirs.")
    mine = make_particle("Global.")

    global_composition = staff_client.post(
        PREVIEW_URL, {"particle_ids": [str(mine.pk), str(theirs.pk)], "is_system": "on"}
    )
    empty = staff_client.post(PREVIEW_URL, {"is_system": "on"})

    assert global_composition.json()["errors"] == [
        f"A global composition can use global particles only, not: {theirs.pk}."
    ]
    assert global_composition.json()["renderedPrompt"] == ""
    assert empty.json()["errors"] == ["A composition has 1 to 50 particles, not 0."]


def test_the_preview_is_for_staff_only_and_needs_a_post_with_csrf(staff_user, make_particle):
    particle = make_particle("Hello.")
    anonymous = Client().post(PREVIEW_URL, {"particle_ids": [str(particle.pk)], "is_system": "on"})
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(staff_user)

    assert anonymous.status_code == 302 and "/admin/login/" in anonymous["Location"]
    assert browser.post(PREVIEW_URL, {"particle_ids": [str(particle.pk)], "is_system": "on"}).status_code == 403
    assert browser.get(PREVIEW_URL).status_code == 405
