"""core.cache.RedisCache: Django's Redis backend, reusing one Redis client per pool."""

from collections.abc import Iterator

import pytest

from core.cache import RedisCache
from tests.conftest import REDIS_LOCATION, redis_answers


@pytest.fixture
def backend() -> Iterator[RedisCache]:
    if not redis_answers():
        pytest.skip(f"Redis does not answer at {REDIS_LOCATION}")
    cache = RedisCache(REDIS_LOCATION, {"KEY_PREFIX": "test-config-cache", "OPTIONS": {"socket_timeout": 2}})
    yield cache
    cache.clear()


def test_every_call_uses_the_same_client(backend: RedisCache) -> None:
    first = backend._cache.get_client(write=True)
    assert backend._cache.get_client(write=True) is first
    assert backend._cache.get_client(write=False) is first  # one server: reads and writes share its pool


def test_it_behaves_as_django_s_backend(backend: RedisCache) -> None:
    backend.set("a", {"body": [1, 2]}, timeout=30)
    backend.set("n", 1, timeout=30)
    assert backend.incr("n") == 2
    assert backend.get_many(["a", "n", "missing"]) == {"a": {"body": [1, 2]}, "n": 2}
    assert backend.add("a", "other") is False
    backend.delete("a")
    assert backend.get("a") is None
