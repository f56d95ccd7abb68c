"""Requests in flight at once: each on its own thread, client and token, released together."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from django.db import connection
from rest_framework.test import APIClient


def race(make_token, calls: list[Callable[[APIClient], Any]]) -> list[tuple[int, dict]]:
    """Run each call on its own thread and client, all released at once; their (status, body)."""
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)

    def run(index: int) -> None:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {make_token(roles=('stytch_admin',), sub=f'racer-{index}')}")
        try:
            barrier.wait(timeout=60)
            response = calls[index](client)
            results[index] = (response.status_code, response.json() if response.content else {})
        except BaseException as exc:  # noqa: BLE001 - reported below
            results[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(index,)) for index in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert all(isinstance(result, tuple) for result in results), results
    return results
