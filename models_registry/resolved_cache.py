"""A shared cache of resolved model configurations.

`GET /v1/models/{id}/resolved` is what runtimes call before every conversation. Its body
depends on the model, its parent, the composition and the composition's particles. Rather
than track those dependencies, every committed write to any of these tables bumps one
generation number in the shared cache, and a body stored under an older generation is a
miss (it is overwritten or expires on its own). Writes are rare next to reads, so a global
generation costs little and cannot miss a dependency.

Bulk writes that send no save signals (the seed command) call `invalidate()` themselves.
The cache is on only where it is shared by every worker (RESOLVED_CACHE_SECONDS, on by
default with REDIS_URL): a per-process cache would not see other workers' bumps.
"""

import contextlib
import time
from typing import Any

from django.conf import settings
from django.core.cache import caches
from django.db import transaction
from django.db.models.signals import post_delete, post_save

GENERATION_KEY = "resolved:generation"


def enabled() -> bool:
    return settings.RESOLVED_CACHE_SECONDS > 0


def _key(organization_id: str, model_id: Any) -> str:
    return f"resolved:{organization_id}:{model_id}"


def keys(organization_id: str, model_id: Any) -> tuple[str, str]:
    """What `get()` reads: the generation and the entry."""
    return GENERATION_KEY, _key(organization_id, model_id)


def get(organization_id: str, model_id: Any, prefetched: dict | None = None) -> tuple[dict | None, int]:
    """The cached body (or None) and the generation to store a fresh one under.

    One round trip reads the current generation and the entry, unless `prefetched` holds
    what a read of `keys()` found this request. An entry stored under an older generation
    is a miss.
    """
    cache = caches["default"]
    generation_key, key = keys(organization_id, model_id)
    found = cache.get_many([generation_key, key]) if prefetched is None else prefetched
    generation = found.get(generation_key)
    if generation is None:
        # A generation never seen before, so entries cached before an eviction are not revived.
        cache.add(GENERATION_KEY, time.time_ns(), timeout=None)
        return None, cache.get(GENERATION_KEY)
    entry = found.get(key)
    if entry is not None and entry[0] == generation:
        return entry[1], generation
    return None, generation


def put(organization_id: str, model_id: Any, generation: int, body: dict) -> None:
    """Store a body read after `generation` was current (a later bump makes it a miss)."""
    caches["default"].set(_key(organization_id, model_id), (generation, body), timeout=settings.RESOLVED_CACHE_SECONDS)


def _bump() -> None:
    with contextlib.suppress(ValueError):  # no generation yet: the next read starts one
        caches["default"].incr(GENERATION_KEY)


def invalidate() -> None:
    """Forget every cached body once the current transaction commits."""
    transaction.on_commit(_bump)


def _on_write(sender: Any, **kwargs: Any) -> None:
    invalidate()


def connect_signals() -> None:
    from models_registry.models import AIModel
    from prompts.models import PromptComposition, PromptCompositionParticle, PromptParticle

    for model in (AIModel, PromptParticle, PromptComposition, PromptCompositionParticle):
        post_save.connect(_on_write, sender=model, dispatch_uid=f"resolved_cache.save.{model.__name__}")
        post_delete.connect(_on_write, sender=model, dispatch_uid=f"resolved_cache.delete.{model.__name__}")
