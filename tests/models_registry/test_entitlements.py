"""Entitlements (issue 16): which organization may use which system model. Organization records,
plans, additions, the two modes and the default, quotas, and what a revocation does."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from core import organizations
from core.models import AuditEvent, Organization
from models_registry import entitlement_services as services
from models_registry import limits, selectors
from models_registry import services as model_services
from models_registry.entitlements import EntitledSet, Entitlement, Plan, entitled_set
from models_registry.models import AIModel
from tests.assertions import assert_error_shape
from tests.factories import SystemModelFactory, UserModelFactory
from tests.models_registry.helpers import MODELS_URL

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("no_rate_limits")]

STAFF = "staff:curator"


@pytest.fixture
def systems() -> dict[str, AIModel]:
    return {name: SystemModelFactory(name=f"Base {name}") for name in ("a", "b", "c")}


def visible_system_ids(client: APIClient) -> set[str]:
    response = client.get(MODELS_URL, {"isSystem": "true", "limit": 200})
    assert response.status_code == 200, response.content
    return {row["id"] for row in response.json()["results"]}


def ids(*models: AIModel) -> set[str]:
    return {str(model.pk) for model in models}


def plan_of(*models: AIModel, name: str = "Starter") -> Plan:
    return services.plan_save(plan=Plan(name=name), actor=STAFF, system_models=models)


# --- Organization records -------------------------------------------------------------------------


def test_an_organization_is_recorded_on_its_first_request_with_its_slug(make_token) -> None:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {make_token(org='org-new')}")
    assert not Organization.objects.filter(pk="org-new").exists()

    client.get(MODELS_URL)
    with CaptureQueriesContext(connection) as later:
        client.get(MODELS_URL)

    assert Organization.objects.get(pk="org-new").slug == "org-new"
    assert not [q for q in later.captured_queries if "core_organization" in q["sql"]], "recorded once per process"


def test_a_new_slug_is_recorded(make_token) -> None:
    Organization.objects.create(id="org-a", slug="old-slug")
    organizations.forget()
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {make_token(org='org-a')}")

    client.get(MODELS_URL)

    assert Organization.objects.get(pk="org-a").slug == "org-a"


def test_an_m2m_token_keeps_the_slug(make_token) -> None:
    Organization.objects.create(id="org-a", slug="acme")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {make_token(kind='m2m', org='org-a', scopes='read:models')}")

    client.get(MODELS_URL)

    assert Organization.objects.get(pk="org-a").slug == "acme"


# --- The modes -----------------------------------------------------------------------------------


def test_by_default_an_organization_sees_every_enabled_system_model(admin_client, systems) -> None:
    SystemModelFactory(is_enabled=False)

    assert visible_system_ids(admin_client) == ids(*systems.values())


def test_in_plan_mode_an_empty_plan_means_no_system_model_never_all(admin_client, systems) -> None:
    services.entitlement_save(organization_id="org-a", actor=STAFF, mode="plan", plan=plan_of())

    assert visible_system_ids(admin_client) == set()
    assert_error_shape(admin_client.get(f"{MODELS_URL}/{systems['a'].pk}"), 404)


def test_in_plan_mode_without_a_plan_only_the_additions(admin_client, systems) -> None:
    services.entitlement_save(organization_id="org-a", actor=STAFF, mode="plan", extra_system_models=[systems["c"]])

    assert visible_system_ids(admin_client) == ids(systems["c"])


def test_in_plan_mode_the_plan_and_the_additions(admin_client, other_org_client, systems) -> None:
    services.entitlement_save(
        organization_id="org-a",
        actor=STAFF,
        mode="plan",
        plan=plan_of(systems["a"]),
        extra_system_models=[systems["c"]],
    )

    assert visible_system_ids(admin_client) == ids(systems["a"], systems["c"])
    assert admin_client.get(f"{MODELS_URL}/{systems['a'].pk}").status_code == 200
    assert_error_shape(admin_client.get(f"{MODELS_URL}/{systems['b'].pk}"), 404)
    assert visible_system_ids(other_org_client) == ids(*systems.values()), "another organization is unaffected"


def test_with_default_plan_an_organization_without_an_entitlement_sees_none(
    settings: Any, admin_client, systems
) -> None:
    settings.DEFAULT_ENTITLEMENT = "plan"
    assert visible_system_ids(admin_client) == set()

    services.entitlement_save(organization_id="org-a", actor=STAFF, mode="all")
    assert visible_system_ids(admin_client) == ids(*systems.values())

    services.entitlement_save(organization_id="org-a", actor=STAFF, mode="default", plan=plan_of(systems["b"]))
    assert visible_system_ids(admin_client) == ids(systems["b"])


def test_changing_a_plan_changes_every_organization_on_it_at_once(admin_client, other_org_client, systems) -> None:
    plan = plan_of(systems["a"])
    services.assign_plan(organization_ids=["org-a", "org-b"], plan=plan, actor=STAFF)
    for organization in ("org-a", "org-b"):
        services.entitlement_save(organization_id=organization, actor=STAFF, mode="plan")

    services.plan_save(plan=plan, actor=STAFF, system_models=[systems["a"], systems["b"]])

    assert visible_system_ids(admin_client) == ids(systems["a"], systems["b"])
    assert visible_system_ids(other_org_client) == ids(systems["a"], systems["b"])


# --- parentId on create and move ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("default", "entitlement", "expected"),
    [
        ("all", None, "everything"),
        ("plan", None, set()),
        ("all", {"mode": "default"}, "everything"),
        ("plan", {"mode": "default", "plan": ("a",), "extra": ("c",)}, {"a", "c"}),
        ("plan", {"mode": "all", "plan": ("a",)}, "everything"),
        ("all", {"mode": "plan"}, set()),
        ("all", {"mode": "plan", "plan": ()}, set()),
        ("all", {"mode": "plan", "extra": ("c",)}, {"c"}),
        ("all", {"mode": "plan", "plan": ("a", "b"), "extra": ("b", "c")}, {"a", "b", "c"}),
    ],
)
def test_the_entitled_set_is_read_in_one_query(settings: Any, systems, default, entitlement, expected) -> None:
    """What `entitled_set` reads for each mode, default, plan and additions; another
    organization's entitlement never counts."""
    settings.DEFAULT_ENTITLEMENT = default
    services.entitlement_save(organization_id="org-b", actor=STAFF, mode="plan", plan=plan_of(systems["b"], name="B"))
    if entitlement is not None:
        plan = plan_of(*(systems[n] for n in entitlement["plan"])) if "plan" in entitlement else None
        extra = [systems[n] for n in entitlement.get("extra", ())]
        services.entitlement_save(
            organization_id="org-a", actor=STAFF, mode=entitlement["mode"], plan=plan, extra_system_models=extra
        )

    with CaptureQueriesContext(connection) as queries:
        found = entitled_set("org-a")

    assert len(queries) == 1
    if expected == "everything":
        assert found == EntitledSet(everything=True)
    else:
        assert found == EntitledSet(everything=False, ids=frozenset(systems[n].pk for n in expected))


@pytest.mark.parametrize(
    ("entitled", "visible"),
    [(EntitledSet(everything=True), {"a", "b", "c"}), (EntitledSet(everything=False), set()), ("b", {"b"})],
)
def test_an_entitled_set_is_a_condition_and_an_annotation(systems, entitled, visible) -> None:
    """`q()` filters a query and `column()` says true or false for each row: for every system
    model, for none (no `IN ()` sent to the database) and for some."""
    if isinstance(entitled, str):
        entitled = EntitledSet(everything=False, ids=frozenset({systems[entitled].pk}))
    everything = AIModel.objects.filter(is_system=True)
    filtered = set(everything.filter(entitled.q()).values_list("pk", flat=True))
    annotated = dict(everything.annotate(entitled=entitled.column()).values_list("pk", "entitled"))
    user_model = UserModelFactory(organization_id="org-a", parent=systems["b"])
    base_entitled = selectors.with_system_prompt(AIModel.objects.filter(pk=user_model.pk), entitled).get()

    assert filtered == {systems[n].pk for n in visible}
    assert base_entitled.base_entitled is ("b" in visible)
    assert annotated == {systems[n].pk: entitled.allows(systems[n].pk) for n in "abc"}


def test_building_on_a_system_model_outside_the_entitlement_is_a_400_naming_parent_id(admin_client, systems) -> None:
    services.entitlement_save(organization_id="org-a", actor=STAFF, mode="plan", plan=plan_of(systems["a"]))

    refused = admin_client.post(MODELS_URL, {"parentId": str(systems["b"].pk), "name": "Nope"}, format="json")
    allowed = admin_client.post(MODELS_URL, {"parentId": str(systems["a"].pk), "name": "Yes"}, format="json")

    body = assert_error_shape(refused, 400)
    assert body["errors"]["parentId"] == [f"No system model with id {systems['b'].pk}."]
    assert allowed.status_code == 201, allowed.content
    assert not AIModel.objects.filter(name="Nope").exists()


def test_a_parent_read_with_one_organizations_entitlement_answers_for_that_organization_only(systems) -> None:
    services.entitlement_save(organization_id="org-a", actor=STAFF, mode="plan", plan=plan_of(systems["a"]))
    read_for_b = selectors.with_entitlement(AIModel.objects.all(), "org-b").get(pk=systems["b"].pk)
    read_for_a = selectors.with_entitlement(AIModel.objects.all(), "org-a").get(pk=systems["b"].pk)

    with pytest.raises(ValidationError) as refused:
        model_services.ensure_entitled(read_for_b, "org-a")  # asked again, for org-a: not entitled
    with CaptureQueriesContext(connection) as queries, pytest.raises(ValidationError):
        model_services.ensure_entitled(read_for_a, "org-a")

    assert refused.value.message_dict == {"parent": [f"No system model with id {systems['b'].pk}."]}
    assert len(queries) == 0
    model_services.ensure_entitled(read_for_b, "org-b")


def test_moving_onto_a_system_model_outside_the_entitlement_is_a_400(admin_client, systems) -> None:
    child = UserModelFactory(parent=systems["a"])
    services.entitlement_save(organization_id="org-a", actor=STAFF, mode="plan", plan=plan_of(systems["a"]))

    response = admin_client.patch(f"{MODELS_URL}/{child.pk}", {"parentId": str(systems["b"].pk)}, format="json")

    assert "parentId" in assert_error_shape(response, 400)["errors"]


# --- Revoking ------------------------------------------------------------------------------------


def test_a_revoked_entitlement_deletes_nothing_and_resolved_says_why(admin_client, systems) -> None:
    child = UserModelFactory(parent=systems["b"], name="On B")
    assert admin_client.get(f"{MODELS_URL}/{child.pk}/resolved").json()["isUsable"] is True

    services.entitlement_save(organization_id="org-a", actor=STAFF, mode="plan", plan=plan_of(systems["a"]))
    resolved = admin_client.get(f"{MODELS_URL}/{child.pk}/resolved").json()

    assert resolved["isUsable"] is False
    assert resolved["unusableReason"] == "Your organization is no longer entitled to the base model 'Base b'."
    assert admin_client.get(f"{MODELS_URL}/{child.pk}").status_code == 200, "its own model stays visible"
    assert AIModel.objects.filter(pk=child.pk).exists()


# --- Quota ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("quota", "existing", "allowed"), [(0, 0, False), (2, 1, True), (2, 2, False), (None, 50, True)]
)
def test_a_quota_of_user_models_is_a_409_when_reached(admin_client, systems, quota, existing, allowed) -> None:
    UserModelFactory.create_batch(existing, parent=systems["a"])
    UserModelFactory.create_batch(3, parent=systems["a"], organization_id="org-b")  # not counted
    services.entitlement_save(organization_id="org-a", actor=STAFF, max_user_models=quota)

    response = admin_client.post(MODELS_URL, {"parentId": str(systems["a"].pk), "name": "One More"}, format="json")

    if allowed:
        assert response.status_code == 201, response.content
        return
    body = assert_error_shape(response, 409)
    assert f"quota of {quota} user models" in body["detail"]
    assert AIModel.objects.filter(organization_id="org-a").count() == existing


@pytest.mark.parametrize(
    ("quota", "valid"),
    [(-1, False), (0, True), (limits.MAX_USER_MODELS_QUOTA, True), (limits.MAX_USER_MODELS_QUOTA + 1, False)],
)
def test_the_quota_is_bounded(quota: int, valid: bool) -> None:
    if valid:
        assert (
            services.entitlement_save(organization_id="org-a", actor=STAFF, max_user_models=quota).max_user_models
            == quota
        )
        return
    with pytest.raises(ValidationError) as refused:
        services.entitlement_save(organization_id="org-a", actor=STAFF, max_user_models=quota)
    assert "max_user_models" in refused.value.message_dict
    assert not Entitlement.objects.filter(max_user_models=quota).exists()


# --- Audit ----------------------------------------------------------------------------------------


def test_every_entitlement_change_is_an_audit_event_the_organization_sees(admin_client, systems) -> None:
    plan = plan_of(systems["a"])
    services.entitlement_save(organization_id="org-a", actor=STAFF, mode="plan")
    services.assign_plan(organization_ids=["org-a"], plan=plan, actor=STAFF)
    services.organizations_add_system_model(organization_ids=["org-a"], system_model=systems["c"], actor=STAFF)
    services.entitlement_save(organization_id="org-a", actor=STAFF, mode="plan")  # no change: no event

    events = admin_client.get("/v1/audit-events", {"objectType": "entitlement"}).json()["results"]

    assert [(e["action"], e["changedFields"]) for e in events] == [
        ("updated", ["extraSystemModelIds"]),
        ("updated", ["planId"]),
        ("created", ["mode"]),
    ]
    assert all(e["actor"] == STAFF for e in events)
    plan_event = AuditEvent.objects.get(object_type="plan")
    assert (plan_event.organization_id, plan_event.changed_fields) == (None, ["description", "name", "systemModelIds"])


def test_a_plan_name_is_unique_ignoring_case() -> None:
    plan_of(name="Enterprise")

    with pytest.raises(ValidationError):
        plan_of(name="ENTERPRISE")


def test_a_bulk_change_that_changes_nothing_leaves_no_row_and_no_event() -> None:
    """Putting organizations without an entitlement on "no plan" changes nothing for them."""
    changed = services.assign_plan(organization_ids=["org-x", "org-y"], plan=None, actor=STAFF)

    assert changed == 0
    assert not Entitlement.objects.filter(organization_id__in=["org-x", "org-y"]).exists()
    assert not AuditEvent.objects.filter(object_type="entitlement").exists()


@pytest.mark.django_db(transaction=True)
def test_concurrent_first_requests_of_an_organization_all_succeed_and_record_it_once(make_token) -> None:
    """Twelve first requests at once (a deploy, a reconnecting gateway): a read-then-insert made
    SQLite refuse one with 'database is locked' (a 503, seen in CI)."""
    from tests.concurrency import race

    results = race(make_token, [lambda client: client.get(MODELS_URL)] * 12)

    assert [status for status, _ in results] == [200] * 12, results
    assert Organization.objects.filter(pk="org-a").count() == 1
