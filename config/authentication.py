"""Stytch B2B bearer tokens: session JWTs of members and M2M access tokens.

Tokens are verified locally against the project's JWKS (``config.jwks``): RS256 only,
the key chosen by ``kid``, audience and issuer pinned to the Stytch project.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import jwt
from django.conf import settings
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.exceptions import AuthenticationFailed

from config import jwks

if TYPE_CHECKING:
    from rest_framework.request import Request

SESSION_CLAIM = "https://stytch.com/session"
ORGANIZATION_CLAIM = "https://stytch.com/organization"
M2M_ORGANIZATION_CLAIM = "organization_id"
ALGORITHM = "RS256"
REQUIRED_CLAIMS = ("iss", "aud", "exp", "iat", "nbf", "sub")
MAX_KID_LENGTH = 128

_JWT_SHAPE = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*")

PrincipalKind = Literal["member", "m2m"]


@dataclass(frozen=True)
class Principal:
    """Who made the request: a member of an organization or an M2M client acting for one."""

    kind: PrincipalKind
    subject_id: str
    organization_id: str
    organization_slug: str | None = None
    roles: frozenset[str] = frozenset()
    scopes: frozenset[str] = frozenset()
    authentication_factors: tuple[str, ...] = ()

    is_authenticated = True
    is_anonymous = False
    is_staff = False

    @property
    def actor(self) -> str:
        return f"{self.kind}:{self.subject_id}"

    @property
    def pk(self) -> str:
        return self.actor

    def has_scope(self, action: str, resource: str) -> bool:
        return f"{action}:{resource}" in self.scopes or f"{action}:*" in self.scopes

    def can_read(self, resource: str) -> bool:
        return self.kind == "member" or self.has_scope("read", resource)

    @property
    def is_admin(self) -> bool:
        """A member holding one of STYTCH_WRITE_ROLES."""
        return self.kind == "member" and not self.roles.isdisjoint(settings.STYTCH_WRITE_ROLES)

    def can_write(self, resource: str) -> bool:
        return self.is_admin or self.has_scope("write", resource)


def accepted_issuers() -> tuple[str, ...]:
    issuers = [f"stytch.com/{settings.STYTCH_PROJECT_ID}"]
    if settings.STYTCH_CUSTOM_BASE_URL:
        issuers.append(settings.STYTCH_CUSTOM_BASE_URL)
    return tuple(issuers)


_DECODE_ERRORS: tuple[tuple[type[jwt.PyJWTError], str], ...] = (
    (jwt.ExpiredSignatureError, "Token has expired."),
    (jwt.ImmatureSignatureError, "Token is not yet valid (nbf or iat is in the future)."),
    (jwt.InvalidAudienceError, "Token audience does not include this Stytch project."),
    (jwt.InvalidIssuerError, "Token issuer is not trusted."),
    (jwt.InvalidIssuedAtError, "Token 'iat' claim must be a number."),
    (jwt.exceptions.InvalidSubjectError, "Token 'sub' claim must be a string."),
    (jwt.InvalidAlgorithmError, "Unsupported token algorithm; only RS256 is accepted."),
    (jwt.InvalidSignatureError, "Token signature is invalid."),
    (jwt.DecodeError, "Malformed token."),
)


def _decode_error_message(exc: jwt.PyJWTError) -> str:
    if isinstance(exc, jwt.MissingRequiredClaimError):
        return f"Token is missing the '{exc.claim}' claim."
    for error_type, message in _DECODE_ERRORS:
        if isinstance(exc, error_type):
            return message
    return "Invalid token."


def _unverified_header(token: str) -> dict[str, Any]:
    """The JOSE header, decoded directly: the token's characters were already checked by
    `_JWT_SHAPE`, and pyjwt's own parser would scan the whole token once more in Python."""
    segment = token.split(".", 1)[0]
    try:
        header = json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)))
    except (ValueError, UnicodeDecodeError) as exc:
        raise AuthenticationFailed("Malformed token.") from exc
    if not isinstance(header, dict):
        raise AuthenticationFailed("Malformed token.")
    return header


def verify_token(token: str) -> dict[str, Any]:
    """Return the claims of a valid Stytch token; raise ``AuthenticationFailed`` otherwise."""
    if not _JWT_SHAPE.fullmatch(token):
        raise AuthenticationFailed("Malformed token.")
    header = _unverified_header(token)
    if header.get("alg") != ALGORITHM:
        raise AuthenticationFailed("Unsupported token algorithm; only RS256 is accepted.")
    kid = header.get("kid")
    if not isinstance(kid, str) or not kid:
        raise AuthenticationFailed("Token header has no 'kid' (signing key id).")
    if len(kid) > MAX_KID_LENGTH:
        raise AuthenticationFailed("Token signing key is unknown.")
    try:
        signing_key = jwks.get_signing_key(kid)
    except jwks.SigningKeysUnavailable as exc:
        raise AuthenticationFailed("Token signing keys are unavailable right now; try again shortly.") from exc
    except jwks.UnknownSigningKey as exc:
        raise AuthenticationFailed("Token signing key is unknown.") from exc
    if signing_key.key_type != "RSA":
        raise AuthenticationFailed("Unsupported token algorithm; only RS256 is accepted.")
    try:
        return jwt.decode(
            token,
            key=signing_key.key,
            algorithms=[ALGORITHM],
            audience=settings.STYTCH_PROJECT_ID,
            issuer=accepted_issuers(),
            leeway=settings.STYTCH_JWT_LEEWAY,
            options={"require": list(REQUIRED_CLAIMS)},
        )
    except jwt.PyJWTError as exc:
        raise AuthenticationFailed(_decode_error_message(exc)) from exc


def _strings(values: Any) -> Iterable[str]:
    if not isinstance(values, list):
        return ()
    return (value for value in values if isinstance(value, str))


def principal_from_claims(claims: dict[str, Any]) -> Principal:
    if not claims["sub"]:
        raise AuthenticationFailed("Token 'sub' claim is empty.")
    if SESSION_CLAIM in claims:
        return _member_principal(claims)
    return _m2m_principal(claims)


def _member_principal(claims: dict[str, Any]) -> Principal:
    session = claims[SESSION_CLAIM]
    if not isinstance(session, dict):
        raise AuthenticationFailed(f"Token '{SESSION_CLAIM}' claim must be an object.")
    organization = claims.get(ORGANIZATION_CLAIM)
    organization_id = organization.get("organization_id") if isinstance(organization, dict) else None
    if not isinstance(organization_id, str) or not organization_id:
        raise AuthenticationFailed(f"Session token has no organization ('{ORGANIZATION_CLAIM}' claim).")
    slug = organization.get("slug")
    factors = session.get("authentication_factors")
    factor_types = tuple(
        factor["type"]
        for factor in (factors if isinstance(factors, list) else ())
        if isinstance(factor, dict) and isinstance(factor.get("type"), str)
    )
    return Principal(
        kind="member",
        subject_id=claims["sub"],
        organization_id=organization_id,
        organization_slug=slug if isinstance(slug, str) and slug else None,
        roles=frozenset(_strings(session.get("roles"))),
        authentication_factors=factor_types,
    )


def _m2m_principal(claims: dict[str, Any]) -> Principal:
    organization_id = claims.get(M2M_ORGANIZATION_CLAIM)
    if not isinstance(organization_id, str) or not organization_id:
        raise AuthenticationFailed(f"M2M token has no organization ('{M2M_ORGANIZATION_CLAIM}' claim).")
    scope = claims.get("scope")
    return Principal(
        kind="m2m",
        subject_id=claims["sub"],
        organization_id=organization_id,
        scopes=frozenset(scope.split()) if isinstance(scope, str) else frozenset(),
    )


class StytchJWTAuthentication(BaseAuthentication):
    """``Authorization: Bearer <jwt>`` with a Stytch B2B session JWT or M2M access token."""

    keyword = "Bearer"
    www_authenticate_realm = "api"

    def authenticate(self, request: Request) -> tuple[Principal, dict[str, Any]] | None:
        header = get_authorization_header(request).split()
        if not header:
            return None
        if header[0].lower() != self.keyword.lower().encode():
            raise AuthenticationFailed("Authorization header must be 'Bearer <token>'.")
        if len(header) == 1:
            raise AuthenticationFailed("Bearer token is empty.")
        if len(header) > 2:
            raise AuthenticationFailed("Authorization header must be 'Bearer <token>' with no spaces in the token.")
        try:
            token = header[1].decode("ascii")
        except UnicodeDecodeError as exc:
            raise AuthenticationFailed("Malformed token.") from exc
        claims = verify_token(token)
        return principal_from_claims(claims), claims

    def authenticate_header(self, request: Request) -> str:
        return f'{self.keyword} realm="{self.www_authenticate_realm}"'
