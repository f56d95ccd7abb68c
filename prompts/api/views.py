from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.exceptions import NotAuthenticated, PermissionDenied
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.reverse import reverse

from config.api import TenantScopedViewSet
from config.authentication import Principal
from config.openapi import IDEMPOTENCY_KEY, IF_MATCH, LOCATION
from config.schema_errors import error_responses
from prompts import selectors, services
from prompts.api import schema_docs
from prompts.api.filters import PromptCompositionFilter, PromptParticleFilter
from prompts.api.serializers import (
    PromptCompositionSerializer,
    PromptCompositionVersionSerializer,
    PromptParticleSerializer,
    PromptParticleVersionSerializer,
    PromptPreviewRequestSerializer,
    PromptPreviewSerializer,
)
from prompts.api.versions import (
    VersionedViewSetMixin,
    django_validation_errors_as_api,
    version_actions_schema,
    wire_names,
)
from prompts.models import PromptComposition, PromptParticle
from prompts.rendering import render_particles

PARTICLE_TAGS = ["prompt-particles"]
COMPOSITION_TAGS = ["prompt-compositions"]


class ReadAccessPermission(BasePermission):
    """For a POST that changes nothing (a preview): reading the resource is enough."""

    def has_permission(self, request: Request, view: Any) -> bool:
        principal = request.user
        if not isinstance(principal, Principal):
            raise NotAuthenticated()
        if principal.can_read(view.resource):
            return True
        raise PermissionDenied(f"Reading {view.resource} needs the 'read:{view.resource}' or 'read:*' scope.")


class _PromptViewSet(VersionedViewSetMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, TenantScopedViewSet):
    """Create, change and delete through the app's services; everything else is the base's."""

    resource = "prompts"
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]
    detail_route_name = ""

    def get_serializer_context(self) -> dict:
        context = super().get_serializer_context()
        if not getattr(self, "swagger_fake_view", False) and self.request is not None:
            context["organization_id"] = self.principal.organization_id
        return context

    def _service(self):
        return django_validation_errors_as_api(wire_names(self.serializer_class))

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        instance = self.get_object()
        return self.respond_with(instance, self.get_serializer(instance).data)

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        with self._service():
            instance = self.perform_create_service(serializer.validated_data)
        location = reverse(self.detail_route_name, kwargs={"pk": instance.pk}, request=request)
        return self.respond_with(
            instance, self.get_serializer(instance).data, status=status.HTTP_201_CREATED, headers={"Location": location}
        )

    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        with transaction.atomic():
            instance = self.get_object_for_update()
            serializer = self.get_serializer(instance, data=request.data, partial=True)
            serializer.is_valid(raise_exception=True)
            with self._service():
                instance = self.perform_update_service(instance, serializer.validated_data)
        return self.respond_with(instance, self.get_serializer(instance).data)

    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        with transaction.atomic():
            self.perform_delete_service(self.get_object_for_update())
        return Response(status=status.HTTP_204_NO_CONTENT)

    def perform_create_service(self, data: dict) -> Any:
        raise NotImplementedError

    def perform_update_service(self, instance: Any, data: dict) -> Any:
        raise NotImplementedError

    def perform_delete_service(self, instance: Any) -> None:
        raise NotImplementedError


@extend_schema_view(
    list=extend_schema(
        operation_id="prompt_particles_list",
        summary="List prompt particles",
        description="Your organization's particles plus the global ones curated by staff.",
        tags=PARTICLE_TAGS,
        responses={200: PromptParticleSerializer(many=True), **error_responses(400, 401, 403, 429)},
    ),
    retrieve=extend_schema(
        operation_id="prompt_particles_retrieve",
        summary="Get a prompt particle",
        tags=PARTICLE_TAGS,
        responses={200: PromptParticleSerializer, **error_responses(401, 403, 404, 429)},
        examples=schema_docs.PARTICLE_RESPONSE_EXAMPLES,
    ),
    create=extend_schema(
        operation_id="prompt_particles_create",
        summary="Create a prompt particle",
        tags=PARTICLE_TAGS,
        request=PromptParticleSerializer,
        parameters=[IDEMPOTENCY_KEY, LOCATION],
        responses={
            201: OpenApiResponse(PromptParticleSerializer, description="Created; the Location header names it."),
            **error_responses(400, 401, 403, 409, 413, 415, 422, 429),
        },
        examples=schema_docs.PARTICLE_CREATE_EXAMPLES + schema_docs.PARTICLE_RESPONSE_EXAMPLES,
    ),
    partial_update=extend_schema(
        operation_id="prompt_particles_partial_update",
        summary="Change a prompt particle",
        description="Send only the fields that change. Every composition using the particle, and every model "
        "using such a composition, renders the new content from now on; the change may not make any of those "
        "compositions exceed the rendered prompt limit. Global particles cannot be changed (403).",
        tags=PARTICLE_TAGS,
        request=PromptParticleSerializer,
        parameters=[IF_MATCH],
        responses={200: PromptParticleSerializer, **error_responses(400, 401, 403, 404, 412, 413, 415, 429)},
    ),
    destroy=extend_schema(
        operation_id="prompt_particles_destroy",
        summary="Delete a prompt particle",
        description="A particle still used by a composition cannot be deleted (409, with `references`). "
        "Global particles cannot be deleted (403).",
        tags=PARTICLE_TAGS,
        parameters=[IF_MATCH],
        responses={204: OpenApiResponse(description="Deleted."), **error_responses(401, 403, 404, 409, 412, 429)},
        examples=[schema_docs.PARTICLE_IN_USE_EXAMPLE],
    ),
    **version_actions_schema(
        noun="prompt particle",
        operation_prefix="prompt_particles",
        tags=PARTICLE_TAGS,
        version_serializer=PromptParticleVersionSerializer,
        object_serializer=PromptParticleSerializer,
    ),
)
class PromptParticleViewSet(_PromptViewSet):
    queryset = PromptParticle.objects.all()
    serializer_class = PromptParticleSerializer
    version_serializer_class = PromptParticleVersionSerializer
    filterset_class = PromptParticleFilter
    read_only_global_message = "Global prompt particles cannot be changed or deleted through the API."
    detail_route_name = "prompt-particles-detail"

    def visible_to(self, organization_id: str) -> QuerySet[PromptParticle]:
        return selectors.particles_visible_to(organization_id)

    def perform_create_service(self, data: dict) -> PromptParticle:
        return services.particle_create(
            organization_id=self.principal.organization_id, actor=self.principal.actor, data=data
        )

    def perform_update_service(self, instance: PromptParticle, data: dict) -> PromptParticle:
        return services.particle_update(particle=instance, actor=self.principal.actor, data=data)

    def perform_delete_service(self, instance: PromptParticle) -> None:
        services.particle_delete(particle=instance, actor=self.principal.actor)

    def restore_version(self, instance: PromptParticle, record: Any) -> PromptParticle:
        return services.particle_restore(particle=instance, record=record, actor=self.principal.actor)


@extend_schema_view(
    list=extend_schema(
        operation_id="prompt_compositions_list",
        summary="List prompt compositions",
        description="Your organization's compositions plus the global ones, each with its rendered prompt.",
        tags=COMPOSITION_TAGS,
        responses={200: PromptCompositionSerializer(many=True), **error_responses(400, 401, 403, 429)},
    ),
    retrieve=extend_schema(
        operation_id="prompt_compositions_retrieve",
        summary="Get a prompt composition",
        tags=COMPOSITION_TAGS,
        responses={200: PromptCompositionSerializer, **error_responses(401, 403, 404, 429)},
        examples=schema_docs.COMPOSITION_RESPONSE_EXAMPLES,
    ),
    create=extend_schema(
        operation_id="prompt_compositions_create",
        summary="Create a prompt composition",
        description="`particleIds` orders the particles; `renderedPrompt` joins their content with a blank line.",
        tags=COMPOSITION_TAGS,
        request=PromptCompositionSerializer,
        parameters=[IDEMPOTENCY_KEY, LOCATION],
        responses={
            201: OpenApiResponse(PromptCompositionSerializer, description="Created; the Location header names it."),
            **error_responses(400, 401, 403, 409, 413, 415, 422, 429),
        },
        examples=schema_docs.COMPOSITION_CREATE_EXAMPLES
        + schema_docs.COMPOSITION_RESPONSE_EXAMPLES
        + [schema_docs.PARTICLE_IDS_INVALID_EXAMPLE],
    ),
    partial_update=extend_schema(
        operation_id="prompt_compositions_partial_update",
        summary="Change a prompt composition",
        description="Send only the fields that change; `particleIds` replaces the whole ordered list. "
        "Global compositions cannot be changed (403).",
        tags=COMPOSITION_TAGS,
        request=PromptCompositionSerializer,
        parameters=[IF_MATCH],
        responses={200: PromptCompositionSerializer, **error_responses(400, 401, 403, 404, 412, 413, 415, 429)},
    ),
    destroy=extend_schema(
        operation_id="prompt_compositions_destroy",
        summary="Delete a prompt composition",
        description="A composition still assigned to a model cannot be deleted (409, with `references`). "
        "Global compositions cannot be deleted (403).",
        tags=COMPOSITION_TAGS,
        parameters=[IF_MATCH],
        responses={204: OpenApiResponse(description="Deleted."), **error_responses(401, 403, 404, 409, 412, 429)},
        examples=[schema_docs.COMPOSITION_IN_USE_EXAMPLE],
    ),
    **version_actions_schema(
        noun="prompt composition",
        operation_prefix="prompt_compositions",
        tags=COMPOSITION_TAGS,
        version_serializer=PromptCompositionVersionSerializer,
        object_serializer=PromptCompositionSerializer,
    ),
)
class PromptCompositionViewSet(_PromptViewSet):
    queryset = PromptComposition.objects.all()
    serializer_class = PromptCompositionSerializer
    version_serializer_class = PromptCompositionVersionSerializer
    filterset_class = PromptCompositionFilter
    read_only_global_message = "Global prompt compositions cannot be changed or deleted through the API."
    detail_route_name = "prompt-compositions-detail"

    def visible_to(self, organization_id: str) -> QuerySet[PromptComposition]:
        return selectors.compositions_visible_to(organization_id)

    def get_serializer_class(self):
        if getattr(self, "action", None) == "preview":
            return PromptPreviewRequestSerializer
        return super().get_serializer_class()

    def perform_create_service(self, data: dict) -> PromptComposition:
        return services.composition_create(
            organization_id=self.principal.organization_id, actor=self.principal.actor, data=data
        )

    def perform_update_service(self, instance: PromptComposition, data: dict) -> PromptComposition:
        return services.composition_update(composition=instance, actor=self.principal.actor, data=data)

    def perform_delete_service(self, instance: PromptComposition) -> None:
        services.composition_delete(composition=instance, actor=self.principal.actor)

    def restore_version(self, instance: PromptComposition, record: Any) -> PromptComposition:
        return services.composition_restore(composition=instance, record=record, actor=self.principal.actor)

    @extend_schema(
        operation_id="prompt_compositions_preview",
        summary="Preview a rendered prompt",
        description="Renders `particleIds` as a composition would, without saving anything. The list is checked "
        "like a composition's (count, no repeats, particles visible to you, rendered length). Needs read access only.",
        tags=COMPOSITION_TAGS,
        request=PromptPreviewRequestSerializer,
        parameters=[IDEMPOTENCY_KEY],
        responses={200: PromptPreviewSerializer, **error_responses(400, 401, 403, 409, 413, 415, 422, 429)},
        examples=schema_docs.PREVIEW_EXAMPLES,
    )
    @action(
        detail=False,
        methods=["post"],
        permission_classes=[ReadAccessPermission],
        filter_backends=[],
        pagination_class=None,
    )
    def preview(self, request: Request) -> Response:
        serializer = PromptPreviewRequestSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        particles = serializer.validated_data["particleIds"]
        rendered = render_particles(particles)
        return Response(
            PromptPreviewSerializer(
                {"renderedPrompt": rendered, "length": len(rendered), "particleIds": [p.pk for p in particles]}
            ).data
        )
