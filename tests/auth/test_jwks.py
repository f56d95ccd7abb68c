import json
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from rest_framework.test import APIClient

from core import devkeys, jwks
from tests.conftest import MakeToken, SigningKey

URL = "/probe/models"


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class FetchSpy:
    """Counts JWKS fetches; ``failing = True`` simulates an outage of the JWKS endpoint."""

    def __init__(self, real_fetch: Callable[[str, float], dict[str, Any]]) -> None:
        self.real_fetch = real_fetch
        self.calls = 0
        self.failing = False

    def __call__(self, url: str, timeout: float) -> dict[str, Any]:
        self.calls += 1
        if self.failing:
            raise jwks.JWKSFetchError("connection refused")
        return self.real_fetch(url, timeout)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    fake = FakeClock()
    monkeypatch.setattr(jwks, "monotonic", fake)
    return fake


@pytest.fixture
def fetches(monkeypatch: pytest.MonkeyPatch) -> FetchSpy:
    spy = FetchSpy(jwks.fetch_jwks)
    monkeypatch.setattr(jwks, "fetch_jwks", spy)
    return spy


def get(token: str) -> Any:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client.get(URL)


def random_kid_token(make_token: MakeToken) -> str:
    return make_token(headers_overrides={"kid": f"random-{uuid.uuid4()}"})


@pytest.mark.parametrize(
    ("project_id", "expected"),
    [
        (
            "project-test-11111111-2222-3333-4444-555555555555",
            "https://test.stytch.com/v1/b2b/sessions/jwks/project-test-11111111-2222-3333-4444-555555555555",
        ),
        (
            "project-live-11111111-2222-3333-4444-555555555555",
            "https://api.stytch.com/v1/b2b/sessions/jwks/project-live-11111111-2222-3333-4444-555555555555",
        ),
    ],
)
def test_default_jwks_url_follows_the_project_environment(settings: Any, project_id: str, expected: str) -> None:
    settings.STYTCH_PROJECT_ID = project_id
    settings.STYTCH_JWKS_URL = ""

    assert jwks.default_jwks_url(project_id) == expected
    assert jwks.configured_jwks_url() == expected


def test_jwks_url_setting_overrides_the_default(settings: Any) -> None:
    settings.STYTCH_JWKS_URL = "https://login.example.com/jwks.json"

    assert jwks.configured_jwks_url() == "https://login.example.com/jwks.json"


@pytest.mark.urls("tests.auth.urls")
def test_steady_state_makes_no_network_call_per_request(make_token: MakeToken, fetches: FetchSpy) -> None:
    for _ in range(20):
        assert get(make_token()).status_code == 200

    assert fetches.calls == 1


@pytest.mark.urls("tests.auth.urls")
def test_unknown_kid_flood_fetches_at_most_once_per_cooldown(
    make_token: MakeToken, fetches: FetchSpy, clock: FakeClock
) -> None:
    assert get(make_token()).status_code == 200
    clock.advance(60)

    responses = [get(random_kid_token(make_token)) for _ in range(50)]

    assert {response.status_code for response in responses} == {401}
    assert all("unknown" in response.json()["detail"] for response in responses)
    assert fetches.calls == 2

    clock.advance(29)
    get(random_kid_token(make_token))
    assert fetches.calls == 2

    clock.advance(1)
    for _ in range(10):
        get(random_kid_token(make_token))
    assert fetches.calls == 3


def test_concurrent_lookups_of_an_unknown_kid_share_one_fetch(fetches: FetchSpy) -> None:
    real = fetches.real_fetch

    def slow_fetch(url: str, timeout: float) -> dict[str, Any]:
        time.sleep(0.05)
        return real(url, timeout)

    fetches.real_fetch = slow_fetch
    errors: list[Exception] = []

    def look_up() -> None:
        try:
            jwks.get_signing_key("not-in-the-set")
        except jwks.UnknownSigningKey as exc:
            errors.append(exc)

    threads = [threading.Thread(target=look_up) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert fetches.calls == 1
    assert len(errors) == 20


@pytest.mark.urls("tests.auth.urls")
def test_known_keys_keep_working_through_a_jwks_outage(
    make_token: MakeToken, fetches: FetchSpy, clock: FakeClock
) -> None:
    assert get(make_token()).status_code == 200
    fetches.failing = True
    clock.advance(3600)

    unknown = get(random_kid_token(make_token))
    known = get(make_token())

    assert fetches.calls == 2
    assert unknown.status_code == 401
    assert known.status_code == 200


@pytest.mark.urls("tests.auth.urls")
def test_jwks_down_on_first_request_fails_clearly_then_recovers_after_cooldown(
    make_token: MakeToken, fetches: FetchSpy, clock: FakeClock
) -> None:
    fetches.failing = True

    first = get(make_token())

    assert first.status_code == 401
    assert first["WWW-Authenticate"].startswith("Bearer")
    assert "signing keys are unavailable" in first.json()["detail"]
    assert fetches.calls == 1

    fetches.failing = False
    clock.advance(10)
    assert get(make_token()).status_code == 401
    assert fetches.calls == 1

    clock.advance(20)
    assert get(make_token()).status_code == 200
    assert fetches.calls == 2


@pytest.mark.urls("tests.auth.urls")
def test_key_store_follows_a_changed_jwks_url(
    settings: Any, tmp_path: Path, make_token: MakeToken, jwt_signing_key: SigningKey
) -> None:
    assert get(make_token()).status_code == 200
    rotated_key = devkeys.generate_private_key()
    path = devkeys.write_jwks(tmp_path / "rotated.json", [devkeys.public_jwk(rotated_key, "rotated-1")])

    settings.STYTCH_JWKS_URL = devkeys.jwks_file_url(path)

    assert get(make_token(key=rotated_key, headers_overrides={"kid": "rotated-1"})).status_code == 200
    assert get(make_token()).status_code == 401


def test_reset_forgets_fetched_keys(fetches: FetchSpy, jwt_signing_key: SigningKey) -> None:
    jwks.get_signing_key(jwt_signing_key.kid)
    jwks.reset()
    jwks.get_signing_key(jwt_signing_key.kid)

    assert fetches.calls == 2


def test_rotated_key_set_is_picked_up_by_an_unknown_kid(
    settings: Any, tmp_path: Path, clock: FakeClock, jwt_signing_key: SigningKey
) -> None:
    path = devkeys.write_jwks(tmp_path / "jwks.json", [jwt_signing_key.public_jwk])
    settings.STYTCH_JWKS_URL = devkeys.jwks_file_url(path)
    jwks.get_signing_key(jwt_signing_key.kid)
    new_key = devkeys.generate_private_key()
    devkeys.write_jwks(path, [jwt_signing_key.public_jwk, devkeys.public_jwk(new_key, "test-key-2")])
    clock.advance(30)

    assert jwks.get_signing_key("test-key-2").key_id == "test-key-2"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        pytest.param("not json", "not valid JSON", id="not json"),
        pytest.param("[]", "not a JSON object", id="not an object"),
        pytest.param('{"keys": []}', "did not contain any keys", id="no keys"),
        pytest.param('{"keys": [{"kty": "RSA", "kid": "x"}]}', "usable keys", id="unusable key"),
    ],
)
def test_unusable_jwks_documents_are_rejected(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "jwks.json"
    path.write_text(content)

    with pytest.raises(jwks.JWKSFetchError, match=message):
        jwks.parse_jwks(jwks.fetch_jwks(devkeys.jwks_file_url(path), timeout=1))


def test_unsupported_jwks_url_scheme_is_rejected() -> None:
    with pytest.raises(jwks.JWKSFetchError, match="unsupported JWKS URL scheme 'ftp'"):
        jwks.fetch_jwks("ftp://example.com/jwks.json", timeout=1)


def test_missing_jwks_file_is_a_fetch_error(tmp_path: Path) -> None:
    with pytest.raises(jwks.JWKSFetchError):
        jwks.fetch_jwks(devkeys.jwks_file_url(tmp_path / "absent.json"), timeout=1)


@pytest.fixture
def jwks_http_server(jwt_signing_key: SigningKey) -> Iterator[str]:
    body = json.dumps({"keys": [jwt_signing_key.public_jwk]}).encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            if self.path == "/jwks":
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(body)
            else:
                self.send_error(503)

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_jwks_is_fetched_over_http(jwks_http_server: str, jwt_signing_key: SigningKey) -> None:
    keys = jwks.parse_jwks(jwks.fetch_jwks(f"{jwks_http_server}/jwks", timeout=2))

    assert list(keys) == [jwt_signing_key.kid]


def test_http_error_status_is_a_fetch_error(jwks_http_server: str) -> None:
    with pytest.raises(jwks.JWKSFetchError, match="503"):
        jwks.fetch_jwks(f"{jwks_http_server}/down", timeout=2)
