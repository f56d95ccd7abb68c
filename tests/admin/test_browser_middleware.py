"""Django's session, authentication and message middleware runs for the admin and the HTML
pages, not for the JSON API (config/browser_middleware.py)."""

import pytest
from django.core.checks import run_checks
from django.test import Client
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db

BROWSER_CHECK_IDS = {"admin.E408", "admin.E409", "admin.E410"}


def test_api_responses_touch_no_session_or_cookie(admin_client, staff_user):
    admin_client.force_login(staff_user)  # a browser that is also logged in to the admin
    admin_client.cookies["csrftoken"] = "a" * 32

    response = admin_client.get("/v1/models")

    assert response.status_code == 200
    assert not response.cookies
    assert "Cookie" not in response.get("Vary", "")
    # The security headers are still set on the API.
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["X-Frame-Options"] == "DENY"


def test_a_staff_session_does_not_authenticate_the_api(staff_client):
    response = staff_client.get("/v1/models")

    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


def test_an_api_write_needs_no_csrf_token(make_token):
    client = APIClient(enforce_csrf_checks=True)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {make_token(org='org-a', roles=('stytch_admin',))}")
    client.cookies["csrftoken"] = "a" * 32

    response = client.post(
        "/v1/prompt-particles", {"name": "Role", "kind": "role", "content": "Be kind."}, format="json"
    )

    assert response.status_code == 201, response.content


def test_the_admin_keeps_sessions_csrf_and_frame_options(staff_user):
    browser = Client(enforce_csrf_checks=True)

    login_page = browser.get("/admin/login/")
    assert login_page.status_code == 200
    assert login_page["X-Frame-Options"] == "DENY"
    assert "csrftoken" in login_page.cookies

    credentials = {"username": staff_user.username, "password": staff_user.raw_password, "next": "/admin/"}
    assert browser.post("/admin/login/", credentials).status_code == 403  # no CSRF token

    token = login_page.cookies["csrftoken"].value
    logged_in = browser.post("/admin/login/", {**credentials, "csrfmiddlewaretoken": token})
    assert logged_in.status_code == 302
    assert "sessionid" in logged_in.cookies
    assert browser.get("/admin/").status_code == 200


def test_the_admin_system_checks_accept_the_browser_middleware():
    assert not {message.id for message in run_checks(tags=["admin"])} & BROWSER_CHECK_IDS


def test_the_admin_system_checks_notice_missing_browser_middleware(settings):
    settings.MIDDLEWARE = [name for name in settings.MIDDLEWARE if "browser_middleware" not in name]

    assert {message.id for message in run_checks(tags=["admin"])} >= BROWSER_CHECK_IDS
