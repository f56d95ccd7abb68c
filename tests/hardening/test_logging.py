"""Issue 7: structured JSON logs with a request id, X-Request-ID on every response, and never a token in a log."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from unittest import mock

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from django.db import OperationalError, connection
from django.test import Client
from rest_framework.test import APIClient

from core.logging import JSONFormatter, redact
from models_registry import services as model_services
from models_registry.models import AIModel
from tests.hardening.conftest import MODELS_URL, PARTICLES_URL, model_body

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("no_rate_limits")]

GENERATED_ID = re.compile(r"^[0-9a-f]{32}$")


class JSONLines(logging.Handler):
    """Formats every record as production does (JSONFormatter) and keeps the lines."""

    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.setFormatter(JSONFormatter())
        self.lines: list[str] = []
        self.errors: list[BaseException] = []

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.lines.append(self.format(record))
        except Exception as exc:  # noqa: BLE001 - a formatter that fails is reported by the test
            self.errors.append(exc)

    @property
    def entries(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.lines]

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


@pytest.fixture
def json_logs() -> Iterator[JSONLines]:
    """Every record of every logger at DEBUG (SQL included), formatted by JSONFormatter."""
    handler = JSONLines()
    manager = logging.root.manager
    loggers = [logging.root] + [logger for logger in manager.loggerDict.values() if isinstance(logger, logging.Logger)]
    for name in ("django", "django.request", "django.db.backends", "django.security", "model_registry", "config"):
        loggers.append(logging.getLogger(name))
    saved_levels = {logger: logger.level for logger in loggers}
    non_propagating = [logger for logger in loggers if not logger.propagate]
    for logger in loggers:
        logger.setLevel(logging.DEBUG)
    logging.root.addHandler(handler)
    for logger in non_propagating:
        logger.addHandler(handler)
    saved_debug_cursor = connection.force_debug_cursor
    connection.force_debug_cursor = True  # django.db.backends logs every query with its parameters
    try:
        yield handler
    finally:
        connection.force_debug_cursor = saved_debug_cursor
        logging.root.removeHandler(handler)
        for logger in non_propagating:
            logger.removeHandler(handler)
        for logger, level in saved_levels.items():
            logger.setLevel(level)


def bearer(token: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


# --- JSON lines with the request id --------------------------------------------------------------------


def test_each_log_line_is_a_json_object_with_the_request_id(json_logs: JSONLines, admin_client: APIClient) -> None:
    response = admin_client.get(MODELS_URL, HTTP_X_REQUEST_ID="req-42.a_b")

    assert response.status_code == 200
    assert not json_logs.errors
    entries = json_logs.entries
    assert entries, "the request logged something"
    for entry in entries:
        assert {"time", "level", "logger", "message", "request_id"} <= set(entry)
        datetime.fromisoformat(entry["time"])
    access = [entry for entry in entries if entry["logger"] == "model_registry.access"]
    assert len(access) == 1
    line = access[0]
    assert line["request_id"] == "req-42.a_b"
    assert (line["method"], line["path"], line["status"]) == ("GET", MODELS_URL, 200)
    assert line["actor"] == "member:member-test-org-a"
    assert isinstance(line["duration_ms"], int | float)
    sql = [entry for entry in entries if entry["logger"] == "django.db.backends"]
    assert sql and all(entry["request_id"] == "req-42.a_b" for entry in sql)


def test_the_generated_request_id_is_on_the_log_lines_and_the_response(
    json_logs: JSONLines, admin_client: APIClient
) -> None:
    response = admin_client.get(MODELS_URL)

    request_id = response["X-Request-ID"]
    assert GENERATED_ID.match(request_id)
    access = [entry for entry in json_logs.entries if entry["logger"] == "model_registry.access"]
    assert [entry["request_id"] for entry in access] == [request_id]


@pytest.mark.parametrize(
    ("path", "status"),
    [(f"{MODELS_URL}/00000000-0000-0000-0000-000000000000", 404), ("/v1/nowhere", 404), (MODELS_URL, 401)],
)
def test_django_request_lines_of_error_responses_carry_the_request_id(
    json_logs: JSONLines, api_client: APIClient, admin_client: APIClient, path: str, status: int
) -> None:
    """Django's own "Not Found: ..." / "Unauthorized: ..." lines must be correlatable like the rest."""
    client = api_client if status == 401 else admin_client

    response = client.get(path, HTTP_X_REQUEST_ID="corr-7")

    assert response.status_code == status
    lines = [entry for entry in json_logs.entries if entry["logger"] == "django.request"]
    assert lines, "django.request logs every 4xx/5xx response"
    assert [entry["request_id"] for entry in lines] == ["corr-7"] * len(lines), lines


def test_the_django_request_line_of_a_server_error_carries_the_request_id(
    json_logs: JSONLines, admin_client: APIClient, system_model: AIModel
) -> None:
    with mock.patch.object(model_services, "user_model_create", side_effect=RuntimeError("kaboom")):
        response = admin_client.post(MODELS_URL, model_body(system_model), format="json", HTTP_X_REQUEST_ID="corr-8")

    assert response.status_code == 500
    lines = [entry for entry in json_logs.entries if entry["logger"] in ("django.request", "model_registry.errors")]
    assert {entry["logger"] for entry in lines} == {"django.request", "model_registry.errors"}
    assert all(entry["request_id"] == "corr-8" for entry in lines), lines


def test_a_line_logged_outside_a_request_has_a_placeholder_request_id(json_logs: JSONLines) -> None:
    logging.getLogger("model_registry.test").info("outside")

    (entry,) = [entry for entry in json_logs.entries if entry["message"] == "outside"]
    assert entry["request_id"] == "-"


def test_an_error_log_line_carries_the_request_id_and_no_traceback_in_the_response(
    json_logs: JSONLines, admin_client: APIClient, system_model: AIModel
) -> None:
    with mock.patch.object(model_services, "user_model_create", side_effect=RuntimeError("kaboom")):
        response = admin_client.post(MODELS_URL, model_body(system_model), format="json")

    assert response.status_code == 500
    errors = [entry for entry in json_logs.entries if entry["logger"] == "model_registry.errors"]
    assert len(errors) == 1
    assert errors[0]["level"] == "ERROR"
    assert errors[0]["request_id"] == response["X-Request-ID"]
    assert "kaboom" in errors[0]["exception"]
    assert b"kaboom" not in response.content


# --- X-Request-ID ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path", [MODELS_URL, f"{MODELS_URL}/00000000-0000-0000-0000-000000000000", "/v1/nowhere", "/healthz", "/readyz"]
)
def test_every_response_has_an_x_request_id(admin_client: APIClient, path: str) -> None:
    response = admin_client.get(path)

    assert GENERATED_ID.match(response["X-Request-ID"])


def test_error_responses_have_an_x_request_id(api_client: APIClient, admin_client: APIClient) -> None:
    assert GENERATED_ID.match(api_client.get(MODELS_URL)["X-Request-ID"])  # 401
    assert GENERATED_ID.match(admin_client.put(MODELS_URL, {}, format="json")["X-Request-ID"])  # 405


@pytest.mark.parametrize("incoming", ["abc", "0f8e2a34-5b1c-4d7e-9a00-1234567890ab", "a.b_c-D", "x" * 128])
def test_a_well_formed_incoming_request_id_is_echoed(admin_client: APIClient, incoming: str) -> None:
    assert admin_client.get(MODELS_URL, HTTP_X_REQUEST_ID=incoming)["X-Request-ID"] == incoming


@pytest.mark.parametrize(
    "incoming",
    ["bad id\n", "bad id", "x" * 129, "", "a;b", "<script>", "id\r\nSet-Cookie: a=b", "ünïcode"],
    ids=["newline", "space", "too-long", "empty", "semicolon", "markup", "header-injection", "non-ascii"],
)
def test_a_malformed_incoming_request_id_is_replaced(admin_client: APIClient, incoming: str) -> None:
    response = admin_client.get(MODELS_URL, HTTP_X_REQUEST_ID=incoming)

    assert response["X-Request-ID"] != incoming
    assert GENERATED_ID.match(response["X-Request-ID"])


# --- Never a token in a log --------------------------------------------------------------------------------


def _signature(token: str) -> str:
    return token.rsplit(".", 1)[1]


def test_no_token_or_signature_is_ever_logged(
    json_logs: JSONLines, make_token, system_model: AIModel, user_model: AIModel
) -> None:
    valid = make_token(org="org-a", roles=("stytch_admin",))
    expired = make_token(
        claims_overrides={
            "exp": int((datetime.now(UTC) - timedelta(hours=1)).timestamp()),
            "iat": int((datetime.now(UTC) - timedelta(hours=2)).timestamp()),
            "nbf": int((datetime.now(UTC) - timedelta(hours=2)).timestamp()),
        }
    )
    forged = make_token(key=rsa.generate_private_key(public_exponent=65537, key_size=2048))
    header, payload, _ = valid.split(".")
    tampered = f"{header}.{payload}.{_signature(forged)}"
    unknown_kid = make_token(headers_overrides={"kid": "rotated-away"})
    m2m = make_token(kind="m2m", scopes="read:models write:models")
    secrets = [valid, expired, forged, tampered, unknown_kid, m2m]

    responses = []
    client = bearer(valid)
    responses.append(client.get(MODELS_URL))
    responses.append(client.get(f"{MODELS_URL}/{user_model.pk}"))
    responses.append(client.get(f"{MODELS_URL}/00000000-0000-0000-0000-000000000000"))
    responses.append(client.post(MODELS_URL, model_body(system_model), format="json", HTTP_IDEMPOTENCY_KEY="k1"))
    responses.append(client.post(MODELS_URL, {"contextWindow": "x"}, format="json"))
    responses.append(client.get(f"{MODELS_URL}?token={valid}&access_token={valid}"))
    responses.append(client.get(f"/v1/{valid}"))
    responses.append(client.get(MODELS_URL, HTTP_X_REQUEST_ID=valid))
    responses.append(bearer(m2m).get(MODELS_URL))
    for bad in (expired, forged, tampered, unknown_kid):
        responses.append(bearer(bad).get(MODELS_URL))
    responses.append(APIClient().get(MODELS_URL, HTTP_AUTHORIZATION=f"Token {valid}"))
    responses.append(APIClient().get(MODELS_URL, HTTP_AUTHORIZATION=f"Bearer {valid} extra"))
    responses.append(Client().get("/healthz", HTTP_AUTHORIZATION=f"Bearer {valid}"))

    # A 500 whose exception message carries the token, the header and the signature.
    leaky = RuntimeError(f"upstream refused Authorization: Bearer {valid} (token={valid}) jwt {valid}")
    with mock.patch.object(model_services, "user_model_create", side_effect=leaky):
        responses.append(client.post(MODELS_URL, model_body(system_model, name="Boom"), format="json"))
    with mock.patch.object(model_services, "user_model_update", side_effect=ValueError(f"bad: {valid}")):
        responses.append(client.patch(f"{MODELS_URL}/{user_model.pk}", {"description": "x"}, format="json"))
    # A 503: the database refuses while a token is in the air.
    with mock.patch.object(
        connection, "cursor", side_effect=OperationalError(f"could not connect; client sent {valid}")
    ):
        responses.append(client.get(MODELS_URL))
    logging.getLogger("model_registry.test").warning("raw token %s and header Bearer %s", valid, valid)
    try:
        raise RuntimeError(valid)
    except RuntimeError:
        logging.getLogger("model_registry.test").exception("caught %s", valid)

    statuses = [response.status_code for response in responses]
    assert 200 in statuses and 201 in statuses and 401 in statuses and 500 in statuses and 503 in statuses, statuses
    assert not json_logs.errors
    assert len(json_logs.lines) > len(responses), "the capture saw the requests"
    assert any(entry["logger"] == "django.db.backends" for entry in json_logs.entries), "SQL was captured too"
    assert any("exception" in entry for entry in json_logs.entries), "tracebacks were captured too"
    text = json_logs.text
    for secret in secrets:
        assert secret not in text
        assert _signature(secret) not in text
    assert "[redacted" in text


def test_production_logs_are_json_lines_on_stderr(make_token) -> None:
    """End to end: a production process (DEBUG off, LOG_FORMAT unset) writes one JSON object per line."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    token = make_token()
    env = {k: v for k, v in os.environ.items() if k not in ("DEBUG", "LOG_FORMAT", "DATABASE_URL", "REDIS_URL")}
    env.update(DEBUG="false", SECRET_KEY="x" * 60, ALLOWED_HOSTS="testserver")
    script = (
        "import django, logging; django.setup(); "
        f"logging.getLogger('model_registry.test').warning('hello %s', {token!r})"
    )
    result = subprocess.run(  # noqa: S603
        [sys.executable, "-c", script],
        cwd=Path(__file__).resolve().parents[2],
        env={**env, "DJANGO_SETTINGS_MODULE": "config.settings"},
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode == 0, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    entries = [json.loads(line) for line in lines]
    (entry,) = [entry for entry in entries if entry["logger"] == "model_registry.test"]
    assert entry["message"] == "hello [redacted-jwt]"
    assert entry["request_id"] == "-"
    assert token not in result.stderr + result.stdout


# --- redact() ----------------------------------------------------------------------------------------------


def test_redact_removes_jwts(make_token) -> None:
    token = make_token()

    redacted = redact(f"got {token} from the client")

    assert token not in redacted
    assert _signature(token) not in redacted
    assert redacted == "got [redacted-jwt] from the client"


def test_redact_removes_bearer_values() -> None:
    assert redact("Authorization: Bearer abc.def") == "Authorization: Bearer [redacted]"
    assert redact("authorization: bearer opaque-session-token") == "authorization: bearer [redacted]"
    assert "s3cr3t" not in redact("header BEARER s3cr3t")


@pytest.mark.parametrize(
    "text",
    ["password=hunter2", "SECRET_KEY: 'hunter2'", 'api_key="hunter2"', "token=hunter2", "{'token': 'hunter2'}"],
)
def test_redact_removes_secret_assignments(text: str) -> None:
    assert "hunter2" not in redact(text)


def test_redact_leaves_ordinary_text_alone() -> None:
    text = "GET /v1/models 200 in 3.2 ms for member:member-test-org-a"

    assert redact(text) == text


def test_the_formatter_redacts_messages_arguments_extras_and_tracebacks(make_token) -> None:
    token = make_token()
    formatter = JSONFormatter()
    try:
        raise ValueError(f"failed with {token}")
    except ValueError:
        record = logging.getLogger("model_registry.test").makeRecord(
            "model_registry.test",
            logging.ERROR,
            __file__,
            1,
            "message %s",
            (token,),
            exc_info=__import__("sys").exc_info(),
            extra={"path": f"/v1/{token}", "actor": f"Bearer {token}"},
        )

    line = formatter.format(record)

    entry = json.loads(line)
    assert token not in line and _signature(token) not in line
    assert entry["message"] == "message [redacted-jwt]"
    assert "[redacted-jwt]" in entry["exception"]
    assert entry["path"] == "/v1/[redacted-jwt]"


def test_request_bodies_are_not_logged(json_logs: JSONLines, admin_client: APIClient) -> None:
    marker = "very-private-particle-content-5a1f"

    response = admin_client.post(PARTICLES_URL, {"kind": "role", "name": "Private", "content": marker}, format="json")

    assert response.status_code == 201
    non_sql = [entry for entry in json_logs.entries if entry["logger"] != "django.db.backends"]
    assert marker not in json.dumps(non_sql)
