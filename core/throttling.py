"""Rate limits per organization and per caller (a member or an M2M client), in the shared cache.

Fixed one-window counters: each request increments the organization's and the caller's
counter for the current window (one Redis command for both: a Lua script that INCRs each
counter and starts its expiry, atomic, so concurrent workers never lose a count; a view's
cache reads can share that round trip, see `PrincipalRateThrottle`). Over the
limit: 429 with Retry-After, the seconds until the window ends. With several workers the
counters must live in one place (Redis through REDIS_URL); with the local-memory cache each
worker counts on its own.
"""

import time
from collections.abc import Sequence
from typing import Any

from django.conf import settings
from django.core.cache import BaseCache, caches
from django_redis import get_redis_connection
from django_redis.cache import RedisCache
from redis.commands.core import Script
from redis.exceptions import NoScriptError
from rest_framework.throttling import BaseThrottle

from core.authentication import Principal
from core.cache import guarded

CACHE_ALIAS = "default"
LOCAL_ALIAS = "local"  # this process's own memory: the limiter's fallback

DURATIONS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_rate(rate: str) -> tuple[int, int]:
    """ "100/minute" -> (100, 60)."""
    count, period = rate.split("/")
    return int(count), DURATIONS[period[0]]


# KEYS: the counters; ARGV: their lifetimes in seconds. A counter's first increment starts its
# expiry, in the same atomic step, so no counter outlives its window. Given as bytes, the script
# needs no client to compute its SHA: it runs by EVALSHA, loaded again if Redis lost it.
INCREMENT_SCRIPT = Script(
    None,
    b"""
local counts = {}
for i, key in ipairs(KEYS) do
    counts[i] = redis.call('INCR', key)
    if counts[i] == 1 then
        redis.call('EXPIRE', key, ARGV[i])
    end
end
return counts
""",
)


def increment_counters(
    cache: BaseCache, counters: list[tuple[str, int]], prefetch: Sequence[str] = ()
) -> tuple[list[int], dict[str, Any]]:
    """Increment each (key, ttl) counter; return the new values and the cache entries of
    `prefetch` that exist (as `cache.get_many`). With Redis, one round trip does both."""
    if not isinstance(cache, RedisCache):
        values = []
        for key, ttl in counters:
            cache.add(key, 0, timeout=ttl)
            values.append(cache.incr(key))
        return values, cache.get_many(prefetch) if prefetch else {}

    client = get_redis_connection(CACHE_ALIAS)
    keys = [cache.client.make_key(key) for key, _ in counters]
    prefetch_keys = [cache.client.make_key(key) for key in prefetch]

    def round_trip(by_sha: bool) -> list:
        pipeline = client.pipeline(transaction=False)
        arguments = (len(keys), *keys, *(ttl for _, ttl in counters))
        if by_sha:
            pipeline.evalsha(INCREMENT_SCRIPT.sha, *arguments)
        else:
            pipeline.eval(INCREMENT_SCRIPT.script, *arguments)
        if prefetch_keys:
            pipeline.mget(prefetch_keys)
        return pipeline.execute(raise_on_error=False)

    results = round_trip(by_sha=True)
    if isinstance(results[0], NoScriptError):
        # Redis restarted or flushed its scripts: send the script itself. EVAL cannot miss it
        # (a SCRIPT LOAD then EVALSHA could, if the scripts were flushed again in between), and
        # Redis keeps it for the next request's EVALSHA.
        results = round_trip(by_sha=False)
    for result in results:
        if isinstance(result, Exception):
            raise result
    found = zip(prefetch, results[1], strict=True) if prefetch else ()
    return results[0], {key: cache.client.decode(value) for key, value in found if value is not None}


class PrincipalRateThrottle(BaseThrottle):
    """settings.THROTTLE_RATES["organization"] per organization and ["client"] per caller.

    A view that reads the cache on every request can name those keys in
    `prefetch_cache_keys()`: the counters' round trip to Redis reads them too, and leaves
    what it found in `request.prefetched_cache` (absent when no limit applied or the view
    named no keys, so the view reads the keys itself). The resolved endpoint makes one round trip instead of two.
    """

    def __init__(self) -> None:
        self.cache = caches[CACHE_ALIAS]
        self.retry_after: float | None = None

    @staticmethod
    def limits_of(principal: Principal, now: float) -> list[tuple[str, int, int, float]]:
        """The counters a request of `principal` at `now` counts in: (key, window's seconds,
        requests allowed in it, seconds left of it), per configured scope."""
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
        return limits

    def allow_request(self, request, view) -> bool:
        principal = request.user
        if not isinstance(principal, Principal):
            return True
        limits = self.limits_of(principal, time.time())
        if not limits:
            return True
        prefetch = view.prefetch_cache_keys() if hasattr(view, "prefetch_cache_keys") else ()
        counters = [(key, duration) for key, duration, _, _ in limits]

        def count_locally() -> tuple[list[int], None]:
            # While the shared cache is away, each process counts on its own; guarded() counts
            # each such request as cache_fallbacks{what="rate limits"}.
            return increment_counters(caches[LOCAL_ALIAS], counters)[0], None

        counts, found = guarded(
            lambda: increment_counters(self.cache, counters, prefetch), count_locally, what="rate limits"
        )
        if prefetch and found is not None:
            request.prefetched_cache = found
        for (_, _, allowed, remaining), count in zip(limits, counts, strict=True):
            if count > allowed:
                self.retry_after = max(self.retry_after or 0, remaining)
        return self.retry_after is None

    def wait(self) -> float | None:
        return self.retry_after
