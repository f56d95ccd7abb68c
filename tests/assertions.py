"""Assertions shared by the API tests (tests/conftest.py has pytest rewrite their asserts)."""

from __future__ import annotations

from typing import Any

import orjson


def assert_error_shape(response: Any, status: int) -> dict[str, Any]:
    """The one JSON error shape: {"status", "code", "detail"} and nothing that looks like a traceback."""
    assert response.status_code == status, (response.status_code, response.content[:2000])
    assert response["Content-Type"].startswith("application/json"), response["Content-Type"]
    body = orjson.loads(response.content)
    assert body["status"] == status
    assert isinstance(body["code"], str) and body["code"]
    assert isinstance(body["detail"], str) and body["detail"]
    assert b"Traceback" not in response.content
    assert b'File "' not in response.content
    return body
