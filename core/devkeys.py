"""A local RSA key pair and Stytch-shaped tokens, for development without a Stytch account.

The private key and its public JWKS live in ``DEV_KEYS_DIR`` (git-ignored). The server
trusts them only when ``STYTCH_JWKS_URL`` points at that ``jwks.json``.
"""

from __future__ import annotations

import json
import os
import time
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

from core.authentication import ORGANIZATION_CLAIM, SESSION_CLAIM

DEV_KID = "dev-key-1"
PRIVATE_KEY_FILENAME = "dev_private_key.pem"
JWKS_FILENAME = "jwks.json"

DEFAULT_ORGANIZATION_ID = "organization-test-demo"
DEFAULT_ORGANIZATION_SLUG = "demo"
DEFAULT_MEMBER_ID = "member-test-demo"
DEFAULT_CLIENT_ID = "m2m-client-test-demo"
DEFAULT_TTL = 3600


def generate_private_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def public_jwk(private_key: Any, kid: str, algorithm: str = "RS256") -> dict[str, Any]:
    """The public half of ``private_key`` (RSA or EC) as a signing JWK."""
    return {**_to_jwk(private_key.public_key()), "kid": kid, "use": "sig", "alg": algorithm}


def _to_jwk(public_key: Any) -> dict[str, Any]:
    if isinstance(public_key, rsa.RSAPublicKey):
        return RSAAlgorithm.to_jwk(public_key, as_dict=True)
    return ECAlgorithm.to_jwk(public_key, as_dict=True)


def write_jwks(path: Path, jwks: Iterable[dict[str, Any]]) -> Path:
    path.write_text(json.dumps({"keys": list(jwks)}, indent=2) + "\n")
    return path


def jwks_file_url(path: Path) -> str:
    return path.resolve().as_uri()


def ensure_dev_keys(directory: Path, kid: str = DEV_KID) -> tuple[rsa.RSAPrivateKey, Path]:
    """Load the development key pair from ``directory``, creating it on first use."""
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    key_path = directory / PRIVATE_KEY_FILENAME
    jwks_path = directory / JWKS_FILENAME
    if key_path.exists():
        private_key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
        if not isinstance(private_key, rsa.RSAPrivateKey):
            raise ValueError(f"{key_path} does not hold an RSA private key")
    else:
        private_key = generate_private_key()
        pem = private_key.private_bytes(
            encoding=serialization.Encoding.PEM,
            format=serialization.PrivateFormat.PKCS8,
            encryption_algorithm=serialization.NoEncryption(),
        )
        descriptor = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "wb") as key_file:
            key_file.write(pem)
    expected = {"keys": [public_jwk(private_key, kid)]}
    if not jwks_path.exists() or json.loads(jwks_path.read_text() or "{}") != expected:
        write_jwks(jwks_path, expected["keys"])
    return private_key, jwks_path


def mint_token(
    private_key: Any,
    kid: str,
    claims: dict[str, Any],
    *,
    algorithm: str = "RS256",
    headers: dict[str, Any] | None = None,
) -> str:
    return jwt.encode(claims, private_key, algorithm=algorithm, headers={"kid": kid, **(headers or {})})


def _timestamps(ttl: int, now: int | None) -> tuple[int, int]:
    issued_at = int(time.time()) if now is None else now
    return issued_at, issued_at + ttl


def _iso(timestamp: int) -> str:
    return datetime.fromtimestamp(timestamp, tz=UTC).isoformat().replace("+00:00", "Z")


def _registered_claims(project_id: str, subject: str, ttl: int, now: int | None) -> dict[str, Any]:
    issued_at, expires_at = _timestamps(ttl, now)
    return {
        "aud": [project_id],
        "iss": f"stytch.com/{project_id}",
        "sub": subject,
        "iat": issued_at,
        "nbf": issued_at,
        "exp": expires_at,
    }


def member_claims(
    *,
    project_id: str,
    organization_id: str = DEFAULT_ORGANIZATION_ID,
    organization_slug: str = DEFAULT_ORGANIZATION_SLUG,
    member_id: str = DEFAULT_MEMBER_ID,
    roles: Iterable[str] = ("stytch_member", "stytch_admin"),
    ttl: int = DEFAULT_TTL,
    now: int | None = None,
) -> dict[str, Any]:
    """Claims shaped like a Stytch B2B session JWT authenticated by email magic link."""
    claims = _registered_claims(project_id, member_id, ttl, now)
    started_at, expires_at = _iso(claims["iat"]), _iso(claims["exp"])
    claims[SESSION_CLAIM] = {
        "id": f"session-test-{uuid.uuid4()}",
        "started_at": started_at,
        "last_accessed_at": started_at,
        "expires_at": expires_at,
        "attributes": {"ip_address": "", "user_agent": ""},
        "authentication_factors": [
            {
                "type": "magic_link",
                "delivery_method": "email",
                "last_authenticated_at": started_at,
                "email_factor": {
                    "email_id": f"member-email-test-{member_id}",
                    "email_address": f"{member_id}@example.com",
                },
            }
        ],
        "roles": list(roles),
    }
    claims[ORGANIZATION_CLAIM] = {"organization_id": organization_id, "slug": organization_slug}
    return claims


def m2m_claims(
    *,
    project_id: str,
    organization_id: str = DEFAULT_ORGANIZATION_ID,
    client_id: str = DEFAULT_CLIENT_ID,
    scopes: str = "read:* write:*",
    ttl: int = DEFAULT_TTL,
    now: int | None = None,
) -> dict[str, Any]:
    """Claims shaped like a Stytch M2M access token with an ``organization_id`` custom claim."""
    claims = _registered_claims(project_id, client_id, ttl, now)
    claims["scope"] = scopes
    claims["organization_id"] = organization_id
    return claims
