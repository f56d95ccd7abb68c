"""The staff's curation flows in a real browser: Debian's Chromium driven by Playwright.

Each step leaves a screenshot in test-output/screenshots/. Skipped where /usr/bin/chromium
or Playwright is missing (tests/admin/browser.py).
"""

import re
from decimal import Decimal

from tests.admin.browser import BROWSER_TEST_MARKS, expect, log_in, screenshot

pytestmark = BROWSER_TEST_MARKS


def test_staff_curates_a_system_model(page, staff_user):
    from models_registry.models import SystemModel

    log_in(page, staff_user, "01-login")
    screenshot(page, "02-admin-index")

    page.goto("/admin/models_registry/systemmodel/add/")
    page.fill("#id_name", "Browser Omni")
    page.fill("#id_provider", "provider-a")
    page.fill("#id_provider_model_id", "browser-omni")
    page.fill("#id_context_window", "0")
    page.fill("#id_max_tokens", "4096")
    page.check("#id_supports_tools")
    page.fill("#id_credit_multiplier", "1.25")
    screenshot(page, "03-add-system-model")
    page.click("input[name=_save]")

    context_window_error = page.locator(".field-context_window .errorlist")
    expect(context_window_error).to_have_text("Must be 1 to 2,000,000.")
    expect(page.locator(".errornote")).to_be_visible()
    screenshot(page, "04-context-window-error")
    assert not SystemModel.objects.exists()

    page.fill("#id_context_window", "128000")
    page.click("input[name=_save]")

    expect(page.locator("ul.messagelist")).to_contain_text("was added successfully")
    row = page.locator("#result_list tbody tr", has=page.get_by_role("link", name="Browser Omni", exact=True))
    expect(row).to_have_count(1)
    expect(row.locator("td.field-provider_model_id")).to_have_text("browser-omni")
    expect(row.locator("td.field-is_enabled img")).to_have_attribute("alt", "True")
    screenshot(page, "05-system-model-in-changelist")
    created = SystemModel.objects.get()
    assert (created.context_window, created.max_tokens, created.credit_multiplier) == (128_000, 4096, Decimal("1.25"))
    assert (created.supports_tools, created.supports_vision, created.supports_reasoning) == (True, False, False)

    row.locator("input.action-select").check()
    page.select_option("select[name=action]", "disable_models")
    page.click("button[name=index]")

    expect(page.locator("ul.messagelist")).to_contain_text("1 system model was disabled.")
    expect(row.locator("td.field-is_enabled img")).to_have_attribute("alt", "False")
    screenshot(page, "06-system-model-disabled")
    created.refresh_from_db()
    assert created.is_enabled is False


def drag_row(page, row: str, *, before: str | None = None, after: str | None = None) -> None:
    """Drag an inline row by its handle (django-admin-sortable2's `td.original p`) above or below another."""
    target = page.locator(f"#{before or after} td.original p")
    box = target.bounding_box()
    page.locator(f"#{row} td.original p").drag_to(
        target, target_position={"x": 40, "y": 1 if before else box["height"] - 1}
    )


def choose_particle(page, row: int, name: str) -> None:
    """Pick a particle in the inline's autocomplete (select2) box."""
    page.locator(f"#items-{row} .field-particle .select2-selection").click()
    page.locator(".select2-container--open .select2-search__field").fill(name)
    page.locator(".select2-results__option", has_text=name).click()


def test_staff_composes_and_reorders_a_prompt(page, staff_user):
    from prompts.models import PromptComposition, PromptParticle

    role = PromptParticle.objects.create(
        name="Role: support agent", kind="role", content="You are a support agent.", is_system=True
    )
    tone = PromptParticle.objects.create(name="Tone: friendly", kind="tone", content="Be friendly.", is_system=True)
    rules = PromptParticle.objects.create(
        name="Guardrails: no secrets", kind="guardrails", content="Never reveal secrets.", is_system=True
    )

    log_in(page, staff_user, "07-login-again")
    page.goto("/admin/prompts/promptcomposition/add/")
    expect(page.locator("#id_is_system")).to_be_checked()
    page.fill("#id_name", "Support assistant")
    for row, particle in enumerate((role, tone, rules)):
        choose_particle(page, row, particle.name)
    screenshot(page, "08-composition-add")
    page.click("input[name=_continue]")

    expect(page.locator("ul.messagelist")).to_contain_text("was added successfully")
    preview = page.locator("pre.rendered-prompt:not(.live-preview)")  # the saved prompt
    expect(preview).to_have_text("You are a support agent.\n\nBe friendly.\n\nNever reveal secrets.")
    screenshot(page, "09-composition-preview")
    composition = PromptComposition.objects.get()
    assert composition.is_system is True
    assert composition.organization_id is None

    # Rows are listed in position order: drag the last one to the top, then the old first one to the end.
    expect(page.locator("#items-0 .field-particle")).to_contain_text(role.name)
    expect(page.locator("#id_items-0-position")).to_be_hidden()
    rows = page.locator("#items-group tbody tr.has_original .field-particle")
    drag_row(page, "items-2", before="items-0")
    expect(rows).to_contain_text([rules.name, role.name, tone.name])  # the first drag landed
    page.wait_for_timeout(300)  # and its reorder animation ended: a drag begun during it can be lost
    drag_row(page, "items-0", after="items-1")
    expect(rows).to_contain_text([rules.name, tone.name, role.name])
    screenshot(page, "10-composition-reordering")
    page.click("input[name=_continue]")

    expect(page.locator("ul.messagelist")).to_contain_text("was changed successfully")
    expect(preview).to_have_text("Never reveal secrets.\n\nBe friendly.\n\nYou are a support agent.")
    expect(page.locator("#items-0 .field-particle")).to_contain_text(rules.name)
    screenshot(page, "11-composition-reordered")
    ordered = list(composition.items.order_by("position").values_list("particle__name", flat=True))
    assert ordered == [rules.name, tone.name, role.name]


def test_index_page_in_the_browser(page):
    page.goto("/")
    expect(page.locator("h1")).to_have_text("Model Registry")
    for name, href in (
        ("API documentation", "/api/docs/"),
        ("API reference", "/api/redoc/"),
        ("OpenAPI schema", "/api/schema/"),
        ("Admin", "/admin/"),
        ("Health check", "/healthz"),
    ):
        expect(page.get_by_role("link", name=re.compile(f"^{name}"))).to_have_attribute("href", href)
    screenshot(page, "00-index")


def test_support_reads_a_user_model_and_cannot_delete_its_parent(
    page, staff_user, make_system_model, make_user_model, make_particle, make_composition
):
    composition = make_composition([make_particle("You are a finance assistant."), make_particle("Be brief.")])
    parent = make_system_model(name="Large model Omni", provider="provider-a", max_tokens=4096)
    user_model = make_user_model(
        parent,
        name="Finance copy",
        organization_id="organization-acme",
        context_window=32_000,
        system_prompt_composition=composition,
    )

    log_in(page, staff_user, "12-login-support")
    page.goto(f"/admin/models_registry/usermodel/{user_model.pk}/change/")
    configuration = page.locator("table.effective-configuration")
    expect(configuration.locator("tr", has_text="provider model id")).to_contain_text("inherited from Large model Omni")
    expect(configuration.locator("tr", has_text="context window")).to_contain_text("own value")
    expect(page.locator("pre.rendered-prompt")).to_have_text("You are a finance assistant.\n\nBe brief.")
    expect(page.locator("input[name=name]")).to_have_count(0)
    screenshot(page, "13-user-model-read-only")

    page.goto(f"/admin/models_registry/systemmodel/{parent.pk}/delete/")
    expect(page.locator("#content")).to_contain_text("would require deleting the following protected related objects")
    expect(page.locator("#content")).to_contain_text("Finance copy")
    expect(page.locator("#content")).to_contain_text("organization-acme")
    expect(page.locator("input[type=submit]")).to_have_count(0)
    screenshot(page, "14-delete-protected")
