"""Request headers shared by the API's write operations, described once for the OpenAPI document."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter

IF_MATCH = OpenApiParameter(
    "If-Match",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    required=False,
    description="The ETag from your last read. The write happens only if the object has not changed since "
    "(412 otherwise). Send it to avoid overwriting someone else's change.",
)

IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    required=False,
    description="A unique key (1-255 characters) per logical request. Retrying with the same key and body within "
    "24 hours returns the first response and creates nothing new; the same key with a different body is a 422; "
    "a retry while the first is still running is a 409.",
)
