"""The Redis cache (django-redis, as settings.py builds it from REDIS_URL): one client reused for
every call, and the cache API the throttle and the resolved cache rely on."""

from typing import Any

import pytest
from django.core.cache import cache
from django_redis import get_redis_connection


@pytest.fixture(autouse=True)
def _redis(redis_cache: None) -> None:
    """tests/conftest.py's `redis_cache`: settings' Redis cache on a database of its own."""


def test_every_call_uses_the_same_client() -> None:
    first = get_redis_connection("default")
    assert get_redis_connection("default") is first
    assert get_redis_connection("default", write=False) is first  # one server: reads and writes share it


def test_it_behaves_as_django_s_backend() -> None:
    cache.set("a", {"body": [1, 2]}, timeout=30)
    cache.set("n", 1, timeout=30)
    assert cache.incr("n") == 2
    assert cache.get_many(["a", "n", "missing"]) == {"a": {"body": [1, 2]}, "n": 2}
    assert cache.add("a", "other") is False
    cache.delete("a")
    assert cache.get("a") is None
    with pytest.raises(ValueError):
        cache.incr("missing")


def test_a_value_read_raw_decodes_as_get_does(settings: Any) -> None:
    """What the throttle's pipeline reads with MGET is decoded by the cache's own client."""
    cache.set("entry", (7, {"id": "x"}), timeout=30)
    raw = get_redis_connection("default").get(cache.client.make_key("entry"))
    assert cache.client.decode(raw) == (7, {"id": "x"}) == cache.get("entry")
