"""A dead database fails fast: requests are a 503 within about 3 s (the pool's timeout, not 10 s or
more), /readyz within 2 s. Injected for real: a process whose DATABASE_URL names a PostgreSQL port
nothing listens on."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

from django.conf import settings as django_settings

SCRIPT = """
import json, os, time, django
django.setup()
from django.test import Client
client = Client(raise_request_exception=False)
started = time.perf_counter(); ready = client.get('/readyz'); ready_s = time.perf_counter() - started
started = time.perf_counter()
api = client.get('/v1/models', HTTP_AUTHORIZATION='Bearer ' + os.environ['DEAD_DB_TOKEN'])
api_s = time.perf_counter() - started
print(json.dumps({"ready": [ready.status_code, ready_s, ready.json()], "api": [api.status_code, api_s, api.json()]}))
"""


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]  # closed again when the socket is: nothing listens there


def test_requests_and_readyz_fail_fast_on_a_dead_database(make_token) -> None:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:{_closed_port()}/gone",
        "REDIS_URL": "",
        "SECRET_KEY": "x" * 60,
        "ALLOWED_HOSTS": "testserver",
        "SECURE_SSL_REDIRECT": "false",
        "STYTCH_JWKS_URL": django_settings.STYTCH_JWKS_URL,
        "STYTCH_PROJECT_ID": django_settings.STYTCH_PROJECT_ID,
        "DEAD_DB_TOKEN": make_token(),
    }
    result = subprocess.run(  # noqa: S603 - our own interpreter
        [sys.executable, "-c", SCRIPT],
        cwd=Path(__file__).resolve().parents[2],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode == 0, result.stderr[-2000:]
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    ready_status, ready_seconds, ready_body = figures["ready"]
    api_status, api_seconds, api_body = figures["api"]
    assert (ready_status, ready_body["checks"]["database"]) == (503, "down")
    assert ready_seconds < 2.0, ready_seconds
    assert (api_status, api_body["code"]) == (503, "service_unavailable")
    assert api_seconds < 3.6, api_seconds
