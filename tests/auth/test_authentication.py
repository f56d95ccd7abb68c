import base64
import hashlib
import hmac
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from django.conf import settings
from rest_framework.test import APIClient

from core import devkeys, jwks
from core.authentication import ORGANIZATION_CLAIM, SESSION_CLAIM, Principal
from tests.conftest import MakeToken, SigningKey

pytestmark = pytest.mark.urls("tests.auth.urls")

URL = "/probe/models"
EC_KID = "test-ec-key-1"


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64json(document: dict[str, Any]) -> str:
    return b64url(json.dumps(document).encode())


@pytest.fixture(scope="module")
def ec_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


@pytest.fixture(scope="module")
def other_rsa_key() -> Any:
    return devkeys.generate_private_key()


@pytest.fixture(autouse=True)
def jwks_with_ec_key(
    settings: Any, tmp_path: Any, jwt_signing_key: SigningKey, ec_key: ec.EllipticCurvePrivateKey
) -> None:
    """The JWKS also publishes an EC key, so ES256 tokens fail on the algorithm, not the kid."""
    path = devkeys.write_jwks(
        tmp_path / "jwks.json",
        [jwt_signing_key.public_jwk, devkeys.public_jwk(ec_key, EC_KID, algorithm="ES256")],
    )
    settings.STYTCH_JWKS_URL = devkeys.jwks_file_url(path)
    jwks.reset()


def now() -> int:
    return int(time.time())


@dataclass
class Keys:
    make_token: MakeToken
    signing_key: SigningKey
    ec_key: ec.EllipticCurvePrivateKey
    other_rsa_key: Any


def hs256_with_public_pem(keys: Keys) -> str:
    pem = keys.signing_key.private_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    valid = keys.make_token()
    payload = valid.split(".")[1]
    header = b64json({"alg": "HS256", "typ": "JWT", "kid": keys.signing_key.kid})
    signature = hmac.new(pem, f"{header}.{payload}".encode(), hashlib.sha256).digest()
    return f"{header}.{payload}.{b64url(signature)}"


def alg_none(keys: Keys) -> str:
    payload = keys.make_token().split(".")[1]
    return f"{b64json({'alg': 'none', 'typ': 'JWT', 'kid': keys.signing_key.kid})}.{payload}."


def payload_changed_after_signing(keys: Keys) -> str:
    header, payload, signature = keys.make_token(roles=("stytch_member",)).split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims[SESSION_CLAIM]["roles"] = ["stytch_member", "stytch_admin"]
    return f"{header}.{b64json(claims)}.{signature}"


def real_issuer() -> str:
    return f"stytch.com/{settings.STYTCH_PROJECT_ID}"


# (id, Authorization header or None, expected words in the message)
AuthCase = tuple[str, Callable[[Keys], str | None], str]

UNAUTHORIZED_CASES: list[AuthCase] = [
    ("no header", lambda k: None, "credentials were not provided"),
    ("basic scheme", lambda k: "Basic dXNlcjpwYXNz", "must be 'Bearer <token>'"),
    ("token scheme", lambda k: f"Token {k.make_token()}", "must be 'Bearer <token>'"),
    ("bearer with space only", lambda k: "Bearer ", "empty"),
    ("bearer alone", lambda k: "Bearer", "empty"),
    ("two segments", lambda k: "Bearer " + k.make_token().rsplit(".", 1)[0], "Malformed"),
    ("four segments", lambda k: f"Bearer {k.make_token()}.c2ln", "Malformed"),
    ("bad base64 characters", lambda k: "Bearer e30!.e30*.c2ln", "Malformed"),
    ("bad base64 length", lambda k: "Bearer A." + k.make_token().split(".", 1)[1], "Malformed"),
    ("header is not json", lambda k: f"Bearer {b64url(b'nope')}.e30.c2ln", "Malformed"),
    ("alg none", lambda k: f"Bearer {alg_none(k)}", "only RS256"),
    ("HS256 with public key as secret", lambda k: f"Bearer {hs256_with_public_pem(k)}", "only RS256"),
    ("RS512 valid signature", lambda k: f"Bearer {k.make_token(algorithm='RS512')}", "only RS256"),
    ("PS256 valid signature", lambda k: f"Bearer {k.make_token(algorithm='PS256')}", "only RS256"),
    (
        "ES256 with key in jwks",
        lambda k: "Bearer " + k.make_token(key=k.ec_key, algorithm="ES256", headers_overrides={"kid": EC_KID}),
        "only RS256",
    ),
    (
        "RS256 header naming the EC key",
        lambda k: f"Bearer {k.make_token(headers_overrides={'kid': EC_KID})}",
        "only RS256",
    ),
    ("payload changed after signing", lambda k: f"Bearer {payload_changed_after_signing(k)}", "signature"),
    ("signed by another key", lambda k: f"Bearer {k.make_token(key=k.other_rsa_key)}", "signature"),
    ("unknown kid", lambda k: f"Bearer {k.make_token(headers_overrides={'kid': 'nope'})}", "unknown"),
    ("empty kid", lambda k: f"Bearer {k.make_token(headers_overrides={'kid': ''})}", "'kid'"),
    ("missing kid", lambda k: f"Bearer {k.make_token(headers_overrides={'kid': None})}", "'kid'"),
    ("10 kB kid", lambda k: f"Bearer {k.make_token(headers_overrides={'kid': 'k' * 10240})}", "unknown"),
    (
        "expired beyond leeway",
        lambda k: (
            "Bearer " + k.make_token(claims_overrides={"iat": now() - 3600, "nbf": now() - 3600, "exp": now() - 31})
        ),
        "expired",
    ),
    ("exp missing", lambda k: f"Bearer {k.make_token(claims_overrides={'exp': None})}", "'exp'"),
    ("iat missing", lambda k: f"Bearer {k.make_token(claims_overrides={'iat': None})}", "'iat'"),
    ("nbf missing", lambda k: f"Bearer {k.make_token(claims_overrides={'nbf': None})}", "'nbf'"),
    ("sub missing", lambda k: f"Bearer {k.make_token(claims_overrides={'sub': None})}", "'sub'"),
    ("sub empty", lambda k: f"Bearer {k.make_token(claims_overrides={'sub': ''})}", "'sub'"),
    (
        "nbf in the future",
        lambda k: f"Bearer {k.make_token(claims_overrides={'nbf': now() + 120})}",
        "not yet valid",
    ),
    (
        "iat in the future",
        lambda k: f"Bearer {k.make_token(claims_overrides={'iat': now() + 120, 'nbf': now()})}",
        "not yet valid",
    ),
    (
        "iss wrong",
        lambda k: f"Bearer {k.make_token(claims_overrides={'iss': 'stytch.com/project-test-other'})}",
        "issuer",
    ),
    ("iss missing", lambda k: f"Bearer {k.make_token(claims_overrides={'iss': None})}", "'iss'"),
    (
        "iss prefix of the real one",
        lambda k: f"Bearer {k.make_token(claims_overrides={'iss': real_issuer()[:-4]})}",
        "issuer",
    ),
    (
        "iss superstring of the real one",
        lambda k: f"Bearer {k.make_token(claims_overrides={'iss': real_issuer() + '.evil'})}",
        "issuer",
    ),
    (
        "iss with scheme added",
        lambda k: f"Bearer {k.make_token(claims_overrides={'iss': 'https://' + real_issuer()})}",
        "issuer",
    ),
    (
        "aud wrong",
        lambda k: f"Bearer {k.make_token(claims_overrides={'aud': ['project-test-other']})}",
        "audience",
    ),
    ("aud missing", lambda k: f"Bearer {k.make_token(claims_overrides={'aud': None})}", "'aud'"),
    ("aud empty list", lambda k: f"Bearer {k.make_token(claims_overrides={'aud': []})}", "'aud'"),
    (
        "session without organization claim",
        lambda k: f"Bearer {k.make_token(claims_overrides={ORGANIZATION_CLAIM: None})}",
        "no organization",
    ),
    (
        "session with empty organization id",
        lambda k: "Bearer " + k.make_token(claims_overrides={ORGANIZATION_CLAIM: {"organization_id": "", "slug": "x"}}),
        "no organization",
    ),
    (
        "m2m without organization_id",
        lambda k: "Bearer " + k.make_token(kind="m2m", scopes="read:*", claims_overrides={"organization_id": None}),
        "no organization",
    ),
]


@pytest.mark.parametrize(
    ("authorization", "reason"),
    [pytest.param(build, reason, id=name) for name, build, reason in UNAUTHORIZED_CASES],
)
def test_request_without_valid_token_is_401_with_bearer_challenge_and_reason(
    authorization: Callable[[Keys], str | None],
    reason: str,
    make_token: MakeToken,
    jwt_signing_key: SigningKey,
    ec_key: ec.EllipticCurvePrivateKey,
    other_rsa_key: Any,
) -> None:
    header = authorization(Keys(make_token, jwt_signing_key, ec_key, other_rsa_key))
    client = APIClient()
    if header is not None:
        client.credentials(HTTP_AUTHORIZATION=header)

    response = client.get(URL)

    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    detail = response.json()["detail"]
    assert reason.lower() in detail.lower()
    assert "Traceback" not in response.content.decode()
    assert "BEGIN" not in response.content.decode()


def test_member_session_token_gives_member_principal_and_claims(make_token: MakeToken) -> None:
    token = make_token(org="org-a", roles=("stytch_member", "stytch_admin"), sub="member-test-ann")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")

    response = client.get(URL)

    assert response.status_code == 200
    assert response.json() == {
        "kind": "member",
        "subject_id": "member-test-ann",
        "organization_id": "org-a",
        "organization_slug": "org-a",
        "roles": ["stytch_admin", "stytch_member"],
        "scopes": [],
        "authentication_factors": ["magic_link"],
        "actor": "member:member-test-ann",
        "auth_sub": "member-test-ann",
    }


def test_m2m_token_gives_client_principal_with_scopes(make_token: MakeToken) -> None:
    client = APIClient()
    token = make_token(kind="m2m", org="org-b", scopes="read:models  write:prompts", sub="m2m-client-test-x")
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")

    response = client.get(URL)

    assert response.status_code == 200
    body = response.json()
    assert body["kind"] == "m2m"
    assert body["organization_id"] == "org-b"
    assert body["organization_slug"] is None
    assert body["scopes"] == ["read:models", "write:prompts"]
    assert body["roles"] == []
    assert body["actor"] == "m2m:m2m-client-test-x"


def test_bearer_keyword_is_case_insensitive(make_token: MakeToken) -> None:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"bearer {make_token()}")

    assert client.get(URL).status_code == 200


def test_token_expired_within_leeway_is_accepted(make_token: MakeToken) -> None:
    client = APIClient()
    token = make_token(claims_overrides={"iat": now() - 3600, "nbf": now() - 3600, "exp": now() - 10})
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")

    assert client.get(URL).status_code == 200


def test_token_not_yet_valid_within_leeway_is_accepted(make_token: MakeToken) -> None:
    client = APIClient()
    client.credentials(
        HTTP_AUTHORIZATION=f"Bearer {make_token(claims_overrides={'iat': now() + 10, 'nbf': now() + 10})}"
    )

    assert client.get(URL).status_code == 200


def test_leeway_follows_the_setting(settings: Any, make_token: MakeToken) -> None:
    settings.STYTCH_JWT_LEEWAY = 0
    client = APIClient()
    token = make_token(claims_overrides={"iat": now() - 3600, "nbf": now() - 3600, "exp": now() - 10})
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")

    assert client.get(URL).status_code == 401


def test_audience_as_a_plain_string_is_accepted(make_token: MakeToken) -> None:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {make_token(claims_overrides={'aud': settings.STYTCH_PROJECT_ID})}")

    assert client.get(URL).status_code == 200


def test_audience_list_containing_the_project_is_accepted(make_token: MakeToken) -> None:
    client = APIClient()
    token = make_token(claims_overrides={"aud": ["another-audience", settings.STYTCH_PROJECT_ID]})
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")

    assert client.get(URL).status_code == 200


CUSTOM_DOMAIN = "https://login.example.com"


@pytest.mark.parametrize(
    ("issuer", "expected_status"),
    [
        pytest.param(CUSTOM_DOMAIN, 200, id="custom domain"),
        pytest.param(None, 200, id="stytch.com issuer still accepted"),
        pytest.param(CUSTOM_DOMAIN + ".evil.com", 401, id="custom domain superstring"),
        pytest.param(CUSTOM_DOMAIN[:-4], 401, id="custom domain prefix"),
        pytest.param(CUSTOM_DOMAIN + "/", 401, id="custom domain with trailing slash"),
    ],
)
def test_custom_domain_issuer_when_configured(
    settings: Any, make_token: MakeToken, issuer: str | None, expected_status: int
) -> None:
    settings.STYTCH_CUSTOM_BASE_URL = CUSTOM_DOMAIN
    client = APIClient()
    overrides = {"iss": issuer} if issuer else {}
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {make_token(claims_overrides=overrides)}")

    assert client.get(URL).status_code == expected_status


def test_custom_domain_issuer_is_refused_when_not_configured(make_token: MakeToken) -> None:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {make_token(claims_overrides={'iss': CUSTOM_DOMAIN})}")

    response = client.get(URL)

    assert response.status_code == 401
    assert "issuer" in response.json()["detail"]


def test_principal_is_frozen_and_authenticated() -> None:
    principal = Principal(kind="m2m", subject_id="m2m-client-test-1", organization_id="org-a")

    assert principal.is_authenticated is True
    assert principal.is_staff is False
    assert principal.actor == "m2m:m2m-client-test-1"
    with pytest.raises(AttributeError):
        principal.organization_id = "org-b"  # type: ignore[misc]
