"""Stytch settings as the official SDK takes them: a custom domain needs its https:// scheme and
loses its trailing slash, is accepted as issuer and serves the JWKS; the default leeway is at
most 5 s; http:// and file:// JWKS URLs are refused with DEBUG off unless allowed."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from rest_framework.test import APIClient

from core import jwks
from tests.assertions import assert_error_shape

ROOT = Path(__file__).resolve().parents[2]


def _settings_of(**env: str) -> subprocess.CompletedProcess:
    """Load config.settings in a fresh process with these variables; print what it made of them."""
    script = (
        "import django; django.setup(); from django.conf import settings; from core import jwks; "
        "print(settings.STYTCH_CUSTOM_BASE_URL); print(settings.STYTCH_JWT_LEEWAY); print(jwks.configured_jwks_url())"
    )
    base = {k: v for k, v in os.environ.items() if not k.startswith("STYTCH_")}
    return subprocess.run(  # noqa: S603 - our own interpreter
        [sys.executable, "-c", script],
        cwd=ROOT,
        env={**base, "DJANGO_SETTINGS_MODULE": "config.settings", "SECRET_KEY": "x" * 60, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_a_custom_domain_loses_its_trailing_slash_and_serves_the_jwks() -> None:
    result = _settings_of(STYTCH_PROJECT_ID="project-live-1234", STYTCH_CUSTOM_BASE_URL=" https://login.example.com/ ")

    assert result.returncode == 0, result.stderr
    base_url, leeway, jwks_url = result.stdout.split()
    assert base_url == "https://login.example.com"
    assert jwks_url == "https://login.example.com/v1/b2b/sessions/jwks/project-live-1234"
    assert int(leeway) <= 5


@pytest.mark.parametrize("value", ["login.example.com", "http://login.example.com", "ftp://login.example.com"])
def test_a_custom_domain_without_the_https_scheme_is_refused_at_start(value: str) -> None:
    result = _settings_of(STYTCH_CUSTOM_BASE_URL=value)

    assert result.returncode != 0
    assert "STYTCH_CUSTOM_BASE_URL must be an https:// URL" in result.stderr


@pytest.mark.django_db
def test_the_custom_domain_is_accepted_as_issuer(settings: Any, make_token) -> None:
    settings.STYTCH_CUSTOM_BASE_URL = "https://login.example.com"
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {make_token(claims_overrides={'iss': 'https://login.example.com'})}")

    assert client.get("/v1/models").status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("debug", "allow", "status"),
    [(False, False, 401), (True, False, 200), (False, True, 200)],
)
def test_a_file_jwks_is_refused_with_debug_off_unless_allowed(
    settings: Any, make_token, debug: bool, allow: bool, status: int
) -> None:
    settings.DEBUG = debug
    settings.STYTCH_JWKS_ALLOW_INSECURE = allow
    settings.THROTTLE_RATES = {}
    jwks.reset()
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {make_token()}")

    response = client.get("/v1/models")

    assert response.status_code == status, response.content
    if status == 401:
        assert "signing keys are unavailable" in assert_error_shape(response, 401)["detail"]


def test_an_http_jwks_is_refused_before_any_connection(settings: Any) -> None:
    settings.DEBUG = False
    settings.STYTCH_JWKS_ALLOW_INSECURE = False

    with pytest.raises(jwks.JWKSFetchError, match="refused with DEBUG off"):
        jwks.fetch_jwks("http://127.0.0.1:9/jwks.json", timeout=1)
