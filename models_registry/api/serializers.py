"""The wire format of AI models: camelCase names, the seed's descriptions and bounds.

Reads go through `represent_model`, a plain function that builds the response dict
directly (the list endpoint is the hottest path); the serializer classes declare the same
fields for validation and for the OpenAPI document.
"""

from datetime import date
from decimal import Decimal
from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core.api.versions import VersionSerializer
from core.serializers import StrictFieldsMixin, ValidatedModelSerializer, iso_timestamp
from models_registry import lifecycle, limits, selectors
from models_registry.lifecycle import LifecycleStatus
from models_registry.models import (
    COMPOSITION_NOT_VISIBLE,
    INHERITED_ALWAYS,
    INHERITED_WHEN_EMPTY,
    PARENT_DISABLED,
    AIModel,
    SystemPromptSource,
    inherited_field_names,
)
from models_registry.slugs import validate_slug
from prompts.models import PromptComposition

HELP = {
    "id": "Unique identifier for the model",
    "name": "Human-readable display name",
    "slug": (
        "Stable readable id, usable instead of the UUID in /v1/models/{id} and /resolved: lowercase letters, "
        "digits, '.', '_', '-'; unique among system models and within your organization"
    ),
    "description": "Model description",
    "provider": "AI provider name (NULL for user models, inherited from parent)",
    "providerModelId": "Provider-specific model identifier (NULL for user models, inherited from parent)",
    "contextWindow": "Model's context window size in tokens",
    "maxTokens": "Maximum tokens per request",
    "supportsStreaming": "Whether the model supports streaming",
    "supportsTools": "Whether the model supports tool/function calling",
    "supportsVision": "Whether the model supports vision/image inputs",
    "supportsReasoning": (
        "Whether the model supports reasoning/thinking tokens (AI models extended thinking, o1, AI models thinking)"
    ),
    "creditMultiplier": "Credit multiplier for billing (system models only, user models inherit from parent)",
    "isEnabled": "Whether the model is enabled",
    "isSystem": "Whether this is a company-provided base model",
    "parentId": "ID of the parent system model (for user models)",
    "systemPromptCompositionId": "ID of the system prompt composition assigned to this model",
    "systemPromptOverride": "Full system prompt override (if set, bypasses particle composition)",
    "createdAt": "When the model was created",
    "updatedAt": "When the model was last updated",
    "inheritedFields": "Which values of this response came from the parent system model",
    "lifecycleStatus": (
        "active, deprecated (still works; build nothing new on it) or retired (no longer usable), derived from "
        "deprecatedAt and retiresAt on the current UTC day (a user model: its parent's)"
    ),
    "deprecatedAt": "The day (UTC) the system model is deprecated from, if any (a user model: its parent's)",
    "retiresAt": "The day (UTC) the system model retires, if any (a user model: its parent's)",
    "successorId": "The system model to move to when this one is deprecated (a user model: its parent's)",
}

REQUEST_HELP = {
    "parentId": (
        "ID of the system model to use as the base. User models must reference a system model to inherit "
        "pricing and capabilities."
    ),
    "name": (
        "Your model's human-readable name shown in dashboards and responses (e.g., 'AI models Omni', "
        "'My Finance Model'). Use this to differentiate organization-specific or customized variants."
    ),
    "contextWindow": (
        "Maximum tokens considered at once, including system prompt, message history, user input, "
        "tools/functions, and the model's output. Larger windows allow longer context but may increase "
        "cost/latency. Defaults to the parent's."
    ),
    "maxTokens": (
        "Upper bound for tokens the model may generate in a single response. If not specified, inherits from "
        "parent model. Keep this below contextWindow to leave room for prompts and history."
    ),
    "supportsStreaming": (
        "Whether the provider/model supports SSE (Server-Sent Events) streaming responses. Defaults to the "
        "parent's; may be true only when the parent streams."
    ),
    "isEnabled": "Enable/disable this model for your organization without deleting it.",
    "systemPromptCompositionId": (
        "ID of a system prompt composition to use for this model. System prompts are composed from particles "
        "(role, tone, guardrails, etc.)."
    ),
    "systemPromptOverride": (
        "Full system prompt override (escape hatch). If set, bypasses particle-based composition and uses this "
        'text directly. "" means none.'
    ),
    "description": "Model description. Empty: the parent's description is shown.",
    "slug": (
        "Stable readable id for runtimes (e.g. 'acme-support'): lowercase letters, digits, '.', '_', '-', at most "
        "100 characters, unique in your organization. Made from the name when not given; after a change the old "
        "slug no longer resolves."
    ),
}


def _uuid_or_none(value) -> str | None:
    return str(value) if value else None


def _date_or_none(value) -> str | None:
    return value.isoformat() if value else None


# The one statement of the response's wire names: each field's `source` is the model's attribute,
# and `represent_row` builds bodies from these fields without instantiating a serializer.
class AIModelSerializer(serializers.Serializer):
    """Schema for AI model response data."""

    id = serializers.UUIDField(read_only=True, help_text=HELP["id"])
    name = serializers.CharField(read_only=True, help_text=HELP["name"])
    slug = serializers.CharField(read_only=True, max_length=limits.SLUG_MAX_LENGTH, help_text=HELP["slug"])
    description = serializers.CharField(read_only=True, help_text=HELP["description"])
    provider = serializers.CharField(read_only=True, allow_null=True, help_text=HELP["provider"])
    providerModelId = serializers.CharField(
        source="provider_model_id", read_only=True, allow_null=True, help_text=HELP["providerModelId"]
    )
    contextWindow = serializers.IntegerField(
        source="context_window",
        read_only=True,
        min_value=limits.CONTEXT_WINDOW_MIN,
        max_value=limits.CONTEXT_WINDOW_MAX,
        help_text=HELP["contextWindow"],
    )
    maxTokens = serializers.IntegerField(
        source="max_tokens",
        read_only=True,
        allow_null=True,
        min_value=limits.MAX_TOKENS_MIN,
        max_value=limits.MAX_TOKENS_MAX,
        help_text=HELP["maxTokens"],
    )
    supportsStreaming = serializers.BooleanField(
        source="supports_streaming", read_only=True, help_text=HELP["supportsStreaming"]
    )
    supportsTools = serializers.BooleanField(source="supports_tools", read_only=True, help_text=HELP["supportsTools"])
    supportsVision = serializers.BooleanField(
        source="supports_vision", read_only=True, help_text=HELP["supportsVision"]
    )
    supportsReasoning = serializers.BooleanField(
        source="supports_reasoning", read_only=True, help_text=HELP["supportsReasoning"]
    )
    creditMultiplier = serializers.DecimalField(
        source="credit_multiplier",
        read_only=True,
        max_digits=limits.CREDIT_MULTIPLIER_MAX_DIGITS,
        decimal_places=limits.CREDIT_MULTIPLIER_DECIMAL_PLACES,
        coerce_to_string=False,
        min_value=Decimal(1).scaleb(-limits.CREDIT_MULTIPLIER_DECIMAL_PLACES),
        help_text=HELP["creditMultiplier"],
    )
    isEnabled = serializers.BooleanField(source="is_enabled", read_only=True, help_text=HELP["isEnabled"])
    isSystem = serializers.BooleanField(source="is_system", read_only=True, help_text=HELP["isSystem"])
    lifecycleStatus = serializers.ChoiceField(
        source="lifecycle_status", choices=LifecycleStatus.values, read_only=True, help_text=HELP["lifecycleStatus"]
    )
    deprecatedAt = serializers.DateField(
        source="deprecated_at", read_only=True, allow_null=True, help_text=HELP["deprecatedAt"]
    )
    retiresAt = serializers.DateField(source="retires_at", read_only=True, allow_null=True, help_text=HELP["retiresAt"])
    successorId = serializers.UUIDField(
        source="successor_id", read_only=True, allow_null=True, help_text=HELP["successorId"]
    )
    parentId = serializers.UUIDField(source="parent_id", read_only=True, allow_null=True, help_text=HELP["parentId"])
    systemPromptCompositionId = serializers.UUIDField(
        source="system_prompt_composition_id",
        read_only=True,
        allow_null=True,
        help_text=HELP["systemPromptCompositionId"],
    )
    systemPromptOverride = serializers.CharField(
        source="system_prompt_override",
        read_only=True,
        max_length=limits.SYSTEM_PROMPT_OVERRIDE_MAX_LENGTH,
        help_text=HELP["systemPromptOverride"],
    )
    createdAt = serializers.DateTimeField(source="created_at", read_only=True, help_text=HELP["createdAt"])
    updatedAt = serializers.DateTimeField(source="updated_at", read_only=True, help_text=HELP["updatedAt"])
    inheritedFields = serializers.ListField(
        source="inherited_fields", child=serializers.CharField(), read_only=True, help_text=HELP["inheritedFields"]
    )

    def to_representation(self, instance: AIModel) -> dict[str, Any]:
        return represent_model(instance)


# (wire name, model attribute) of every response field, and each model field's wire name.
RESPONSE_FIELDS: tuple[tuple[str, str], ...] = tuple(
    (name, field.source) for name, field in AIModelSerializer().fields.items()
)
WIRE_NAMES: dict[str, str] = {source: name for name, source in RESPONSE_FIELDS}

# The columns a response is built from: the model's own and the inheritable ones of its parent
# (the computed fields are not columns).
COMPUTED = ("inherited_fields", "lifecycle_status")
OWN_COLUMNS = tuple(source for _, source in RESPONSE_FIELDS if source not in COMPUTED)
PARENT_COLUMNS = (*INHERITED_ALWAYS, *INHERITED_WHEN_EMPTY)
PARENT_KEYS = {column: f"parent__{column}" for column in PARENT_COLUMNS}
INHERITED_WIRE_NAMES = {column: WIRE_NAMES[column] for column in PARENT_COLUMNS}
ROW_COLUMNS = (*OWN_COLUMNS, *PARENT_KEYS.values())
# How a column's value is written on the wire (the others as they are).
WIRE_FORMATS = {
    "id": str,
    "parent_id": _uuid_or_none,
    "system_prompt_composition_id": _uuid_or_none,
    "successor_id": _uuid_or_none,
    "deprecated_at": _date_or_none,
    "retires_at": _date_or_none,
    "created_at": iso_timestamp,
    "updated_at": iso_timestamp,
}


def row_of(obj: AIModel) -> dict[str, Any]:
    """A model instance as the row `represent_row` reads (what `.values(*ROW_COLUMNS)` gives)."""
    row = {column: getattr(obj, column) for column in OWN_COLUMNS}
    parent = None if obj.is_system else obj.parent
    for column in PARENT_COLUMNS:
        row[PARENT_KEYS[column]] = getattr(parent, column) if parent is not None else None
    return row


def represent_row(row: dict[str, Any], on: date | None = None) -> dict[str, Any]:
    """The response body of one model, inherited values resolved from its parent, its lifecycle
    status as of the day `on` (a list passes its one day: every row of a page on the same day,
    and the clock read once, not per row).

    Built from a plain row so the list can read `.values()` instead of model instances,
    the largest cost of a page of 50. Which values come from the parent is
    `inherited_field_names()`, the rule the admin's `AIModel.effective()` applies too.
    """
    inherited = inherited_field_names(
        is_system=row["is_system"], max_tokens=row["max_tokens"], description=row["description"]
    )
    values = dict(row)
    for field in inherited:
        values[field] = row[PARENT_KEYS[field]]
    values["lifecycle_status"] = lifecycle.status_of(values["deprecated_at"], values["retires_at"], on).value
    for column, wire_format in WIRE_FORMATS.items():
        values[column] = wire_format(values[column])
    values["inherited_fields"] = [WIRE_NAMES[field] for field in inherited]
    return {name: values[source] for name, source in RESPONSE_FIELDS}


def represent_model(obj: AIModel) -> dict[str, Any]:
    return represent_row(row_of(obj))


def usability(obj: AIModel) -> tuple[bool, str | None]:
    if not obj.is_enabled:
        return False, "This model is disabled."
    if not obj.is_system and not obj.parent.is_enabled:
        return False, f"The parent system model '{obj.parent.name}' is disabled."
    if not obj.is_system and not getattr(obj, "base_entitled", True):
        return False, f"Your organization is no longer entitled to the base model '{obj.parent.name}'."
    if obj.lifecycle_status() == LifecycleStatus.RETIRED:
        base = obj if obj.is_system else obj.parent
        successor = None
        if base.successor_id is not None:
            # Read with the model when it came from selectors.with_system_prompt, else one query.
            name = obj.base_successor_name if hasattr(obj, "base_successor_name") else base.successor.name
            successor = (str(base.successor_id), name)
        return False, lifecycle.retired_reason(name=base.name, retires_at=base.retires_at, successor=successor)
    return True, None


def represent_resolved(obj: AIModel) -> dict[str, Any]:
    body = represent_model(obj)
    text, source = obj.system_prompt()
    body["systemPrompt"] = text if source != SystemPromptSource.NONE else None
    body["systemPromptSource"] = source
    body["isUsable"], body["unusableReason"] = usability(obj)
    return body


class ResolvedAIModelSerializer(AIModelSerializer):
    """The effective configuration a runtime needs, inherited values and the system prompt resolved."""

    systemPrompt = serializers.CharField(
        read_only=True,
        allow_null=True,
        help_text="The final system prompt: the override if set, else the composition's rendered text, else null.",
    )
    systemPromptSource = serializers.ChoiceField(
        choices=SystemPromptSource.values,
        read_only=True,
        help_text="Where systemPrompt came from.",
    )
    isUsable = serializers.BooleanField(
        read_only=True,
        help_text="False when the model or its parent system model is disabled, its base model is retired, "
        "or your organization is no longer entitled to the base model.",
    )
    unusableReason = serializers.CharField(
        read_only=True, allow_null=True, help_text="Why the model cannot be used, when isUsable is false."
    )

    def to_representation(self, instance: AIModel) -> dict[str, Any]:
        return represent_resolved(instance)


class DeprecatedModelSerializer(serializers.Serializer):
    """One of your user models on a deprecated or retiring base model."""

    id = serializers.UUIDField(help_text=HELP["id"])
    name = serializers.CharField(help_text=HELP["name"])
    isEnabled = serializers.BooleanField(help_text=HELP["isEnabled"])
    parentId = serializers.UUIDField(help_text="The base system model.")
    parentName = serializers.CharField(help_text="The base system model's name.")
    lifecycleStatus = serializers.ChoiceField(choices=LifecycleStatus.values, help_text=HELP["lifecycleStatus"])
    deprecatedAt = serializers.DateField(allow_null=True, help_text=HELP["deprecatedAt"])
    retiresAt = serializers.DateField(allow_null=True, help_text=HELP["retiresAt"])
    daysUntilRetirement = serializers.IntegerField(
        allow_null=True, min_value=0, help_text="Whole UTC days until the base retires (0: retired); null: no day set."
    )
    successorId = serializers.UUIDField(allow_null=True, help_text="The system model to move to (PATCH parentId).")
    successorName = serializers.CharField(allow_null=True, help_text="The successor's name.")


class DeprecationsSerializer(serializers.Serializer):
    """Your user models on deprecated or retiring base models, by the time left before retirement."""

    asOf = serializers.DateField(help_text="The UTC day the groups were computed for.")
    retired = DeprecatedModelSerializer(many=True, help_text="The base has retired: these models are not usable.")
    within30Days = DeprecatedModelSerializer(many=True, help_text="The base retires within 30 days.")
    within90Days = DeprecatedModelSerializer(many=True, help_text="The base retires in 31 to 90 days.")
    later = DeprecatedModelSerializer(many=True, help_text="The base retires later, or has no retirement day.")


class SystemModelField(serializers.PrimaryKeyRelatedField):
    """`parentId`: an existing, enabled system model, by UUID."""

    default_error_messages = {
        "does_not_exist": "No system model with id {pk_value}.",
        "not_system": "Must reference a system model, not a user model.",
        "disabled": PARENT_DISABLED,
        "incorrect_type": "Must be a UUID string, not {data_type}.",
    }

    def __init__(self, **kwargs):
        super().__init__(queryset=AIModel.objects.all(), pk_field=serializers.UUIDField(), **kwargs)

    def get_queryset(self):
        # Read with the organization's entitlement to it, which the write's service checks.
        organization_id = self.context.get("organization_id")
        queryset = super().get_queryset()
        return selectors.with_entitlement(queryset, organization_id) if organization_id else queryset

    def to_internal_value(self, data: Any) -> AIModel:
        model = super().to_internal_value(data)
        if not model.is_system:
            if model.organization_id != self.context.get("organization_id"):
                self.fail("does_not_exist", pk_value=data)
            self.fail("not_system")
        if not model.is_enabled:
            self.fail("disabled", name=repr(model.name))
        return model


@extend_schema_field(OpenApiTypes.UUID)
class CompositionField(serializers.PrimaryKeyRelatedField):
    """`systemPromptCompositionId`, by UUID; `AIModel.clean()` checks the organization may use it."""

    default_error_messages = {
        "does_not_exist": COMPOSITION_NOT_VISIBLE.format(pk="{pk_value}"),
        "incorrect_type": "Must be a UUID string, not {data_type}.",
    }

    def __init__(self, **kwargs):
        super().__init__(queryset=PromptComposition.objects.all(), pk_field=serializers.UUIDField(), **kwargs)


USER_MODEL_WRITABLE_FIELDS = [
    "parentId",
    "name",
    "slug",
    "description",
    "contextWindow",
    "maxTokens",
    "supportsStreaming",
    "isEnabled",
    "systemPromptCompositionId",
    "systemPromptOverride",
]


class UserModelWriteSerializer(ValidatedModelSerializer):
    """Schema for creating or changing a user model (a PATCH sends only what changes)."""

    parentId = SystemModelField(source="parent", help_text=REQUEST_HELP["parentId"])
    name = serializers.CharField(
        min_length=limits.NAME_MIN_LENGTH, max_length=limits.NAME_MAX_LENGTH, help_text=REQUEST_HELP["name"]
    )
    systemPromptCompositionId = CompositionField(
        source="system_prompt_composition",
        required=False,
        allow_null=True,
        help_text=REQUEST_HELP["systemPromptCompositionId"],
    )

    read_only_field_names = frozenset(AIModelSerializer._declared_fields) - set(USER_MODEL_WRITABLE_FIELDS)

    class Meta:
        model = AIModel
        fields = USER_MODEL_WRITABLE_FIELDS
        extra_kwargs = {
            "description": {"help_text": REQUEST_HELP["description"]},
            "slug": {"required": False, "help_text": REQUEST_HELP["slug"]},
            "contextWindow": {
                "source": "context_window",
                "required": False,
                "help_text": REQUEST_HELP["contextWindow"],
            },
            "maxTokens": {"source": "max_tokens", "required": False, "help_text": REQUEST_HELP["maxTokens"]},
            "supportsStreaming": {
                "source": "supports_streaming",
                "required": False,
                "help_text": REQUEST_HELP["supportsStreaming"],
            },
            "isEnabled": {"source": "is_enabled", "required": False, "help_text": REQUEST_HELP["isEnabled"]},
            "systemPromptOverride": {
                "source": "system_prompt_override",
                "required": False,
                "allow_blank": True,
                "trim_whitespace": False,
                "help_text": REQUEST_HELP["systemPromptOverride"],
            },
        }

    def extra_instance_attrs(self) -> dict[str, Any]:
        return {"organization_id": self.context["organization_id"], "is_system": False}

    def fields_checked_later(self, attrs: dict[str, Any]) -> set[str]:
        # A create without a slug: the service makes one from the name, free at that moment.
        return {"slug"} if self.instance is None and not attrs.get("slug") else set()

    def unique_checked_on_save(self) -> bool:
        # A create's save (services._save) turns a taken name or slug into the same 400 naming it.
        return self.instance is None

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if self.instance is None:
            parent = attrs["parent"]
            attrs.setdefault("context_window", parent.context_window)
            attrs.setdefault("supports_streaming", parent.supports_streaming)
        return super().validate(attrs)


class ModelCloneSerializer(StrictFieldsMixin, serializers.Serializer):
    """Schema for cloning a model: the clone's name, and its slug if not made from the name."""

    name = serializers.CharField(
        min_length=limits.NAME_MIN_LENGTH,
        max_length=limits.NAME_MAX_LENGTH,
        help_text="The clone's name, unique in your organization (ignoring case).",
    )
    slug = serializers.CharField(
        required=False,
        min_length=limits.SLUG_MIN_LENGTH,
        max_length=limits.SLUG_MAX_LENGTH,
        validators=[validate_slug],
        help_text="The clone's slug: lowercase letters, digits, '.', '_', '-', at most "
        f"{limits.SLUG_MAX_LENGTH} characters, unique in your organization. Made from the name when not given.",
    )


class ModelPromptSnapshotSerializer(serializers.Serializer):
    systemPromptOverride = serializers.CharField(source="system_prompt_override")
    systemPromptCompositionId = serializers.UUIDField(source="system_prompt_composition_id", allow_null=True)


class ModelPromptVersionSerializer(VersionSerializer):
    """A version of a model's system prompt fields (for `GET /v1/models/{id}/versions`)."""

    snapshot = ModelPromptSnapshotSerializer(source="*", help_text="The model's system prompt fields at this version.")
