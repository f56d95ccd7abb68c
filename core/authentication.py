"""Stytch B2B bearer tokens: session JWTs of members and M2M access tokens.

Tokens are verified locally against the project's JWKS (``core.jwks``): RS256 only,
the key chosen by ``kid``, audience and issuer pinned to the Stytch project.
"""

from __future__ import annotations

import base64
import json
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import jwt
from django.conf import settings
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.exceptions import AuthenticationFailed

from core import jwks, limits

if TYPE_CHECKING:
    from drf_spectacular.openapi import AutoSchema
    from rest_framework.request import Request

SESSION_CLAIM = "https://stytch.com/session"
ORGANIZATION_CLAIM = "https://stytch.com/organization"
M2M_ORGANIZATION_CLAIM = "organization_id"
ALGORITHM = "RS256"
REQUIRED_CLAIMS = ("iss", "aud", "exp", "iat", "nbf", "sub")
TIME_CLAIMS = ("exp", "iat", "nbf")
MAX_KID_LENGTH = 128
_STYTCH_ID = re.compile(limits.STYTCH_ID_PATTERN)

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


@dataclass(frozen=True)
class _Verified:
    """A token whose signature and claims were checked, and what they were checked against."""

    claims: dict[str, Any]
    kid: str
    key: jwt.PyJWK
    checked_against: tuple[Any, ...]
    not_before: float  # max(iat, nbf) - leeway: the earliest time the token is accepted
    expires: float  # exp + leeway: from then on the token is refused


class VerifiedTokenCache:
    """The tokens this process verified recently, so a caller's next requests skip the RSA check.

    A client sends the same token with every request until it expires (Stytch session JWTs
    live 5 minutes, M2M tokens an hour), and decoding it costs far more than the request's
    own work. An entry is used only for the identical token string, and only while:
    - its time claims still hold (exp, nbf, iat with the configured leeway, checked on
      every hit, as a fresh verification would);
    - the key store still holds the very key object that verified it (a refreshed, rotated
      or reset key set means a new verification);
    - audience, issuers and leeway are the ones it was checked against.
    Least recently used entries go first beyond `max_entries`.
    """

    def __init__(self, max_entries: int = 10_000) -> None:
        self.max_entries = max_entries
        self._entries: OrderedDict[str, _Verified] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, token: str) -> _Verified | None:
        entry = self._entries.get(token)
        if entry is None:
            return None
        with self._lock:
            if token in self._entries:
                self._entries.move_to_end(token)
        return entry

    def put(self, token: str, entry: _Verified) -> None:
        with self._lock:
            self._entries[token] = entry
            self._entries.move_to_end(token)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)

    def discard(self, token: str) -> None:
        with self._lock:
            self._entries.pop(token, None)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)


verified_tokens = VerifiedTokenCache()


def _checked_against() -> tuple[Any, ...]:
    return (settings.STYTCH_PROJECT_ID, accepted_issuers(), settings.STYTCH_JWT_LEEWAY)


def verify_token(token: str) -> dict[str, Any]:
    """Return the claims of a valid Stytch token; raise ``AuthenticationFailed`` otherwise.

    A token this process verified before is answered from `verified_tokens` while it stays valid.
    """
    entry = verified_tokens.get(token)
    if entry is not None:
        claims = _claims_of_verified(token, entry)
        if claims is not None:
            return claims
    return _verify_and_remember(token)


def _claims_of_verified(token: str, entry: _Verified) -> dict[str, Any] | None:
    """The claims of a remembered token if it still passes; None sends it to a full verification."""
    now = time.time()
    if not entry.not_before <= now < entry.expires or entry.checked_against != _checked_against():
        verified_tokens.discard(token)
        return None
    try:
        current_key = jwks.get_signing_key(entry.kid)
    except (jwks.SigningKeysUnavailable, jwks.UnknownSigningKey):
        current_key = None
    if current_key is not entry.key:
        verified_tokens.discard(token)
        return None
    return dict(entry.claims)


def _verify_and_remember(token: str) -> dict[str, Any]:
    claims, kid, key = _verify(token)
    leeway = settings.STYTCH_JWT_LEEWAY
    exp, iat, nbf = (claims[name] for name in TIME_CLAIMS)  # numbers: `_verify` checked them
    verified_tokens.put(
        token,
        _Verified(
            claims=dict(claims),
            kid=kid,
            key=key,
            checked_against=_checked_against(),
            not_before=max(iat, nbf) - leeway,
            expires=exp + leeway,
        ),
    )
    return claims


def _verify(token: str) -> tuple[dict[str, Any], str, jwt.PyJWK]:
    """The full check of a token: shape, header, signing key, signature and claims."""
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
        claims = jwt.decode(
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
    for name in TIME_CLAIMS:
        # RFC 7519 NumericDate: a JSON number (pyjwt would take "1700000000" as well).
        if not _is_number(claims[name]):
            raise AuthenticationFailed(f"Token '{name}' claim must be a number.")
    return claims, kid, signing_key


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _checked_id(value: Any, *, claim: str, max_length: int) -> str:
    """A Stytch id of a sane shape, or a 401 naming the claim (before it reaches the database)."""
    if not isinstance(value, str) or not value:
        raise AuthenticationFailed(f"Token '{claim}' claim is empty.")
    if len(value) > max_length or not _STYTCH_ID.fullmatch(value):
        raise AuthenticationFailed(f"Token '{claim}' claim is not a valid Stytch id.")
    return value


def _strings(values: Any) -> Iterable[str]:
    if not isinstance(values, list):
        return ()
    return (value for value in values if isinstance(value, str))


def principal_from_claims(claims: dict[str, Any]) -> Principal:
    _checked_id(claims["sub"], claim="sub", max_length=limits.SUBJECT_ID_MAX_LENGTH)
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
    _checked_id(organization_id, claim="organization_id", max_length=limits.ORGANIZATION_ID_MAX_LENGTH)
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
    _checked_id(organization_id, claim="organization_id", max_length=limits.ORGANIZATION_ID_MAX_LENGTH)
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


class StytchBearerScheme(OpenApiAuthenticationExtension):
    target_class = StytchJWTAuthentication
    name = "StytchBearer"

    def get_security_definition(self, auto_schema: AutoSchema) -> dict[str, Any]:
        return {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "JWT",
            "description": (
                "A Stytch B2B session JWT (members; reads for any member of the organization, "
                "writes for the roles in STYTCH_WRITE_ROLES) or an M2M access token (clients; "
                "scopes `read:<resource>`, `write:<resource>`, `read:*`, `write:*`). "
                "Send it as `Authorization: Bearer <token>`. For local development, "
                "`python manage.py dev_token` prints one."
            ),
        }
