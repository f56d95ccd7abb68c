"""The domain's own errors, raised by services and mapped to HTTP once (core.errors).

Services speak Django, not HTTP: a broken rule is Django's `ValidationError` (keyed by model
field), an object still in use is Django's `ProtectedError` or this module's `Conflict`.
"""

from typing import Any


class Conflict(Exception):
    """The change conflicts with the current state: something still uses the object (409)."""

    def __init__(self, message: str, *, references: list[dict[str, str]] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.references = references


def reference_of(obj: Any) -> dict[str, str]:
    """How a conflict names an object that still uses the one being changed or deleted."""
    return {"type": obj._meta.verbose_name, "id": str(obj.pk), "name": str(obj)}
