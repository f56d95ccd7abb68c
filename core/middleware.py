"""Request plumbing: a request id for every request, an access log line and the request's
duration metric, a body size limit."""

import logging
import re
import time
import uuid
from contextvars import ContextVar

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse

from core import metrics
from core.errors import API_PATH_PREFIXES, error_body

request_id_var: ContextVar[str] = ContextVar("request_id", default="-")
access_log = logging.getLogger("model_registry.access")

_VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,128}$")


class RequestIdMiddleware:
    """Takes a well-formed `X-Request-ID` from the proxy or makes one; echoes it on the
    response and puts it on every log line of the request. Its one clock reading serves the
    access line and the request duration histogram (core.metrics)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        incoming = request.headers.get("X-Request-ID", "")
        request_id = incoming if _VALID_REQUEST_ID.match(incoming) else uuid.uuid4().hex
        request.request_id = request_id
        token = request_id_var.set(request_id)
        started = time.perf_counter()
        try:
            response = self.get_response(request)
            response["X-Request-ID"] = request_id
            seconds = time.perf_counter() - started
            metrics.observe_request(request, response.status_code, seconds)
            access_log.info(
                "request",
                extra={
                    "method": request.method,
                    "path": request.path,
                    "status": response.status_code,
                    "duration_ms": round(seconds * 1000, 2),
                    "actor": getattr(getattr(request, "user", None), "actor", None),
                },
            )
            return response
        finally:
            request_id_var.reset(token)


class RequestSizeLimitMiddleware:
    """Refuses API request bodies over DATA_UPLOAD_MAX_MEMORY_SIZE with a 413 in the JSON error shape."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        if limit is not None and request.path.startswith(API_PATH_PREFIXES):
            try:
                length = int(request.META.get("CONTENT_LENGTH") or 0)
            except ValueError:
                return JsonResponse(error_body(400, "invalid", "Content-Length must be a number."), status=400)
            if length > limit:
                return JsonResponse(
                    error_body(413, "request_too_large", f"Request body exceeds the limit of {limit} bytes."),
                    status=413,
                )
        return self.get_response(request)
