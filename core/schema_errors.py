"""The API's one error shape, described once for the OpenAPI document."""

from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers


class ErrorReferenceSerializer(serializers.Serializer):
    type = serializers.CharField(help_text="What kind of object still uses the one being deleted.")
    id = serializers.CharField(help_text="Its id.")
    name = serializers.CharField(help_text="Its name.")


class ErrorSerializer(serializers.Serializer):
    """Every error response of the API, whatever its status."""

    status = serializers.IntegerField(help_text="The HTTP status code, repeated.")
    code = serializers.CharField(help_text="A stable machine-readable code, e.g. invalid, not_found, conflict.")
    detail = serializers.CharField(help_text="A human-readable explanation.")
    errors = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        required=False,
        help_text="Validation errors keyed by the camelCase field name (nonFieldErrors for the request as a whole).",
    )
    references = ErrorReferenceSerializer(
        many=True, required=False, help_text="On 409: the objects that still use this one."
    )


DESCRIPTIONS = {
    400: "Invalid request: `errors` names each field and what is allowed.",
    401: "Missing or invalid bearer token (the WWW-Authenticate header says Bearer).",
    403: "Authenticated, but not allowed (role or scope missing, or a global object).",
    404: "Not found (or owned by another organization).",
    405: "Method not allowed.",
    406: "Not acceptable: the Accept header rules out application/json.",
    409: "Conflict: the object is still in use (`references`) or the request is still running.",
    412: "If-Match does not match the current ETag.",
    413: "Request body too large.",
    415: "Unsupported media type: send application/json.",
    422: "Idempotency-Key reused with a different body.",
    429: "Too many requests; see Retry-After.",
    500: "Unexpected server error.",
    503: "A backing service (database) is unavailable.",
}


# Statuses every operation can answer: content negotiation runs before any view code, and
# any of them can meet an unexpected error or a database that does not answer.
EVERY_OPERATION = (406, 500, 503)


def error_responses(*statuses: int) -> dict[int, OpenApiResponse]:
    return {
        status: OpenApiResponse(ErrorSerializer, description=DESCRIPTIONS[status])
        for status in sorted({*statuses, *EVERY_OPERATION})
    }
