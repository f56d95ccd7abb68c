"""The wire format of prompt particles and compositions (camelCase, the models' bounds)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field, extend_schema_serializer
from rest_framework import serializers

from core.api.versions import VersionSerializer
from core.serializers import StrictFieldsMixin, ValidatedModelSerializer
from prompts import limits, services
from prompts.models import PromptComposition, PromptParticle
from prompts.rendering import render_composition
from prompts.selectors import composition_particle_ids

PARTICLE_IDS_HELP = (
    f"The composition's particles, in order: {limits.COMPOSITION_PARTICLES_MIN} to "
    f"{limits.COMPOSITION_PARTICLES_MAX} distinct ids, each a particle of your organization or a global one. "
    f"Rendered, they may not exceed {limits.RENDERED_PROMPT_MAX_LENGTH:,} characters."
)
RENDERED_PROMPT_HELP = (
    "The particles' content in order, joined by a blank line. Rendered live: editing a particle changes it."
)


class _OrganizationContextMixin:
    def organization_id(self) -> str | None:
        return self.context.get("organization_id")


class PromptParticleSerializer(_OrganizationContextMixin, ValidatedModelSerializer):
    """A reusable piece of a system prompt: a role, a tone, a guardrail, ..."""

    isSystem = serializers.BooleanField(
        source="is_system", read_only=True, help_text="A global particle curated by staff (read-only through the API)."
    )
    createdAt = serializers.DateTimeField(source="created_at", read_only=True, help_text="When it was created.")
    updatedAt = serializers.DateTimeField(source="updated_at", read_only=True, help_text="When it was last changed.")

    class Meta:
        model = PromptParticle
        fields = ["id", "kind", "name", "content", "isSystem", "createdAt", "updatedAt"]
        read_only_fields = ["id"]
        extra_kwargs = {
            "kind": {"help_text": "What the particle does in a prompt."},
            "name": {
                "help_text": f"A name to find it by, {limits.NAME_MIN_LENGTH} to {limits.NAME_MAX_LENGTH} "
                "characters (outer whitespace is trimmed)."
            },
            "content": {
                "help_text": f"The text, {limits.PARTICLE_CONTENT_MIN_LENGTH} to "
                f"{limits.PARTICLE_CONTENT_MAX_LENGTH:,} characters (outer whitespace is trimmed)."
            },
        }

    def extra_instance_attrs(self) -> dict[str, Any]:
        if self.instance is None:
            return {"organization_id": self.organization_id(), "is_system": False}
        return {}


class ParticleIdsField(serializers.ListField):
    """`particleIds`: read from the composition's items in position order."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("child", serializers.UUIDField())
        kwargs.setdefault("min_length", limits.COMPOSITION_PARTICLES_MIN)
        kwargs.setdefault("max_length", limits.COMPOSITION_PARTICLES_MAX)
        kwargs.setdefault("help_text", PARTICLE_IDS_HELP)
        super().__init__(**kwargs)

    def get_attribute(self, instance: PromptComposition) -> list:
        return composition_particle_ids(instance)


def particle_id_messages(exc: DjangoValidationError) -> list[str]:
    """The messages of a `resolve_particles` error (keyed `particle_ids` on the Django side)."""
    return exc.message_dict.get("particle_ids", exc.messages) if hasattr(exc, "error_dict") else exc.messages


class PromptCompositionSerializer(_OrganizationContextMixin, ValidatedModelSerializer):
    """A system prompt assembled from ordered particles."""

    particleIds = ParticleIdsField(source="particle_ids")
    renderedPrompt = serializers.SerializerMethodField(help_text=RENDERED_PROMPT_HELP)
    isSystem = serializers.BooleanField(
        source="is_system",
        read_only=True,
        help_text="A global composition curated by staff (read-only through the API).",
    )
    createdAt = serializers.DateTimeField(source="created_at", read_only=True, help_text="When it was created.")
    updatedAt = serializers.DateTimeField(source="updated_at", read_only=True, help_text="When it was last changed.")

    class Meta:
        model = PromptComposition
        fields = ["id", "name", "description", "particleIds", "renderedPrompt", "isSystem", "createdAt", "updatedAt"]
        read_only_fields = ["id"]
        extra_kwargs = {
            "name": {
                "help_text": f"{limits.NAME_MIN_LENGTH} to {limits.NAME_MAX_LENGTH} characters "
                "(outer whitespace is trimmed)."
            },
            "description": {
                "help_text": f"What the prompt is for, at most {limits.DESCRIPTION_MAX_LENGTH:,} characters."
            },
        }

    @extend_schema_field(OpenApiTypes.STR)
    def get_renderedPrompt(self, composition: PromptComposition) -> str:  # noqa: N802 (the wire name)
        return render_composition(composition)

    def extra_instance_attrs(self) -> dict[str, Any]:
        if self.instance is None:
            return {"organization_id": self.organization_id(), "is_system": False}
        return {}

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        particle_ids = attrs.pop("particle_ids", None)
        attrs = super().validate(attrs)
        if particle_ids is not None:
            organization_id = self.instance.organization_id if self.instance is not None else self.organization_id()
            try:
                services.resolve_particles(organization_id=organization_id, particle_ids=particle_ids)
            except DjangoValidationError as exc:
                raise serializers.ValidationError({"particleIds": particle_id_messages(exc)}) from exc
            attrs["particle_ids"] = particle_ids
        return attrs


@extend_schema_serializer(component_name="PromptPreview")  # the request body: PromptPreviewRequest
class PromptPreviewRequestSerializer(_OrganizationContextMixin, StrictFieldsMixin, serializers.Serializer):
    """Particles to render without saving anything, checked like a composition's list."""

    particleIds = ParticleIdsField()

    def validate_particleIds(self, value: list) -> list[PromptParticle]:  # noqa: N802 (the wire name)
        # The validated value is the particles themselves, in order, ready to render.
        try:
            return services.resolve_particles(organization_id=self.organization_id(), particle_ids=value)
        except DjangoValidationError as exc:
            raise serializers.ValidationError(particle_id_messages(exc)) from exc


class PromptPreviewSerializer(serializers.Serializer):
    """A rendered prompt that was not saved."""

    renderedPrompt = serializers.CharField(help_text=RENDERED_PROMPT_HELP)
    length = serializers.IntegerField(
        help_text=f"Characters in renderedPrompt (at most {limits.RENDERED_PROMPT_MAX_LENGTH:,})."
    )
    particleIds = serializers.ListField(child=serializers.UUIDField(), help_text="The particles rendered, in order.")


# --- Versions -------------------------------------------------------------------------------


class PromptParticleSnapshotSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=PromptParticle._meta.get_field("kind").choices)
    name = serializers.CharField()
    content = serializers.CharField()


class PromptParticleVersionSerializer(VersionSerializer):
    snapshot = PromptParticleSnapshotSerializer(source="*", help_text="The particle's fields at this version.")


class PromptCompositionSnapshotSerializer(serializers.Serializer):
    name = serializers.CharField()
    description = serializers.CharField()
    particleIds = serializers.ListField(child=serializers.UUIDField(), source="particle_ids")


class PromptCompositionVersionSerializer(VersionSerializer):
    snapshot = PromptCompositionSnapshotSerializer(
        source="*", help_text="The composition's fields and particle order at this version."
    )
