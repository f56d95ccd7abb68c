"""A shared cache of resolved model configurations, fresh by construction.

`GET /v1/models/{id}/resolved` is what runtimes call before every conversation. Its body
depends on the model, its parent, the composition and the composition's particles. Rather
than track those dependencies, every write to any of them bumps a generation in PostgreSQL,
in the write's own transaction: the organization's (its user models, particles and
compositions) or the global one (system models, global prompts). A body is cached in Redis
under the two generations it was read with, so:

- once a write has committed (before its response is sent), every reader on every host reads
  the new generation and so a key no older body was stored under: nothing stale is served,
  whatever Redis did with any message, because no invalidation message exists;
- one organization's writes leave the other organizations' cached bodies warm;
- Redis only accelerates: when it is away (core.cache) the body is read from PostgreSQL.

Reading the generations is one query per request. Bulk writes that send no save signals (the
seed command) call `bump_global()` inside their transaction.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.cache import caches
from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.db.models.signals import post_delete, post_save

from core.cache import guarded
from core.models import CacheGeneration

GLOBAL = CacheGeneration.GLOBAL


def enabled() -> bool:
    return settings.RESOLVED_CACHE_SECONDS > 0


# The read every cached request makes: plain SQL, as the ORM would take longer to build it than
# the database to answer it.
_GENERATIONS_SQL = f"SELECT scope, value FROM {CacheGeneration._meta.db_table} WHERE scope IN (%s, %s)"  # noqa: S608


def key(organization_id: str, model_id: Any) -> str:
    """The cache key of a body as of now: it names the generations it is valid for."""
    with connection.cursor() as cursor:
        cursor.execute(_GENERATIONS_SQL, [organization_id, GLOBAL])
        values = dict(cursor.fetchall())
    return f"resolved:{organization_id}:{model_id}:{values.get(organization_id, 0)}:{values.get(GLOBAL, 0)}"


def get(cache_key: str, prefetched: dict | None = None) -> dict | None:
    """The cached body, or None: from what the rate limiter's round trip found, else from the cache."""
    if prefetched is not None:
        return prefetched.get(cache_key)
    return guarded(lambda: caches["default"].get(cache_key), lambda: None, what="the resolved cache")


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


# --- Bumping the generations, in the writer's transaction --------------------------------------


def bump(scope: str) -> None:
    """Count one more write in `scope` (an organization id or GLOBAL), in the current transaction:
    one UPDATE, and an INSERT the first time a scope is written."""
    if CacheGeneration.objects.filter(scope=scope).update(value=F("value") + 1):
        return
    try:
        with transaction.atomic():
            CacheGeneration.objects.create(scope=scope, value=1)
    except IntegrityError:  # another writer created it first
        CacheGeneration.objects.filter(scope=scope).update(value=F("value") + 1)


def bump_global() -> None:
    bump(GLOBAL)


def _on_write(sender: Any, instance: Any, **kwargs: Any) -> None:
    bump(instance.organization_id or GLOBAL)


def connect_signals() -> None:
    """Models, particles and compositions. A composition's items change only with the composition,
    saved by the same service call (prompts.services), which bumps for both."""
    from models_registry.models import AIModel
    from prompts.models import PromptComposition, PromptParticle

    for model in (AIModel, PromptParticle, PromptComposition):
        post_save.connect(_on_write, sender=model, dispatch_uid=f"resolved_cache.save.{model.__name__}")
        post_delete.connect(_on_write, sender=model, dispatch_uid=f"resolved_cache.delete.{model.__name__}")
