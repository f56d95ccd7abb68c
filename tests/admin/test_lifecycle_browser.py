"""The lifecycle of system models in the admin, in a real browser (tests/admin/browser.py): the
Lifecycle section of the form and its errors, the lifecycle column and filter, and the action
"Move user models to the successor". Screenshots 20-34 in test-output/screenshots/.

The non-browser tests of the same admin are in test_lifecycle_admin.py.
"""

import io
from datetime import timedelta

from django.core.management import call_command

from models_registry import lifecycle
from models_registry.models import AIModel
from tests.admin.browser import BROWSER_TEST_MARKS, expect, log_in, screenshot

pytestmark = BROWSER_TEST_MARKS

CHANGELIST = "/admin/models_registry/systemmodel/"
DAY = timedelta(days=1)


def change_page(model: AIModel) -> str:
    return f"{CHANGELIST}{model.pk}/change/"


def lifecycle_section(page):
    return page.locator("fieldset", has=page.locator("h2", has_text="Lifecycle"))


def changelist_row(page, name: str):
    return page.locator("#result_list tbody tr", has=page.get_by_role("link", name=name, exact=True))


def listed_names(page):
    return page.locator("#result_list tbody th.field-name a")


def run_action(page, *names: str) -> None:
    for name in names:
        changelist_row(page, name).locator("input.action-select").check()
    page.select_option("select[name=action]", "move_user_models_to_successor")
    page.click("button[name=index]")


def test_staff_sets_a_lifecycle_and_the_changelist_shows_it(page, staff_user, make_system_model):
    today = lifecycle.today()
    successor = make_system_model(name="GPT-4.1", provider="openai", provider_model_id="gpt-4.1")
    model = make_system_model(name="GPT-4o", provider="openai", provider_model_id="gpt-4o")

    log_in(page, staff_user, "20-lifecycle-login")
    page.goto(change_page(model))
    page.fill("#id_deprecated_at", today.isoformat())
    page.fill("#id_retires_at", (today + 90 * DAY).isoformat())
    page.select_option("#id_successor", label="GPT-4.1")
    screenshot(lifecycle_section(page), "21-lifecycle-section-filled")
    page.click("input[name=_save]")

    expect(page.locator("ul.messagelist li.success")).to_contain_text("was changed successfully")
    expect(changelist_row(page, "GPT-4o").locator("td.field-lifecycle")).to_have_text(f"deprecated {today.isoformat()}")
    expect(changelist_row(page, "GPT-4.1").locator("td.field-lifecycle")).to_have_text("active")
    screenshot(page, "22-lifecycle-in-changelist")
    model.refresh_from_db()
    assert (model.deprecated_at, model.retires_at, model.successor_id) == (today, today + 90 * DAY, successor.pk)


def test_a_bad_lifecycle_is_refused_next_to_its_field(page, staff_user, make_system_model):
    today = lifecycle.today()
    make_system_model(name="GPT-4 Turbo", provider="openai", provider_model_id="gpt-4-turbo", deprecated_at=today - DAY)
    model = make_system_model(name="GPT-4o", provider="openai", provider_model_id="gpt-4o")

    log_in(page, staff_user, "23-lifecycle-errors-login")
    page.goto(change_page(model))
    page.fill("#id_deprecated_at", (today + 30 * DAY).isoformat())
    page.fill("#id_retires_at", (today + 10 * DAY).isoformat())
    page.click("input[name=_save]")

    expect(page.locator(".errornote")).to_be_visible()
    retires_error = lifecycle_section(page).locator(".field-retires_at .errorlist")
    expect(retires_error).to_have_text(f"Must be on or after the deprecation day ({(today + 30 * DAY).isoformat()}).")
    expect(page.locator(".errorlist")).to_have_count(1)
    screenshot(lifecycle_section(page), "24-lifecycle-retires-before-deprecation")

    page.fill("#id_retires_at", (today + 60 * DAY).isoformat())
    page.select_option("#id_successor", label="GPT-4 Turbo")
    page.click("input[name=_save]")

    successor_error = lifecycle_section(page).locator(".field-successor .errorlist")
    expect(successor_error).to_have_text("Must be an active, enabled system model; 'GPT-4 Turbo' is deprecated.")
    expect(page.locator(".errorlist")).to_have_count(1)
    screenshot(lifecycle_section(page), "25-lifecycle-deprecated-successor")
    model.refresh_from_db()
    assert (model.deprecated_at, model.retires_at, model.successor_id) == (None, None, None)


def test_staff_filters_the_changelist_by_lifecycle(page, staff_user, make_system_model):
    today = lifecycle.today()
    make_system_model(name="GPT-4.1", provider_model_id="gpt-4.1")
    make_system_model(name="Claude Opus 4", provider_model_id="claude-opus-4", deprecated_at=today + 30 * DAY)
    deprecated_on = today - 3 * DAY
    make_system_model(name="GPT-4o", provider_model_id="gpt-4o", deprecated_at=deprecated_on, retires_at=today + DAY)
    make_system_model(name="o3-mini", provider_model_id="o3-mini", deprecated_at=today - 30 * DAY, retires_at=today)

    log_in(page, staff_user, "26-lifecycle-filter-login")
    page.goto(CHANGELIST)
    expect(listed_names(page)).to_have_count(4)
    lifecycle_filter = page.locator('#changelist-filter details[data-filter-title="lifecycle"]')

    lifecycle_filter.get_by_role("link", name="Deprecated", exact=True).click()
    expect(page).to_have_url(f"{CHANGELIST}?lifecycle=deprecated")
    expect(listed_names(page)).to_have_text(["GPT-4o"])
    expect(page.locator("#result_list td.field-lifecycle")).to_have_text([f"deprecated {deprecated_on.isoformat()}"])
    expect(lifecycle_filter.locator("li.selected")).to_have_text("Deprecated")
    screenshot(page, "27-filter-deprecated")

    lifecycle_filter.get_by_role("link", name="Retired", exact=True).click()
    expect(page).to_have_url(f"{CHANGELIST}?lifecycle=retired")
    expect(listed_names(page)).to_have_text(["o3-mini"])
    expect(page.locator("#result_list td.field-lifecycle")).to_have_text([f"retired {today.isoformat()}"])
    expect(lifecycle_filter.locator("li.selected")).to_have_text("Retired")
    screenshot(page, "28-filter-retired")

    lifecycle_filter.get_by_role("link", name="Active", exact=True).click()
    expect(listed_names(page)).to_have_text(["Claude Opus 4", "GPT-4.1"])  # a deprecation day to come: still active


def test_staff_moves_user_models_to_the_successor(page, staff_user, make_system_model, make_user_model):
    today = lifecycle.today()
    new = make_system_model(name="GPT-4.1", provider_model_id="gpt-4.1", context_window=1_047_576)
    old = make_system_model(
        name="GPT-4o", provider_model_id="gpt-4o", context_window=128_000, deprecated_at=today - DAY, successor=new
    )
    children = [
        make_user_model(old, name="Support bot", organization_id="organization-acme", context_window=64_000),
        make_user_model(old, name="Contract reader", organization_id="organization-acme", context_window=128_000),
        make_user_model(old, name="Sales helper", organization_id="organization-globex", context_window=16_000),
    ]

    log_in(page, staff_user, "29-move-login")
    page.goto(CHANGELIST)
    run_action(page, "GPT-4o")

    message = page.locator("ul.messagelist > li")
    expect(message).to_have_text("Moved user models: 3 from GPT-4o to GPT-4.1.")
    expect(message).to_have_class("success")
    expect(changelist_row(page, "GPT-4o").locator("td.field-user_model_count")).to_have_text("0")
    expect(changelist_row(page, "GPT-4.1").locator("td.field-user_model_count")).to_have_text("3")
    screenshot(page, "30-move-succeeded")
    assert set(AIModel.objects.filter(pk__in=[c.pk for c in children]).values_list("parent_id", flat=True)) == {new.pk}


def test_the_move_moves_nothing_when_one_user_model_would_break(page, staff_user, make_system_model, make_user_model):
    today = lifecycle.today()
    new = make_system_model(name="GPT-4.1 mini", provider_model_id="gpt-4.1-mini", context_window=32_000)
    old = make_system_model(
        name="GPT-4o", provider_model_id="gpt-4o", context_window=128_000, deprecated_at=today - DAY, successor=new
    )
    other_new = make_system_model(name="Claude Sonnet 4", provider_model_id="claude-sonnet-4", context_window=200_000)
    other_old = make_system_model(
        name="Claude Sonnet 3.7",
        provider_model_id="claude-3-7-sonnet",
        context_window=200_000,
        deprecated_at=today - DAY,
        successor=other_new,
    )
    fits = make_user_model(old, name="Support bot", organization_id="organization-acme", context_window=16_000)
    too_wide = make_user_model(old, name="Contract reader", organization_id="organization-acme", context_window=100_000)
    elsewhere = make_user_model(other_old, name="Sales helper", organization_id="organization-globex")

    log_in(page, staff_user, "31-move-refused-login")
    page.goto(CHANGELIST)
    run_action(page, "GPT-4o", "Claude Sonnet 3.7")

    message = page.locator("ul.messagelist > li")
    expect(message).to_have_class("error")
    expect(message).to_contain_text("Nothing moved: 1 user model problem(s) moving from GPT-4o to GPT-4.1 mini")
    problems = message.locator("ul li")
    expect(problems).to_have_count(1)
    expect(problems).to_contain_text(f"'Contract reader' (organization-acme, {too_wide.pk}): context window:")
    # A plain item of the error, not a message of its own (Django styles every li of the list as one).
    expect(problems).to_have_css("background-image", "none")
    expect(problems).to_have_css("list-style-type", "disc")
    expect(changelist_row(page, "GPT-4o").locator("td.field-user_model_count")).to_have_text("2")
    screenshot(page, "32-move-refused")
    parents = dict(AIModel.objects.filter(pk__in=[fits.pk, too_wide.pk, elsewhere.pk]).values_list("pk", "parent_id"))
    assert parents == {fits.pk: old.pk, too_wide.pk: old.pk, elsewhere.pk: other_old.pk}, "all or nothing"


def test_the_lifecycle_column_fits_a_1280_screen(page, staff_user):
    """The bundled catalog's 28 system models, on a 1280x800 screen: the whole table, its
    lifecycle column included, shows without scrolling sideways."""
    call_command("seed_system_models", stdout=io.StringIO())
    today = lifecycle.today()
    AIModel.objects.filter(name="GPT-4o").update(
        deprecated_at=today - DAY, retires_at=today + 90 * DAY, successor=AIModel.objects.get(name="GPT-4.1")
    )
    page.set_viewport_size({"width": 1280, "height": 800})

    log_in(page, staff_user, "33-narrow-login")
    page.goto(CHANGELIST)
    expect(page.locator("#result_list tbody tr")).to_have_count(AIModel.objects.filter(is_system=True).count())
    expect(changelist_row(page, "GPT-4o").locator("td.field-lifecycle")).to_have_text(
        f"deprecated {(today - DAY).isoformat()}"
    )
    header = page.locator("#result_list thead th.column-lifecycle")
    expect(header).to_be_in_viewport()

    table = page.locator("#result_list").bounding_box()
    results = page.locator("#changelist-form .results").bounding_box()  # the table's scrolling box
    content = page.locator("#content").bounding_box()
    column = header.bounding_box()
    assert table["x"] + table["width"] <= results["x"] + results["width"] + 0.5, (table, results)
    assert results["x"] + results["width"] <= content["x"] + content["width"] <= 1280, (results, content)
    assert column["x"] + column["width"] <= results["x"] + results["width"], (column, results)
    scroll = page.evaluate(
        """() => {
            const results = document.querySelector("#changelist-form .results");
            return {results: results.scrollWidth - results.clientWidth,
                    page: document.documentElement.scrollWidth - window.innerWidth};
        }"""
    )
    assert scroll == {"results": 0, "page": 0}, "nothing scrolls sideways"
    screenshot(page, "34-changelist-at-1280", full_page=False)
