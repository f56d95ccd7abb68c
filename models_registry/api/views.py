import re
from collections.abc import Callable
from datetime import date

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import exceptions, status
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.reverse import reverse

from core import statements
from core.api.versions import VersionedViewSetMixin, version_actions_schema
from core.api.viewsets import UUID_PATTERN, ResourceViewSet
from core.errors import as_api_errors, wire_names
from core.openapi import ETAG, IDEMPOTENCY_KEY, LOCATION, conditional_read, crud_schema
from core.schema_errors import error_responses
from models_registry import lifecycle, selectors, services
from models_registry.api import schema_docs
from models_registry.api.entitled import EntitledReadsMixin
from models_registry.api.filters import AIModelFilter
from models_registry.api.serializers import (
    OWN_COLUMNS,
    ROW_COLUMNS,
    AIModelSerializer,
    DeprecationsSerializer,
    ModelCloneSerializer,
    ModelPromptVersionSerializer,
    ResolvedAIModelSerializer,
    UserModelWriteSerializer,
    represent_model,
    represent_row,
)
from models_registry.entitlements import EntitledSet
from models_registry.models import AIModel
from models_registry.slugs import SLUG_URL_PATTERN

TAGS = ["models"]


def _lifecycle_dates(body: dict) -> tuple[date | None, date | None]:
    """`deprecatedAt` and `retiresAt` of a response body, as dates."""
    return tuple(date.fromisoformat(body[name]) if body.get(name) else None for name in ("deprecatedAt", "retiresAt"))


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
            "list": "The enabled system models your organization is entitled to, plus its own user models "
            "(enabled or not).",
            "retrieve": "One model, by id or slug. A user model carries its parent's values for what it inherits "
            "(`inheritedFields` names them); Deprecation, Sunset and Link announce its system model's retirement.",
            "create": "Create a user model on top of a system model. It inherits pricing and capabilities "
            "from its parent and may override name, limits, streaming, the enabled flag and its system prompt.",
            "partial_update": "Send only the fields that change; the rules are checked on the merged state. "
            "System models cannot be changed through the API (403).",
            "destroy": "System models cannot be deleted through the API (403).",
        },
        examples={
            "retrieve": schema_docs.RESPONSE_EXAMPLES,
            "create": schema_docs.CREATE_EXAMPLES + schema_docs.RESPONSE_EXAMPLES,
            "partial_update": schema_docs.UPDATE_EXAMPLES + schema_docs.RESPONSE_EXAMPLES,
        },
        read_headers=schema_docs.LIFECYCLE_HEADERS,
    ),
    **version_actions_schema(
        noun="model's system prompt",
        operation_prefix="models",
        tags=TAGS,
        version_serializer=ModelPromptVersionSerializer,
        object_serializer=AIModelSerializer,
    ),
)
class AIModelViewSet(EntitledReadsMixin, VersionedViewSetMixin, ResourceViewSet):
    resource = "models"
    queryset = AIModel.objects.all()
    serializer_class = AIModelSerializer
    write_serializer_class = UserModelWriteSerializer
    version_serializer_class = ModelPromptVersionSerializer
    filterset_class = AIModelFilter
    read_only_global_message = "System models cannot be changed or deleted through the API."
    object_reading_actions = ("clone",)  # a system model can be cloned: the clone is the organization's
    # A model by UUID or by slug (the caller's organization's user model first, then a system model).
    lookup_value_regex = f"(?:{UUID_PATTERN}|{SLUG_URL_PATTERN})"
    lookup_description = (
        "The model's id (a UUID) or its slug; by slug, your organization's user model wins over a system model."
    )

    def get_object(self) -> AIModel:
        value = self.kwargs[self.lookup_url_kwarg or self.lookup_field]
        if re.fullmatch(UUID_PATTERN, value):
            return super().get_object()
        # Own user models sort before system models (is_system false first): the organization's wins.
        obj = self.filter_queryset(self.get_queryset()).filter(slug=value).order_by("is_system").first()
        if obj is None:
            raise NotFound()
        self.check_object_permissions(self.request, obj)
        return obj

    conditional_actions = (*ResourceViewSet.conditional_actions, "resolved", "deprecations")

    def conditional_context(self) -> tuple:
        return selectors.read_context()

    def visible_to(self, organization_id: str) -> QuerySet[AIModel]:
        queryset = selectors.visible_from(*self.visible_parts())
        if self.action == "resolved":
            return selectors.with_system_prompt(queryset, self.entitled())
        return queryset

    def get_serializer_class(self):
        if self.action == "resolved":
            return ResolvedAIModelSerializer
        if self.action == "clone":
            return ModelCloneSerializer
        return super().get_serializer_class()

    def partition(self, queryset: QuerySet, is_system: bool) -> QuerySet:
        """Each part of the list from its own rule, the request's filters applied: not the whole
        rule narrowed, so the user models' part carries no condition of the system models' (the
        entitled ids) and the system models' part no parent join (`page_columns`)."""
        return self.part_of(self.visible_parts(), is_system)

    def part_of(self, parts: tuple[QuerySet[AIModel], QuerySet[AIModel]], is_system: bool) -> QuerySet:
        system_models, user_models = parts
        return self.filter_queryset(system_models if is_system else user_models).select_related(None)

    def page_columns(self, is_system: bool | None) -> tuple[str, ...]:
        """What the paginator reads of a part of the list (`is_system`) or of all of it (None),
        core.pagination: a system model has no parent to join, so its part reads its own columns
        only (`represent_row` reads no parent's)."""
        return OWN_COLUMNS if is_system else ROW_COLUMNS

    _visible_parts: tuple[QuerySet, QuerySet] | None = None

    def visible_parts(self) -> tuple[QuerySet[AIModel], QuerySet[AIModel]]:
        """The system models the organization may use and its own, built once a request."""
        if self._visible_parts is None:
            self._visible_parts = (
                selectors.visible_system_models(self.entitled()),
                selectors.own_user_models(self.principal.organization_id),
            )
        return self._visible_parts

    def list(self, request: Request, *args, **kwargs) -> Response:
        # Plain rows, not instances: the paginator reads `page_columns()`.
        rows = self.read_first_page(request)
        if rows is None:
            rows = self.paginate_queryset(self.filter_queryset(self.get_queryset()).select_related(None))
        on = lifecycle.today()
        return self.get_paginated_response([represent_row(row, on) for row in rows])

    # The first page in one statement (core.api.viewsets): one for an organization that may use
    # every system model, one for a set of ids.
    def first_page_key(self) -> tuple:
        return ("models", self.entitled().everything)

    def first_page_values(self) -> dict:
        return {**super().first_page_values(), "entitled": sorted(self.entitled().ids)}

    def first_page_parts(self, markers: statements.Markers) -> tuple[QuerySet, Callable]:
        everything = self.entitled().everything
        entitled = EntitledSet(everything, frozenset() if everything else frozenset(markers.uuids("entitled")))
        parts = (selectors.visible_system_models(entitled), selectors.own_user_models(markers.text("organization")))
        queryset = self.filter_queryset(selectors.visible_from(*parts)).select_related(None)
        return queryset, lambda queryset, is_system: self.part_of(parts, is_system)

    def represent(self, instance: AIModel) -> dict:
        return represent_model(instance)

    def lifecycle_headers(self, body: dict) -> dict[str, str]:
        """`Deprecation`, `Sunset` and `Link` (successor) for a model whose base has dates set."""
        successor_id = body.get("successorId")
        deprecated_at, retires_at = _lifecycle_dates(body)
        return lifecycle.headers(
            deprecated_at=deprecated_at,
            retires_at=retires_at,
            successor_url=reverse("models-detail", kwargs={"pk": successor_id}, request=self.request)
            if successor_id
            else None,
        )

    def respond_with(self, obj: AIModel, data: dict, status: int = 200, headers: dict | None = None) -> Response:
        return super().respond_with(
            obj, data, status=status, headers={**self.lifecycle_headers(data), **(headers or {})}
        )

    def create_object(self, data: dict) -> AIModel:
        return services.user_model_create(
            organization_id=self.principal.organization_id, actor=self.principal.actor, data=data
        )

    def update_object(self, instance: AIModel, data: dict) -> AIModel:
        return services.user_model_update(instance=instance, actor=self.principal.actor, data=data)

    def delete_object(self, instance: AIModel) -> None:
        services.user_model_delete(instance=instance, actor=self.principal.actor)

    def get_versions(self, instance: AIModel) -> list:
        return selectors.model_prompt_versions(instance)

    def get_version(self, instance: AIModel, number: int):
        return selectors.model_prompt_version(instance, number)

    def restore_version(self, instance: AIModel, record) -> AIModel:
        return services.model_prompt_restore(model=instance, record=record, actor=self.principal.actor)

    @extend_schema(
        operation_id="models_resolved",
        summary="Get the effective configuration of a model",
        description="Every inherited field resolved from the parent, plus the final `systemPrompt` and its "
        "`systemPromptSource`: the override if set, else the composition's rendered text, else null. "
        "`isUsable` is false when the model or its parent system model is disabled, or the base model has "
        "retired (`unusableReason` names the successor).",
        tags=TAGS,
        **conditional_read(
            schema_docs.LIFECYCLE_HEADERS, {200: ResolvedAIModelSerializer, **error_responses(400, 401, 403, 404, 429)}
        ),
        examples=schema_docs.RESOLVED_EXAMPLES,
    )
    @action(detail=True, methods=["get"], filter_backends=[], pagination_class=None)
    def resolved(self, request: Request, pk: str | None = None) -> Response:
        # Served from the shared cache before this runs when it can be (core/response_cache.py).
        body = ResolvedAIModelSerializer(self.get_object()).data
        return Response(body, headers=self.lifecycle_headers(body))

    @extend_schema(
        operation_id="models_clone",
        summary="Clone a model",
        description="Make a new user model of your organization from a model you can see, with a new `name` "
        "(unique in your organization) and optionally a `slug` (else made from the name).\n\n"
        "- A **user model** is copied with everything it overrides: limits, streaming, description, system "
        "prompt (override or composition) and `isEnabled` (a disabled model's clone is disabled too; enable it "
        "with PATCH). Its parent is the source's parent.\n"
        "- A **system model** becomes the parent of a new, enabled user model with its limits: its "
        "`contextWindow` and `supportsStreaming`, and its `maxTokens` and description inherited; its system "
        "prompt comes along too.\n\n"
        "Checked as a create is: a disabled, deprecated or retired base, or one your organization is not "
        "entitled to, is a 400 naming `parentId`; a taken name or slug a 400 naming it; a full quota a 409. "
        "Another organization's model, or a system model you are not entitled to, is a 404. Needs write access.",
        tags=TAGS,
        request=ModelCloneSerializer,
        parameters=[IDEMPOTENCY_KEY, LOCATION, ETAG],
        responses={
            201: OpenApiResponse(AIModelSerializer, description="Created; the Location header names the clone."),
            **error_responses(400, 401, 403, 404, 409, 413, 415, 422, 429),
        },
        examples=schema_docs.CLONE_EXAMPLES,
    )
    @action(detail=True, methods=["post"], filter_backends=[], pagination_class=None)
    def clone(self, request: Request, pk: str | None = None) -> Response:
        source = self.get_object()
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            clone = services.user_model_clone(
                source=source,
                organization_id=self.principal.organization_id,
                actor=self.principal.actor,
                **serializer.validated_data,
            )
        except DjangoValidationError as exc:
            # The rules name fields of the new model the body does not carry (its base: `parentId`),
            # as a create names them.
            raise exceptions.ValidationError(as_api_errors(exc, wire_names(UserModelWriteSerializer()))) from exc
        location = reverse(f"{self.basename}-detail", kwargs={"pk": clone.pk}, request=request)
        return self.respond_with(
            clone, self.represent(clone), status=status.HTTP_201_CREATED, headers={"Location": location}
        )

    @extend_schema(
        operation_id="models_deprecations",
        summary="Your models whose base model is deprecated or retiring",
        description="Your organization's user models whose base system model is deprecated or has a retirement "
        "day, grouped by the time left: `retired`, `within30Days`, `within90Days`, `later` (or no day set), "
        "soonest first, each with the successor to move to (`PATCH parentId`). Days are UTC days.",
        tags=TAGS,
        **conditional_read(responses={200: DeprecationsSerializer, **error_responses(400, 401, 403, 429)}),
    )
    @action(detail=False, methods=["get"], filter_backends=[], pagination_class=None)
    def deprecations(self, request: Request) -> Response:
        on = lifecycle.today()
        groups = selectors.deprecations_of(self.principal.organization_id, on)
        return Response({"asOf": on.isoformat(), **groups})
