"""The lifecycle of a system model: active, deprecated, retired.

Staff set two dates on a system model (`deprecated_at`, `retires_at`) and optionally a
`successor`. The status is derived from the dates whenever it is read, never stored, so a
model becomes deprecated and then retired on its day without a scheduled job:

- `active`: no deprecation date, or one still in the future;
- `deprecated` from `deprecated_at` (inclusive): existing user models keep working, with
  `Deprecation`/`Sunset`/`Link` headers on their reads; no new user model may be built on it;
- `retired` from `retires_at` (inclusive): user models built on it answer `/resolved` with
  `isUsable: false`; nothing is deleted.

Days are UTC days. A user model has no dates of its own: it shows its parent's.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time
from email.utils import format_datetime
from typing import TypeVar

from django.db import models
from django.db.models import Q
from django.utils import timezone

K = TypeVar("K")


class LifecycleStatus(models.TextChoices):
    ACTIVE = "active"
    DEPRECATED = "deprecated"
    RETIRED = "retired"


def today() -> date:
    """The current UTC day, the one every lifecycle rule is evaluated on."""
    return timezone.now().astimezone(UTC).date()


def status_of(deprecated_at: date | None, retires_at: date | None, on: date | None = None) -> LifecycleStatus:
    on = on or today()
    if retires_at is not None and retires_at <= on:
        return LifecycleStatus.RETIRED
    if deprecated_at is not None and deprecated_at <= on:
        return LifecycleStatus.DEPRECATED
    return LifecycleStatus.ACTIVE


def status_q(status: str, on: date, *, prefix: str = "") -> Q:
    """Rows whose dates (under `prefix`, e.g. "parent__") give `status` on day `on`."""
    deprecated, retires = f"{prefix}deprecated_at", f"{prefix}retires_at"
    not_retired = Q(**{f"{retires}__isnull": True}) | Q(**{f"{retires}__gt": on})
    if status == LifecycleStatus.RETIRED:
        return Q(**{f"{retires}__lte": on})
    if status == LifecycleStatus.DEPRECATED:
        return Q(**{f"{deprecated}__lte": on}) & not_retired
    return (Q(**{f"{deprecated}__isnull": True}) | Q(**{f"{deprecated}__gt": on})) & not_retired


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def headers(*, deprecated_at: date | None, retires_at: date | None, successor_url: str | None) -> dict[str, str]:
    """The response headers announcing a deprecation (RFC 9745 `Deprecation`, a structured-field
    date), a retirement (RFC 8594 `Sunset`, an HTTP-date) and the successor (`Link`,
    rel="successor-version"). Sent as soon as a date is set, also while it is in the future,
    as both RFCs intend; nothing for a model with no dates."""
    values: dict[str, str] = {}
    if deprecated_at is not None:
        values["Deprecation"] = f"@{int(_midnight(deprecated_at).timestamp())}"
    if retires_at is not None:
        values["Sunset"] = format_datetime(_midnight(retires_at), usegmt=True)
    if successor_url and values:
        values["Link"] = f'<{successor_url}>; rel="successor-version"'
    return values


def retired_reason(*, name: str, retires_at: date, successor: tuple[str, str] | None) -> str:
    """Why a user model on a retired base cannot be used, naming the successor (id, name) if any."""
    text = f"The base model {name!r} was retired on {retires_at.isoformat()}."
    if successor is not None:
        text += f" Move this model to its successor {successor[1]!r} (id {successor[0]})."
    return text


def successor_unfit(name: str, status: LifecycleStatus, *, is_enabled: bool) -> str | None:
    """Why a system model cannot be a successor (it must be active and enabled), or None."""
    if status == LifecycleStatus.ACTIVE and is_enabled:
        return None
    state = status.value if status != LifecycleStatus.ACTIVE else "disabled"
    return f"Must be an active, enabled system model; {name} is {state}."


def successor_cycle(start: K, successor_of: Callable[[K], K | None]) -> list[K] | None:
    """The chain `start -> ... -> start` if following successors from `start` comes back to it,
    else None. `successor_of` gives a model's successor (None: it has none)."""
    chain, current = [start], successor_of(start)
    while current is not None and current not in chain:
        chain.append(current)
        current = successor_of(current)
    return [*chain, start] if current == start else None


def closed_reason(*, name: str, status: LifecycleStatus, successor: tuple[str, str] | None) -> str:
    """Why no new user model may be built on (or moved onto) a system model."""
    text = f"The system model {name!r} is {status}: no new models can be built on it."
    if successor is not None:
        text += f" Use its successor {successor[1]!r} (id {successor[0]})."
    return text
