"""CORS (django-cors-headers): a browser page on an origin listed in CORS_ALLOWED_ORIGINS may call
the JSON API, send the headers the API reads and read the headers it answers with; other origins
get no CORS headers, so the browser keeps the answer from them. None is allowed by default."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from rest_framework.test import APIClient

from tests.hardening.test_deploy import manage, production_env, random_secret_key

pytestmark = pytest.mark.django_db

ALLOWED = "https://dashboard.example.com"
REFUSED = "https://evil.example.net"
SENT_HEADERS = ("authorization", "content-type", "idempotency-key", "if-match", "if-none-match", "x-request-id")
EXPOSED_HEADERS = (
    "ETag",
    "Location",
    "Idempotent-Replayed",
    "Retry-After",
    "X-Request-ID",
    "Deprecation",
    "Sunset",
    "Link",
)


@pytest.fixture(autouse=True)
def allowed_origin(settings: Any) -> None:
    settings.CORS_ALLOWED_ORIGINS = [ALLOWED]


def preflight(path: str, origin: str, method: str = "POST", headers: str = ", ".join(SENT_HEADERS)):
    return Client().options(
        path,
        headers={"Origin": origin, "Access-Control-Request-Method": method, "Access-Control-Request-Headers": headers},
    )


def listed(value: str) -> set[str]:
    return {item.strip().lower() for item in value.split(",") if item.strip()}


def test_a_preflight_from_an_allowed_origin_allows_the_method_and_every_header_clients_send() -> None:
    response = preflight("/v1/models", ALLOWED)

    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == ALLOWED
    assert {"get", "post", "patch", "delete"} <= listed(response["Access-Control-Allow-Methods"])
    assert set(SENT_HEADERS) <= listed(response["Access-Control-Allow-Headers"])
    assert int(response["Access-Control-Max-Age"]) > 0
    assert "Access-Control-Allow-Credentials" not in response  # bearer tokens, not cookies


def test_a_preflight_needs_no_token_and_reaches_no_view() -> None:
    """The browser sends a preflight without Authorization: a 401 there would block every call."""
    response = preflight("/v1/models/00000000-0000-0000-0000-000000000000/resolved", ALLOWED, method="GET")

    assert response.status_code == 200
    assert response.content == b""
    assert response["Access-Control-Allow-Origin"] == ALLOWED


def test_a_preflight_from_another_origin_gets_no_cors_headers() -> None:
    response = preflight("/v1/models", REFUSED)

    assert "Access-Control-Allow-Origin" not in response
    assert "Access-Control-Allow-Headers" not in response
    assert "Access-Control-Allow-Methods" not in response


def test_a_get_from_an_allowed_origin_exposes_the_headers_a_browser_client_reads(admin_client: APIClient) -> None:
    response = admin_client.get("/v1/models", headers={"Origin": ALLOWED})

    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == ALLOWED
    assert {name.lower() for name in EXPOSED_HEADERS} <= listed(response["Access-Control-Expose-Headers"])
    assert "origin" in listed(response["Vary"])  # a shared cache keeps one answer per origin
    assert response["ETag"] and response["X-Request-ID"]


def test_a_get_from_another_origin_is_answered_without_cors_headers(admin_client: APIClient) -> None:
    response = admin_client.get("/v1/models", headers={"Origin": REFUSED})

    assert response.status_code == 200  # the browser, not the server, withholds it from the page
    assert "Access-Control-Allow-Origin" not in response
    assert "Access-Control-Expose-Headers" not in response


def test_an_error_carries_cors_headers_so_the_page_can_read_it() -> None:
    response = Client().get("/v1/models", headers={"Origin": ALLOWED})

    assert response.status_code == 401
    assert response["Access-Control-Allow-Origin"] == ALLOWED
    assert response.json()["code"] == "not_authenticated"


def test_the_openai_compatible_catalog_allows_the_origin_too() -> None:
    assert preflight("/openai/v1/models", ALLOWED, method="GET")["Access-Control-Allow-Origin"] == ALLOWED


@pytest.mark.parametrize("path", ["/admin/login/", "/api/schema/", "/healthz", "/metrics"])
def test_pages_outside_the_json_api_stay_same_origin(path: str) -> None:
    response = preflight(path, ALLOWED, method="GET")

    assert "Access-Control-Allow-Origin" not in response


def test_no_origin_is_allowed_by_default_and_the_environment_lists_them() -> None:
    show = ["shell", "--no-imports", "-c", "from django.conf import settings; print(settings.CORS_ALLOWED_ORIGINS)"]
    base = {"SECRET_KEY": random_secret_key(), "ALLOWED_HOSTS": "registry.example.com"}

    default = manage(*show, env=production_env(**base))
    configured = manage(*show, env=production_env(**base, CORS_ALLOWED_ORIGINS=f"{ALLOWED},http://localhost:5173"))

    assert default.returncode == 0, default.stderr
    assert default.stdout.strip() == "[]"
    assert configured.stdout.strip() == str([ALLOWED, "http://localhost:5173"])


def test_an_origin_without_a_scheme_fails_the_system_checks() -> None:
    result = manage(
        "check",
        env=production_env(
            SECRET_KEY=random_secret_key(), ALLOWED_HOSTS="registry.example.com", CORS_ALLOWED_ORIGINS="example.com"
        ),
    )

    assert result.returncode != 0
    assert "corsheaders.E013" in result.stderr
