"""What the admin's browser tests share: Debian's Chromium driven by Playwright.

A test module that imports this one is skipped where /usr/bin/chromium or Playwright is
missing. The `browser` and `page` fixtures are in tests/admin/conftest.py; each step of a test
leaves a screenshot in test-output/screenshots/ (git-ignored).
"""

import os
import re
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
if not CHROMIUM.exists():
    pytest.skip(f"Chromium is not installed at {CHROMIUM} (Debian: apt-get install chromium)", allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright for Python is not installed")
expect = sync_api.expect

# Playwright's sync API runs an event loop in this thread; the live server's ORM calls are safe.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-output" / "screenshots"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-dev-shm-usage"]
VIEWPORT = {"width": 1920, "height": 1080}

# For a browser test module's `pytestmark`: the live server needs rows committed.
BROWSER_TEST_MARKS = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def screenshot(target, name: str, *, full_page: bool = True) -> None:
    """test-output/screenshots/<name>.png: the whole page (or only what the viewport shows), or
    one element when `target` is a locator."""
    path = str(SCREENSHOTS / f"{name}.png")
    if isinstance(target, sync_api.Locator):
        target.screenshot(path=path)
    else:
        target.screenshot(path=path, full_page=full_page)


def log_in(page, user, first_screenshot: str) -> None:
    page.goto("/admin/login/")
    expect(page).to_have_title(re.compile("Model Registry"))
    page.fill("#id_username", user.username)
    page.fill("#id_password", user.raw_password)
    screenshot(page, first_screenshot)
    page.click("input[type=submit]")
    expect(page.locator("#site-name")).to_have_text("Model Registry")
    expect(page.locator("#content h1")).to_have_text("Curation")
