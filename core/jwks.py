"""The Stytch JSON Web Key Set, fetched once per process and refreshed sparingly.

pyjwt's ``PyJWKClient`` accepts only ``http(s)`` URLs and forgets its keys when a fetch
fails. This store also reads ``file://`` (the development keys of ``manage.py dev_token``),
keeps the last good key set through an outage, and refetches at most once per
``STYTCH_JWKS_COOLDOWN`` seconds however many unknown ``kid`` values arrive. Each fetch is
counted by outcome (core.metrics: model_registry_jwks_fetches_total).
"""

from __future__ import annotations

import http.client
import json
import logging
import threading
import urllib.request
from time import monotonic
from typing import Any
from urllib.parse import quote, urlsplit

import jwt
from django.conf import settings

from core import metrics

logger = logging.getLogger(__name__)

ALLOWED_SCHEMES = frozenset({"https", "http", "file"})
MAX_JWKS_BYTES = 256 * 1024


class SigningKeysUnavailable(Exception):
    """No key set has ever been fetched from the JWKS URL."""


class UnknownSigningKey(Exception):
    """The key set does not contain the requested ``kid``."""


class JWKSFetchError(Exception):
    """The JWKS URL could not be read or did not hold a usable key set."""


INSECURE_SCHEMES = frozenset({"http", "file"})


def default_jwks_url(project_id: str, custom_base_url: str = "") -> str:
    """Stytch's JWKS for the project: on the custom domain when there is one, as the SDK does."""
    if custom_base_url:
        base = custom_base_url
    else:
        base = "https://api.stytch.com" if project_id.startswith("project-live-") else "https://test.stytch.com"
    return f"{base}/v1/b2b/sessions/jwks/{quote(project_id, safe='')}"


def configured_jwks_url() -> str:
    return settings.STYTCH_JWKS_URL or default_jwks_url(settings.STYTCH_PROJECT_ID, settings.STYTCH_CUSTOM_BASE_URL)


def insecure_allowed() -> bool:
    return settings.DEBUG or settings.STYTCH_JWKS_ALLOW_INSECURE


def fetch_jwks(url: str, timeout: float) -> dict[str, Any]:
    """Read the JSON document at ``url``; raise ``JWKSFetchError`` on any failure."""
    scheme = urlsplit(url).scheme
    if scheme not in ALLOWED_SCHEMES:
        raise JWKSFetchError(f"unsupported JWKS URL scheme {scheme!r}")
    if scheme in INSECURE_SCHEMES and not insecure_allowed():
        raise JWKSFetchError(
            f"a {scheme}:// JWKS URL is refused with DEBUG off; use https:// (or STYTCH_JWKS_ALLOW_INSECURE=true)"
        )
    headers = {"Accept": "application/json", "User-Agent": "model-registry-jwks"}
    request = urllib.request.Request(url, headers=headers)  # noqa: S310 (scheme checked above)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            body = response.read(MAX_JWKS_BYTES + 1)
    except (OSError, http.client.HTTPException) as exc:
        raise JWKSFetchError(str(exc) or type(exc).__name__) from exc
    if len(body) > MAX_JWKS_BYTES:
        raise JWKSFetchError(f"JWKS document is larger than {MAX_JWKS_BYTES} bytes")
    try:
        document = json.loads(body)
    except ValueError as exc:
        raise JWKSFetchError("JWKS document is not valid JSON") from exc
    if not isinstance(document, dict):
        raise JWKSFetchError("JWKS document is not a JSON object")
    return document


def parse_jwks(document: dict[str, Any]) -> dict[str, jwt.PyJWK]:
    try:
        key_set = jwt.PyJWKSet.from_dict(document)
    except jwt.PyJWTError as exc:
        raise JWKSFetchError(str(exc)) from exc
    keys = {key.key_id: key for key in key_set.keys if key.key_id}
    if not keys:
        raise JWKSFetchError("JWKS document has no key with a 'kid'")
    return keys


class KeyStore:
    """Signing keys from one JWKS URL; safe to share between threads."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._keys: dict[str, jwt.PyJWK] = {}
        self._loaded = False
        self._last_attempt: float | None = None
        self._lock = threading.Lock()

    def get_signing_key(self, kid: str) -> jwt.PyJWK:
        key = self._keys.get(kid)
        if key is not None:
            return key
        with self._lock:
            key = self._keys.get(kid)
            if key is None and self._may_fetch():
                self._refresh()
                key = self._keys.get(kid)
            if key is not None:
                return key
            if not self._loaded:
                raise SigningKeysUnavailable(self.url)
            raise UnknownSigningKey(kid)

    def _may_fetch(self) -> bool:
        if self._last_attempt is None:
            return True
        return monotonic() - self._last_attempt >= settings.STYTCH_JWKS_COOLDOWN

    def _refresh(self) -> None:
        self._last_attempt = monotonic()
        try:
            keys = parse_jwks(fetch_jwks(self.url, settings.STYTCH_JWKS_TIMEOUT))
        except JWKSFetchError as exc:
            metrics.JWKS_FETCH_FAILURE.inc()
            logger.warning(
                "Fetching the JWKS from %s failed (%s); keeping %d known key(s).",
                self.url,
                exc,
                len(self._keys),
            )
            return
        metrics.JWKS_FETCH_SUCCESS.inc()
        self._keys = keys
        self._loaded = True


_store: KeyStore | None = None
_store_lock = threading.Lock()


def get_key_store() -> KeyStore:
    """The process-wide store for the configured JWKS URL (replaced when the URL changes)."""
    global _store
    url = configured_jwks_url()
    store = _store
    if store is not None and store.url == url:
        return store
    with _store_lock:
        if _store is None or _store.url != url:
            _store = KeyStore(url)
        return _store


def get_signing_key(kid: str) -> jwt.PyJWK:
    return get_key_store().get_signing_key(kid)


def reset() -> None:
    """Forget every fetched key (tests, or after rotating the development keys)."""
    global _store
    with _store_lock:
        _store = None
