"""Generations: one counter per scope, bumped in the transaction of every write that can change
what that scope reads.

A scope is an organization id (its user models, particles, compositions, entitlements, audit
trail) or `GLOBAL` (system models, global prompts, plans: what every organization reads). The
writes bump them in their own transaction: save and delete signals of the models the apps name
(`connect()`), and the bulk writes that send no signals call `bump()` themselves (the seed
command, moving user models to a successor, entitlement changes).

So a pair of values read before a body is read names that body: once a write has committed
(before its response is sent), every reader on every host reads newer values. Two readers use
that: conditional reads (core.conditional) make ETags of them, and the response cache
(core.response_cache) keys rendered responses by those ETags' digests.

Reading them is one query by primary key.
"""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F
from django.db.models.signals import post_delete, post_save

from core import statements
from core.models import CacheGeneration

GLOBAL = CacheGeneration.GLOBAL

# Plain SQL: the ORM would take longer to build this query than the database to answer it;
# prepared, as every request reads it (core.statements).
_READ_SQL = f"SELECT scope, value FROM {CacheGeneration._meta.db_table} WHERE scope IN (%s, %s)"  # noqa: S608


def read(organization_id: str) -> tuple[int, int]:
    """The organization's generation and the global one, as of now."""
    values = dict(statements.fetch_rows(_READ_SQL, [organization_id, GLOBAL]))
    return values.get(organization_id, 0), values.get(GLOBAL, 0)


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


def connect(*models: type) -> None:
    """Bump the object's scope (its `organization_id`, or GLOBAL when it has none) on every save
    and delete of `models` (call from an app's `ready()`)."""
    for model in models:
        label = model._meta.label
        post_save.connect(_on_write, sender=model, dispatch_uid=f"generations.save.{label}")
        post_delete.connect(_on_write, sender=model, dispatch_uid=f"generations.delete.{label}")
