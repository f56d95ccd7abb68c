"""Rate limits per organization and per caller (a member or an M2M client), in the shared cache.

Fixed one-window counters: each request increments the organization's and the caller's
counter for the current window (one Redis round trip for both, INCR being atomic, so
concurrent workers never lose a count). Over the limit: 429 with Retry-After, the seconds
until the window ends. With several workers the counters must live in one place (Redis
through REDIS_URL); with the local-memory cache each worker counts on its own.
"""

import time
from typing import Any

from django.conf import settings
from django.core.cache import BaseCache, caches
from django.core.cache.backends.redis import RedisCache
from rest_framework.throttling import BaseThrottle

from config.authentication import Principal

DURATIONS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_rate(rate: str) -> tuple[int, int]:
    """"100/minute" -> (100, 60)."""
    count, period = rate.split("/")
    return int(count), DURATIONS[period[0]]


_redis_clients: dict[int, Any] = {}


def _redis_client(cache: RedisCache) -> Any:
    """One client per cache backend and process (Django's backend builds a new one per call)."""
    client = _redis_clients.get(id(cache))
    if client is None:
        client = _redis_clients[id(cache)] = cache._cache.get_client(write=True)
    return client


def increment_counters(cache: BaseCache, counters: list[tuple[str, int]]) -> list[int]:
    """Increment each (key, ttl) counter and return the new values."""
    if isinstance(cache, RedisCache):
        keys = [cache.make_and_validate_key(key) for key, _ in counters]
        pipeline = _redis_client(cache).pipeline(transaction=False)
        for key, (_, ttl) in zip(keys, counters, strict=True):
            pipeline.incr(key)
            pipeline.expire(key, ttl, nx=True)
        return pipeline.execute()[::2]
    values = []
    for key, ttl in counters:
        cache.add(key, 0, timeout=ttl)
        values.append(cache.incr(key))
    return values


class PrincipalRateThrottle(BaseThrottle):
    """settings.THROTTLE_RATES["organization"] per organization and ["client"] per caller."""

    def __init__(self) -> None:
        self.cache = caches["default"]
        self.retry_after: float | None = None

    def allow_request(self, request, view) -> bool:
        principal = request.user
        if not isinstance(principal, Principal):
            return True
        now = time.time()
        limits = []
        for scope, ident in (
            ("organization", principal.organization_id),
            ("client", f"{principal.organization_id}:{principal.actor}"),
        ):
            rate = settings.THROTTLE_RATES.get(scope)
            if not rate:
                continue
            allowed, duration = parse_rate(rate)
            window = int(now // duration)
            limits.append((f"throttle:{scope}:{ident}:{window}", duration, allowed, (window + 1) * duration - now))
        if not limits:
            return True
        counts = increment_counters(self.cache, [(key, duration) for key, duration, _, _ in limits])
        for (_, _, allowed, remaining), count in zip(limits, counts, strict=True):
            if count > allowed:
                self.retry_after = max(self.retry_after or 0, remaining)
        return self.retry_after is None

    def wait(self) -> float | None:
        return self.retry_after
