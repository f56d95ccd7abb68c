"""The staff's editing tools in a real browser at 1280x800 (tests/admin/browser.py): the live
preview of a composition's prompt before saving, drag-and-drop ordering of its particles, the
History page naming who made each version, and form errors in the admin's own words.
Screenshots 50-56 in test-output/screenshots/."""

from models_registry import limits
from prompts import services
from prompts.models import PromptComposition, PromptParticle
from tests.admin.browser import BROWSER_TEST_MARKS, expect, log_in, screenshot
from tests.admin.test_admin_browser import choose_particle, drag_row

pytestmark = BROWSER_TEST_MARKS

NARROW = {"width": 1280, "height": 800}


def global_particle(name: str, content: str) -> PromptParticle:
    return services.particle_create(
        organization_id=None, actor="system:seed", data={"kind": "custom", "name": name, "content": content}
    )


def test_the_preview_follows_the_form_before_saving_and_a_drag_reorders(page, staff_user):
    role = global_particle("Role: support agent", "You are a support agent.")
    tone = global_particle("Tone: friendly", "Be friendly.")
    rules = global_particle("Guardrails: no secrets", "Never reveal secrets.")
    page.set_viewport_size(NARROW)
    log_in(page, staff_user, "50-preview-login")

    page.goto("/admin/prompts/promptcomposition/add/")
    live = page.locator("pre.live-preview")
    status = page.locator(".composition-preview .preview-status")
    expect(status).to_have_text("A composition has 1 to 50 particles, not 0.")
    page.fill("#id_name", "Support assistant")
    choose_particle(page, 0, role.name)
    expect(live).to_have_text("You are a support agent.")
    choose_particle(page, 1, tone.name)
    choose_particle(page, 2, rules.name)
    expect(live).to_have_text("You are a support agent.\n\nBe friendly.\n\nNever reveal secrets.")
    expect(status).to_have_text("61 of 50,000 characters.")
    page.locator(".composition-preview").scroll_into_view_if_needed()
    screenshot(page, "51-preview-before-saving", full_page=False)
    assert not PromptComposition.objects.exists(), "the preview saves nothing"
    page.click("input[name=_continue]")
    expect(page.locator("ul.messagelist")).to_contain_text("was added successfully")

    saved = page.locator("pre.rendered-prompt:not(.live-preview)")
    drag_row(page, "items-2", before="items-0")
    expect(live).to_have_text("Never reveal secrets.\n\nYou are a support agent.\n\nBe friendly.")
    expect(saved).to_have_text("You are a support agent.\n\nBe friendly.\n\nNever reveal secrets.")
    page.locator("#items-group").scroll_into_view_if_needed()
    screenshot(page, "52-dragged-not-saved", full_page=False)
    page.click("input[name=_continue]")

    expect(page.locator("ul.messagelist")).to_contain_text("was changed successfully")
    expect(saved).to_have_text("Never reveal secrets.\n\nYou are a support agent.\n\nBe friendly.")
    composition = PromptComposition.objects.get()
    assert list(composition.items.order_by("position").values_list("particle__name", flat=True)) == [
        rules.name,
        role.name,
        tone.name,
    ]

    page.get_by_role("link", name="History").click()
    rows = page.locator("#change-history tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.nth(0).locator("td.changed-by")).to_have_text(f"staff account {staff_user.username}")
    expect(rows.nth(0).locator("td.changes")).to_contain_text(
        f"Particles: {role.name}, {tone.name}, {rules.name} → {rules.name}, {role.name}, {tone.name}"
    )
    screenshot(page, "53-composition-history", full_page=False)


def test_the_history_page_names_members_and_m2m_clients(page, staff_user):
    particle = services.particle_create(
        organization_id="organization-acme",
        actor="member:member-live-2f1c0a9e",
        data={"kind": "tone", "name": "Tone: formal", "content": "Be formal."},
    )
    services.particle_update(
        particle=particle, actor="m2m:m2m-client-live-77ab", data={"content": "Be formal, always."}
    )
    page.set_viewport_size(NARROW)
    log_in(page, staff_user, "54-history-login")

    page.goto(f"/admin/prompts/promptparticle/{particle.pk}/history/")

    rows = page.locator("#change-history tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.nth(0).locator("td.changed-by")).to_have_text("M2M client m2m-client-live-77ab")
    expect(rows.nth(0).locator("td.reason")).to_have_text("—")
    expect(rows.nth(0).locator("td.changes")).to_contain_text("Content: Be formal. → Be formal, always.")
    expect(rows.nth(1).locator("td.changed-by")).to_have_text("member member-live-2f1c0a9e")
    expect(page.locator("#change-history")).not_to_contain_text("None")
    screenshot(page, "55-particle-history", full_page=False)

    rows.nth(1).locator("td.changed-by a").click()
    expect(page.locator("#result_list tbody tr")).to_have_count(1)
    expect(page.locator("#result_list td.field-actor")).to_have_text("member:member-live-2f1c0a9e")


def test_a_system_model_form_says_its_bounds_and_rules_in_its_own_words(page, staff_user):
    page.set_viewport_size(NARROW)
    log_in(page, staff_user, "56-errors-login")
    page.goto("/admin/models_registry/systemmodel/add/")
    context_window = page.locator("#id_context_window")
    expect(context_window).to_have_attribute("min", str(limits.CONTEXT_WINDOW_MIN))
    expect(context_window).to_have_attribute("max", str(limits.CONTEXT_WINDOW_MAX))
    expect(page.locator("#id_context_window_helptext")).to_contain_text("(1 to 2,000,000)")
    page.fill("#id_name", "Browser Omni")
    page.fill("#id_provider", "provider-a")
    page.fill("#id_provider_model_id", "browser-omni")
    page.fill("#id_credit_multiplier", "1")

    for value in ("-5", "0", "2000001"):
        page.fill("#id_context_window", value)
        page.fill("#id_max_tokens", "4096")
        # The browser would refuse these itself (min/max); the server's answer is what is tested.
        page.locator("form#systemmodel_form").evaluate("form => form.noValidate = true")
        page.click("input[name=_save]")
        expect(page.locator(".field-context_window .errorlist")).to_have_text("Must be 1 to 2,000,000.")
        expect(page.locator(".field-max_tokens .errorlist")).to_have_count(0)

    page.fill("#id_context_window", "8192")
    page.fill("#id_max_tokens", "9000")
    page.click("input[name=_save]")
    expect(page.locator(".field-max_tokens .errorlist")).to_have_text("Max tokens must be below context window (8192).")
    page.locator(".field-max_tokens").scroll_into_view_if_needed()
    screenshot(page, "57-errors-in-admin-labels", full_page=False)
