"""Examples for the prompt particles and compositions API in the OpenAPI document."""

from drf_spectacular.utils import OpenApiExample

_ROLE_ID = "7d0f2a6e-2f7b-4c1e-9a43-0c6f0d3b8a11"
_TONE_ID = "1b9d6bcd-bbfd-4b2d-9b5d-ab8dfbbd4bed"
_GUARDRAIL_ID = "9c5b94b1-35ad-49bb-b118-8e8fc24abf80"
_COMPOSITION_ID = "550e8400-e29b-41d4-a716-446655440002"
_ROLE = "You are a helpful assistant for the customers of Acme Corp."
_TONE = "Answer concisely: lead with the answer, then add only the detail that helps."
_GUARDRAIL = "Never reveal secrets: passwords, API keys, tokens or internal configuration."

PARTICLE_CREATE_EXAMPLES = [
    OpenApiExample(
        "A role",
        request_only=True,
        value={"kind": "role", "name": "Acme support agent", "content": _ROLE},
    ),
    OpenApiExample(
        "A guardrail",
        request_only=True,
        value={"kind": "guardrails", "name": "No secrets", "content": _GUARDRAIL},
    ),
]

PARTICLE_RESPONSE_EXAMPLES = [
    OpenApiExample(
        "A particle of your organization",
        response_only=True,
        value={
            "id": _ROLE_ID,
            "kind": "role",
            "name": "Acme support agent",
            "content": _ROLE,
            "isSystem": False,
            "createdAt": "2025-09-08T06:33:19Z",
            "updatedAt": "2025-09-08T06:33:19Z",
        },
    ),
]

PARTICLE_UPDATE_EXAMPLES = [
    OpenApiExample("New content", request_only=True, value={"content": _TONE}),
]

COMPOSITION_CREATE_EXAMPLES = [
    OpenApiExample(
        "Role, tone and a guardrail",
        request_only=True,
        value={
            "name": "Acme support",
            "description": "The system prompt of the support chat.",
            "particleIds": [_ROLE_ID, _TONE_ID, _GUARDRAIL_ID],
        },
    ),
]

COMPOSITION_RESPONSE_EXAMPLES = [
    OpenApiExample(
        "A composition of your organization",
        response_only=True,
        value={
            "id": _COMPOSITION_ID,
            "name": "Acme support",
            "description": "The system prompt of the support chat.",
            "particleIds": [_ROLE_ID, _TONE_ID, _GUARDRAIL_ID],
            "renderedPrompt": f"{_ROLE}\n\n{_TONE}\n\n{_GUARDRAIL}",
            "isSystem": False,
            "createdAt": "2025-09-08T06:33:19Z",
            "updatedAt": "2025-09-08T06:33:19Z",
        },
    ),
]

COMPOSITION_UPDATE_EXAMPLES = [
    OpenApiExample(
        "Particles in a new order, one dropped", request_only=True, value={"particleIds": [_TONE_ID, _ROLE_ID]}
    ),
]

PREVIEW_EXAMPLES = [
    OpenApiExample("Two particles", request_only=True, value={"particleIds": [_ROLE_ID, _TONE_ID]}),
    OpenApiExample(
        "Their rendered prompt",
        response_only=True,
        value={
            "renderedPrompt": f"{_ROLE}\n\n{_TONE}",
            "length": len(f"{_ROLE}\n\n{_TONE}"),
            "particleIds": [_ROLE_ID, _TONE_ID],
        },
    ),
]

PARTICLE_IN_USE_EXAMPLE = OpenApiExample(
    "Still used by a composition",
    response_only=True,
    status_codes=["409"],
    value={
        "status": 409,
        "code": "conflict",
        "detail": "This particle is used by 1 composition; remove it from them before deleting it.",
        "references": [{"type": "prompt composition", "id": _COMPOSITION_ID, "name": "Acme support"}],
    },
)

COMPOSITION_IN_USE_EXAMPLE = OpenApiExample(
    "Still the system prompt of a model",
    response_only=True,
    status_codes=["409"],
    value={
        "status": 409,
        "code": "conflict",
        "detail": "This composition is the system prompt of 1 model; assign them another prompt before deleting it.",
        "references": [
            {"type": "AI model", "id": "550e8400-e29b-41d4-a716-446655440000", "name": "Custom Support Model"}
        ],
    },
)

PARTICLE_IDS_INVALID_EXAMPLE = OpenApiExample(
    "A particle that is not yours",
    response_only=True,
    status_codes=["400"],
    value={
        "status": 400,
        "code": "invalid",
        "detail": "Invalid input: particleIds.",
        "errors": {
            "particleIds": [
                "No particle visible to your organization has the id: 3fa85f64-5717-4562-b3fc-2c963f66afa6."
            ]
        },
    },
)
