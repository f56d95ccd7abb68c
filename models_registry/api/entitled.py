"""What a request's organization may use, read once per request by the viewsets that apply it."""

from models_registry.entitlements import EntitledSet, entitled_set


class EntitledReadsMixin:
    """For a tenant-scoped viewset whose reads apply the organization's entitlement."""

    _entitled: EntitledSet | None = None

    def entitled(self) -> EntitledSet:
        """The organization's `entitled_set`, read on first use (after the request's generations,
        so a body cached under them is never older than the set it was built from)."""
        if self._entitled is None:
            self._entitled = entitled_set(self.principal.organization_id)
        return self._entitled
