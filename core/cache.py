"""The shared cache (Redis) as an accelerator, never a dependency.

Every call that may reach Redis goes through `guarded()`: when Redis refuses, times out
(settings: a few hundred ms) or errs, the caller's fallback answers instead and the process
skips Redis for CACHE_BACKOFF_SECONDS, so an outage costs one timeout per back-off window,
not one per request. The first failure of a window is logged; recovery needs no restart.
Each answer without the cache is counted (core.metrics: model_registry_cache_fallbacks_total).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from time import monotonic
from typing import TypeVar

from django.conf import settings
from redis.exceptions import RedisError

from core import metrics

logger = logging.getLogger("model_registry.cache")

T = TypeVar("T")
CACHE_ERRORS = (RedisError, ConnectionError, TimeoutError, OSError)


class Breaker:
    """Open (skip the cache) for a back-off window after a failure."""

    def __init__(self) -> None:
        self._open_until = 0.0
        self._lock = threading.Lock()

    def is_open(self) -> bool:
        return monotonic() < self._open_until

    def trip(self, exc: BaseException, what: str) -> None:
        with self._lock:
            first = not self.is_open()
            self._open_until = monotonic() + settings.CACHE_BACKOFF_SECONDS
        if first:
            logger.warning(
                "cache unavailable for %s (%s: %s); skipping it for %s s",
                what,
                type(exc).__name__,
                exc,
                settings.CACHE_BACKOFF_SECONDS,
            )

    def reset(self) -> None:
        with self._lock:
            self._open_until = 0.0


breaker = Breaker()


def guarded(call: Callable[[], T], fallback: Callable[[], T], *, what: str) -> T:
    """`call()`, or `fallback()` while the cache is away (and when this call finds it away)."""
    if breaker.is_open():
        metrics.cache_fallback(what, "open")
        return fallback()
    try:
        return call()
    except CACHE_ERRORS as exc:
        breaker.trip(exc, what)
        metrics.cache_fallback(what, "error")
        return fallback()


def available() -> bool:
    return not breaker.is_open()
