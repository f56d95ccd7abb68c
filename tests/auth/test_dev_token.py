import io
import json
import stat
from pathlib import Path
from typing import Any

import jwt
import pytest
from django.core.management import CommandError, call_command
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory

from core import devkeys, jwks
from core.authentication import ORGANIZATION_CLAIM, SESSION_CLAIM, Principal, StytchJWTAuthentication


@pytest.fixture
def dev_keys_dir(settings: Any, tmp_path: Path) -> Path:
    settings.DEV_KEYS_DIR = tmp_path / ".dev"
    return settings.DEV_KEYS_DIR


def run_dev_token(*args: str) -> tuple[str, str]:
    stdout, stderr = io.StringIO(), io.StringIO()
    call_command("dev_token", *args, stdout=stdout, stderr=stderr)
    return stdout.getvalue().strip(), stderr.getvalue().strip()


def authenticate(settings: Any, dev_keys_dir: Path, token: str) -> tuple[Principal, dict[str, Any]]:
    settings.STYTCH_JWKS_URL = devkeys.jwks_file_url(dev_keys_dir / devkeys.JWKS_FILENAME)
    jwks.reset()
    request = Request(APIRequestFactory().get("/", HTTP_AUTHORIZATION=f"Bearer {token}"))
    result = StytchJWTAuthentication().authenticate(request)
    assert result is not None
    return result


def test_member_token_verifies_with_the_dev_jwks(settings: Any, dev_keys_dir: Path) -> None:
    token, _ = run_dev_token()

    principal, claims = authenticate(settings, dev_keys_dir, token)

    assert principal.kind == "member"
    assert principal.organization_id == "organization-test-demo"
    assert principal.organization_slug == "demo"
    assert principal.subject_id == "member-test-demo"
    assert principal.roles == {"stytch_member", "stytch_admin"}
    assert principal.authentication_factors == ("magic_link",)
    assert principal.can_write("models")
    assert claims["iss"] == f"stytch.com/{settings.STYTCH_PROJECT_ID}"
    assert claims["aud"] == [settings.STYTCH_PROJECT_ID]
    assert claims["nbf"] == claims["iat"] == claims["exp"] - 3600
    assert {"started_at", "last_accessed_at", "expires_at", "attributes"} <= claims[SESSION_CLAIM].keys()
    assert claims[ORGANIZATION_CLAIM] == {"organization_id": "organization-test-demo", "slug": "demo"}


def test_member_options_shape_the_token(settings: Any, dev_keys_dir: Path) -> None:
    token, _ = run_dev_token(
        "--org",
        "organization-test-acme",
        "--org-slug",
        "acme",
        "--member",
        "member-test-bob",
        "--role",
        "stytch_member",
        "--ttl",
        "120",
    )

    principal, claims = authenticate(settings, dev_keys_dir, token)

    assert (principal.organization_id, principal.organization_slug) == ("organization-test-acme", "acme")
    assert principal.subject_id == "member-test-bob"
    assert principal.roles == {"stytch_member"}
    assert not principal.can_write("models")
    assert claims["exp"] - claims["iat"] == 120


def test_m2m_token_verifies_with_the_dev_jwks(settings: Any, dev_keys_dir: Path) -> None:
    token, _ = run_dev_token("--m2m", "--scope", "read:models write:models", "--org", "organization-test-x")

    principal, claims = authenticate(settings, dev_keys_dir, token)

    assert principal.kind == "m2m"
    assert principal.scopes == {"read:models", "write:models"}
    assert principal.organization_id == "organization-test-x"
    assert SESSION_CLAIM not in claims


def test_key_pair_is_created_once_with_a_private_key_file_mode_0600(dev_keys_dir: Path) -> None:
    first, _ = run_dev_token()
    second, _ = run_dev_token()

    key_file = dev_keys_dir / devkeys.PRIVATE_KEY_FILENAME
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    document = json.loads((dev_keys_dir / devkeys.JWKS_FILENAME).read_text())
    assert [key["kid"] for key in document["keys"]] == [devkeys.DEV_KID]
    assert "d" not in document["keys"][0]
    assert jwt.get_unverified_header(first)["kid"] == jwt.get_unverified_header(second)["kid"] == devkeys.DEV_KID
    public_key = jwt.PyJWK(document["keys"][0]).key
    for token in (first, second):
        jwt.decode(token, public_key, algorithms=["RS256"], options={"verify_aud": False})


def test_print_jwks_url_prints_the_file_url(dev_keys_dir: Path) -> None:
    output, _ = run_dev_token("--print-jwks-url")

    assert output == (dev_keys_dir / devkeys.JWKS_FILENAME).resolve().as_uri()
    assert output.startswith("file:///")


def test_hint_on_stderr_when_the_server_does_not_trust_the_dev_keys(dev_keys_dir: Path) -> None:
    _, hint = run_dev_token()

    assert "STYTCH_JWKS_URL=file://" in hint


def test_refuses_a_live_project_with_debug_off(settings: Any, dev_keys_dir: Path) -> None:
    settings.DEBUG = False
    settings.STYTCH_PROJECT_ID = "project-live-11111111-2222-3333-4444-555555555555"

    with pytest.raises(CommandError, match="live Stytch project"):
        run_dev_token()
    assert not dev_keys_dir.exists()


def test_rejects_a_non_positive_ttl(dev_keys_dir: Path) -> None:
    with pytest.raises(CommandError, match="--ttl"):
        run_dev_token("--ttl", "0")
