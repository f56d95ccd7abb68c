from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator, MaxValueValidator, MinLengthValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Lower

from core.db import TimeStampedModel, length_at_most, length_between, validate_not_blank
from core.history import ActorHistoricalRecords
from models_registry import lifecycle, limits
from models_registry.slugs import first_free, slug_from, validate_slug
from prompts.rendering import render_composition

# Values a user model takes from its parent system model.
INHERITED_ALWAYS = (
    "provider",
    "provider_model_id",
    "credit_multiplier",
    "supports_tools",
    "supports_vision",
    "supports_reasoning",
    "deprecated_at",
    "retires_at",
    "successor_id",
)
# A user model's own value where it has one, else its parent's.
INHERITED_WHEN_EMPTY = ("max_tokens", "description")


# What a user model is told of a composition it may not use, or that does not exist (the same words,
# so another organization's composition is not told apart from a missing one).
COMPOSITION_NOT_VISIBLE = "No prompt composition with id {pk} is visible to your organization."
# What a user model is told of a base system model that staff have disabled.
PARENT_DISABLED = "Must reference an enabled system model; {name} is disabled."


class SystemPromptSource(models.TextChoices):
    """Where a model's system prompt comes from (`systemPromptSource` of /resolved)."""

    OVERRIDE = "override"
    COMPOSITION = "composition"
    NONE = "none"


def inherited_field_names(*, is_system: bool, max_tokens: int | None, description: str) -> list[str]:
    """The fields whose value a model takes from its parent: the one rule of inheritance.

    Used by `AIModel.effective()` (the admin) and by the API's `represent_row()`, which reads
    plain rows for the list's speed; both pass the model's own values.
    """
    if is_system:
        return []
    fields = list(INHERITED_ALWAYS)
    if max_tokens is None:
        fields.append("max_tokens")
    if not description:
        fields.append("description")
    return fields


class AIModel(TimeStampedModel):
    """One table for both kinds of model: staff's system models and organizations' user models.

    A system row carries the provider facts and pricing; a user row references a system row
    (its parent) and inherits them, overriding only limits, streaming, the enabled flag and
    the system prompt. CHECK constraints keep every row consistent whatever path writes it.
    """

    name = models.CharField(
        max_length=limits.NAME_MAX_LENGTH,
        validators=[MinLengthValidator(limits.NAME_MIN_LENGTH), validate_not_blank],
        help_text="Human-readable name shown in dashboards and responses "
        f"({limits.NAME_MIN_LENGTH} to {limits.NAME_MAX_LENGTH} characters).",
    )
    slug = models.CharField(
        max_length=limits.SLUG_MAX_LENGTH,
        validators=[validate_slug],
        help_text="Stable readable id a runtime can use instead of the UUID: lowercase letters, digits, '.', '_', "
        f"'-', at most {limits.SLUG_MAX_LENGTH} characters; unique among system models, and within an "
        "organization among its user models. Made from the name (a system model: its provider model id) when "
        "not given.",
    )
    description = models.TextField(
        blank=True,
        default="",
        validators=[MaxLengthValidator(limits.DESCRIPTION_MAX_LENGTH)],
        help_text=f"Model description (at most {limits.DESCRIPTION_MAX_LENGTH:,} characters). "
        "A user model without one shows its parent's.",
    )
    # No index of its own: a read of the system models alone goes through one of their partial
    # indexes (a few pages, not one entry per row of the table), and "not a system model" alone
    # is nearly every row, which the database reads in full anyway.
    is_system = models.BooleanField(default=False, help_text="Whether this is a company-provided base model.")
    organization_id = models.CharField(
        max_length=limits.ORGANIZATION_ID_MAX_LENGTH,
        null=True,
        blank=True,
        help_text="Stytch organization id owning a user model; empty for system models.",
    )
    parent = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
        limit_choices_to={"is_system": True},
        help_text="The system model a user model builds on; empty for system models.",
    )
    provider = models.CharField(
        max_length=limits.PROVIDER_MAX_LENGTH,
        null=True,
        blank=True,
        help_text="AI provider name (NULL for user models, inherited from parent).",
    )
    provider_model_id = models.CharField(
        max_length=limits.PROVIDER_MODEL_ID_MAX_LENGTH,
        null=True,
        blank=True,
        help_text="Provider-specific model identifier (NULL for user models, inherited from parent).",
    )
    context_window = models.PositiveIntegerField(
        validators=[MinValueValidator(limits.CONTEXT_WINDOW_MIN), MaxValueValidator(limits.CONTEXT_WINDOW_MAX)],
        help_text="Maximum tokens considered at once, including system prompt, message history, user input, "
        f"tools/functions, and the model's output ({limits.CONTEXT_WINDOW_MIN} to {limits.CONTEXT_WINDOW_MAX:,}).",
    )
    max_tokens = models.PositiveIntegerField(
        null=True,
        blank=True,
        validators=[MinValueValidator(limits.MAX_TOKENS_MIN), MaxValueValidator(limits.MAX_TOKENS_MAX)],
        help_text="Upper bound for tokens the model may generate in a single response "
        f"({limits.MAX_TOKENS_MIN} to {limits.MAX_TOKENS_MAX:,}); below the context window. "
        "Empty on a user model: inherit from the parent.",
    )
    supports_streaming = models.BooleanField(
        default=True, help_text="Whether the provider/model supports SSE (Server-Sent Events) streaming responses."
    )
    supports_tools = models.BooleanField(
        null=True, blank=True, help_text="Whether the model supports tool/function calling (system models only)."
    )
    supports_vision = models.BooleanField(
        null=True, blank=True, help_text="Whether the model supports vision/image inputs (system models only)."
    )
    supports_reasoning = models.BooleanField(
        null=True,
        blank=True,
        help_text="Whether the model supports reasoning/thinking tokens (system models only).",
    )
    credit_multiplier = models.DecimalField(
        max_digits=limits.CREDIT_MULTIPLIER_MAX_DIGITS,
        decimal_places=limits.CREDIT_MULTIPLIER_DECIMAL_PLACES,
        null=True,
        blank=True,
        help_text="Credit multiplier for billing, greater than 0 "
        "(system models only, user models inherit from parent).",
    )
    is_enabled = models.BooleanField(default=True, help_text="Enable/disable this model without deleting it.")
    system_prompt_composition = models.ForeignKey(
        "prompts.PromptComposition",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="models",
        help_text="System prompt composition assigned to this model.",
    )
    system_prompt_override = models.TextField(
        blank=True,
        default="",
        validators=[MaxLengthValidator(limits.SYSTEM_PROMPT_OVERRIDE_MAX_LENGTH)],
        help_text="Full system prompt override (escape hatch, at most "
        f"{limits.SYSTEM_PROMPT_OVERRIDE_MAX_LENGTH:,} characters). If set, bypasses particle-based composition.",
    )
    deprecated_at = models.DateField(
        null=True,
        blank=True,
        help_text="The day (UTC) this system model is deprecated from: user models built on it keep working, "
        "but no new ones can be built on it. Empty: not deprecated (system models only).",
    )
    retires_at = models.DateField(
        null=True,
        blank=True,
        help_text="The day (UTC) this system model retires: user models built on it stop being usable "
        "(nothing is deleted). On or after the deprecation day, which it needs (system models only).",
    )
    successor = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="predecessors",
        limit_choices_to={"is_system": True},
        help_text="The active system model to move to (system models only).",
    )
    history = ActorHistoricalRecords()

    class Meta:
        verbose_name = "AI model"
        ordering = ["-is_system", "name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(
                    is_system=True,
                    parent__isnull=True,
                    organization_id__isnull=True,
                    provider__isnull=False,
                    provider_model_id__isnull=False,
                    credit_multiplier__isnull=False,
                    max_tokens__isnull=False,
                    supports_tools__isnull=False,
                    supports_vision__isnull=False,
                    supports_reasoning__isnull=False,
                )
                | Q(
                    is_system=False,
                    parent__isnull=False,
                    organization_id__isnull=False,
                    provider__isnull=True,
                    provider_model_id__isnull=True,
                    credit_multiplier__isnull=True,
                    supports_tools__isnull=True,
                    supports_vision__isnull=True,
                    supports_reasoning__isnull=True,
                ),
                name="models_registry_aimodel_system_or_user_shape",
            ),
            models.CheckConstraint(
                condition=Q(
                    context_window__gte=limits.CONTEXT_WINDOW_MIN, context_window__lte=limits.CONTEXT_WINDOW_MAX
                ),
                name="models_registry_aimodel_context_window_range",
            ),
            models.CheckConstraint(
                condition=Q(max_tokens__isnull=True)
                | Q(max_tokens__gte=limits.MAX_TOKENS_MIN, max_tokens__lte=limits.MAX_TOKENS_MAX),
                name="models_registry_aimodel_max_tokens_range",
            ),
            models.CheckConstraint(
                condition=Q(max_tokens__isnull=True) | Q(max_tokens__lt=F("context_window")),
                name="models_registry_aimodel_max_tokens_below_context_window",
            ),
            models.CheckConstraint(
                condition=Q(credit_multiplier__isnull=True)
                | Q(credit_multiplier__gt=limits.CREDIT_MULTIPLIER_EXCLUSIVE_MIN),
                name="models_registry_aimodel_credit_multiplier_positive",
            ),
            models.CheckConstraint(
                condition=~Q(parent=F("id")) | Q(parent__isnull=True),
                name="models_registry_aimodel_not_own_parent",
            ),
            models.CheckConstraint(
                condition=Q(is_system=True)
                | Q(deprecated_at__isnull=True, retires_at__isnull=True, successor__isnull=True),
                name="models_registry_aimodel_lifecycle_system_only",
            ),
            models.CheckConstraint(
                condition=Q(retires_at__isnull=True)
                | Q(deprecated_at__isnull=False, retires_at__gte=F("deprecated_at")),
                name="models_registry_aimodel_retires_after_deprecated",
            ),
            models.CheckConstraint(
                condition=~Q(successor=F("id")) | Q(successor__isnull=True),
                name="models_registry_aimodel_not_own_successor",
            ),
            length_between(
                "name", limits.NAME_MIN_LENGTH, limits.NAME_MAX_LENGTH, name="models_registry_aimodel_name_length"
            ),
            length_at_most(
                "description", limits.DESCRIPTION_MAX_LENGTH, name="models_registry_aimodel_description_length"
            ),
            length_at_most(
                "system_prompt_override",
                limits.SYSTEM_PROMPT_OVERRIDE_MAX_LENGTH,
                name="models_registry_aimodel_system_prompt_override_length",
            ),
            models.UniqueConstraint(
                Lower("name"),
                "organization_id",
                condition=Q(is_system=False),
                name="models_registry_aimodel_unique_name_per_organization",
                violation_error_message="A model with this name already exists in your organization.",
            ),
            models.UniqueConstraint(
                Lower("name"),
                condition=Q(is_system=True),
                name="models_registry_aimodel_unique_system_name",
                violation_error_message="A system model with this name already exists.",
            ),
            models.UniqueConstraint(
                fields=["slug"],
                condition=Q(is_system=True),
                name="models_registry_aimodel_unique_system_slug",
                violation_error_message="A system model with this slug already exists.",
            ),
            models.UniqueConstraint(
                fields=["slug", "organization_id"],
                condition=Q(is_system=False),
                name="models_registry_aimodel_unique_slug_per_organization",
                violation_error_message="A model with this slug already exists in your organization.",
            ),
            length_between(
                "slug", limits.SLUG_MIN_LENGTH, limits.SLUG_MAX_LENGTH, name="models_registry_aimodel_slug_length"
            ),
            models.UniqueConstraint(
                "provider",
                "provider_model_id",
                condition=Q(is_system=True),
                name="models_registry_aimodel_unique_provider_model",
                violation_error_message="A system model for this provider and provider model id already exists.",
            ),
        ]
        # The list's two parts in its default order (core.pagination), each read in index order
        # from the cursor on: the system models by name, an organization's user models by name.
        # Search (`search=`) has a trigram index per part on PostgreSQL (migration 0012), and the
        # read of the slugs a new one must avoid (`ensure_slug`) two varchar_pattern_ops ones
        # (migration 0011); neither is here, as SQLite has no such index.
        indexes = [
            models.Index(fields=["name", "id"], condition=Q(is_system=True), name="aimodel_system_by_name"),
            models.Index(
                fields=["organization_id", "name", "id"], condition=Q(is_system=False), name="aimodel_user_by_name"
            ),
            # By organization alone (the admin's filter, moving models): a plain btree, not Django's
            # pair for an indexed CharField (its varchar_pattern_ops twin serves only LIKE, which
            # no query runs on an organization id).
            models.Index(fields=["organization_id"], name="aimodel_organization"),
        ]

    def __str__(self) -> str:
        return self.name

    # --- The effective configuration -------------------------------------------------
    def effective(self, field: str):
        """The value a runtime uses: the parent's for inherited fields of a user model."""
        if self.parent_id is not None and field in self.inherited_fields:
            return getattr(self.parent, field)
        return getattr(self, field)

    def lifecycle_status(self, on=None) -> lifecycle.LifecycleStatus:
        """Active, deprecated or retired today (a user model: its parent's)."""
        source = self if self.is_system or self.parent_id is None else self.parent
        return lifecycle.status_of(source.deprecated_at, source.retires_at, on)

    def system_prompt(self) -> tuple[str, str]:
        """The system prompt the model runs with and where it comes from (a `SystemPromptSource`).

        The override wins; otherwise the assigned composition, rendered; otherwise nothing.
        """
        if self.system_prompt_override:
            return self.system_prompt_override, SystemPromptSource.OVERRIDE
        if self.system_prompt_composition_id is not None:
            return render_composition(self.system_prompt_composition), SystemPromptSource.COMPOSITION
        return "", SystemPromptSource.NONE

    @property
    def inherited_fields(self) -> list[str]:
        return inherited_field_names(is_system=self.is_system, max_tokens=self.max_tokens, description=self.description)

    # --- The slug ---------------------------------------------------------------------------
    def slug_base(self) -> str:
        """The slug made from the name (a system model: its provider model id), before any suffix."""
        return slug_from(self.provider_model_id if self.is_system else self.name)

    def ensure_slug(self) -> str:
        """Give the model a slug if it has none: `slug_base()`, or the first free one after it in
        its scope (models_registry.slugs)."""
        if not self.slug:
            base = self.slug_base()
            scope = AIModel.objects.filter(is_system=self.is_system)
            if not self.is_system:
                scope = scope.filter(organization_id=self.organization_id)
            prefix = base[: limits.SLUG_MAX_LENGTH - 8]
            taken = scope.filter(slug__startswith=prefix).exclude(pk=self.pk).order_by().values_list("slug", flat=True)
            self.slug = first_free(base, taken)
        return self.slug

    def clean_fields(self, exclude=None) -> None:
        if not self.slug and "slug" not in (exclude or ()) and (self.name or self.provider_model_id):
            self.ensure_slug()
        super().clean_fields(exclude=exclude)

    def save(self, *args, **kwargs) -> None:
        self.ensure_slug()
        super().save(*args, **kwargs)

    # --- Rules across the fields of a row (shared by the admin, the API and the seed) -----
    def clean(self) -> None:
        super().clean()
        errors = self._system_errors() if self.is_system else self._user_errors()
        if errors:
            raise ValidationError(errors)

    def _system_errors(self) -> dict[str, list[str]]:
        errors: dict[str, list[str]] = {}
        for field in ("provider", "provider_model_id", "credit_multiplier", "max_tokens"):
            if getattr(self, field) in (None, ""):
                errors.setdefault(field, []).append("This field is required for a system model.")
        if self.parent_id is not None:
            errors.setdefault("parent", []).append("A system model has no parent.")
        if self.organization_id:
            errors.setdefault("organization_id", []).append("A system model belongs to no organization.")
        if self.credit_multiplier is not None and self.credit_multiplier <= limits.CREDIT_MULTIPLIER_EXCLUSIVE_MIN:
            errors.setdefault("credit_multiplier", []).append("Ensure this value is greater than 0.")
        composition = self.system_prompt_composition if self.system_prompt_composition_id else None
        if composition is not None and not composition.is_system:
            # A system model is seen by every organization: only a global composition fits.
            errors.setdefault("system_prompt_composition", []).append(
                "A system model can use a global prompt composition only."
            )
        if "max_tokens" not in errors:
            message = max_tokens_error(self.context_window, self.max_tokens, inherited=False)
            if message:
                errors["max_tokens"] = [message]
        for field, message in lifecycle_errors(self).items():
            errors.setdefault(field, []).append(message)
        return errors

    def _user_errors(self) -> dict[str, list[str]]:
        parent = self.parent if self.parent_id else None
        if parent is None:
            return {"parent": ["A user model must reference a system model."]}
        if not parent.is_system:
            return {"parent": ["Must reference a system model, not a user model."]}
        errors = {
            field: [message]
            for field, message in child_limit_errors(
                parent,
                context_window=self.context_window,
                max_tokens=self.max_tokens,
                supports_streaming=self.supports_streaming,
            ).items()
        }
        if not self.organization_id:
            errors["organization_id"] = ["A user model belongs to an organization."]
        for field in ("deprecated_at", "retires_at", "successor"):
            if getattr(self, field if field != "successor" else "successor_id") is not None:
                errors[field] = ["Only a system model has a lifecycle; a user model shows its parent's."]
        composition = self.system_prompt_composition if self.system_prompt_composition_id else None
        if composition is not None and not composition.is_visible_to(self.organization_id):
            errors["system_prompt_composition"] = [COMPOSITION_NOT_VISIBLE.format(pk=composition.pk)]
        return errors


def lifecycle_errors(model: AIModel) -> dict[str, str]:
    """The lifecycle fields of one system row: a retirement needs a deprecation on or before it;
    a successor is another system model. (That the successor is active and the chain has no
    cycle depends on other rows: `services.ensure_successor_fits()`.)"""
    errors: dict[str, str] = {}
    if model.retires_at is not None:
        if model.deprecated_at is None:
            errors["deprecated_at"] = "Set the deprecation day too: a model is deprecated before it retires."
        elif model.retires_at < model.deprecated_at:
            errors["retires_at"] = f"Must be on or after the deprecation day ({model.deprecated_at.isoformat()})."
    if model.successor_id is not None:
        if model.pk is not None and model.successor_id == model.pk:
            errors["successor"] = "A model cannot be its own successor."
        elif not model.successor.is_system:
            errors["successor"] = "Must be a system model."
    return errors


def max_tokens_error(context_window: int | None, max_tokens: int | None, *, inherited: bool) -> str | None:
    """Why `max_tokens` does not fit below `context_window`, or None (also None while the
    context window is itself out of range: its own error says what is wrong)."""
    if max_tokens is None or context_window is None:
        return None
    if not limits.CONTEXT_WINDOW_MIN <= context_window <= limits.CONTEXT_WINDOW_MAX or max_tokens < context_window:
        return None
    hint = f" (inherited value {max_tokens}; set maxTokens)" if inherited else ""
    return f"maxTokens must be below contextWindow ({context_window}){hint}."


def child_limit_errors(
    parent: AIModel, *, context_window: int | None, max_tokens: int | None, supports_streaming: bool
) -> dict[str, str]:
    """The limits a user model must keep against its system model, as {field: message}.

    The one statement of the rule: `AIModel.clean()` applies it to one user model, and
    `services.system_model_child_conflicts()` to every user model of a system model whose new
    limits are being checked (`parent` then holds the new values).
    """
    errors: dict[str, str] = {}
    if context_window is not None and context_window > parent.context_window:
        errors["context_window"] = f"Must not exceed the parent model's context window ({parent.context_window})."
    if max_tokens is not None and parent.max_tokens is not None and max_tokens > parent.max_tokens:
        errors["max_tokens"] = f"Must not exceed the parent model's max tokens ({parent.max_tokens})."
    else:
        effective = parent.max_tokens if max_tokens is None else max_tokens
        message = max_tokens_error(context_window, effective, inherited=max_tokens is None)
        if message:
            errors["max_tokens"] = message
    if supports_streaming and not parent.supports_streaming:
        errors["supports_streaming"] = "May be true only when the parent model supports streaming."
    return errors


class SystemModelManager(models.Manager):
    def get_queryset(self):
        return super().get_queryset().filter(is_system=True)


class UserModelManager(models.Manager):
    def get_queryset(self):
        return super().get_queryset().filter(is_system=False)


class SystemModel(AIModel):
    """A company-provided base model, curated by staff."""

    objects = SystemModelManager()

    class Meta:
        proxy = True
        verbose_name = "system model"


class UserModel(AIModel):
    """An organization's configuration built on a system model."""

    objects = UserModelManager()

    class Meta:
        proxy = True
        verbose_name = "user model"


# Plans and entitlements live in their own module; imported here so Django registers them.
from models_registry.entitlements import Entitlement, EntitlementMode, Plan  # noqa: E402, F401
