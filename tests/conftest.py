"""Shared fixtures: a test signing key whose JWKS the server reads, tokens and API clients.

Every test runs with ``STYTCH_JWKS_URL`` pointing at a JWKS file that holds the public half
of ``jwt_signing_key`` (kid ``test-key-1``), so tokens from ``make_token`` verify with no
network call.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from unittest import mock

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from django.conf import settings as django_settings
from rest_framework.test import APIClient

from core import devkeys, jwks, organizations

# Shared helper modules (not test modules): pytest rewrites their asserts as it does a test's.
pytest.register_assert_rewrite("tests.assertions", "tests.api_cases", "tests.models_registry.helpers")

TEST_KID = "test-key-1"

MakeToken = Callable[..., str]
ClientFor = Callable[..., APIClient]


@dataclass(frozen=True)
class SigningKey:
    private_key: rsa.RSAPrivateKey
    kid: str

    @property
    def public_jwk(self) -> dict[str, Any]:
        return devkeys.public_jwk(self.private_key, self.kid)


@pytest.fixture(scope="session")
def jwt_signing_key() -> SigningKey:
    return SigningKey(private_key=devkeys.generate_private_key(), kid=TEST_KID)


@pytest.fixture(scope="session")
def jwks_file(tmp_path_factory: pytest.TempPathFactory, jwt_signing_key: SigningKey) -> Path:
    path = tmp_path_factory.mktemp("jwks") / "jwks.json"
    return devkeys.write_jwks(path, [jwt_signing_key.public_jwk])


@pytest.fixture(autouse=True)
def stytch_jwks(settings: Any, jwks_file: Path) -> Iterator[Path]:
    """Point the server at the test JWKS with a fresh key store and default Stytch settings."""
    settings.STYTCH_JWKS_URL = devkeys.jwks_file_url(jwks_file)
    settings.STYTCH_CUSTOM_BASE_URL = ""
    settings.STYTCH_JWT_LEEWAY = 30
    settings.STYTCH_WRITE_ROLES = ["stytch_admin"]
    settings.STYTCH_JWKS_COOLDOWN = 30.0
    settings.STYTCH_JWKS_ALLOW_INSECURE = True  # the test JWKS is a file
    # A test's transaction rolls back, and the generations with it, while a cached response stays:
    # the next test would meet it under the same key. The cache's own tests
    # (tests/models_registry/test_resolved_cache.py, tests/core/test_response_cache.py) turn it on
    # with real transactions.
    settings.RESPONSE_CACHE_SECONDS = 0
    jwks.reset()
    organizations.forget()  # the rows it recorded roll back with each test
    yield jwks_file
    jwks.reset()
    organizations.forget()


def _apply_overrides(target: dict[str, Any], overrides: dict[str, Any] | None) -> None:
    """Merge ``overrides`` into ``target``; a value of ``None`` removes the key."""
    for name, value in (overrides or {}).items():
        if value is None:
            target.pop(name, None)
        else:
            target[name] = value


@pytest.fixture
def make_token(jwt_signing_key: SigningKey) -> MakeToken:
    """Build a signed Stytch token.

    ``claims_overrides`` and ``headers_overrides`` are merged into the claims and the JOSE
    header; ``None`` as a value removes that claim or header (e.g. ``{"exp": None}``).
    """

    def make(
        kind: str = "member",
        org: str = "org-a",
        roles: Iterable[str] = ("stytch_member",),
        scopes: str = "",
        sub: str | None = None,
        claims_overrides: dict[str, Any] | None = None,
        headers_overrides: dict[str, Any] | None = None,
        key: Any = None,
        algorithm: str = "RS256",
    ) -> str:
        project_id = django_settings.STYTCH_PROJECT_ID
        if kind == "member":
            claims = devkeys.member_claims(
                project_id=project_id,
                organization_id=org,
                organization_slug=org,
                member_id=sub or f"member-test-{org}",
                roles=tuple(roles),
            )
        elif kind == "m2m":
            claims = devkeys.m2m_claims(
                project_id=project_id,
                organization_id=org,
                client_id=sub or f"m2m-client-test-{org}",
                scopes=scopes,
            )
        else:
            raise ValueError(f"kind must be 'member' or 'm2m', not {kind!r}")
        _apply_overrides(claims, claims_overrides)
        headers: dict[str, Any] = {"kid": jwt_signing_key.kid}
        _apply_overrides(headers, headers_overrides)
        signing_key = jwt_signing_key.private_key if key is None else key
        return jwt.encode(claims, signing_key, algorithm=algorithm, headers=headers)

    return make


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()


@pytest.fixture
def client_for(make_token: MakeToken) -> ClientFor:
    """``client_for(org=..., roles=..., kind=..., scopes=...)``: an APIClient with a bearer token."""

    def build(
        org: str = "org-a",
        roles: Iterable[str] = ("stytch_admin",),
        kind: str = "member",
        scopes: str = "",
    ) -> APIClient:
        client = APIClient()
        token = make_token(kind=kind, org=org, roles=roles, scopes=scopes)
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
        return client

    return build


@pytest.fixture
def admin_client(client_for: ClientFor) -> APIClient:
    return client_for(org="org-a", roles=("stytch_admin",))


@pytest.fixture
def member_client(client_for: ClientFor) -> APIClient:
    return client_for(org="org-a", roles=("stytch_member",))


@pytest.fixture
def other_org_client(client_for: ClientFor) -> APIClient:
    return client_for(org="org-b", roles=("stytch_admin",))


@pytest.fixture
def m2m_client_for(client_for: ClientFor) -> Callable[..., APIClient]:
    """``m2m_client_for(scopes, org="org-a")``: an APIClient with an M2M access token."""

    def build(scopes: str, org: str = "org-a") -> APIClient:
        return client_for(org=org, kind="m2m", scopes=scopes)

    return build


@pytest.fixture(autouse=True)
def fresh_cache() -> Iterator[None]:
    """Rate-limit counters, idempotency, cached reads and a tripped cache breaker never leak from
    one test to the next."""
    from django.core.cache import cache, caches

    from core.cache import breaker

    breaker.reset()
    cache.clear()
    caches["local"].clear()
    yield
    cache.clear()
    caches["local"].clear()
    breaker.reset()


@pytest.fixture
def no_rate_limits(settings: Any) -> None:
    """No throttling: the counters live in the cache for the whole process, and API tests make many requests.

    Modules that make many requests use it for every test: ``pytestmark = pytest.mark.usefixtures("no_rate_limits")``.
    """
    settings.THROTTLE_RATES = {}


# --- Redis -----------------------------------------------------------------------------------------

# TEST_REDIS_URL: another database where two runs of the suite share one Redis (.ci/run runs two side by side).
REDIS_LOCATION = os.environ.get("TEST_REDIS_URL") or "redis://127.0.0.1:6379/12"
REDIS_PREFIX = "test-redis"


def redis_answers() -> bool:
    try:
        import redis

        return bool(redis.Redis.from_url(REDIS_LOCATION, socket_connect_timeout=1, socket_timeout=1).ping())
    except Exception:  # noqa: BLE001 - any failure means "no Redis here"
        return False


@pytest.fixture
def redis_cache(settings: Any) -> Iterator[None]:
    """The cache settings.py builds from REDIS_URL, on a database of its own (emptied before and after)."""
    from django.core.cache import cache

    if not redis_answers():
        pytest.skip(f"Redis does not answer at {REDIS_LOCATION}")
    settings.CACHES = {
        **settings.CACHES,
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": REDIS_LOCATION,
            "KEY_PREFIX": REDIS_PREFIX,
            "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 2, "SOCKET_TIMEOUT": 2},
        },
    }
    cache.clear()
    yield
    cache.clear()


@contextmanager
def counting_redis_round_trips() -> Iterator[list[bytes]]:
    """Every command (or pipeline of commands) redis-py sends: one entry per round trip."""
    from redis.connection import AbstractConnection

    sent: list[bytes] = []
    original = AbstractConnection.send_packed_command

    def send_packed_command(self, command, check_health=True):
        sent.append(b"".join(command) if isinstance(command, list) else command)
        return original(self, command, check_health)

    with mock.patch.object(AbstractConnection, "send_packed_command", send_packed_command):
        yield sent


@pytest.fixture(params=["local-memory", "redis-with-rate-limits"])
def response_cache_on(request: pytest.FixtureRequest, settings: Any) -> str:
    """The response cache on (core/response_cache.py), twice: on the local-memory cache with no
    rate limits, and on Redis with rate limits, where the limiter's round trip also reads the entry
    (core.throttling). For tests with real transactions (the generations a key is made of commit)."""
    settings.RESPONSE_CACHE_SECONDS = 300
    settings.THROTTLE_RATES = {}
    if request.param == "local-memory":  # even where the suite runs with REDIS_URL
        settings.CACHES = {**settings.CACHES, "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    else:
        request.getfixturevalue("redis_cache")
        settings.THROTTLE_RATES = {"organization": "10000/minute", "client": "10000/minute"}
    return request.param
