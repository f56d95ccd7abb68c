"""The OpenAPI document the live server serves, and the clients generated from it (once per session)."""

from __future__ import annotations

import json
import shutil
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.test.utils import modify_settings

from tests.clients.generated import HeyApiClient, PythonClient


@dataclass(frozen=True)
class ServedSchema:
    document: dict[str, Any]
    path: Path  # the same document, written to a file for the generators


@pytest.fixture(scope="session")
def served_schema(live_server: Any, django_db_blocker: Any, tmp_path_factory: pytest.TempPathFactory) -> ServedSchema:
    """The document exactly as the server serves it at /api/schema/."""
    url = f"{live_server.url}/api/schema/?format=json"
    # pytest-django allows the live server's host, and its database connection, for the duration
    # of each test that uses it; a session fixture runs before that (the request reads no rows,
    # but Django checks the connection at the start of every request).
    with (
        django_db_blocker.unblock(),
        modify_settings(ALLOWED_HOSTS={"append": urlsplit(live_server.url).hostname}),
        urllib.request.urlopen(url, timeout=30) as response,  # noqa: S310 - the test's own server
    ):
        assert response.status == 200
        raw = response.read()
    path = tmp_path_factory.mktemp("schema") / "openapi.json"
    path.write_bytes(raw)
    return ServedSchema(json.loads(raw), path)


@pytest.fixture(scope="session")
def python_client(served_schema: ServedSchema, tmp_path_factory: pytest.TempPathFactory) -> Iterator[PythonClient]:
    client = PythonClient.generate(served_schema.path, tmp_path_factory.mktemp("openapi-python-client"))
    yield client
    client.unload()


@pytest.fixture(scope="session")
def hey_api_client(served_schema: ServedSchema, tmp_path_factory: pytest.TempPathFactory) -> HeyApiClient:
    if shutil.which("npm") is None or shutil.which("node") is None:
        pytest.skip("npm (with Node.js) is not on PATH: the hey-api TypeScript client cannot be installed")
    return HeyApiClient.generate(served_schema.path, tmp_path_factory.mktemp("hey-api"))


@pytest.fixture(params=["openapi-python-client", "hey-api"])
def generated_client(request: pytest.FixtureRequest) -> PythonClient | HeyApiClient:
    fixture = {"openapi-python-client": "python_client", "hey-api": "hey_api_client"}[request.param]
    return request.getfixturevalue(fixture)
