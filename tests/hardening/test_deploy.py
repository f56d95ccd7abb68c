"""Issue 7: production settings pass `check --deploy`; /healthz and /readyz probes."""

from __future__ import annotations

import os
import secrets
import string
import subprocess
import sys
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from django.db import OperationalError, connection
from django.test import Client

BASE_DIR = Path(__file__).resolve().parents[2]
# Variables the test environment sets that production would not have.
# (DJANGO_ALLOW_ASYNC_UNSAFE: the browser tests set it in this process; production never has it.)
CLEARED = (
    "DATABASE_URL",
    "REDIS_URL",
    "SECRET_KEY",
    "DEBUG",
    "ALLOWED_HOSTS",
    "SECURE_SSL_REDIRECT",
    "SECURE_HSTS_PRELOAD",
    "LOG_FORMAT",
    "DJANGO_ALLOW_ASYNC_UNSAFE",
)


def production_env(**overrides: str) -> dict[str, str]:
    env = {name: value for name, value in os.environ.items() if name not in CLEARED}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    env.update(overrides)
    return env


def manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(  # noqa: S603 - our own interpreter and manage.py
        [sys.executable, "manage.py", *args],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def random_secret_key() -> str:
    alphabet = string.ascii_letters + string.digits + "!@#%^&*(-_=+)"
    return "".join(secrets.choice(alphabet) for _ in range(60))


def test_production_settings_pass_check_deploy() -> None:
    env = production_env(
        DEBUG="false",
        SECRET_KEY=random_secret_key(),
        ALLOWED_HOSTS="registry.example.com",
        SECURE_SSL_REDIRECT="true",
    )

    result = manage("check", "--deploy", "--fail-level", "WARNING", env=env)

    assert result.returncode == 0, f"stdout:\n{result.stdout}\nstderr:\n{result.stderr}"


def test_without_a_secret_key_production_refuses_to_start_and_says_why() -> None:
    env = production_env(DEBUG="false", ALLOWED_HOSTS="registry.example.com")

    result = manage("check", env=env)

    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


def test_an_empty_secret_key_is_refused_too() -> None:
    env = production_env(DEBUG="false", SECRET_KEY="", ALLOWED_HOSTS="registry.example.com")

    result = manage("check", env=env)

    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


# --- Probes ------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_healthz_answers_without_touching_the_database(django_assert_num_queries: Any) -> None:
    with django_assert_num_queries(0):
        response = Client().get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert "no-cache" in response["Cache-Control"] or "max-age=0" in response["Cache-Control"]


@pytest.mark.django_db
def test_healthz_answers_while_the_database_is_down() -> None:
    with mock.patch.object(connection, "cursor", side_effect=OperationalError("connection refused")):
        response = Client().get("/healthz")

    assert response.status_code == 200


@pytest.mark.django_db
def test_readyz_is_200_when_database_and_cache_answer() -> None:
    response = Client().get("/readyz")

    assert response.status_code == 200, response.content
    assert response.json() == {"status": "ok", "checks": {"database": "ok", "cache": "ok"}}


@pytest.mark.django_db
def test_readyz_is_503_naming_the_database_when_it_is_down() -> None:
    with mock.patch.object(connection, "cursor", side_effect=OperationalError("connection refused")):
        response = Client().get("/readyz")

    assert response.status_code == 503
    body = response.json()
    assert body["checks"]["database"] == "down"
    assert body["checks"]["cache"] == "ok"
    assert body["status"] != "ok"


@pytest.mark.django_db
def test_readyz_is_503_naming_the_database_when_a_query_fails() -> None:
    def refuse(execute, sql, params, many, context):
        raise OperationalError("server closed the connection unexpectedly")

    with connection.execute_wrapper(refuse):
        response = Client().get("/readyz")

    assert response.status_code == 503
    assert response.json()["checks"]["database"] == "down"


@pytest.mark.django_db
def test_readyz_stays_ready_and_says_degraded_when_the_cache_raises() -> None:
    """Issue 15: the cache only accelerates, so a pod without it still serves (from PostgreSQL)."""
    broken = mock.Mock()
    broken.set.side_effect = ConnectionError("redis: connection refused")
    broken.get.side_effect = ConnectionError("redis: connection refused")

    with mock.patch("core.health.cache", broken):
        response = Client().get("/readyz")

    assert response.status_code == 200
    assert response.json() == {"status": "degraded", "checks": {"database": "ok", "cache": "degraded"}}


@pytest.mark.django_db
def test_readyz_says_degraded_when_the_cache_loses_what_it_was_given() -> None:
    forgetful = mock.Mock()
    forgetful.get.return_value = None

    with mock.patch("core.health.cache", forgetful):
        response = Client().get("/readyz")

    assert response.status_code == 200
    assert response.json()["checks"]["cache"] == "degraded"


@pytest.mark.django_db
def test_probes_are_exempt_from_the_https_redirect(settings: Any) -> None:
    settings.SECURE_SSL_REDIRECT = True

    assert Client().get("/healthz").status_code == 200
    assert Client().get("/readyz").status_code == 200
    assert Client().get("/v1/models").status_code == 301
