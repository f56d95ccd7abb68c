"""Liveness and readiness probes for load balancers and orchestrators."""

import logging
import uuid

from django.core.cache import cache
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

logger = logging.getLogger("model_registry.health")


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """The process answers; touches neither the database nor the cache."""
    return JsonResponse({"status": "ok"})


READY_DATABASE_TIMEOUT = 1.5  # seconds: /readyz answers within 2 s when the database is dead


def _database_ok() -> bool:
    try:
        pool = getattr(connection, "pool", None)  # PostgreSQL with psycopg's pool
        if pool is not None and connection.connection is None:
            # A dead database fails here within READY_DATABASE_TIMEOUT, not the pool's own timeout.
            with pool.connection(timeout=READY_DATABASE_TIMEOUT):
                pass
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            return cursor.fetchone() == (1,)
    except Exception:  # noqa: BLE001 - any failure means "not ready"
        logger.warning("readiness: database check failed", exc_info=True)
        return False


def _cache_ok() -> bool:
    key = f"readyz:{uuid.uuid4().hex}"
    try:
        cache.set(key, "1", timeout=5)
        ok = cache.get(key) == "1"
        cache.delete(key)
        return ok
    except Exception:  # noqa: BLE001
        logger.warning("readiness: cache check failed", exc_info=True)
        return False


@never_cache
@require_GET
def readyz(request: HttpRequest) -> JsonResponse:
    """Ready when the database answers (503 otherwise). The cache only accelerates: without it
    the API answers from the database, so a cache that does not answer is "degraded", still 200."""
    database = _database_ok()
    cache_state = "ok" if _cache_ok() else "degraded"
    checks = {"database": "ok" if database else "down", "cache": cache_state}
    status = "unavailable" if not database else ("ok" if cache_state == "ok" else "degraded")
    return JsonResponse({"status": status, "checks": checks}, status=200 if database else 503)
