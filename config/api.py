"""The base every API viewset stands on.

- Tenancy in one place: a viewset says which objects an organization may see
  (`visible_to`); the base applies it to every request, so no endpoint can forget it.
  Objects of another organization are not found (404). Visible global objects (system
  models, global particles) can be read by all and written by none through the API (403).
- Lost updates: responses carry an `ETag`; PATCH and DELETE honour `If-Match` (412 on a
  mismatch) and lock the row while they check and write.
- Retries: POST honours `Idempotency-Key` (config/idempotency.py).
"""

import hashlib
import logging

from django.core.exceptions import ImproperlyConfigured
from django.db import DatabaseError, transaction
from django.db.models import Model, QuerySet
from rest_framework import exceptions, viewsets
from rest_framework.request import Request
from rest_framework.response import Response

from config import idempotency
from config.authentication import Principal
from config.errors import PreconditionFailed

logger = logging.getLogger("model_registry.api")

UUID_PATTERN = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


def etag_of(obj: Model) -> str:
    """A strong validator that changes whenever the object is saved."""
    digest = hashlib.sha256(f"{obj.pk}:{obj.updated_at.isoformat()}".encode()).hexdigest()[:32]
    return f'"{digest}"'


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
        queryset = self.visible_to(self.principal.organization_id)
        if getattr(self, "_lock_rows", False):
            queryset = queryset.select_for_update(of=("self",))
        return queryset

    def check_object_permissions(self, request, obj: Model) -> None:
        super().check_object_permissions(request, obj)
        if request.method not in SAFE_METHODS and obj.organization_id != self.principal.organization_id:
            raise exceptions.PermissionDenied(self.read_only_global_message)

    # --- Lost updates -------------------------------------------------------------------
    def get_object_for_update(self) -> Model:
        """The object, locked until the surrounding transaction ends, with If-Match checked."""
        if not transaction.get_connection().in_atomic_block:
            raise ImproperlyConfigured("get_object_for_update() must run inside transaction.atomic().")
        self._lock_rows = True
        try:
            obj = self.get_object()
        finally:
            self._lock_rows = False
        self.check_precondition(obj)
        return obj

    def check_precondition(self, obj: Model) -> None:
        if_match = self.request.headers.get("If-Match")
        if if_match is None:
            return
        candidates = {tag.strip() for tag in if_match.split(",")}  # strong comparison (RFC 9110)
        if "*" not in candidates and etag_of(obj) not in candidates:
            raise PreconditionFailed()

    def respond_with(self, obj: Model, data: dict, status: int = 200, headers: dict | None = None) -> Response:
        return Response(data, status=status, headers={"ETag": etag_of(obj), **(headers or {})})

    # --- Retries ---------------------------------------------------------------------------
    def initial(self, request: Request, *args, **kwargs) -> None:
        super().initial(request, *args, **kwargs)
        self._idempotency_claim = idempotency.claim(request, self.principal)

    def handle_exception(self, exc: Exception) -> Response:
        if isinstance(exc, idempotency.Replay):
            return exc.response
        return super().handle_exception(exc)

    def finalize_response(self, request: Request, response: Response, *args, **kwargs) -> Response:
        response = super().finalize_response(request, response, *args, **kwargs)
        claimed = getattr(self, "_idempotency_claim", None)
        if claimed is not None:
            self._idempotency_claim = None
            try:
                idempotency.complete(claimed, response)
            except DatabaseError:
                # The response stands; the unfinished claim is released by its timeout.
                logger.warning("could not record the response of an idempotent request", exc_info=True)
        return response
