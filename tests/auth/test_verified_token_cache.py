"""The per-process cache of verified tokens: a hit skips the signature check, never a rule."""

import time
from typing import Any
from unittest import mock

import jwt
import pytest
from rest_framework.exceptions import AuthenticationFailed

from core import authentication, devkeys, jwks
from core.authentication import VerifiedTokenCache, verify_token
from tests.conftest import MakeToken, SigningKey


@pytest.fixture(autouse=True)
def empty_cache() -> None:
    authentication.verified_tokens.clear()


@pytest.fixture(scope="module")
def other_rsa_key() -> Any:
    return devkeys.generate_private_key()


@pytest.fixture
def decode_calls() -> Any:
    with mock.patch.object(authentication.jwt, "decode", wraps=jwt.decode) as decode:
        yield decode


def test_a_second_request_with_the_same_token_is_not_decoded_again(make_token: MakeToken, decode_calls: Any) -> None:
    token = make_token(org="org-a")
    first = verify_token(token)
    second = verify_token(token)
    assert second == first
    assert first["https://stytch.com/organization"]["organization_id"] == "org-a"
    assert decode_calls.call_count == 1


def test_each_token_is_verified_on_its_own(make_token: MakeToken, decode_calls: Any) -> None:
    verify_token(make_token(org="org-a"))
    claims = verify_token(make_token(org="org-b"))
    assert claims["https://stytch.com/organization"]["organization_id"] == "org-b"
    assert decode_calls.call_count == 2


def test_a_token_that_fails_is_not_remembered(make_token: MakeToken, other_rsa_key: Any) -> None:
    forged = make_token(key=other_rsa_key)
    for _ in range(2):
        with pytest.raises(AuthenticationFailed, match="signature is invalid"):
            verify_token(forged)
    assert len(authentication.verified_tokens) == 0


def test_changing_the_returned_claims_does_not_change_the_cached_ones(make_token: MakeToken) -> None:
    token = make_token()
    verify_token(token)["sub"] = "someone-else"
    assert verify_token(token)["sub"] != "someone-else"


def test_a_remembered_token_expires_on_time(settings: Any, make_token: MakeToken) -> None:
    settings.STYTCH_JWT_LEEWAY = 0
    expires = int(time.time()) + 2
    token = make_token(claims_overrides={"exp": expires})
    verify_token(token)
    time.sleep(max(0.0, expires - time.time()) + 0.05)
    with pytest.raises(AuthenticationFailed, match="Token has expired"):
        verify_token(token)
    assert len(authentication.verified_tokens) == 0


def test_the_hit_checks_expiry_with_the_leeway(make_token: MakeToken, decode_calls: Any) -> None:
    """Past exp + leeway, the cache sends the token back to a full verification."""
    token = make_token()
    claims = verify_token(token)
    later = claims["exp"] + 30 + 1  # the conftest's leeway is 30 s
    with mock.patch.object(authentication.time, "time", return_value=later):
        assert authentication._claims_of_verified(token, authentication.verified_tokens.get(token)) is None
    assert authentication.verified_tokens.get(token) is None
    just_inside = claims["exp"] + 29
    verify_token(token)
    with mock.patch.object(authentication.time, "time", return_value=just_inside):
        assert authentication._claims_of_verified(token, authentication.verified_tokens.get(token)) == claims


def test_a_rotated_key_set_drops_tokens_of_keys_it_no_longer_has(
    settings: Any, tmp_path: Any, make_token: MakeToken, other_rsa_key: Any
) -> None:
    old_token = make_token()
    verify_token(old_token)

    settings.STYTCH_JWKS_COOLDOWN = 0
    devkeys.write_jwks(tmp_path / "jwks.json", [devkeys.public_jwk(other_rsa_key, "test-key-2")])
    settings.STYTCH_JWKS_URL = devkeys.jwks_file_url(tmp_path / "jwks.json")
    new_token = make_token(key=other_rsa_key, headers_overrides={"kid": "test-key-2"})
    verify_token(new_token)  # the new URL's key set holds only the new key

    with pytest.raises(AuthenticationFailed, match="signing key is unknown"):
        verify_token(old_token)


def test_a_replaced_key_under_the_same_kid_is_checked_again(
    settings: Any, tmp_path: Any, jwt_signing_key: SigningKey, make_token: MakeToken, other_rsa_key: Any
) -> None:
    token = make_token()
    verify_token(token)
    path = devkeys.write_jwks(tmp_path / "jwks.json", [devkeys.public_jwk(other_rsa_key, jwt_signing_key.kid)])
    settings.STYTCH_JWKS_URL = devkeys.jwks_file_url(path)
    jwks.reset()
    with pytest.raises(AuthenticationFailed, match="signature is invalid"):
        verify_token(token)


def test_a_changed_audience_or_issuer_is_checked_again(settings: Any, make_token: MakeToken) -> None:
    token = make_token()
    verify_token(token)
    settings.STYTCH_PROJECT_ID = "project-test-00000000-0000-0000-0000-000000000999"
    with pytest.raises(AuthenticationFailed, match="Token (issuer|audience)"):
        verify_token(token)


def test_the_cache_keeps_the_most_recently_used_tokens_up_to_its_size(make_token: MakeToken) -> None:
    cache = VerifiedTokenCache(max_entries=2)
    entries = {}
    for name in ("a", "b", "c"):
        token = make_token(sub=f"member-test-{name}")
        verify_token(token)
        entries[name] = (token, authentication.verified_tokens.get(token))
    cache.put(*entries["a"])
    cache.put(*entries["b"])
    assert cache.get(entries["a"][0]) is not None  # "a" is now the most recent
    cache.put(*entries["c"])
    assert len(cache) == 2
    assert cache.get(entries["b"][0]) is None
    assert cache.get(entries["a"][0]) is not None
    assert cache.get(entries["c"][0]) is not None
