"""Django's Redis cache backend, with one Redis client per connection pool instead of one per call.

`django.core.cache.backends.redis.RedisCacheClient.get_client()` builds a new `redis.Redis`
for every cache operation, and each new client fills its table of ~170 response callbacks:
on the hot read paths (the throttle's counters, the resolved cache) that cost more CPU than
the round trip itself. A `redis.Redis` is safe to share between threads (every command takes
a connection from the pool), so the client is built once per pool and reused.
"""

import threading

from django.core.cache.backends import redis as django_redis


class RedisCacheClient(django_redis.RedisCacheClient):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._clients: dict[int, object] = {}
        self._clients_lock = threading.Lock()

    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)
        client = self._clients.get(id(pool))
        if client is None:
            with self._clients_lock:
                client = self._clients.setdefault(id(pool), self._client(connection_pool=pool))
        return client

    def loads(self, value: bytes):
        """A value as read from Redis (e.g. by a pipeline), decoded as `get()` would."""
        return self._serializer.loads(value)


class RedisCache(django_redis.RedisCache):
    """`django.core.cache.backends.redis.RedisCache` with `RedisCacheClient` above."""

    def __init__(self, server, params) -> None:
        super().__init__(server, params)
        self._class = RedisCacheClient
