"""The admin of entitlements (issue 16): an organization's page (its entitlement and what it may use,
and why), plans, assigning a plan to many organizations, adding a system model to many plans or
organizations from its own page. Every change is an audit event."""

from __future__ import annotations

import pytest
from django.urls import reverse

from core.models import AuditEvent, Organization
from models_registry import entitlement_services
from models_registry.entitlements import Entitlement, Plan
from tests.admin.test_admin import change_url, form_errors, system_model_form

pytestmark = pytest.mark.django_db

ORGANIZATIONS_URL = reverse("admin:core_organization_changelist")
PLAN_ADD_URL = reverse("admin:models_registry_plan_add")


def organization_url(organization: Organization) -> str:
    return reverse("admin:core_organization_change", args=[organization.pk])


def test_an_organizations_page_sets_its_entitlement_and_shows_why(staff_client, make_system_model):
    a, b, c = make_system_model(name="Alpha"), make_system_model(name="Beta"), make_system_model(name="Gamma")
    plan = entitlement_services.plan_save(plan=Plan(name="Starter"), actor="staff:x", system_models=[a, b])
    organization = Organization.objects.create(id="org-a", slug="acme")

    response = staff_client.post(
        organization_url(organization),
        {
            "slug": "acme",
            "mode": "plan",
            "plan": str(plan.pk),
            "extra_system_models": [str(b.pk), str(c.pk)],
            "max_user_models": "5",
        },
    )

    assert response.status_code == 302, form_errors(response)
    entitlement = Entitlement.objects.get(organization_id="org-a")
    assert (entitlement.mode, entitlement.plan, entitlement.max_user_models) == ("plan", plan, 5)
    page = staff_client.get(organization_url(organization)).content.decode()
    assert "Alpha — plan Starter" in page
    assert "Beta — plan Starter, addition" in page
    assert "Gamma — addition" in page
    event = AuditEvent.objects.get(object_type="entitlement")
    assert (event.actor, event.organization_id) == ("staff:curator", "org-a")


@pytest.mark.parametrize(("value", "valid"), [("-1", False), ("0", True), ("1000000", True), ("1000001", False)])
def test_the_quota_field_is_bounded(staff_client, value, valid):
    organization = Organization.objects.create(id="org-a")

    response = staff_client.post(
        organization_url(organization), {"slug": "", "mode": "default", "max_user_models": value}
    )

    assert (response.status_code == 302) is valid, form_errors(response) if response.status_code == 200 else ""
    if not valid:
        assert list(form_errors(response)) == ["max_user_models"]


def test_a_plan_is_assigned_to_many_organizations_at_once(staff_client):
    plan = entitlement_services.plan_save(plan=Plan(name="Enterprise"), actor="staff:x", system_models=[])
    chosen = [Organization.objects.create(id=f"org-{n}") for n in range(3)]
    Organization.objects.create(id="org-untouched")

    response = staff_client.post(
        ORGANIZATIONS_URL,
        {"action": "assign_plan", "plan": str(plan.pk), "_selected_action": [o.pk for o in chosen]},
        follow=True,
    )

    assert "3 organization(s) now on Enterprise." in response.content.decode()
    assert set(Entitlement.objects.filter(plan=plan).values_list("organization_id", flat=True)) == {
        o.pk for o in chosen
    }
    assert not Entitlement.objects.filter(organization_id="org-untouched").exists()
    assert AuditEvent.objects.filter(object_type="entitlement").count() == 3


def test_the_mode_filter_counts_an_organization_without_an_entitlement_as_default(staff_client):
    Organization.objects.create(id="org-none")
    for organization_id, mode in (("org-default", "default"), ("org-all", "all"), ("org-plan", "plan")):
        entitlement_services.entitlement_save(organization_id=organization_id, actor="staff:x", mode=mode)

    def listed(mode: str) -> set[str]:
        response = staff_client.get(ORGANIZATIONS_URL, {"mode": mode})
        assert response.status_code == 200
        return {organization.pk for organization in response.context["cl"].result_list}

    assert listed("default") == {"org-none", "org-default"}
    assert listed("all") == {"org-all"}
    assert listed("plan") == {"org-plan"}


def test_a_plan_is_made_with_its_system_models(staff_client, make_system_model):
    a, b = make_system_model(), make_system_model()

    response = staff_client.post(
        PLAN_ADD_URL, {"name": "Team", "description": "", "system_models": [str(a.pk), str(b.pk)]}
    )

    assert response.status_code == 302, form_errors(response)
    plan = Plan.objects.get(name="Team")
    assert set(plan.system_models.all()) == {a, b}
    assert AuditEvent.objects.get(object_type="plan").changed_fields == ["description", "name", "systemModelIds"]


def test_a_system_model_is_added_to_many_plans_and_organizations_from_its_page(staff_client, make_system_model):
    model = make_system_model()
    plans = [
        entitlement_services.plan_save(plan=Plan(name=f"Plan {n}"), actor="staff:x", system_models=[]) for n in range(2)
    ]
    organizations = [Organization.objects.create(id=f"org-{n}") for n in range(2)]
    data = system_model_form(
        name=model.name,
        provider=model.provider,
        provider_model_id=model.provider_model_id,
        context_window=str(model.context_window),
        max_tokens=str(model.max_tokens),
        credit_multiplier=str(model.credit_multiplier),
        add_to_plans=[str(p.pk) for p in plans],
        add_to_organizations=[o.pk for o in organizations],
    )

    response = staff_client.post(change_url(model), data)

    assert response.status_code == 302, form_errors(response)
    assert all(plan.system_models.filter(pk=model.pk).exists() for plan in plans)
    for organization in organizations:
        assert Entitlement.objects.get(organization_id=organization.pk).extra_system_models.filter(pk=model.pk).exists()
    page = staff_client.get(change_url(model)).content.decode()
    assert "Plan 0, Plan 1; added to 2 organization(s)" in page
