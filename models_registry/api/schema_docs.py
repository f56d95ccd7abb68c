"""Examples for the models API in the OpenAPI document, taken from the source API document."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter

CREATE_EXAMPLES = [
    OpenApiExample(
        "Large-model Omni with a 128k window",
        request_only=True,
        value={
            "parentId": "550e8400-e29b-41d4-a716-446655440000",
            "name": "large-model Omni",
            "contextWindow": 128000,
            "maxTokens": 4096,
            "supportsStreaming": True,
            "isEnabled": True,
            "systemPromptCompositionId": "550e8400-e29b-41d4-a716-446655440002",
        },
    ),
    OpenApiExample(
        "Custom Support Model with an override",
        request_only=True,
        value={
            "parentId": "550e8400-e29b-41d4-a716-446655440000",
            "name": "Custom Support Model",
            "contextWindow": 32768,
            "maxTokens": 1000,
            "systemPromptOverride": "You are a helpful assistant.",
        },
    ),
    OpenApiExample(
        "Reasoning model, small window, inherited limits",
        request_only=True,
        value={
            "parentId": "550e8400-e29b-41d4-a716-446655440000",
            "name": "reasoning-model 3.5 Sonnet",
            "contextWindow": 8192,
        },
    ),
]

UPDATE_EXAMPLES = [
    OpenApiExample(
        "A smaller window and output limit", request_only=True, value={"contextWindow": 64000, "maxTokens": 2048}
    ),
    OpenApiExample(
        "Back to the parent's output limit, a prompt of its own",
        request_only=True,
        value={"maxTokens": None, "systemPromptOverride": "You are a concise assistant for Acme's support team."},
    ),
]

_USER_MODEL = {
    "id": "550e8400-e29b-41d4-a716-446655440000",
    "slug": "large-model-omni",
    "name": "large-model Omni",
    "description": "Advanced language model for complex tasks",
    "provider": "provider-a",
    "providerModelId": "large-modelo",
    "contextWindow": 128000,
    "maxTokens": 4096,
    "supportsStreaming": True,
    "supportsTools": True,
    "supportsVision": True,
    "supportsReasoning": False,
    "creditMultiplier": 1,
    "isEnabled": True,
    "isSystem": False,
    "parentId": "550e8400-e29b-41d4-a716-446655440001",
    "systemPromptCompositionId": "550e8400-e29b-41d4-a716-446655440002",
    "systemPromptOverride": "",
    "createdAt": "2025-09-08T06:33:19Z",
    "updatedAt": "2025-09-08T06:33:19Z",
    "lifecycleStatus": "active",
    "deprecatedAt": None,
    "retiresAt": None,
    "successorId": None,
    "inheritedFields": [
        "provider",
        "providerModelId",
        "creditMultiplier",
        "supportsTools",
        "supportsVision",
        "supportsReasoning",
        "description",
    ],
}

RESPONSE_EXAMPLES = [OpenApiExample("A user model", response_only=True, value=_USER_MODEL)]

CLONE_EXAMPLES = [
    OpenApiExample(
        "A copy with a new name (the slug is made from it)",
        request_only=True,
        value={"name": "large-model Omni (staging)"},
    ),
    OpenApiExample(
        "A copy with a new name and slug",
        request_only=True,
        value={"name": "Acme Support EU", "slug": "acme-support-eu"},
    ),
    OpenApiExample(
        "The clone",
        response_only=True,
        status_codes=["201"],
        value={
            **_USER_MODEL,
            "id": "550e8400-e29b-41d4-a716-446655440003",
            "name": "large-model Omni (staging)",
            "slug": "large-model-omni-staging",
            "lifecycleStatus": "active",
            "deprecatedAt": None,
            "retiresAt": None,
            "successorId": None,
            "createdAt": "2025-09-09T08:12:44Z",
            "updatedAt": "2025-09-09T08:12:44Z",
        },
    ),
]

RESOLVED_EXAMPLES = [
    OpenApiExample(
        "Resolved user model",
        response_only=True,
        value={
            **_USER_MODEL,
            "systemPrompt": "You are a helpful assistant.",
            "systemPromptSource": "composition",
            "isUsable": True,
            "unusableReason": None,
        },
    )
]


# Response headers of reads of a model whose (base) system model has lifecycle dates.
LIFECYCLE_HEADERS = [
    OpenApiParameter(
        "Deprecation",
        OpenApiTypes.STR,
        OpenApiParameter.HEADER,
        response=[200],
        description="RFC 9745: when the model (a user model: its base) is or will be deprecated, as a "
        "structured-field date (`@` and seconds since the epoch, UTC midnight of deprecatedAt). Absent "
        "without a deprecation day.",
    ),
    OpenApiParameter(
        "Sunset",
        OpenApiTypes.STR,
        OpenApiParameter.HEADER,
        response=[200],
        description="RFC 8594: when it retires, as an HTTP-date (UTC midnight of retiresAt). Absent without one.",
    ),
    OpenApiParameter(
        "Link",
        OpenApiTypes.STR,
        OpenApiParameter.HEADER,
        response=[200],
        description='The successor system model, `<url>; rel="successor-version"`, when a deprecation or '
        "retirement day and a successor are set.",
    ),
]
