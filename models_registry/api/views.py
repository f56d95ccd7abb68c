from django.db import transaction
from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from config.api import TenantScopedViewSet
from config.openapi import crud_schema
from config.schema_errors import error_responses
from models_registry import resolved_cache, selectors, services
from models_registry.api import schema_docs
from models_registry.api.filters import AIModelFilter
from models_registry.api.serializers import (
    ROW_COLUMNS,
    AIModelSerializer,
    ResolvedAIModelSerializer,
    UserModelWriteSerializer,
    represent_row,
)
from models_registry.models import AIModel
from prompts import services as prompt_services
from prompts.api.serializers import ModelPromptVersionSerializer
from prompts.api.versions import VersionedViewSetMixin, version_actions_schema

TAGS = ["models"]


@extend_schema_view(
    **crud_schema(
        operation_prefix="models",
        tags=TAGS,
        serializer=AIModelSerializer,
        request=UserModelWriteSerializer,
        summaries={
            "list": "List AI models",
            "retrieve": "Get an AI model",
            "create": "Create an AI model configuration",
            "partial_update": "Change a user model",
            "destroy": "Delete a user model",
        },
        descriptions={
            "list": "Enabled system models plus your organization's user models (enabled or not).",
            "create": "Create a user model on top of a system model. It inherits pricing and capabilities "
            "from its parent and may override name, limits, streaming, the enabled flag and its system prompt.",
            "partial_update": "Send only the fields that change; the rules are checked on the merged state. "
            "System models cannot be changed through the API (403).",
            "destroy": "System models cannot be deleted through the API (403).",
        },
        examples={
            "retrieve": schema_docs.RESPONSE_EXAMPLES,
            "create": schema_docs.CREATE_EXAMPLES + schema_docs.RESPONSE_EXAMPLES,
        },
    ),
    **version_actions_schema(
        noun="model's system prompt",
        operation_prefix="models",
        tags=TAGS,
        version_serializer=ModelPromptVersionSerializer,
        object_serializer=AIModelSerializer,
    ),
)
class AIModelViewSet(
    VersionedViewSetMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    TenantScopedViewSet,
):
    resource = "models"
    queryset = AIModel.objects.all()
    serializer_class = AIModelSerializer
    filterset_class = AIModelFilter
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]
    read_only_global_message = "System models cannot be changed or deleted through the API."
    version_serializer_class = ModelPromptVersionSerializer

    def visible_to(self, organization_id: str) -> QuerySet[AIModel]:
        queryset = selectors.models_visible_to(organization_id)
        if self.action == "resolved":
            return selectors.with_system_prompt(queryset)
        return queryset

    def get_serializer_class(self):
        if self.action in ("create", "partial_update"):
            return UserModelWriteSerializer
        if self.action == "resolved":
            return ResolvedAIModelSerializer
        return AIModelSerializer

    def get_serializer_context(self) -> dict:
        context = super().get_serializer_context()
        if not getattr(self, "swagger_fake_view", False) and self.request is not None:
            context["organization_id"] = self.principal.organization_id
        return context

    def list(self, request: Request, *args, **kwargs) -> Response:
        queryset = self.filter_queryset(self.get_queryset()).select_related(None)
        rows = self.paginate_queryset(queryset.values(*ROW_COLUMNS))
        return self.get_paginated_response([represent_row(row) for row in rows])

    def retrieve(self, request: Request, *args, **kwargs) -> Response:
        instance = self.get_object()
        return self.respond_with(instance, AIModelSerializer(instance).data)

    def create(self, request: Request, *args, **kwargs) -> Response:
        serializer = UserModelWriteSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        instance = services.user_model_create(
            organization_id=self.principal.organization_id, data=serializer.validated_data
        )
        location = request.build_absolute_uri(f"/v1/models/{instance.pk}")
        return self.respond_with(
            instance, AIModelSerializer(instance).data, status=status.HTTP_201_CREATED, headers={"Location": location}
        )

    def partial_update(self, request: Request, *args, **kwargs) -> Response:
        with transaction.atomic():
            instance = self.get_object_for_update()
            serializer = UserModelWriteSerializer(
                instance, data=request.data, partial=True, context=self.get_serializer_context()
            )
            serializer.is_valid(raise_exception=True)
            instance = services.user_model_update(instance=instance, data=serializer.validated_data)
        return self.respond_with(instance, AIModelSerializer(instance).data)

    def destroy(self, request: Request, *args, **kwargs) -> Response:
        with transaction.atomic():
            services.user_model_delete(instance=self.get_object_for_update())
        return Response(status=status.HTTP_204_NO_CONTENT)

    def get_versions(self, instance: AIModel) -> list:
        return prompt_services.model_prompt_versions(instance)

    def get_version(self, instance: AIModel, number: int):
        return prompt_services.model_prompt_version(instance, number)

    def restore_version(self, instance: AIModel, record) -> AIModel:
        return prompt_services.model_prompt_restore(instance, record.version_number, self.principal.actor)

    def prefetch_cache_keys(self) -> tuple[str, ...]:
        """Read by the rate limiter's round trip to the cache (config.throttling)."""
        if self.action == "resolved" and resolved_cache.enabled():
            return resolved_cache.keys(self.principal.organization_id, self.kwargs["pk"])
        return ()

    @extend_schema(
        operation_id="models_resolved",
        summary="Get the effective configuration of a model",
        description="Every inherited field resolved from the parent, plus the final `systemPrompt` and its "
        "`systemPromptSource`: the override if set, else the composition's rendered text, else null. "
        "`isUsable` is false when the model or its parent system model is disabled.",
        tags=TAGS,
        responses={200: ResolvedAIModelSerializer, **error_responses(401, 403, 404, 429)},
        examples=schema_docs.RESOLVED_EXAMPLES,
    )
    @action(detail=True, methods=["get"], filter_backends=[], pagination_class=None)
    def resolved(self, request: Request, pk: str | None = None) -> Response:
        if not resolved_cache.enabled():
            return Response(ResolvedAIModelSerializer(self.get_object()).data)
        organization_id = self.principal.organization_id
        body, generation = resolved_cache.get(organization_id, pk, getattr(request, "prefetched_cache", None))
        if body is None:
            body = dict(ResolvedAIModelSerializer(self.get_object()).data)
            resolved_cache.put(organization_id, pk, generation, body)
        return Response(body)
