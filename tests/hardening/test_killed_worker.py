"""Idempotency atomic with the work, proven on a real server: gunicorn serves a database of its
own (a scratch PostgreSQL database when the suite runs on PostgreSQL, else a SQLite file), and
`tests/hardening/fault_middleware.py` kills its worker with SIGKILL, or fails it, at the moments
a keyed POST can die. Whatever the moment, the retry with the same key either replays the first
response or does the work once: never two objects, never a key stuck "in progress"."""

from __future__ import annotations

import http.client
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jwt
import psycopg
import pytest
from django.conf import settings as django_settings
from django.db import connection

from core import devkeys

ROOT = Path(__file__).resolve().parents[2]
MODELS = "/v1/models"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Server:
    port: int
    token: str
    process: subprocess.Popen

    def request(self, method: str, path: str, body: Any = None, **headers: str) -> tuple[int, dict, Any]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=20)
        try:
            payload = json.dumps(body) if body is not None else None
            conn.request(
                method,
                path,
                body=payload,
                headers={"Authorization": f"Bearer {self.token}", "Content-Type": "application/json", **headers},
            )
            response = conn.getresponse()
            raw = response.read()
            return response.status, dict(response.getheaders()), json.loads(raw) if raw else None
        finally:
            conn.close()

    def wait_until_serving(self) -> None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            assert self.process.poll() is None, "gunicorn exited"
            try:
                if self.request("GET", "/healthz")[0] == 200:
                    return
            except OSError:
                pass
            time.sleep(0.1)
        raise RuntimeError("gunicorn did not start serving")

    def user_models(self) -> list[dict]:
        status, _, body = self.request("GET", f"{MODELS}?isSystem=false&limit=200")
        assert status == 200, body
        return body["results"]


@pytest.fixture(scope="module")
def scratch_database_url(tmp_path_factory: pytest.TempPathFactory, django_db_blocker) -> Iterator[str]:
    with django_db_blocker.unblock():
        vendor, params = connection.vendor, connection.settings_dict
    if vendor != "postgresql":
        yield f"sqlite:///{tmp_path_factory.mktemp('killed-worker') / 'db.sqlite3'}"
        return
    name = f"mr_killed_worker_{uuid.uuid4().hex[:12]}"
    admin = f"host={params['HOST'] or '127.0.0.1'} port={params['PORT'] or 5432} user={params['USER']} dbname=postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgres://{params['USER']}@{params['HOST'] or '127.0.0.1'}:{params['PORT'] or 5432}/{name}"
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="module")
def server(scratch_database_url: str, jwks_file: Path, jwt_signing_key) -> Iterator[Server]:
    gunicorn = shutil.which("gunicorn", path=str(Path(sys.executable).parent))
    if gunicorn is None:
        pytest.skip("gunicorn is not installed in this virtualenv")
    port = _free_port()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.hardening.fault_settings",
        "DATABASE_URL": scratch_database_url,
        "REDIS_URL": "",
        "DEBUG": "false",
        "SECRET_KEY": "killed-worker-" + "x" * 50,
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "false",
        "STYTCH_PROJECT_ID": django_settings.STYTCH_PROJECT_ID,
        "STYTCH_JWKS_URL": devkeys.jwks_file_url(jwks_file),
        "STYTCH_JWKS_ALLOW_INSECURE": "true",
    }
    for command in (["migrate", "--noinput"], ["seed_system_models"]):
        subprocess.run(  # noqa: S603 - our own interpreter and manage.py
            [sys.executable, "manage.py", *command], cwd=ROOT, env=env, check=True, capture_output=True, timeout=300
        )
    process = subprocess.Popen(  # noqa: S603 - gunicorn from this virtualenv
        [gunicorn, "config.wsgi:application", "--bind", f"127.0.0.1:{port}", "--workers", "1", "--threads", "1"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    claims = devkeys.member_claims(
        project_id=django_settings.STYTCH_PROJECT_ID,
        organization_id="organization-test-killed-worker",
        organization_slug="killed-worker",
        member_id="member-test-killed-worker",
        roles=("stytch_admin",),
    )
    token = jwt.encode(claims, jwt_signing_key.private_key, algorithm="RS256", headers={"kid": jwt_signing_key.kid})
    served = Server(port=port, token=token, process=process)
    try:
        served.wait_until_serving()
        yield served
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()


@pytest.fixture(scope="module")
def parent_id(server: Server) -> str:
    status, _, body = server.request("GET", f"{MODELS}?isSystem=true&lifecycleStatus=active&limit=1")
    assert status == 200 and body["results"], body
    return body["results"][0]["id"]


def _post_and_lose_the_answer(server: Server, body: dict, key: str, fault: str) -> None:
    """The request whose worker dies: the client gets no response at all."""
    with pytest.raises((http.client.RemoteDisconnected, ConnectionResetError, http.client.BadStatusLine)):
        server.request("POST", MODELS, body, **{"Idempotency-Key": key, "X-Fault": fault})
    server.wait_until_serving()  # gunicorn's master has started a new worker


def test_a_worker_killed_after_the_commit_leaves_a_retry_that_replays_the_first_response(
    server: Server, parent_id: str
) -> None:
    key, name = f"kill-after-{uuid.uuid4()}", f"Killed after commit {uuid.uuid4().hex[:8]}"
    body = {"parentId": parent_id, "name": name, "contextWindow": 8_192, "maxTokens": 1_000}

    _post_and_lose_the_answer(server, body, key, "kill-after-commit")
    made = [model for model in server.user_models() if model["name"] == name]
    assert len(made) == 1, "the work committed before the worker died"
    status, headers, retried = server.request("POST", MODELS, body, **{"Idempotency-Key": key})

    assert status == 201, retried
    assert headers.get("Idempotent-Replayed") == "true"
    assert retried["id"] == made[0]["id"]
    assert headers["Location"].endswith(f"{MODELS}/{made[0]['id']}")
    assert [model["id"] for model in server.user_models() if model["name"] == name] == [made[0]["id"]]


def test_a_worker_killed_before_the_commit_leaves_nothing_and_the_retry_does_it_once(
    server: Server, parent_id: str
) -> None:
    key, name = f"kill-before-{uuid.uuid4()}", f"Killed before commit {uuid.uuid4().hex[:8]}"
    body = {"parentId": parent_id, "name": name, "contextWindow": 8_192, "maxTokens": 1_000}

    _post_and_lose_the_answer(server, body, key, "kill-before-commit")
    assert not [model for model in server.user_models() if model["name"] == name], "nothing committed"
    status, headers, retried = server.request("POST", MODELS, body, **{"Idempotency-Key": key})
    again_status, again_headers, again = server.request("POST", MODELS, body, **{"Idempotency-Key": key})

    assert status == 201, retried
    assert "Idempotent-Replayed" not in headers
    assert (again_status, again_headers.get("Idempotent-Replayed"), again["id"]) == (201, "true", retried["id"])
    assert [model["id"] for model in server.user_models() if model["name"] == name] == [retried["id"]]


def test_a_failure_after_the_commit_is_a_500_and_the_retry_replays_the_committed_write(
    server: Server, parent_id: str
) -> None:
    key, name = f"raise-after-{uuid.uuid4()}", f"Failed after commit {uuid.uuid4().hex[:8]}"
    body = {"parentId": parent_id, "name": name, "contextWindow": 8_192, "maxTokens": 1_000}

    failed_status, _, failed = server.request(
        "POST", MODELS, body, **{"Idempotency-Key": key, "X-Fault": "raise-after-commit"}
    )
    status, headers, retried = server.request("POST", MODELS, body, **{"Idempotency-Key": key})

    assert (failed_status, failed["code"]) == (500, "server_error")
    assert status == 201, retried
    assert headers.get("Idempotent-Replayed") == "true"
    assert [model["id"] for model in server.user_models() if model["name"] == name] == [retried["id"]]
