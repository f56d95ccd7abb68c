"""Fixtures for the admin tests: a logged-in staff client, rows made with tests/factories.py,
and a Chromium page on the live server for the browser tests (tests/admin/browser.py).

The shared tests/conftest.py defines `admin_client` for the API, hence `staff_client` here.
"""

import pytest
from django.contrib.auth import get_user_model

from models_registry.models import AIModel
from prompts.models import PromptComposition, PromptParticle
from tests.factories import CompositionFactory, GlobalParticleFactory, SystemModelFactory, UserModelFactory

STAFF_USERNAME = "curator"
STAFF_PASSWORD = "curator-password-1"


@pytest.fixture
def staff_user(db):
    user = get_user_model().objects.create_superuser(
        username=STAFF_USERNAME, email="curator@example.com", password=STAFF_PASSWORD
    )
    user.raw_password = STAFF_PASSWORD
    return user


@pytest.fixture
def staff_client(client, staff_user):
    client.force_login(staff_user)
    return client


@pytest.fixture
def make_system_model(db):
    def make(**fields) -> AIModel:
        return SystemModelFactory(**{"max_tokens": 4_096, "description": "", **fields})

    return make


@pytest.fixture
def make_user_model(db):
    def make(parent: AIModel, **fields) -> AIModel:
        return UserModelFactory(parent=parent, **{"organization_id": "organization-test-1", **fields})

    return make


@pytest.fixture
def make_particle(db):
    def make(content: str, **fields) -> PromptParticle:
        return GlobalParticleFactory(content=content, **{"kind": "custom", **fields})

    return make


@pytest.fixture
def make_composition(db):
    def make(particles, **fields) -> PromptComposition:
        return CompositionFactory(particles=list(particles), **{"organization_id": None, "is_system": True, **fields})

    return make


# --- The browser tests' Chromium (only the modules that import tests/admin/browser.py use them) ---


@pytest.fixture(scope="module")
def browser():
    from tests.admin.browser import CHROMIUM, CHROMIUM_ARGS, sync_api

    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, live_server, settings):
    from tests.admin.browser import SCREENSHOTS, VIEWPORT

    # The live server speaks plain HTTP.
    settings.SESSION_COOKIE_SECURE = False
    settings.CSRF_COOKIE_SECURE = False
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(base_url=live_server.url, viewport=VIEWPORT)
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()
