"""The record of each organization that calls the API (`core.models.Organization`).

Made on an organization's first authenticated request, and its slug kept in step with the
tokens. Each process remembers what it has recorded, so a steady-state request costs no query;
the first request of an organization on a process costs one or two.
"""

from __future__ import annotations

from threading import Lock

from django.db import IntegrityError, transaction

from core.limits import ORGANIZATION_SLUG_MAX_LENGTH
from core.models import Organization

MAX_REMEMBERED = 100_000

_recorded: dict[str, str] = {}  # organization id -> the slug last recorded
_lock = Lock()


def record(organization_id: str, slug: str | None) -> None:
    slug = (slug or "")[:ORGANIZATION_SLUG_MAX_LENGTH]
    known = _recorded.get(organization_id)
    if known is not None and (known == slug or not slug):  # M2M tokens carry no slug: keep the last
        return
    try:
        with transaction.atomic():
            organization, created = Organization.objects.get_or_create(id=organization_id, defaults={"slug": slug})
            if not created and slug and organization.slug != slug:
                Organization.objects.filter(pk=organization_id).update(slug=slug)
    except IntegrityError:  # another request of the same organization recorded it first
        pass
    with _lock:
        if len(_recorded) >= MAX_REMEMBERED:
            _recorded.clear()
        _recorded[organization_id] = slug or _recorded.get(organization_id, "")


def forget() -> None:
    """Forget what this process recorded (tests, whose transactions roll the rows back)."""
    with _lock:
        _recorded.clear()
