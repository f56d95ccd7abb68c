"""Rate limits per organization and per caller (a member or an M2M client), in the shared cache.

Fixed one-window counters: each request increments the organization's and the caller's
counter for the current window (one Redis command for both: a Lua script that INCRs each
counter and starts its expiry, atomic, so concurrent workers never lose a count). Over the
limit: 429 with Retry-After, the seconds until the window ends. With several workers the
counters must live in one place (Redis through REDIS_URL); with the local-memory cache each
worker counts on its own.
"""

import time

from django.conf import settings
from django.core.cache import BaseCache, caches
from django.core.cache.backends.redis import RedisCache
from redis.commands.core import Script
from rest_framework.throttling import BaseThrottle

from config.authentication import Principal

DURATIONS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_rate(rate: str) -> tuple[int, int]:
    """ "100/minute" -> (100, 60)."""
    count, period = rate.split("/")
    return int(count), DURATIONS[period[0]]


# KEYS: the counters; ARGV: their lifetimes in seconds. A counter's first increment starts its
# expiry, in the same atomic step, so no counter outlives its window. Given as bytes, the script
# needs no client to compute its SHA: any client runs it (EVALSHA, loaded again if Redis lost it).
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


def increment_counters(cache: BaseCache, counters: list[tuple[str, int]]) -> list[int]:
    """Increment each (key, ttl) counter and return the new values."""
    if isinstance(cache, RedisCache):
        client = cache._cache.get_client(write=True)
        keys = [cache.make_and_validate_key(key) for key, _ in counters]
        return INCREMENT_SCRIPT(keys=keys, args=[ttl for _, ttl in counters], client=client)
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
