"""Read and write access to a view's ``resource`` for Stytch principals."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from rest_framework.exceptions import NotAuthenticated, PermissionDenied
from rest_framework.permissions import SAFE_METHODS, BasePermission

from core.authentication import Principal

if TYPE_CHECKING:
    from rest_framework.request import Request
    from rest_framework.views import APIView


class ResourcePermission(BasePermission):
    """Safe methods need ``can_read(view.resource)``; every other method ``can_write``.

    Read: any member of the organization, or the ``read:<resource>`` / ``read:*`` scope.
    Write: a member with a role in ``STYTCH_WRITE_ROLES``, or ``write:<resource>`` / ``write:*``.
    A view over more than one resource names the others in ``also_resources``: each is checked.
    """

    def has_permission(self, request: Request, view: APIView) -> bool:
        resource = getattr(view, "resource", None)
        if not isinstance(resource, str) or not resource:
            raise ImproperlyConfigured(
                f'{type(view).__name__} must set `resource` (e.g. resource = "models") to use ResourcePermission.'
            )
        principal = request.user
        if not isinstance(principal, Principal):
            raise NotAuthenticated()
        for name in (resource, *getattr(view, "also_resources", ())):
            self.check_access(principal, name, write=self.needs_write(request))
        return True

    def check_access(self, principal: Principal, resource: str, *, write: bool) -> None:
        if not write:
            if principal.can_read(resource):
                return
            raise PermissionDenied(f"Reading {resource} needs the 'read:{resource}' or 'read:*' scope.")
        if principal.can_write(resource):
            return
        if principal.kind == "member":
            roles = ", ".join(settings.STYTCH_WRITE_ROLES)
            raise PermissionDenied(f"Writing {resource} needs one of the roles: {roles}.")
        raise PermissionDenied(f"Writing {resource} needs the 'write:{resource}' or 'write:*' scope.")

    def needs_write(self, request: Request) -> bool:
        return request.method not in SAFE_METHODS


class ReadAccessPermission(ResourcePermission):
    """For a POST that changes nothing (a preview): reading the resource is enough."""

    def needs_write(self, request: Request) -> bool:
        return False
