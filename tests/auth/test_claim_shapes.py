"""Claims of the wrong JSON type or of an insane shape are a 401 before anything reaches the
database: time claims must be numbers (RFC 7519 NumericDate; pyjwt alone takes "1700000000"),
and the organization and subject ids must look like Stytch ids (no NUL, no spaces, bounded)."""

from __future__ import annotations

import time
from typing import Any

import pytest
from rest_framework.test import APIClient

from core.limits import ORGANIZATION_ID_MAX_LENGTH, SUBJECT_ID_MAX_LENGTH
from tests.assertions import assert_error_shape

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("no_rate_limits")]

URL = "/v1/models"


def _get(token: str) -> Any:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client.get(URL)


@pytest.mark.parametrize("claim", ["exp", "iat", "nbf"])
def test_a_time_claim_given_as_a_string_is_refused(make_token, claim: str) -> None:
    now = int(time.time())
    value = {"exp": now + 300, "iat": now, "nbf": now}[claim]

    body = assert_error_shape(_get(make_token(claims_overrides={claim: str(value)})), 401)

    assert body["detail"] == f"Token '{claim}' claim must be a number."


def test_time_claims_as_numbers_are_accepted(make_token) -> None:
    now = time.time()
    token = make_token(claims_overrides={"exp": now + 300.5, "iat": int(now), "nbf": now - 1.25})

    assert _get(token).status_code == 200


@pytest.mark.parametrize(
    "sub",
    ["member\x00evil", "member test", "-member", "member\nx", "m" * (SUBJECT_ID_MAX_LENGTH + 1), "mémber"],
)
@pytest.mark.parametrize("kind", ["member", "m2m"])
def test_a_subject_of_an_insane_shape_is_refused(make_token, kind: str, sub: str) -> None:
    body = assert_error_shape(_get(make_token(kind=kind, sub=sub, scopes="read:models")), 401)

    assert body["detail"] == "Token 'sub' claim is not a valid Stytch id."


@pytest.mark.parametrize("length", [1, SUBJECT_ID_MAX_LENGTH])
def test_subjects_at_the_bounds_are_accepted(make_token, length: int) -> None:
    assert _get(make_token(sub="m" * length)).status_code == 200


@pytest.mark.parametrize("organization_id", ["org\x00a", "org a", "o" * (ORGANIZATION_ID_MAX_LENGTH + 1), "_org"])
def test_a_member_organization_of_an_insane_shape_is_refused(make_token, organization_id: str) -> None:
    body = assert_error_shape(_get(make_token(org=organization_id, sub="member-ok")), 401)

    assert body["detail"] == "Token 'organization_id' claim is not a valid Stytch id."


@pytest.mark.parametrize("organization_id", ["org\x00a", "o" * (ORGANIZATION_ID_MAX_LENGTH + 1)])
def test_an_m2m_organization_of_an_insane_shape_is_refused(make_token, organization_id: str) -> None:
    token = make_token(
        kind="m2m", sub="m2m-ok", scopes="read:models", claims_overrides={"organization_id": organization_id}
    )

    body = assert_error_shape(_get(token), 401)

    assert body["detail"] == "Token 'organization_id' claim is not a valid Stytch id."


@pytest.mark.parametrize("length", [ORGANIZATION_ID_MAX_LENGTH - 1, ORGANIZATION_ID_MAX_LENGTH])
def test_organizations_at_the_bound_are_accepted(make_token, length: int) -> None:
    assert _get(make_token(org="o" * length, sub="member-ok")).status_code == 200
    assert _get(make_token(kind="m2m", org="o" * length, sub="m2m-ok", scopes="read:models")).status_code == 200
