"""An OpenAI-compatible model catalog: `GET /openai/v1/models` and `/openai/v1/models/{slug}`.

Chat runtimes and gateways already speak OpenAI's API: pointed at `https://<host>/openai/v1`
with a Stytch token as the API key, the official `openai` SDK's `models.list()` and
`models.retrieve()` (and LiteLLM's discovery) see the models the caller can use:

- the enabled system models its organization is entitled to, and its enabled user models whose
  base is usable (enabled, entitled); nothing retired;
- `id` is the slug; a user model whose slug a system model also has hides that system model;
- `created` is Unix seconds, `owned_by` the provider (system) or the organization (user model);
- extras a runtime wants, in OpenAI's snake_case: context window, max tokens, capabilities,
  lifecycle, and on the single-model read the resolved system prompt.

Errors on this prefix are in OpenAI's shape: `{"error": {"message", "type", "param", "code"}}`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db.models import Q
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, serializers
from rest_framework.request import Request
from rest_framework.response import Response

from core.api.viewsets import TenantScopedViewSet
from core.errors import exception_handler as api_exception_handler
from core.openapi import AutoSchema, conditional_read
from models_registry import lifecycle, selectors
from models_registry.api.entitled import EntitledReadsMixin
from models_registry.api.serializers import ROW_COLUMNS, represent_resolved, represent_row
from models_registry.lifecycle import LifecycleStatus
from models_registry.models import AIModel
from models_registry.slugs import SLUG_URL_PATTERN

TAGS = ["openai-compatible"]
LIST_CHUNK_ROWS = 2000  # rows the list holds from the database at a time

# OpenAI's error `type` and `code` for each status.
ERROR_KINDS = {
    400: ("invalid_request_error", None),
    401: ("invalid_request_error", "invalid_api_key"),
    403: ("invalid_request_error", "insufficient_permissions"),
    404: ("invalid_request_error", "model_not_found"),
    405: ("invalid_request_error", "method_not_allowed"),
    406: ("invalid_request_error", None),
    429: ("requests", "rate_limit_exceeded"),
    503: ("server_error", "service_unavailable"),
}


def openai_exception_handler(exc: Exception, context: dict) -> Response | None:
    """The API's own handler decides the status and the message; this reshapes the body."""
    response = api_exception_handler(exc, context)
    if response is None:
        return None
    body = response.data if isinstance(response.data, dict) else {}
    fallback = ("server_error" if response.status_code >= 500 else "invalid_request_error", None)
    kind, code = ERROR_KINDS.get(response.status_code, fallback)
    errors = body.get("errors") or {}
    response.data = {
        "error": {
            "message": body.get("detail", "An error occurred."),
            "type": kind,
            "param": next(iter(errors), None),
            "code": code or body.get("code"),
        }
    }
    return response


class OpenAIErrorDetailSerializer(serializers.Serializer):
    message = serializers.CharField()
    type = serializers.CharField(help_text="invalid_request_error, requests or server_error")
    param = serializers.CharField(allow_null=True, help_text="The query parameter at fault, if any.")
    code = serializers.CharField(allow_null=True, help_text="e.g. model_not_found, invalid_api_key")


class OpenAIErrorSerializer(serializers.Serializer):
    """OpenAI's error shape."""

    error = OpenAIErrorDetailSerializer()


def openai_error_responses(*statuses: int) -> dict[int, Any]:
    """The error responses of an operation, with those every operation can give (406, 500, 503)."""
    return {status: OpenAIErrorSerializer for status in sorted({*statuses, 406, 500, 503})}


class _ObjectSchema(AutoSchema):
    """OpenAI's list is an object (`{object, data}`), not the bare array of a DRF list."""

    def _is_list_view(self, serializer=None) -> bool:
        return False


class OpenAIModelSerializer(serializers.Serializer):
    """One model, as OpenAI's `Model` object with this registry's extras."""

    id = serializers.CharField(help_text="The model's slug: what to send as `model`.")
    object = serializers.ChoiceField(choices=["model"])
    created = serializers.IntegerField(help_text="When it was created, Unix seconds.")
    owned_by = serializers.CharField(help_text="The provider (a system model) or your organization (a user model).")
    name = serializers.CharField()
    description = serializers.CharField()
    context_window = serializers.IntegerField()
    max_tokens = serializers.IntegerField(allow_null=True)
    capabilities = serializers.DictField(
        child=serializers.BooleanField(), help_text="streaming, tools, vision, reasoning"
    )
    lifecycle_status = serializers.ChoiceField(choices=LifecycleStatus.values)
    deprecated_at = serializers.DateField(allow_null=True)
    retires_at = serializers.DateField(allow_null=True)
    registry_id = serializers.UUIDField(help_text="The model's id in this registry (/v1/models/{id}).")


class OpenAIModelDetailSerializer(OpenAIModelSerializer):
    system_prompt = serializers.CharField(allow_null=True, help_text="The resolved system prompt, or null.")
    system_prompt_source = serializers.CharField()


class OpenAIModelListSerializer(serializers.Serializer):
    object = serializers.ChoiceField(choices=["list"])
    data = OpenAIModelSerializer(many=True)


def _as_openai(body: dict[str, Any], owner: str) -> dict[str, Any]:
    """A registry response body (`represent_model`/`represent_resolved`) as OpenAI's Model."""
    created = datetime.fromisoformat(body["createdAt"].replace("Z", "+00:00"))
    return {
        "id": body["slug"],
        "object": "model",
        "created": int(created.timestamp()),
        "owned_by": body["provider"] if body["isSystem"] else owner,
        "name": body["name"],
        "description": body["description"],
        "context_window": body["contextWindow"],
        "max_tokens": body["maxTokens"],
        "capabilities": {
            "streaming": body["supportsStreaming"],
            "tools": bool(body["supportsTools"]),
            "vision": bool(body["supportsVision"]),
            "reasoning": bool(body["supportsReasoning"]),
        },
        "lifecycle_status": body["lifecycleStatus"],
        "deprecated_at": body["deprecatedAt"],
        "retires_at": body["retiresAt"],
        "registry_id": body["id"],
    }


class OpenAIModelViewSet(EntitledReadsMixin, TenantScopedViewSet):
    resource = "models"
    queryset = AIModel.objects.all()
    lookup_field = "slug"
    lookup_value_regex = SLUG_URL_PATTERN
    lookup_description = (
        "The model's slug (OpenAI's model id); your organization's user model wins over a system model."
    )
    http_method_names = ["get", "head", "options"]
    pagination_class = None
    filter_backends: list = []
    schema = _ObjectSchema()

    def get_exception_handler(self):
        return openai_exception_handler

    def conditional_context(self) -> tuple:
        return (*selectors.read_context(), self._owner())  # `owned_by` names the token's organization

    def visible_to(self, organization_id: str):
        """What the caller can use now: enabled and entitled, not retired; a user model also needs
        a usable base."""
        on = lifecycle.today()
        entitled = self.entitled()
        usable_system = (
            Q(is_system=True, is_enabled=True) & entitled.q() & ~lifecycle.status_q(LifecycleStatus.RETIRED, on)
        )
        usable_user = (
            Q(is_system=False, organization_id=organization_id, is_enabled=True, parent__is_enabled=True)
            & entitled.q("parent_id")
            & ~lifecycle.status_q(LifecycleStatus.RETIRED, on, prefix="parent__")
        )
        return AIModel.objects.filter(usable_system | usable_user).select_related("parent")

    def _owner(self) -> str:
        return self.principal.organization_slug or self.principal.organization_id

    @extend_schema(
        operation_id="openai_models_list",
        summary="List the models you can use (OpenAI-compatible)",
        description="OpenAI's `GET /v1/models`: `{object: list, data: [Model]}` with `id` = slug.",
        tags=TAGS,
        **conditional_read(responses={200: OpenAIModelListSerializer, **openai_error_responses(400, 401, 403, 429)}),
    )
    def list(self, request: Request) -> Response:
        # Every usable model in one body (OpenAI's list has no pages), so read as plain rows in
        # chunks, not instances all at once: user models first (is_system false sorts first), so
        # every own slug is known before the system model it hides comes.
        rows = self.get_queryset().select_related(None).order_by("is_system", "slug").values(*ROW_COLUMNS)
        on = lifecycle.today()
        owner = self._owner()
        own_slugs: set[str] = set()
        data = []
        for row in rows.iterator(chunk_size=LIST_CHUNK_ROWS):
            if not row["is_system"]:
                own_slugs.add(row["slug"])
            elif row["slug"] in own_slugs:
                continue  # an own model of that slug hides it
            data.append(_as_openai(represent_row(row, on), owner))
        data.sort(key=lambda item: item["id"])
        return Response({"object": "list", "data": data})

    @extend_schema(
        operation_id="openai_models_retrieve",
        summary="Get a model you can use (OpenAI-compatible)",
        description="OpenAI's `GET /v1/models/{model}` by slug, with the resolved system prompt.",
        tags=TAGS,
        **conditional_read(
            responses={200: OpenAIModelDetailSerializer, **openai_error_responses(400, 401, 403, 404, 429)}
        ),
    )
    def retrieve(self, request: Request, slug: str | None = None) -> Response:
        queryset = selectors.with_system_prompt(self.get_queryset(), self.entitled())
        model = queryset.filter(slug=slug).order_by("is_system").first()
        if model is None:
            raise exceptions.NotFound(f"The model '{slug}' does not exist or you do not have access to it.")
        body = represent_resolved(model)
        extras = {"system_prompt": body["systemPrompt"], "system_prompt_source": body["systemPromptSource"]}
        return Response({**_as_openai(body, self._owner()), **extras})


@csrf_exempt
def openai_not_found(request: HttpRequest) -> JsonResponse:
    """Any other path under /openai/: OpenAI's 404."""
    error = {"message": f"Unknown path {request.path}.", "type": "invalid_request_error", "param": None, "code": None}
    return JsonResponse({"error": error}, status=404)
