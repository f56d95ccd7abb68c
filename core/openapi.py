"""What the API's operations share, described once for the OpenAPI document: the schema class,
request headers, and request bodies that refuse unknown fields."""

from typing import Any

from drf_spectacular import openapi
from drf_spectacular.extensions import OpenApiSerializerExtension
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.settings import api_settings

from core.idempotency import MAX_KEY_LENGTH
from core.schema_errors import error_responses


class AutoSchema(openapi.AutoSchema):
    """drf-spectacular's, with the view's `lookup_description` on its lookup path parameter.

    drf-spectacular describes `{id}` only when it reads the type from the model field; a
    `lookup_value_regex` gives the type instead and leaves the parameter undescribed (redocly's
    parameter-description). Every operation of a viewset, its extra actions included, gets it.
    """

    def _resolve_path_parameters(self, variables: list[str]) -> list[dict[str, Any]]:
        parameters = super()._resolve_path_parameters(variables)
        lookup = getattr(self.view, "lookup_url_kwarg", None) or getattr(self.view, "lookup_field", None)
        if lookup == "pk" and api_settings.SCHEMA_COERCE_PATH_PK:
            lookup = "id"  # as the document names it
        description = getattr(self.view, "lookup_description", None)
        for parameter in parameters:
            if description and parameter["name"] == lookup and not parameter.get("description"):
                parameter["description"] = description
        return parameters


IF_MATCH = OpenApiParameter(
    "If-Match",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    required=False,
    description="The ETag from your last read. The write happens only if the object has not changed since "
    "(412 otherwise). Send it to avoid overwriting someone else's change.",
)

LOCATION = OpenApiParameter(
    "Location",
    OpenApiTypes.URI,
    OpenApiParameter.HEADER,
    response=[201],
    description="The URL of the object just created.",
)

ETAG = OpenApiParameter(
    "ETag",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    response=[200, 201, 304],
    description="A strong validator of this body. Send it back as If-None-Match on your next read to get a 304 "
    "while nothing it shows has changed; for an object, as If-Match when you change or delete it.",
)

IF_NONE_MATCH = OpenApiParameter(
    "If-None-Match",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    required=False,
    description="ETags from your earlier reads of this URL (or `*`). When one is current the answer is a 304 "
    "with no body, computed without reading or rendering it; otherwise the full 200 with the new ETag.",
)

NOT_MODIFIED = OpenApiResponse(description="Not modified: the copy your If-None-Match names is current. No body.")


def conditional_read(parameters: list | None = None, responses: dict | None = None) -> dict[str, Any]:
    """`extend_schema(**conditional_read(...))` keywords of a GET that honours If-None-Match."""
    return {
        "parameters": [IF_NONE_MATCH, ETAG, *(parameters or [])],
        "responses": {**(responses or {}), 304: NOT_MODIFIED},
    }


IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key",
    {"type": "string", "minLength": 1, "maxLength": MAX_KEY_LENGTH, "pattern": "^[\\x21-\\x7e]+$"},
    OpenApiParameter.HEADER,
    required=False,
    description=f"A unique key (1-{MAX_KEY_LENGTH} visible ASCII characters) per logical request. "
    "Retrying with the same key and body within 24 hours returns the first response and creates nothing new; "
    "the same key with a different body is a 422; a retry while the first is still running is a 409.",
)


class StrictFieldsRequestSchema(OpenApiSerializerExtension):
    """Request bodies of `StrictFieldsMixin` serializers: an unknown field is a 400, so say
    `additionalProperties: false`."""

    target_class = "core.serializers.StrictFieldsMixin"
    match_subclasses = True

    def map_serializer(self, auto_schema, direction):
        schema = auto_schema._map_serializer(self.target, direction, bypass_extensions=True)
        if direction == "request":
            schema["additionalProperties"] = False
        return schema


def crud_schema(
    *,
    operation_prefix: str,
    tags: list[str],
    serializer: type,
    request: type | None = None,
    summaries: dict[str, str],
    descriptions: dict[str, str] | None = None,
    examples: dict[str, list] | None = None,
    delete_conflicts: bool = False,
    read_headers: list[OpenApiParameter] | None = None,
) -> dict[str, Any]:
    """`extend_schema_view(**crud_schema(...))`: list, retrieve, create, partial_update and
    destroy of a tenant-scoped resource, with the headers and error statuses they all share.

    `summaries`, `descriptions` and `examples` are keyed by action name; `read_headers` are
    response headers of the resource's retrieve besides the ETag.
    """
    descriptions = descriptions or {}
    examples = examples or {}
    request = request or serializer

    def operation(action: str, **kwargs: Any) -> Any:
        return extend_schema(
            operation_id=f"{operation_prefix}_{action}",
            summary=summaries[action],
            description=descriptions.get(action),
            tags=tags,
            examples=examples.get(action, []),
            **kwargs,
        )

    return {
        "list": operation(
            "list", **conditional_read(responses={200: serializer(many=True), **error_responses(400, 401, 403, 429)})
        ),
        "retrieve": operation(
            "retrieve",
            **conditional_read(read_headers, {200: serializer, **error_responses(400, 401, 403, 404, 429)}),
        ),
        "create": operation(
            "create",
            request=request,
            parameters=[IDEMPOTENCY_KEY, LOCATION, ETAG],
            responses={
                201: OpenApiResponse(serializer, description="Created; the Location header names it."),
                **error_responses(400, 401, 403, 409, 413, 415, 422, 429),
            },
        ),
        "partial_update": operation(
            "partial_update",
            request=request,
            parameters=[IF_MATCH, ETAG],
            responses={200: serializer, **error_responses(400, 401, 403, 404, 412, 413, 415, 429)},
        ),
        "destroy": operation(
            "destroy",
            parameters=[IF_MATCH],
            responses={
                204: OpenApiResponse(description="Deleted."),
                **error_responses(400, 401, 403, 404, *((409,) if delete_conflicts else ()), 412, 429),
            },
        ),
    }


def typed_nullable_references(result: dict, generator: Any, request: Any, public: bool) -> dict:
    """A postprocessing hook: a nullable nested serializer is `{allOf: [$ref], nullable: true}`,
    which OpenAPI 3.0 leaves untyped (`nullable` needs a `type` beside it: redocly's
    nullable-type-sibling, and example validation fails on it). Such a node gets `type: object`."""

    def visit(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("nullable") and "type" not in node and "allOf" in node:
                node["type"] = "object"
            for value in node.values():
                visit(value)
        elif isinstance(node, list):
            for value in node:
                visit(value)

    visit(result)
    return result
