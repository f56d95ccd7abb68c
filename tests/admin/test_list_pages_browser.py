"""Every admin list page on a 1280x800 screen, in a real browser (tests/admin/browser.py): the
columns that matter are all within the window, nothing scrolls sideways, and no page asks an
outside host for anything. Screenshots 40-49 in test-output/screenshots/.
"""

import io
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from django.core.management import call_command

from core.models import AuditEvent, Organization
from models_registry import lifecycle, services
from models_registry.entitlements import Plan
from models_registry.models import AIModel
from prompts import services as prompt_services
from tests.admin.browser import BROWSER_TEST_MARKS, expect, log_in, screenshot

pytestmark = BROWSER_TEST_MARKS

NARROW = {"width": 1280, "height": 800}
DAY = timedelta(days=1)

# Each list page, with the columns staff need to see on it (the changelist's `column-<name>`).
LIST_PAGES = {
    "systemmodel": (
        "/admin/models_registry/systemmodel/",
        (
            "name",
            "provider",
            "provider_model_id",
            "context_window",
            "max_tokens",
            "capabilities",
            "credit_multiplier",
            "is_enabled",
            "lifecycle",
            "user_model_count",
        ),
    ),
    "usermodel": (
        "/admin/models_registry/usermodel/",
        (
            "name",
            "organization_id",
            "parent",
            "is_enabled",
            "context_window",
            "max_tokens",
            "system_prompt_composition",
            "updated_at",
        ),
    ),
    "promptparticle": (
        "/admin/prompts/promptparticle/",
        ("name", "kind", "is_system", "organization_id", "composition_count", "updated_at"),
    ),
    "promptcomposition": (
        "/admin/prompts/promptcomposition/",
        ("name", "is_system", "organization_id", "particle_count", "model_count", "updated_at"),
    ),
    "auditevent": (
        "/admin/core/auditevent/",
        ("occurred_at", "organization_id", "actor", "action", "object_type", "object_repr", "changed"),
    ),
    "organization": ("/admin/core/organization/", ("id", "slug", "mode", "plan", "quota", "first_seen_at")),
    "plan": ("/admin/models_registry/plan/", ("name", "model_count", "organization_count", "updated_at")),
}
SCREENSHOT_NUMBERS = {name: 40 + index for index, name in enumerate(LIST_PAGES)}


@pytest.fixture
def catalog(staff_user):
    """The bundled catalog's system models, user models of two organizations with long ids on
    them, prompts with long names, and the audit trail all of that leaves."""
    call_command("seed_system_models", stdout=io.StringIO())
    today = lifecycle.today()
    AIModel.objects.filter(name="GPT-4o").update(
        deprecated_at=today - DAY, retires_at=today + 90 * DAY, successor=AIModel.objects.get(name="GPT-4.1")
    )
    organizations = ("organization-test-07f1c0a2-5d3b-4c1e-9f6a-2b8e4d7c1a90", "organization-acme-production")
    particles = [
        prompt_services.particle_create(
            organization_id=None,
            actor="staff:curator",
            data={"kind": kind, "name": f"{kind.title()}: a particle with a long descriptive name", "content": text},
        )
        for kind, text in (
            ("role", "You are a support agent for a B2B software company."),
            ("tone", "Be friendly and precise."),
            ("guardrails", "Never reveal secrets or internal identifiers."),
        )
    ]
    prompt_services.particle_create(
        organization_id=organizations[0],
        actor="member:member-test-5f0c2a1e-3b4d-4e6f-8a9b-0c1d2e3f4a5b",
        data={"kind": "context", "name": "Context: the organization's own product catalogue", "content": "..."},
    )
    composition = prompt_services.composition_create(
        organization_id=None,
        actor="staff:curator",
        data={"name": "Support assistant for enterprise customers", "particle_ids": [p.pk for p in particles]},
    )
    active = lifecycle.status_q(lifecycle.LifecycleStatus.ACTIVE, today)
    parents = AIModel.objects.filter(active, is_system=True, is_enabled=True).order_by("name")[:4]
    for index, parent in enumerate(parents):
        for organization in organizations:
            Organization.objects.get_or_create(id=organization, defaults={"slug": organization[13:]})
            services.user_model_create(
                organization_id=organization,
                actor=f"m2m:m2m-client-test-{index}-0d5c7f1e-8a2b-4c3d-9e6f-1a2b3c4d5e6f",
                data={
                    "parent": parent,
                    "context_window": parent.context_window,
                    "supports_streaming": parent.supports_streaming,
                    "name": f"{parent.name} for the customer-support knowledge base {index}",
                    "system_prompt_composition": composition,
                },
            )
    Plan.objects.create(name="Enterprise (annual, with every frontier model)", description="")
    assert AuditEvent.objects.count() > 10


def assert_columns_fit(page, columns) -> None:
    """Each column's header is within the window, and neither the table nor the page scrolls sideways."""
    for column in columns:
        header = page.locator(f"#result_list thead th.column-{column}")
        expect(header).to_have_count(1)
        box = header.bounding_box()
        assert box is not None and box["width"] > 0, column
        assert box["x"] >= 0 and box["x"] + box["width"] <= NARROW["width"], (column, box)
    scroll = page.evaluate(
        """() => {
            const results = document.querySelector("#changelist-form .results");
            return {results: results.scrollWidth - results.clientWidth,
                    page: document.documentElement.scrollWidth - window.innerWidth};
        }"""
    )
    assert scroll == {"results": 0, "page": 0}, "nothing scrolls sideways"


@pytest.mark.parametrize("name", LIST_PAGES)
def test_each_list_page_fits_a_1280_screen(page, staff_user, catalog, name):
    url, columns = LIST_PAGES[name]
    page.set_viewport_size(NARROW)
    log_in(page, staff_user, f"{SCREENSHOT_NUMBERS[name]}-{name}-login")
    page.goto(url)
    expect(page.locator("#result_list tbody tr").first).to_be_visible()
    screenshot(page, f"{SCREENSHOT_NUMBERS[name]}-{name}-list-at-1280", full_page=False)
    assert_columns_fit(page, columns)


def test_a_bulk_disable_shows_in_the_enabled_column(page, staff_user, catalog):
    page.set_viewport_size(NARROW)
    log_in(page, staff_user, "47-bulk-disable-login")
    page.goto("/admin/models_registry/systemmodel/")
    row = page.locator("#result_list tbody tr", has=page.get_by_role("link", name="GPT-4o", exact=True))
    row.locator("input.action-select").check()
    page.select_option("select[name=action]", "disable_models")
    page.click("button[name=index]")

    expect(page.locator("ul.messagelist")).to_contain_text("1 system model was disabled.")
    enabled = row.locator("td.field-is_enabled img")
    expect(enabled).to_have_attribute("alt", "False")
    enabled.scroll_into_view_if_needed()
    expect(enabled).to_be_in_viewport()
    box = enabled.bounding_box()
    assert box["x"] + box["width"] <= NARROW["width"], box
    screenshot(page, "47-bulk-disable-at-1280", full_page=False)


def test_no_page_asks_an_outside_host(page, live_server, staff_user, catalog):
    """The index, the API docs (Swagger UI and Redoc, rendered in full) and the admin's pages load
    only from the server itself, and each shows the project's favicon."""
    outside, blocked = [], []
    server = urlsplit(live_server.url).netloc
    page.on("request", lambda request: None if same_origin(server, request.url) else outside.append(request.url))
    # Stopped by the page's Content-Security-Policy before any connection is made.
    page.on("requestfailed", lambda request: blocked.append(request.url) if request.failure == "csp" else None)
    page.set_viewport_size(NARROW)

    page.goto("/")
    expect(page.locator("link[rel=icon]")).to_have_attribute("href", "/static/core/favicon.svg")
    page.goto("/api/redoc/")
    expect(page.locator("h1").first).to_be_visible(timeout=30_000)
    expect(page.get_by_text("API docs by Redocly")).to_be_visible()
    page.wait_for_load_state("networkidle")
    screenshot(page, "48-redoc-offline", full_page=False)
    expect(page.locator("link[rel=icon]")).to_have_attribute("href", "/static/core/favicon.svg")
    page.goto("/api/docs/")
    expect(page.locator(".swagger-ui .info .title")).to_be_visible(timeout=30_000)
    page.wait_for_load_state("networkidle")
    log_in(page, staff_user, "49-offline-login")
    expect(page.locator("link[rel=icon]")).to_have_attribute("href", "/static/core/favicon.svg")
    assert page.request.get("/static/core/favicon.svg").headers["content-type"].startswith("image/svg+xml")
    for url, _ in LIST_PAGES.values():
        page.goto(url)
        page.goto(f"{url}add/")
    page.wait_for_load_state("networkidle")

    assert [url for url in outside if url not in blocked] == []
    assert set(blocked) <= {"https://cdn.redoc.ly/redoc/logo-mini.svg"}  # Redoc's sidebar logo, kept off


def same_origin(server: str, url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in ("data", "blob") or parts.netloc == server
