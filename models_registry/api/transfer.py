"""`GET /v1/export` and `POST /v1/import`: an organization's configuration as one document
(models_registry/transfer.py has the format and the rules; this module its wire shape and views)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.settings import api_settings

from core.api.viewsets import TenantScopedViewSet
from core.filters import boolean_query_parameter
from core.openapi import IDEMPOTENCY_KEY
from core.schema_errors import error_responses
from core.serializers import StrictFieldsMixin
from models_registry import limits, transfer
from models_registry.models import AIModel
from prompts import limits as prompt_limits
from prompts.models import PromptComposition, PromptParticle

TAGS = ["export-import"]
DRY_RUN = "dryRun"


# --- The document -----------------------------------------------------------------------------


class TransferReferenceSerializer(StrictFieldsMixin, serializers.Serializer):
    """A particle or composition by name: your organization's own (in the document or already there) or a
    global one."""

    scope = serializers.ChoiceField(
        choices=[scope.value for scope in transfer.Scope],
        default=transfer.Scope.ORGANIZATION.value,
        help_text="organization: your own (default); global: one curated by staff.",
    )
    name = serializers.CharField(
        min_length=prompt_limits.NAME_MIN_LENGTH,
        max_length=prompt_limits.NAME_MAX_LENGTH,
        help_text="Its name (names identify particles and compositions in a document).",
    )


class TransferOrganizationSerializer(StrictFieldsMixin, serializers.Serializer):
    """Where the document was exported from; for people reading it. An import ignores it."""

    id = serializers.CharField(required=False, help_text="The organization id.")
    slug = serializers.CharField(required=False, allow_null=True, help_text="The organization slug.")


class TransferParticleSerializer(StrictFieldsMixin, serializers.ModelSerializer):
    """One of your organization's particles. `name` identifies it."""

    class Meta:
        model = PromptParticle
        fields = ["name", "kind", "content"]
        extra_kwargs = {
            "name": {"help_text": "Identifies the particle: distinct within the document."},
            "kind": {"help_text": "What the particle does in a prompt (default custom)."},
        }


class TransferCompositionSerializer(StrictFieldsMixin, serializers.ModelSerializer):
    """One of your organization's compositions. `name` identifies it."""

    particles = TransferReferenceSerializer(
        many=True,
        source="particle_ids",
        min_length=prompt_limits.COMPOSITION_PARTICLES_MIN,
        max_length=prompt_limits.COMPOSITION_PARTICLES_MAX,
        help_text="Its particles, in order.",
    )

    class Meta:
        model = PromptComposition
        fields = ["name", "description", "particles"]
        extra_kwargs = {"name": {"help_text": "Identifies the composition: distinct within the document."}}


class TransferModelSerializer(StrictFieldsMixin, serializers.ModelSerializer):
    """One of your organization's user models. `slug` identifies it. A field left out takes the value a
    create would give it (the parent's context window and streaming, no max tokens, enabled, no prompt),
    on an update too."""

    parent = serializers.CharField(
        source="parent_slug",
        max_length=limits.SLUG_MAX_LENGTH,
        help_text="The slug of the system model it builds on (e.g. gpt-4.1).",
    )
    systemPromptComposition = TransferReferenceSerializer(
        source="system_prompt_composition",
        required=False,
        allow_null=True,
        help_text="The composition it uses, or null.",
    )

    class Meta:
        model = AIModel
        fields = [
            "slug",
            "name",
            "description",
            "parent",
            "contextWindow",
            "maxTokens",
            "supportsStreaming",
            "isEnabled",
            "systemPromptComposition",
            "systemPromptOverride",
        ]
        validators: list = []  # uniqueness is checked on import, in the organization
        extra_kwargs = {
            "slug": {"help_text": "Identifies the model: distinct within the document."},
            "contextWindow": {"source": "context_window", "required": False},
            "maxTokens": {"source": "max_tokens", "required": False},
            "supportsStreaming": {"source": "supports_streaming", "required": False},
            "isEnabled": {"source": "is_enabled", "required": False},
            "systemPromptOverride": {
                "source": "system_prompt_override",
                "required": False,
                "allow_blank": True,
                "trim_whitespace": False,
            },
        }


@extend_schema_field(
    {
        "type": "integer",
        "enum": list(transfer.SUPPORTED_FORMAT_VERSIONS),
        "description": "The document format's version.",
    }
)
class FormatVersionField(serializers.IntegerField):
    default_error_messages = {
        "unknown": "Unknown format version {version}; this server reads version(s) {supported}.",
    }

    def to_internal_value(self, data: Any) -> int:
        version = super().to_internal_value(data)
        if version not in transfer.SUPPORTED_FORMAT_VERSIONS:
            self.fail("unknown", version=version, supported=", ".join(map(str, transfer.SUPPORTED_FORMAT_VERSIONS)))
        return version


def _items(child: type[serializers.Serializer], what: str) -> serializers.ListSerializer:
    return child(
        many=True,
        required=False,
        max_length=limits.TRANSFER_MAX_ITEMS,
        help_text=f"Your organization's {what} (at most {limits.TRANSFER_MAX_ITEMS} in one document).",
    )


class TransferDocumentSerializer(StrictFieldsMixin, serializers.Serializer):
    """An organization's configuration: what `GET /v1/export` answers and `POST /v1/import` applies.
    References are by slug (models) and name (particles, compositions), never by id."""

    formatVersion = FormatVersionField(source="format_version")
    exportedAt = serializers.DateTimeField(source="exported_at", required=False, help_text="When it was exported.")
    organization = TransferOrganizationSerializer(required=False)
    particles = _items(TransferParticleSerializer, "particles")
    compositions = _items(TransferCompositionSerializer, "compositions")
    models = _items(TransferModelSerializer, "user models")

    KEYS = {"particles": ("name", "name"), "compositions": ("name", "name"), "models": ("slug", "slug")}

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        errors = {}
        for section, (key, wire_key) in self.KEYS.items():
            attrs.setdefault(section, [])
            seen: dict[str, int] = {}
            for index, item in enumerate(attrs[section]):
                first = seen.setdefault(item[key], index)
                if first != index:
                    errors[f"{section}[{index}].{wire_key}"] = [f"Already in the document at {section}[{first}]."]
        if errors:
            raise ValidationError(errors)
        return attrs


def document_paths(detail: Any, prefix: str = "") -> dict[str, list[str]]:
    """A document's validation errors keyed by where they are in it: `models[3].parent`, `particles`
    (a list's own error), `formatVersion`."""
    flat: dict[str, list[str]] = {}
    if isinstance(detail, dict):
        items = detail.items()
    elif isinstance(detail, list) and detail and all(isinstance(item, dict | list) for item in detail):
        items = enumerate(detail)
    else:
        messages = detail if isinstance(detail, list) else [detail]
        return {prefix or api_settings.NON_FIELD_ERRORS_KEY: [str(message) for message in messages]}
    for key, value in items:
        if isinstance(key, int):
            path = f"{prefix}[{key}]"
        elif key == api_settings.NON_FIELD_ERRORS_KEY and prefix:
            path = prefix
        else:
            path = f"{prefix}.{key}" if prefix else str(key)
        for name, messages in document_paths(value, path).items():
            flat.setdefault(name, []).extend(messages)
    return flat


# --- The report -------------------------------------------------------------------------------


class ImportObjectSerializer(serializers.Serializer):
    path = serializers.CharField(help_text="Where the object is in the document, e.g. models[2].")
    type = serializers.ChoiceField(
        choices=["prompt-particle", "prompt-composition", "model"], help_text="What kind of object it is."
    )
    key = serializers.CharField(help_text="Its name (a particle, a composition) or slug (a model).")
    result = serializers.ChoiceField(
        choices=[result.value for result in transfer.Result],
        help_text="created, updated, unchanged or error (what a dry run would do).",
    )
    id = serializers.UUIDField(
        allow_null=True,
        help_text="Your organization's object it matched or became; null for one a dry run would create.",
    )
    errors = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        help_text="Why it cannot be imported, keyed by document path (e.g. models[2].parent); empty if it can.",
    )


class ImportSummarySerializer(serializers.Serializer):
    created = serializers.IntegerField(min_value=0)
    updated = serializers.IntegerField(min_value=0)
    unchanged = serializers.IntegerField(min_value=0)
    error = serializers.IntegerField(min_value=0)


class ImportReportSerializer(serializers.Serializer):
    """What an import did, or (a dry run) would do, with each object of the document."""

    dryRun = serializers.BooleanField(source="dry_run", help_text="True: nothing was written.")
    valid = serializers.BooleanField(help_text="False when an object is in error (only a dry run answers so).")
    summary = ImportSummarySerializer(help_text="How many objects have each result.")
    objects = ImportObjectSerializer(many=True, help_text="Every object of the document, in document order.")

    def to_representation(self, report: transfer.ImportReport) -> dict[str, Any]:
        return {
            "dryRun": report.dry_run,
            "valid": report.valid,
            "summary": report.summary(),
            "objects": [
                {
                    "path": item.path,
                    "type": item.type,
                    "key": item.key,
                    "result": item.result.value,
                    "id": str(item.id) if item.id is not None else None,
                    "errors": item.errors,
                }
                for item in report.objects
            ],
        }


# --- The OpenAPI document's examples ----------------------------------------------------------

DOCUMENT_EXAMPLE = {
    "formatVersion": 1,
    "exportedAt": "2025-09-08T06:33:19Z",
    "organization": {"id": "organization-live-0a1b2c3d", "slug": "acme"},
    "particles": [
        {"name": "Friendly tone", "kind": "tone", "content": "Be warm and concise."},
        {"name": "Support agent", "kind": "role", "content": "You are Acme's support agent."},
    ],
    "compositions": [
        {
            "name": "Support",
            "description": "Our support assistant",
            "particles": [
                {"scope": "organization", "name": "Support agent"},
                {"scope": "organization", "name": "Friendly tone"},
                {"scope": "global", "name": "No medical advice"},
            ],
        }
    ],
    "models": [
        {
            "slug": "acme-support",
            "name": "Acme Support",
            "description": "",
            "parent": "gpt-4.1",
            "contextWindow": 32768,
            "maxTokens": 1000,
            "supportsStreaming": True,
            "isEnabled": True,
            "systemPromptComposition": {"scope": "organization", "name": "Support"},
            "systemPromptOverride": "",
        }
    ],
}

EXPORT_EXAMPLES = [OpenApiExample("An organization's configuration", value=DOCUMENT_EXAMPLE, response_only=True)]

IMPORT_EXAMPLES = [
    OpenApiExample("A document from GET /v1/export", value=DOCUMENT_EXAMPLE, request_only=True),
    OpenApiExample(
        "A hand-written document (left-out fields take their defaults)",
        value={
            "formatVersion": 1,
            "models": [
                {"slug": "terse-bot", "name": "Terse Bot", "parent": "gpt-4.1", "systemPromptOverride": "Be terse."}
            ],
        },
        request_only=True,
    ),
    OpenApiExample(
        "Applied",
        value={
            "dryRun": False,
            "valid": True,
            "summary": {"created": 1, "updated": 1, "unchanged": 2, "error": 0},
            "objects": [
                {
                    "path": "particles[0]",
                    "type": "prompt-particle",
                    "key": "Friendly tone",
                    "result": "unchanged",
                    "id": "550e8400-e29b-41d4-a716-446655440010",
                    "errors": {},
                },
                {
                    "path": "particles[1]",
                    "type": "prompt-particle",
                    "key": "Support agent",
                    "result": "updated",
                    "id": "550e8400-e29b-41d4-a716-446655440011",
                    "errors": {},
                },
                {
                    "path": "compositions[0]",
                    "type": "prompt-composition",
                    "key": "Support",
                    "result": "unchanged",
                    "id": "550e8400-e29b-41d4-a716-446655440012",
                    "errors": {},
                },
                {
                    "path": "models[0]",
                    "type": "model",
                    "key": "acme-support",
                    "result": "created",
                    "id": "550e8400-e29b-41d4-a716-446655440013",
                    "errors": {},
                },
            ],
        },
        response_only=True,
        status_codes=["200"],
    ),
    OpenApiExample(
        "A dry run that finds a problem",
        value={
            "dryRun": True,
            "valid": False,
            "summary": {"created": 1, "updated": 0, "unchanged": 0, "error": 1},
            "objects": [
                {
                    "path": "models[0]",
                    "type": "model",
                    "key": "acme-support",
                    "result": "created",
                    "id": None,
                    "errors": {},
                },
                {
                    "path": "models[1]",
                    "type": "model",
                    "key": "acme-vision",
                    "result": "error",
                    "id": None,
                    "errors": {"models[1].parent": ["No system model with slug 'gpt-9'."]},
                },
            ],
        },
        response_only=True,
        status_codes=["200"],
    ),
    OpenApiExample(
        "Refused: nothing was written",
        value={
            "status": 400,
            "code": "invalid",
            "detail": "Invalid input: models[1].parent.",
            "errors": {"models[1].parent": ["No system model with slug 'gpt-9'."]},
        },
        response_only=True,
        status_codes=["400"],
    ),
    OpenApiExample(
        "Unknown format version",
        value={
            "status": 400,
            "code": "invalid",
            "detail": "Invalid input: formatVersion.",
            "errors": {"formatVersion": ["Unknown format version 2; this server reads version(s) 1."]},
        },
        response_only=True,
        status_codes=["400"],
    ),
]

DRY_RUN_PARAMETER = OpenApiParameter(
    DRY_RUN,
    OpenApiTypes.BOOL,  # documented and read as the list filters' booleans are (core.filters)
    OpenApiParameter.QUERY,
    required=False,
    default=False,
    description="true: check everything and report what would happen, writing nothing (default false).",
)


# --- The views --------------------------------------------------------------------------------


class TransferViewSet(TenantScopedViewSet):
    """Both endpoints cover models and prompts: reading (writing) both is needed."""

    resource = "models"
    also_resources = ("prompts",)
    queryset = AIModel.objects.none()
    serializer_class = TransferDocumentSerializer

    def visible_to(self, organization_id: str):
        return AIModel.objects.none()  # the service reads the organization's objects itself

    def query_parameters(self) -> tuple[set[str], set[str]]:
        if self.action == "import_document":
            return {DRY_RUN}, set()
        return set(), set()

    def dry_run(self) -> bool:
        return boolean_query_parameter(self.request, DRY_RUN, default=False)

    @extend_schema(
        operation_id="export_retrieve",
        summary="Export your organization's configuration",
        description="Your organization's user models, particles and compositions as one document, referring to "
        "objects by slug (models, system models) and by name (particles, compositions; `scope` tells your own "
        "from global ones), never by id: `POST /v1/import` applies it to this or another organization. The same "
        "configuration always exports to the same document, but for `exportedAt`. A 409 names the particles or "
        "compositions that share a name (a name identifies them in the document): rename them first; so is a "
        f"configuration no import could take (more than {limits.TRANSFER_MAX_ITEMS} objects of a kind, or a "
        "document over the request size limit).",
        tags=TAGS,
        parameters=[],
        responses={200: TransferDocumentSerializer, **error_responses(400, 401, 403, 409, 429)},
        examples=EXPORT_EXAMPLES,
    )
    def export(self, request: Request) -> Response:
        principal = self.principal
        document = transfer.export_document(
            organization_id=principal.organization_id, organization_slug=principal.organization_slug
        )
        return Response(document)

    @extend_schema(
        operation_id="import_create",
        summary="Import a configuration",
        description="Applies a document as `GET /v1/export` answers it. Each object is matched to your "
        "organization's by its key (a model's `slug`, a particle's or composition's `name`) and created, updated "
        "or left unchanged; nothing is deleted (an object missing from the document stays as it is). A field "
        "left out of an object takes its default, on an update too. Every write obeys the rules of the API's own "
        "writes and leaves a version and an audit event. All or nothing: if any object is in error, nothing is "
        "written and the 400 names each problem by its place in the document (`models[2].parent`). With "
        "`dryRun=true` nothing is written and the report says what would happen to each object, errors "
        "included. An unknown `formatVersion`, a malformed document, a key repeated in it, or a list longer "
        f"than {limits.TRANSFER_MAX_ITEMS} is a 400 either way; a body over the request size limit a 413.",
        tags=TAGS,
        request=TransferDocumentSerializer,
        parameters=[DRY_RUN_PARAMETER, IDEMPOTENCY_KEY],
        responses={200: ImportReportSerializer, **error_responses(400, 401, 403, 409, 413, 415, 422, 429)},
        examples=IMPORT_EXAMPLES,
    )
    def import_document(self, request: Request) -> Response:
        dry_run = self.dry_run()
        serializer = TransferDocumentSerializer(data=request.data)
        if not serializer.is_valid():
            raise ValidationError(document_paths(serializer.errors))
        report = transfer.import_document(
            organization_id=self.principal.organization_id,
            actor=self.principal.actor,
            document=serializer.validated_data,
            dry_run=dry_run,
        )
        return Response(ImportReportSerializer(report).data)
