"""The admin's History page says who made each version, as the API's versions do: a member, an
M2M client, a staff account or a system job, never "None"; a blank reason is a dash, not "None";
a composition's reorder is named. The browser view of it is in test_staff_tools_browser.py."""

import html
import re

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from prompts import services
from prompts.models import PromptComposition, PromptParticle
from tests.admin.conftest import STAFF_USERNAME

pytestmark = pytest.mark.django_db


def history_rows(response) -> list[str]:
    """Each version's row of the History table, as text."""
    page = response.content.decode()
    body = page.split('<table id="change-history"', 1)[1].split("</table>", 1)[0].split("<tbody>", 1)[1]
    rows = re.findall(r"<tr>(.*?)</tr>", body, flags=re.S)
    return [" ".join(html.unescape(re.sub(r"<[^>]+>", " ", row)).split()) for row in rows]


def test_history_names_the_member_the_m2m_client_and_the_staff_account(staff_client, make_token):
    api = APIClient()
    token = make_token(org="org-a", roles=("stytch_admin",), sub="member-test-7")
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    created = api.post("/v1/prompt-particles", {"name": "Role", "kind": "role", "content": "Be kind."}, format="json")
    assert created.status_code == 201, created.content
    particle = PromptParticle.objects.get(pk=created.json()["id"])
    services.particle_update(particle=particle, actor="m2m:m2m-client-test-3", data={"content": "Be very kind."})
    change = reverse("admin:prompts_promptparticle_change", args=[particle.pk])
    saved = staff_client.post(
        change, {"name": "Role", "kind": "role", "content": "Be kind, always.", "organization_id": "org-a"}
    )
    assert saved.status_code == 302, saved.context["adminform"].form.errors if saved.context else saved

    response = staff_client.get(reverse("admin:prompts_promptparticle_history", args=[particle.pk]))

    rows = history_rows(response)
    assert len(rows) == 3
    assert rows[0].startswith("3 ") and f"Changed staff account {STAFF_USERNAME}" in rows[0]
    assert "M2M client m2m-client-test-3" in rows[1]
    assert "Content: Be kind. → Be very kind." in rows[1]
    assert rows[2].startswith("1 ") and "Created member member-test-7" in rows[2]
    assert not [row for row in rows if "None" in row]
    table = response.content.decode().split('<table id="change-history"', 1)[1]
    audit = reverse("admin:core_auditevent_changelist")
    assert f'href="{audit}?actor=member%3Amember-test-7"' in table
    assert "—" in rows[1]  # no reason given: a dash


def test_a_version_without_an_actor_says_so(staff_client, make_particle):
    particle = make_particle("Saved from a shell.")  # a factory save: no request, no actor

    rows = history_rows(staff_client.get(reverse("admin:prompts_promptparticle_history", args=[particle.pk])))

    assert rows == [rows[0]] and "unknown (saved without an actor)" in rows[0]
    assert "None" not in rows[0]


def test_a_reorder_is_named_in_what_changed(staff_client, make_particle):
    role, tone = make_particle("You help.", name="Role"), make_particle("Be brief.", name="Tone")
    composition = services.composition_create(
        organization_id=None, actor="system:seed", data={"name": "Helper", "particle_ids": [role.pk, tone.pk]}
    )
    services.composition_update(
        composition=PromptComposition.objects.get(pk=composition.pk),
        actor="member:member-test-2",
        data={"particle_ids": [tone.pk, role.pk]},
    )

    rows = history_rows(staff_client.get(reverse("admin:prompts_promptcomposition_history", args=[composition.pk])))

    assert "Particles: Role, Tone → Tone, Role" in rows[0]
    assert "system job seed" in rows[1]
