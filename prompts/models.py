from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator, MinLengthValidator
from django.db import models
from django.db.models import Q

from core.db import TimeStampedModel, length_at_most, length_between, validate_not_blank
from core.history import ActorHistoricalRecords, HistoricalCompositionBase
from core.limits import ORGANIZATION_ID_MAX_LENGTH
from prompts import limits


class ParticleKind(models.TextChoices):
    ROLE = "role", "Role"
    TONE = "tone", "Tone"
    GUARDRAILS = "guardrails", "Guardrails"
    FORMAT = "format", "Format"
    CONTEXT = "context", "Context"
    INSTRUCTIONS = "instructions", "Instructions"
    CUSTOM = "custom", "Custom"


def system_xor_organization(name: str) -> models.CheckConstraint:
    """A global (system) row has no organization; an organization's row always has one."""
    return models.CheckConstraint(
        condition=Q(is_system=True, organization_id__isnull=True) | Q(is_system=False, organization_id__isnull=False),
        name=name,
    )


class OwnedPromptObject(TimeStampedModel):
    organization_id = models.CharField(
        max_length=ORGANIZATION_ID_MAX_LENGTH,
        null=True,
        blank=True,
        help_text="Stytch organization id of the owner; empty for a global object.",
    )
    is_system = models.BooleanField(
        default=False,
        help_text="A global object curated by staff: readable by every organization, writable by none through the API.",
    )
    name = models.CharField(
        max_length=limits.NAME_MAX_LENGTH,
        validators=[MinLengthValidator(limits.NAME_MIN_LENGTH), validate_not_blank],
        help_text=f"{limits.NAME_MIN_LENGTH} to {limits.NAME_MAX_LENGTH} characters.",
    )

    class Meta:
        abstract = True

    # --- Ownership: global (staff's, readable by all) or one organization's -------------------
    @staticmethod
    def visible_to_q(organization_id: str | None) -> Q:
        """The organization's own objects plus the global ones (the rule `is_visible_to` states)."""
        return OwnedPromptObject.visible_part_q(organization_id, False) | OwnedPromptObject.visible_part_q(
            organization_id, True
        )

    @staticmethod
    def visible_part_q(organization_id: str | None, is_system: bool) -> Q:
        """One half of `visible_to_q`: the global objects, or the organization's own (a list reads
        them apart, each through its index: core.pagination)."""
        return Q(is_system=True) if is_system else Q(is_system=False, organization_id=organization_id)

    @staticmethod
    def owner_of(is_system: bool, organization_id: str | None) -> str | None:
        """The organization an object with these owner fields belongs to; None for a global one."""
        return None if is_system else organization_id

    @property
    def owner(self) -> str | None:
        return self.owner_of(self.is_system, self.organization_id)

    def is_visible_to(self, organization_id: str | None) -> bool:
        return self.is_system or self.organization_id == organization_id

    def clean(self) -> None:
        super().clean()
        noun = self._meta.verbose_name.removeprefix("prompt ")
        if self.is_system and self.organization_id:
            raise ValidationError(
                {"organization_id": f"A global {noun} belongs to no organization: leave this empty, or untick global."}
            )
        if not self.is_system and not self.organization_id:
            raise ValidationError(
                {"organization_id": f"An organization's {noun} needs its organization id; or tick global."}
            )


class PromptParticle(OwnedPromptObject):
    """A reusable piece of a system prompt: a role, a tone, a guardrail, ..."""

    kind = models.CharField(max_length=32, choices=ParticleKind.choices, default=ParticleKind.CUSTOM)
    content = models.TextField(
        validators=[
            MinLengthValidator(limits.PARTICLE_CONTENT_MIN_LENGTH),
            MaxLengthValidator(limits.PARTICLE_CONTENT_MAX_LENGTH),
        ],
        help_text=f"The particle's text, {limits.PARTICLE_CONTENT_MIN_LENGTH} to "
        f"{limits.PARTICLE_CONTENT_MAX_LENGTH:,} characters.",
    )
    history = ActorHistoricalRecords()

    class Meta:
        ordering = ["kind", "name"]
        # Each half of what an organization sees in the list's order: the global particles and
        # its own, read apart and merged (core.pagination).
        indexes = [
            models.Index(fields=["kind", "name", "id"], condition=Q(is_system=True), name="particle_global_order"),
            models.Index(
                fields=["organization_id", "kind", "name", "id"],
                condition=Q(is_system=False),
                name="particle_own_order",
            ),
            models.Index(fields=["organization_id"], name="particle_organization"),  # as AIModel's
        ]
        constraints = [
            system_xor_organization("prompts_promptparticle_system_xor_organization"),
            models.CheckConstraint(condition=Q(kind__in=ParticleKind.values), name="prompts_promptparticle_kind_valid"),
            length_between(
                "name", limits.NAME_MIN_LENGTH, limits.NAME_MAX_LENGTH, name="prompts_promptparticle_name_length"
            ),
            length_between(
                "content",
                limits.PARTICLE_CONTENT_MIN_LENGTH,
                limits.PARTICLE_CONTENT_MAX_LENGTH,
                name="prompts_promptparticle_content_length",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class PromptComposition(OwnedPromptObject):
    """A system prompt assembled from ordered particles."""

    description = models.TextField(blank=True, default="", max_length=limits.DESCRIPTION_MAX_LENGTH)
    particles = models.ManyToManyField(PromptParticle, through="PromptCompositionParticle", related_name="compositions")
    history = ActorHistoricalRecords(bases=[HistoricalCompositionBase])

    class Meta:
        ordering = ["name"]
        indexes = [  # each half of what an organization sees, in the list's order (as the particles')
            models.Index(fields=["name", "id"], condition=Q(is_system=True), name="composition_global_order"),
            models.Index(
                fields=["organization_id", "name", "id"], condition=Q(is_system=False), name="composition_own_order"
            ),
            models.Index(fields=["organization_id"], name="composition_organization"),  # as AIModel's
        ]
        constraints = [
            system_xor_organization("prompts_promptcomposition_system_xor_organization"),
            length_between(
                "name", limits.NAME_MIN_LENGTH, limits.NAME_MAX_LENGTH, name="prompts_promptcomposition_name_length"
            ),
            length_at_most(
                "description", limits.DESCRIPTION_MAX_LENGTH, name="prompts_promptcomposition_description_length"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class PromptCompositionParticle(models.Model):
    """One particle's place in a composition."""

    composition = models.ForeignKey(PromptComposition, on_delete=models.CASCADE, related_name="items")
    particle = models.ForeignKey(PromptParticle, on_delete=models.PROTECT, related_name="composition_items")
    position = models.PositiveSmallIntegerField()

    class Meta:
        ordering = ["composition", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["composition", "position"], name="prompts_promptcompositionparticle_unique_position"
            ),
            models.UniqueConstraint(
                fields=["composition", "particle"], name="prompts_promptcompositionparticle_unique_particle"
            ),
            models.CheckConstraint(
                condition=Q(position__lt=limits.COMPOSITION_PARTICLES_MAX),
                name="prompts_promptcompositionparticle_position_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.composition} #{self.position}: {self.particle}"
