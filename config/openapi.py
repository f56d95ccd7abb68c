"""What the API's write operations share, described once for the OpenAPI document: request
headers, and request bodies that refuse unknown fields."""

from drf_spectacular.extensions import OpenApiSerializerExtension
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter

from config.idempotency import MAX_KEY_LENGTH

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

IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key",
    {"type": "string", "minLength": 1, "maxLength": MAX_KEY_LENGTH},
    OpenApiParameter.HEADER,
    required=False,
    description=f"A unique key (1-{MAX_KEY_LENGTH} characters) per logical request. Retrying with the same key and "
    "body within 24 hours returns the first response and creates nothing new; the same key with a different body is "
    "a 422; a retry while the first is still running is a 409.",
)


class StrictFieldsRequestSchema(OpenApiSerializerExtension):
    """Request bodies of `StrictFieldsMixin` serializers: an unknown field is a 400, so say
    `additionalProperties: false`."""

    target_class = "config.serializers.StrictFieldsMixin"
    match_subclasses = True

    def map_serializer(self, auto_schema, direction):
        schema = auto_schema._map_serializer(self.target, direction, bypass_extensions=True)
        if direction == "request":
            schema["additionalProperties"] = False
        return schema
