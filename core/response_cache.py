"""A shared cache of rendered read responses, fresh by construction.

Every conditional read (core.conditional) has a context digest made, before anything else is
read, of the cache generations of the caller's organization and of the global scope, the URL
with its query string, the media type and what the viewset adds (the UTC day for models). The
generations are bumped in the transaction of every write that can change such a body
(core.generations), so the digest names one body exactly, and it is the key here: the
rendered bytes and headers of the 200 are kept under it in Redis.

- Once a write has committed (before its response is sent), every reader on every host reads
  the new generation, so a new key: nothing older than a write whose response was sent is
  served, whatever Redis did or lost, because no invalidation message exists.
- One organization's writes change only its own generation: every other organization's cached
  lists and resolved models stay warm. Staff's writes to what everyone sees (system models,
  global prompts, plans, the seed) change the global one, and so every key.
- A body whose status depends on the day (a model's lifecycle) has the day in its key: it is
  not served the next day.
- Redis only accelerates (core.cache): when it is away the response is rendered as without it.

The rate limiter reads the entry in the same Redis round trip as its counters (a view names the
keys in `prefetch_cache_keys()`, core.throttling), so a hit costs the generations query and one
round trip.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.cache import caches
from django.http import HttpResponse

from core import metrics
from core.cache import guarded

# The headers a response is answered with again (the middleware add theirs, e.g. X-Request-ID).
_KEPT_HEADERS = ("Content-Type", "ETag", "Vary", "Allow", "Cache-Control", "Deprecation", "Sunset", "Link")


def enabled() -> bool:
    return settings.RESPONSE_CACHE_SECONDS > 0


def key(context: str) -> str:
    return f"response:{context}"


def get(cache_key: str, prefetched: dict | None = None) -> HttpResponse | None:
    """The cached response, or None: from what the rate limiter's round trip found, else from the cache.
    Counted as a hit or a miss (core.metrics); a miss while the cache is away is a miss too."""
    if prefetched is not None:
        entry = prefetched.get(cache_key)
    else:
        entry = guarded(lambda: caches["default"].get(cache_key), lambda: None, what="the response cache")
    if entry is None:
        metrics.RESPONSE_CACHE_MISS.inc()
        return None
    metrics.RESPONSE_CACHE_HIT.inc()
    content, headers = entry
    return HttpResponse(content, status=200, headers=headers)


def put(cache_key: str, response: Any) -> None:
    """Keep a rendered 200 for RESPONSE_CACHE_SECONDS."""
    entry = (bytes(response.content), {name: response[name] for name in _KEPT_HEADERS if name in response})
    guarded(
        lambda: caches["default"].set(cache_key, entry, timeout=settings.RESPONSE_CACHE_SECONDS),
        lambda: None,
        what="the response cache",
    )
