"""The admin of entitlements in a real browser (tests/admin/browser.py): a plan made with the
two-pane picker, an organization's entitlement and what it may use (and the API answering
accordingly), the action "Assign a plan", a system model added to plans and organizations from its
own page, and both lists on a 1280 px screen. Screenshots 41-45 in test-output/screenshots/.

The non-browser tests of the same admin are in test_entitlements_admin.py.
"""

from core.authentication import ORGANIZATION_CLAIM
from core.models import AuditEvent, Organization
from models_registry import entitlement_services
from models_registry.entitlements import Entitlement, EntitlementMode, Plan
from tests.admin.browser import BROWSER_TEST_MARKS, expect, log_in, screenshot

pytestmark = BROWSER_TEST_MARKS

ORGANIZATIONS = "/admin/core/organization/"
PLANS = "/admin/models_registry/plan/"
SYSTEM_MODELS = "/admin/models_registry/systemmodel/"
STAFF = "staff:curator"


def section(page, title: str):
    return page.locator("fieldset", has=page.locator("h2", has_text=title))


def changelist_row(page, name: str):
    return page.locator("#result_list tbody tr", has=page.get_by_role("link", name=name, exact=True))


def choose(page, field: str, *labels: str) -> None:
    """Pick options in a two-pane picker as staff do: select them in the left pane ("Available"),
    then click the arrow that moves them to the right pane ("Chosen")."""
    available, chosen = page.locator(f"#id_{field}_from"), page.locator(f"#id_{field}_to")
    available.select_option(label=list(labels))
    arrow = page.locator(f"#id_{field}_add")
    expect(arrow).to_be_enabled()
    arrow.click()
    for label in labels:
        expect(chosen.locator("option", has_text=label)).to_have_count(1)
        expect(available.locator("option", has_text=label)).to_have_count(0)


def expect_picker_right_of_its_label(page, field: str) -> None:
    """The field's label, then the two panes: as for a model's own many-to-many field."""
    label = page.locator(f".field-{field} .flex-container > label").bounding_box()
    panes = page.locator(f".field-{field} .selector").bounding_box()
    assert label["x"] + label["width"] <= panes["x"], (label, panes)


def plan_of(name: str, *models) -> Plan:
    return entitlement_services.plan_save(plan=Plan(name=name), actor=STAFF, system_models=models)


def system_models_the_api_lists(browser, live_server, token: str, screenshot_name: str) -> list[str]:
    """GET /v1/models?isSystem=true as the organization's client, from the browser (a context of its
    own, so no admin cookie goes with it): the names of the system models it lists."""
    context = browser.new_context(
        base_url=live_server.url, viewport={"width": 1280, "height": 800}, extra_http_headers={"Authorization": token}
    )
    try:
        api = context.new_page()
        response = api.goto("/v1/models?isSystem=true&limit=200")
        assert response.status == 200, response.text()
        screenshot(api, screenshot_name, full_page=False)
        return sorted(row["name"] for row in response.json()["results"])
    finally:
        context.close()


def expect_the_results_fit(page) -> None:
    """The changelist's table ends inside its scrolling box, that box inside the page's content,
    and nothing scrolls sideways (as the system models' list in test_lifecycle_browser.py)."""
    table = page.locator("#result_list").bounding_box()
    results = page.locator("#changelist-form .results").bounding_box()
    content = page.locator("#content").bounding_box()
    assert table["x"] + table["width"] <= results["x"] + results["width"] + 0.5, (table, results)
    assert results["x"] + results["width"] <= content["x"] + content["width"] <= 1280, (results, content)
    scroll = page.evaluate(
        """() => {
            const results = document.querySelector("#changelist-form .results");
            return {results: results.scrollWidth - results.clientWidth,
                    page: document.documentElement.scrollWidth - window.innerWidth};
        }"""
    )
    assert scroll == {"results": 0, "page": 0}, "nothing scrolls sideways"


def test_staff_makes_a_plan_with_the_two_pane_picker(page, staff_user, make_system_model):
    for name in ("Claude Sonnet 4", "GPT-4.1", "Mistral Large"):
        make_system_model(name=name)

    log_in(page, staff_user, "41-plan-1-login")
    page.goto(f"{PLANS}add/")
    page.fill("#id_name", "Starter")
    page.fill("#id_description", "The models of the free tier.")
    expect(page.locator("#id_system_models_from_title")).to_contain_text("Available system models")
    choose(page, "system_models", "Claude Sonnet 4", "GPT-4.1")
    expect(page.locator("#id_system_models_from option")).to_have_text(["Mistral Large"])
    expect_picker_right_of_its_label(page, "system_models")
    screenshot(page, "41-plan-2-two-models-chosen")
    page.click("input[name=_save]")

    expect(page.locator("ul.messagelist li.success")).to_contain_text("was added successfully")
    row = changelist_row(page, "Starter")
    expect(row.locator("td.field-model_count")).to_have_text("2")
    expect(row.locator("td.field-organization_count")).to_have_text("0")
    screenshot(page, "41-plan-3-in-the-list")
    plan = Plan.objects.get(name="Starter")
    assert sorted(plan.system_models.values_list("name", flat=True)) == ["Claude Sonnet 4", "GPT-4.1"]
    assert plan.description == "The models of the free tier."
    event = AuditEvent.objects.get(object_type="plan")
    assert (event.action, event.actor, event.object_id) == ("created", STAFF, plan.pk)


def test_staff_sets_an_organizations_entitlement_and_the_api_follows(
    page, browser, live_server, staff_user, make_system_model, make_token
):
    in_plan = [make_system_model(name="Claude Sonnet 4"), make_system_model(name="GPT-4.1")]
    added = make_system_model(name="Mistral Large")
    make_system_model(name="Llama 4")  # neither in the plan nor added
    plan_of("Starter", *in_plan)
    organization = Organization.objects.create(id="org-a", slug="acme")
    token = "Bearer " + make_token(
        org="org-a", claims_overrides={ORGANIZATION_CLAIM: {"organization_id": "org-a", "slug": "acme"}}
    )
    everything = ["Claude Sonnet 4", "GPT-4.1", "Llama 4", "Mistral Large"]
    assert system_models_the_api_lists(browser, live_server, token, "42-organization-1-api-before") == everything

    log_in(page, staff_user, "42-organization-2-login")
    page.goto(f"{ORGANIZATIONS}{organization.pk}/change/")
    expect(page.locator("#id_mode")).to_have_value(EntitlementMode.DEFAULT)
    page.select_option("#id_mode", EntitlementMode.PLAN)
    page.select_option("#id_plan", label="Starter")
    choose(page, "extra_system_models", "Mistral Large")
    page.fill("#id_max_user_models", "5")
    expect_picker_right_of_its_label(page, "extra_system_models")
    screenshot(section(page, "Entitlement"), "42-organization-3-entitlement-filled")
    page.click("input[name=_continue]")

    expect(page.locator("ul.messagelist li.success")).to_contain_text("was changed successfully")
    why = section(page, "What it may use, and why").locator(".field-entitled_to li")
    expect(why).to_have_text(["Claude Sonnet 4 — plan Starter", "GPT-4.1 — plan Starter", "Mistral Large — addition"])
    expect(page.locator("#id_extra_system_models_to option")).to_have_text(["Mistral Large"])
    expect(page.locator("#id_max_user_models")).to_have_value("5")
    screenshot(page, "42-organization-4-what-it-may-use")
    entitlement = Entitlement.objects.get(organization_id="org-a")
    assert (entitlement.mode, entitlement.plan.name, entitlement.max_user_models) == ("plan", "Starter", 5)
    assert list(entitlement.extra_system_models.all()) == [added]
    event = AuditEvent.objects.get(object_type="entitlement")
    assert (event.action, event.actor, event.organization_id, event.object_id) == (
        "created",
        STAFF,
        "org-a",
        entitlement.pk,
    )
    assert set(event.changed_fields) == {"mode", "planId", "maxUserModels", "extraSystemModelIds"}

    entitled = ["Claude Sonnet 4", "GPT-4.1", "Mistral Large"]
    assert system_models_the_api_lists(browser, live_server, token, "42-organization-5-api-after") == entitled


def test_staff_assigns_a_plan_to_many_organizations_at_once(page, staff_user, make_system_model):
    enterprise = plan_of("Enterprise", make_system_model(name="GPT-4.1"))
    starter = plan_of("Starter")
    for organization_id, slug in (("org-acme", "acme"), ("org-globex", "globex"), ("org-initech", "initech")):
        Organization.objects.create(id=organization_id, slug=slug)
    Organization.objects.create(id="org-umbrella", slug="umbrella")
    entitlement_services.assign_plan(organization_ids=["org-initech", "org-umbrella"], plan=starter, actor=STAFF)

    log_in(page, staff_user, "43-assign-plan-1-login")
    page.goto(ORGANIZATIONS)
    for organization_id in ("org-acme", "org-globex", "org-initech"):
        changelist_row(page, organization_id).locator("input.action-select").check()
    page.select_option("select[name=action]", label="Assign a plan to the selected organizations")
    plan_label = page.locator(".actions label", has_text="Plan to assign:")
    plan_label.locator("select[name=plan]").select_option(label="Enterprise")
    action_box, plan_box = page.locator("select[name=action]").bounding_box(), plan_label.bounding_box()
    assert plan_box["x"] >= action_box["x"] + action_box["width"] + 8, "the plan's label stands apart"
    expect(page.locator(".actions .action-counter")).to_have_text("3 of 4 selected")
    screenshot(page, "43-assign-plan-2-chosen", full_page=False)
    page.click("button[name=index]")

    message = page.locator("ul.messagelist > li")
    expect(message).to_have_text("3 organization(s) now on Enterprise.")
    expect(message).to_have_class("success")
    for organization_id, plan in (
        ("org-acme", "Enterprise"),
        ("org-globex", "Enterprise"),
        ("org-initech", "Enterprise"),
        ("org-umbrella", "Starter"),
    ):
        expect(changelist_row(page, organization_id).locator("td.field-plan")).to_have_text(plan)
    screenshot(page, "43-assign-plan-3-done", full_page=False)
    on_plans = dict(Entitlement.objects.values_list("organization_id", "plan__name"))
    assert on_plans == {
        "org-acme": "Enterprise",
        "org-globex": "Enterprise",
        "org-initech": "Enterprise",
        "org-umbrella": "Starter",
    }
    assert AuditEvent.objects.filter(object_type="entitlement", actor=STAFF).count() == 2 + 3
    assert enterprise.entitlements.count() == 3

    # The mode filter agrees with the mode column: the four have an entitlement in the default
    # mode now, and an organization with no entitlement at all is in the default mode too.
    Organization.objects.create(id="org-hooli", slug="hooli")
    page.goto(ORGANIZATIONS)
    page.locator('#changelist-filter details[data-filter-title="mode"]').get_by_role(
        "link", name="Service default (DEFAULT_ENTITLEMENT)"
    ).click()
    expect(page.locator("#result_list tbody th.field-id a")).to_have_count(5)
    expect(changelist_row(page, "org-hooli").locator("td.field-mode")).to_have_text("default (all)")
    screenshot(page, "43-assign-plan-4-filtered-by-default-mode", full_page=False)


def test_staff_adds_a_system_model_to_plans_and_organizations_from_its_page(page, staff_user, make_system_model):
    model = make_system_model(name="GPT-4.1", provider="openai", provider_model_id="gpt-4.1")
    starter, team = plan_of("Starter"), plan_of("Team")
    plan_of("Enterprise", model)
    for organization_id, slug in (("org-acme", "acme"), ("org-globex", "globex")):
        Organization.objects.create(id=organization_id, slug=slug)

    log_in(page, staff_user, "44-system-model-1-login")
    page.goto(f"{SYSTEM_MODELS}{model.pk}/change/")
    entitlements = section(page, "Entitlements")
    in_plans = entitlements.locator(".field-in_plans .readonly")
    expect(in_plans).to_have_text("Enterprise; added to 0 organization(s) on top of their plans.")
    choose(page, "add_to_plans", "Starter", "Team")
    choose(page, "add_to_organizations", "acme (org-acme)")
    expect_picker_right_of_its_label(page, "add_to_plans")
    expect_picker_right_of_its_label(page, "add_to_organizations")
    screenshot(entitlements, "44-system-model-2-pickers")
    page.click("input[name=_continue]")

    expect(page.locator("ul.messagelist li.success")).to_contain_text("was changed successfully")
    expect(in_plans).to_have_text("Enterprise, Starter, Team; added to 1 organization(s) on top of their plans.")
    screenshot(entitlements, "44-system-model-3-in-plans")
    assert sorted(model.plans.values_list("name", flat=True)) == ["Enterprise", "Starter", "Team"]
    assert [starter.system_models.get(), team.system_models.get()] == [model, model]
    assert list(Entitlement.objects.get(organization_id="org-acme").extra_system_models.all()) == [model]
    assert not Entitlement.objects.filter(organization_id="org-globex").exists()


def test_the_organization_and_plan_lists_fit_a_1280_screen(page, staff_user, make_system_model):
    """Stytch's organization ids are long ("organization-test-<uuid>"): 30 of them, on plans,
    quotas and modes of every kind, and 8 plans, on a 1280x800 screen without sideways scrolling."""
    models = [make_system_model(name=f"System model {n}") for n in range(12)]
    plans = [plan_of(name, *models[:size]) for size, name in enumerate(("Free", "Starter", "Team", "Business"))]
    plans += [plan_of(f"Enterprise {region}", *models) for region in ("EU", "US", "APAC", "Government")]
    modes = (EntitlementMode.DEFAULT, EntitlementMode.PLAN, EntitlementMode.ALL)
    for n in range(30):
        organization = Organization.objects.create(
            id=f"organization-test-{n:08x}-ac8b-4cdb-9c15-63b17e653931", slug=f"customer-{n}-holdings"
        )
        if n % 5:
            entitlement_services.entitlement_save(
                organization_id=organization.pk,
                actor=STAFF,
                mode=modes[n % 3],
                plan=plans[n % len(plans)],
                max_user_models=1_000_000 if n % 2 else None,
            )
    page.set_viewport_size({"width": 1280, "height": 800})

    log_in(page, staff_user, "45-narrow-1-login")
    page.goto(ORGANIZATIONS)
    expect(page.locator("#result_list tbody tr")).to_have_count(30)
    expect(page.locator("#result_list thead th.column-first_seen_at")).to_be_in_viewport()
    expect_the_results_fit(page)
    screenshot(page, "45-narrow-2-organizations", full_page=False)

    page.goto(PLANS)
    expect(page.locator("#result_list tbody tr")).to_have_count(8)
    expect(changelist_row(page, "Enterprise Government").locator("td.field-model_count")).to_have_text("12")
    expect(page.locator("#result_list thead th.column-updated_at")).to_be_in_viewport()
    expect_the_results_fit(page)
    screenshot(page, "45-narrow-3-plans", full_page=False)
