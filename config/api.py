"""The base every API viewset stands on: tenancy in one place.

A viewset says which objects an organization may see (`visible_to`); this base applies it
to every request, so no endpoint can forget it. Objects of another organization are then
simply not found (404). Objects that are visible but global (system models, global
particles) can be read by all and written by none through the API (403).
"""

from django.core.exceptions import ImproperlyConfigured
from django.db.models import Model, QuerySet
from rest_framework import exceptions, viewsets

from config.authentication import Principal

UUID_PATTERN = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"


class TenantScopedViewSet(viewsets.GenericViewSet):
    resource: str = ""
    lookup_value_regex = UUID_PATTERN
    read_only_global_message = "Global objects cannot be changed through the API."

    def visible_to(self, organization_id: str) -> QuerySet:
        raise ImproperlyConfigured(f"{type(self).__name__} must define visible_to(organization_id).")

    @property
    def principal(self) -> Principal:
        user = self.request.user
        if not isinstance(user, Principal):
            raise exceptions.NotAuthenticated()
        return user

    def get_queryset(self) -> QuerySet:
        if getattr(self, "swagger_fake_view", False):
            return self.queryset.none()
        return self.visible_to(self.principal.organization_id)

    def check_object_permissions(self, request, obj: Model) -> None:
        super().check_object_permissions(request, obj)
        if request.method not in ("GET", "HEAD", "OPTIONS") and obj.organization_id != self.principal.organization_id:
            raise exceptions.PermissionDenied(self.read_only_global_message)
