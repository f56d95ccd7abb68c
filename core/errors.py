"""One JSON error shape for every error status of the API.

    {"status": 400, "code": "invalid", "detail": "Invalid input: maxTokens.",
     "errors": {"maxTokens": ["maxTokens must be below contextWindow (8192)."]}}

`errors` appears on validation errors (keyed by the camelCase field name, `nonFieldErrors`
for the request as a whole); `references` on 409 conflicts (what still uses the object).
"""

import logging
from typing import Any

from django.core.exceptions import NON_FIELD_ERRORS, SuspiciousOperation
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DatabaseError, InterfaceError, OperationalError
from django.db.models import ProtectedError, RestrictedError
from django.http import Http404, HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from rest_framework import exceptions, serializers, status
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import set_rollback

from core.exceptions import Conflict, reference_of

logger = logging.getLogger("model_registry.errors")

JSON_API_PREFIX = "/v1/"  # the JSON API; "/api/" holds its schema and docs
OPENAI_API_PREFIX = "/openai/"  # the OpenAI-compatible catalog (models_registry/api/openai.py)
JSON_API_PREFIXES = (JSON_API_PREFIX, OPENAI_API_PREFIX)
API_PATH_PREFIXES = (*JSON_API_PREFIXES, "/api/")


class _Conflict409(exceptions.APIException):
    """A `core.exceptions.Conflict` on its way to the error shape, `references` and all."""

    status_code = status.HTTP_409_CONFLICT
    default_detail = "The request conflicts with the current state of the resource."
    default_code = "conflict"

    def __init__(self, detail=None, code=None, references: list[dict] | None = None):
        super().__init__(detail, code)
        self.references = references


class PreconditionFailed(exceptions.APIException):
    status_code = status.HTTP_412_PRECONDITION_FAILED
    default_detail = "The resource has changed since you read it (If-Match does not match its ETag)."
    default_code = "precondition_failed"


class UnprocessableEntity(exceptions.APIException):
    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_detail = "The request cannot be processed."
    default_code = "unprocessable"


class ServiceUnavailable(exceptions.APIException):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = "The service is temporarily unavailable. Try again shortly."
    default_code = "service_unavailable"


def error_body(status_code: int, code: str, detail: str, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"status": status_code, "code": code, "detail": detail}
    body.update({key: value for key, value in extra.items() if value is not None})
    return body


def wire_names(serializer: serializers.Serializer) -> dict[str, str]:
    """{model attribute: wire name} of a serializer's fields (`particle_ids` -> `particleIds`)."""
    return {field.source: name for name, field in serializer.fields.items() if field.source != "*"}


def as_api_errors(exc: DjangoValidationError, names: dict[str, str]) -> dict[str, list[str]]:
    """A Django `ValidationError` (keyed by model field) as the API's field errors, keyed by the
    wire names in `names` (`nonFieldErrors` for the whole object): the one mapping of the two."""
    if not hasattr(exc, "error_dict"):
        return {api_settings.NON_FIELD_ERRORS_KEY: exc.messages}
    errors: dict[str, list[str]] = {}
    for key, messages in exc.message_dict.items():
        name = api_settings.NON_FIELD_ERRORS_KEY if key == NON_FIELD_ERRORS else names.get(key, key)
        errors.setdefault(name, []).extend(messages)
    return errors


def django_validation_detail(exc: DjangoValidationError, *, view: Any = None) -> dict[str, list[str]]:
    """A service's Django `ValidationError` as the API's field errors, keyed by the wire names of
    the view's serializer."""
    serializer_class = view.get_serializer_class() if hasattr(view, "get_serializer_class") else None
    return as_api_errors(exc, wire_names(serializer_class()) if serializer_class is not None else {})


def _flatten(detail: Any, prefix: str = "") -> dict[str, list[str]]:
    """DRF's nested error detail as {"field": [messages]}, nested fields joined with dots."""
    if isinstance(detail, dict):
        flat: dict[str, list[str]] = {}
        for key, value in detail.items():
            flat.update(_flatten(value, f"{prefix}.{key}" if prefix else str(key)))
        return flat
    if isinstance(detail, list) and detail and all(isinstance(item, dict | list) for item in detail):
        flat = {}
        for index, value in enumerate(detail):
            flat.update(_flatten(value, f"{prefix}[{index}]"))
        return flat
    messages = detail if isinstance(detail, list) else [detail]
    return {prefix or "nonFieldErrors": [str(message) for message in messages]}


def _validation_body(exc: exceptions.ValidationError) -> dict[str, Any]:
    errors = _flatten(exc.detail)
    fields = [field for field in errors if field != "nonFieldErrors"]
    if fields:
        detail = "Invalid input: " + ", ".join(fields) + "."
    else:
        detail = "; ".join(errors.get("nonFieldErrors", ["Invalid input."]))
    return error_body(400, "invalid", detail, errors=errors)


def _as_api_exception(exc: Exception, view: Any = None) -> exceptions.APIException | None:
    if isinstance(exc, exceptions.APIException):
        return exc
    if isinstance(exc, Http404):
        return exceptions.NotFound()
    if isinstance(exc, DjangoPermissionDenied):
        return exceptions.PermissionDenied()
    if isinstance(exc, SuspiciousOperation):
        # e.g. TooManyFieldsSent: more query parameters than DATA_UPLOAD_MAX_NUMBER_FIELDS.
        return exceptions.ValidationError({api_settings.NON_FIELD_ERRORS_KEY: [str(exc)]})
    if isinstance(exc, Conflict):
        return _Conflict409(exc.message, references=exc.references)
    if isinstance(exc, DjangoValidationError):
        return exceptions.ValidationError(django_validation_detail(exc, view=view))
    if isinstance(exc, ProtectedError | RestrictedError):
        objects = exc.protected_objects if isinstance(exc, ProtectedError) else exc.restricted_objects
        return _Conflict409(
            "This object is still in use and cannot be deleted.",
            references=[reference_of(obj) for obj in list(objects)[:100]],
        )
    if isinstance(exc, OperationalError | InterfaceError):
        logger.error("database unavailable: %s", type(exc).__name__)
        return ServiceUnavailable("The database is unavailable. Try again shortly.")
    return None


def exception_handler(exc: Exception, context: dict) -> Response:
    api_exc = _as_api_exception(exc, context.get("view"))
    if api_exc is None:
        if isinstance(exc, DatabaseError):
            logger.exception("database error")
        else:
            logger.exception("unhandled error in %s", context.get("view").__class__.__name__)
        set_rollback()
        return Response(error_body(500, "server_error", "An unexpected error occurred."), status=500)

    headers: dict[str, str] = {}
    if getattr(api_exc, "auth_header", None):
        headers["WWW-Authenticate"] = api_exc.auth_header
    if getattr(api_exc, "wait", None):
        headers["Retry-After"] = str(int(api_exc.wait))

    if isinstance(api_exc, exceptions.ValidationError):
        body = _validation_body(api_exc)
    else:
        detail = api_exc.detail
        if isinstance(detail, dict | list):
            message = "; ".join(message for messages in _flatten(detail).values() for message in messages)
        else:
            message = str(detail)
        codes = api_exc.get_codes()
        code = codes if isinstance(codes, str) else api_exc.default_code
        body = error_body(api_exc.status_code, code, message, references=getattr(api_exc, "references", None))
    set_rollback()
    return Response(body, status=api_exc.status_code, headers=headers)


def _is_api_path(request: HttpRequest) -> bool:
    return request.path.startswith(API_PATH_PREFIXES)


@csrf_exempt  # like every API view: a write to an unknown path is a 404, not a CSRF page
def api_not_found(request: HttpRequest) -> JsonResponse:
    return JsonResponse(error_body(404, "not_found", "Not found."), status=404)


def handler404(request: HttpRequest, exception: Exception | None = None):
    if _is_api_path(request):
        return api_not_found(request)
    from django.views.defaults import page_not_found

    return page_not_found(request, exception)


def handler500(request: HttpRequest):
    if _is_api_path(request):
        return JsonResponse(error_body(500, "server_error", "An unexpected error occurred."), status=500)
    from django.views.defaults import server_error

    return server_error(request)
