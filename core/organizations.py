"""The record of each organization that calls the API (`core.models.Organization`).

Made on an organization's first authenticated request, and its slug kept in step with the
tokens. Each process remembers what it has recorded, so a steady-state request costs no query;
the first request of an organization on a process costs one or two.
"""

from __future__ import annotations

from threading import Lock

from django.db import transaction

from core.limits import ORGANIZATION_SLUG_MAX_LENGTH
from core.models import Organization

MAX_REMEMBERED = 100_000

_recorded: dict[str, str] = {}  # organization id -> the slug last recorded
_lock = Lock()


def _known(organization_id: str, slug: str) -> bool:
    known = _recorded.get(organization_id)
    return known is not None and (known == slug or not slug)  # M2M tokens carry no slug: keep the last


def record(organization_id: str, slug: str | None) -> None:
    slug = (slug or "")[:ORGANIZATION_SLUG_MAX_LENGTH]
    if _known(organization_id, slug):
        return
    # One writer per process at a time: the threads of a worker that all serve an organization's
    # first requests at once wait here and find it recorded, instead of racing to write one row.
    with _lock:
        if _known(organization_id, slug):
            return
        # One INSERT that ignores a row already there, not a read then a write: first requests on
        # several processes never deadlock upgrading a read lock (SQLite) or collide.
        with transaction.atomic():
            Organization.objects.bulk_create([Organization(id=organization_id, slug=slug)], ignore_conflicts=True)
            if slug:
                Organization.objects.filter(pk=organization_id).exclude(slug=slug).update(slug=slug)
        if len(_recorded) >= MAX_REMEMBERED:
            _recorded.clear()
        _recorded[organization_id] = slug or _recorded.get(organization_id, "")


def forget() -> None:
    """Forget what this process recorded (tests, whose transactions roll the rows back)."""
    with _lock:
        _recorded.clear()
