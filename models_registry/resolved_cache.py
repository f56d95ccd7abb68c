"""A shared cache of resolved model configurations, fresh by construction.

`GET /v1/models/{id}/resolved` is what runtimes call before every conversation. Its body
depends on the model, its parent, the composition, the composition's particles and the
organization's entitlements. Rather than track those dependencies, a body is cached in Redis
under the two generations (core.generations) it was read with, the organization's and the
global one, bumped in the transaction of every write to any of them. So:

- once a write has committed (before its response is sent), every reader on every host reads
  the new generation and so a key no older body was stored under: nothing stale is served,
  whatever Redis did with any message, because no invalidation message exists;
- one organization's writes leave the other organizations' cached bodies warm;
- Redis only accelerates: when it is away (core.cache) the body is read from PostgreSQL.

Reading the generations is one query per request, shared with the request's ETag
(core.conditional).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.cache import caches

from core import metrics
from core.cache import guarded


def enabled() -> bool:
    return settings.RESOLVED_CACHE_SECONDS > 0


def key(organization_id: str, model_id: Any, generations: tuple[int, int]) -> str:
    """The cache key of a body read under `generations` (core.generations.read)."""
    organization_generation, global_generation = generations
    return f"resolved:{organization_id}:{model_id}:{organization_generation}:{global_generation}"


def get(cache_key: str, prefetched: dict | None = None) -> dict | None:
    """The cached body, or None: from what the rate limiter's round trip found, else from the cache.
    Counted as a hit or a miss (core.metrics); a miss while the cache is away is a miss too."""
    if prefetched is not None:
        body = prefetched.get(cache_key)
    else:
        body = guarded(lambda: caches["default"].get(cache_key), lambda: None, what="the resolved cache")
    (metrics.RESOLVED_CACHE_MISS if body is None else metrics.RESOLVED_CACHE_HIT).inc()
    return body


def put(cache_key: str, body: dict, *, max_seconds: float | None = None) -> None:
    """Keep a body for RESOLVED_CACHE_SECONDS, or less if it must not outlive `max_seconds`."""
    timeout = settings.RESOLVED_CACHE_SECONDS
    if max_seconds is not None:
        if max_seconds < 1:
            return  # the body's lifecycle status changes in under a second: not worth keeping
        timeout = min(timeout, int(max_seconds))
    guarded(
        lambda: caches["default"].set(cache_key, body, timeout=timeout),
        lambda: None,
        what="the resolved cache",
    )
