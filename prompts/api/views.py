from collections.abc import Callable
from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from core.api.versions import VersionedViewSetMixin, version_actions_schema
from core.api.viewsets import ResourceViewSet
from core.openapi import IDEMPOTENCY_KEY, crud_schema
from core.permissions import ReadAccessPermission
from core.schema_errors import error_responses
from core.serializers import RowRepresentation
from core.statements import Markers
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
from prompts.models import PromptComposition, PromptParticle
from prompts.rendering import render_particles, render_texts

PARTICLE_TAGS = ["prompt-particles"]
COMPOSITION_TAGS = ["prompt-compositions"]


class HalvesListMixin:
    # A list of global objects and the organization's own, each half read on its own
    # (core.pagination), and its first page in one statement (core.api.viewsets). `half` is the
    # selector of one half: `half(organization_id, is_system)`. (A comment, not a docstring:
    # drf-spectacular would show a docstring as the description of the viewsets' operations.)

    half: Callable[[str | None, bool], QuerySet]

    def partition(self, queryset: QuerySet, is_system: bool) -> QuerySet:
        """The list's global or own half, the request's filters applied: built from its own rule,
        not the list's OR narrowed, whose leftover OR made PostgreSQL pick the organization_id
        index and a sort over the half's partial index in order."""
        return self.part_of(self.principal.organization_id, is_system)

    def part_of(self, organization_id: str, is_system: bool) -> QuerySet:
        return self.filter_queryset(self.half(organization_id, is_system))

    def first_page_key(self) -> tuple:
        return (type(self).__name__,)

    def first_page_parts(self, markers: Markers) -> tuple[QuerySet, Callable]:
        organization_id = markers.text("organization")
        queryset = self.filter_queryset(self.visible_to(organization_id))
        return queryset, lambda queryset, is_system: self.part_of(organization_id, is_system)


@extend_schema_view(
    **crud_schema(
        operation_prefix="prompt_particles",
        tags=PARTICLE_TAGS,
        serializer=PromptParticleSerializer,
        summaries={
            "list": "List prompt particles",
            "retrieve": "Get a prompt particle",
            "create": "Create a prompt particle",
            "partial_update": "Change a prompt particle",
            "destroy": "Delete a prompt particle",
        },
        descriptions={
            "list": "Your organization's particles plus the global ones curated by staff.",
            "retrieve": "One of your organization's particles, or a global one.",
            "create": "A particle of your organization: `kind` says what it does in a prompt, `content` is its text. "
            "Compositions put particles in order.",
            "partial_update": "Send only the fields that change. Every composition using the particle, and every "
            "model using such a composition, renders the new content from now on; the change may not make any of "
            "those compositions exceed the rendered prompt limit. Global particles cannot be changed (403).",
            "destroy": "A particle still used by a composition cannot be deleted (409, with `references`). "
            "Global particles cannot be deleted (403).",
        },
        examples={
            "retrieve": schema_docs.PARTICLE_RESPONSE_EXAMPLES,
            "create": schema_docs.PARTICLE_CREATE_EXAMPLES + schema_docs.PARTICLE_RESPONSE_EXAMPLES,
            "partial_update": schema_docs.PARTICLE_UPDATE_EXAMPLES + schema_docs.PARTICLE_RESPONSE_EXAMPLES,
            "destroy": [schema_docs.PARTICLE_IN_USE_EXAMPLE],
        },
        delete_conflicts=True,
    ),
    **version_actions_schema(
        noun="prompt particle",
        operation_prefix="prompt_particles",
        tags=PARTICLE_TAGS,
        version_serializer=PromptParticleVersionSerializer,
        object_serializer=PromptParticleSerializer,
    ),
)
class PromptParticleViewSet(HalvesListMixin, VersionedViewSetMixin, ResourceViewSet):
    resource = "prompts"
    queryset = PromptParticle.objects.all()
    serializer_class = PromptParticleSerializer
    version_serializer_class = PromptParticleVersionSerializer
    filterset_class = PromptParticleFilter
    row_representation = RowRepresentation(PromptParticleSerializer)
    read_only_global_message = "Global prompt particles cannot be changed or deleted through the API."

    def visible_to(self, organization_id: str) -> QuerySet[PromptParticle]:
        return selectors.particles_visible_to(organization_id)

    half = staticmethod(selectors.particles_part)

    def create_object(self, data: dict) -> PromptParticle:
        return services.particle_create(
            organization_id=self.principal.organization_id, actor=self.principal.actor, data=data
        )

    def update_object(self, instance: PromptParticle, data: dict) -> PromptParticle:
        return services.particle_update(particle=instance, actor=self.principal.actor, data=data)

    def delete_object(self, instance: PromptParticle) -> None:
        services.particle_delete(particle=instance, actor=self.principal.actor)

    def restore_version(self, instance: PromptParticle, record: Any) -> PromptParticle:
        return services.particle_restore(particle=instance, record=record, actor=self.principal.actor)


@extend_schema_view(
    **crud_schema(
        operation_prefix="prompt_compositions",
        tags=COMPOSITION_TAGS,
        serializer=PromptCompositionSerializer,
        summaries={
            "list": "List prompt compositions",
            "retrieve": "Get a prompt composition",
            "create": "Create a prompt composition",
            "partial_update": "Change a prompt composition",
            "destroy": "Delete a prompt composition",
        },
        descriptions={
            "list": "Your organization's compositions plus the global ones, each with its rendered prompt.",
            "retrieve": "One of your organization's compositions, or a global one, with its rendered prompt.",
            "create": "`particleIds` orders the particles; `renderedPrompt` joins their content with a blank line.",
            "partial_update": "Send only the fields that change; `particleIds` replaces the whole ordered list. "
            "Global compositions cannot be changed (403).",
            "destroy": "A composition still assigned to a model cannot be deleted (409, with `references`). "
            "Global compositions cannot be deleted (403).",
        },
        examples={
            "retrieve": schema_docs.COMPOSITION_RESPONSE_EXAMPLES,
            "create": schema_docs.COMPOSITION_CREATE_EXAMPLES
            + schema_docs.COMPOSITION_RESPONSE_EXAMPLES
            + [schema_docs.PARTICLE_IDS_INVALID_EXAMPLE],
            "partial_update": schema_docs.COMPOSITION_UPDATE_EXAMPLES
            + schema_docs.COMPOSITION_RESPONSE_EXAMPLES
            + [schema_docs.PARTICLE_IDS_INVALID_EXAMPLE],
            "destroy": [schema_docs.COMPOSITION_IN_USE_EXAMPLE],
        },
        delete_conflicts=True,
    ),
    **version_actions_schema(
        noun="prompt composition",
        operation_prefix="prompt_compositions",
        tags=COMPOSITION_TAGS,
        version_serializer=PromptCompositionVersionSerializer,
        object_serializer=PromptCompositionSerializer,
    ),
)
class PromptCompositionViewSet(HalvesListMixin, VersionedViewSetMixin, ResourceViewSet):
    resource = "prompts"
    queryset = PromptComposition.objects.all()
    serializer_class = PromptCompositionSerializer
    version_serializer_class = PromptCompositionVersionSerializer
    filterset_class = PromptCompositionFilter
    # The list from plain rows: a page's particle ids and rendered prompts from one query of its
    # items (`complete_rows`), not 50 compositions, their items and particles as instances.
    row_representation = RowRepresentation(PromptCompositionSerializer, computed=("particleIds", "renderedPrompt"))
    read_only_global_message = "Global prompt compositions cannot be changed or deleted through the API."

    def visible_to(self, organization_id: str) -> QuerySet[PromptComposition]:
        return selectors.compositions_visible_to(organization_id)

    half = staticmethod(selectors.compositions_part)  # `complete_rows` adds each row's particles

    def complete_rows(self, rows: list[dict]) -> list[dict]:
        particles = selectors.particles_of_compositions([row["id"] for row in rows])
        for row in rows:
            row["particleIds"] = [str(particle_id) for particle_id, _ in particles[row["id"]]]
            row["renderedPrompt"] = render_texts(content for _, content in particles[row["id"]])
        return rows

    def get_serializer_class(self):
        if getattr(self, "action", None) == "preview":
            return PromptPreviewRequestSerializer
        return super().get_serializer_class()

    def create_object(self, data: dict) -> PromptComposition:
        return services.composition_create(
            organization_id=self.principal.organization_id, actor=self.principal.actor, data=data
        )

    def update_object(self, instance: PromptComposition, data: dict) -> PromptComposition:
        return services.composition_update(composition=instance, actor=self.principal.actor, data=data)

    def delete_object(self, instance: PromptComposition) -> None:
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
