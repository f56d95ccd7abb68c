"""Which organization may use which system model: plans, per-organization additions, modes.

- A **plan** is a named set of system models ("Starter", "Enterprise"). Changing a plan changes
  every organization on it at once.
- An organization's **entitlement** (one row, optional) says its mode, its plan, the system
  models added on top of the plan, and an optional quota of user models.
- The **mode** is `all` (every enabled system model) or `plan` (its plan and additions only);
  `default` follows DEFAULT_ENTITLEMENT (`all` unless configured). An organization without an
  entitlement row is in the default mode with no plan. An empty plan means no system model,
  never all of them.

`entitled_q()` states the rule once, as SQL: the API's visibility (`selectors.models_visible_to`),
`parentId` validation and `/resolved` all apply it inside their own query, so it costs no extra
round trip.
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator
from django.db import models
from django.db.models import Exists, OuterRef, Q
from django.db.models.functions import Lower

from core.db import TimeStampedModel, validate_not_blank
from core.models import Organization
from models_registry import limits


class EntitlementMode(models.TextChoices):
    DEFAULT = "default", "Service default (DEFAULT_ENTITLEMENT)"
    ALL = "all", "All enabled system models"
    PLAN = "plan", "Its plan and additions only"


class Plan(TimeStampedModel):
    """A named set of system models that staff assign to organizations."""

    name = models.CharField(
        max_length=limits.PLAN_NAME_MAX_LENGTH,
        validators=[validate_not_blank],
        help_text=f"Shown to staff, unique ignoring case (at most {limits.PLAN_NAME_MAX_LENGTH} characters).",
    )
    description = models.TextField(blank=True, default="")
    system_models = models.ManyToManyField(
        "models_registry.AIModel",
        blank=True,
        related_name="plans",
        limit_choices_to={"is_system": True},
        help_text="The system models an organization on this plan may use. Empty: none.",
    )

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(Lower("name"), name="models_registry_plan_unique_name")]

    def __str__(self) -> str:
        return self.name


class Entitlement(TimeStampedModel):
    """What one organization may use: its mode, plan, additions and quota."""

    organization = models.OneToOneField(Organization, on_delete=models.CASCADE, related_name="entitlement")
    mode = models.CharField(
        max_length=16,
        choices=EntitlementMode.choices,
        default=EntitlementMode.DEFAULT,
        help_text="all: every enabled system model; plan: its plan and additions only; default: DEFAULT_ENTITLEMENT.",
    )
    plan = models.ForeignKey(
        Plan,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="entitlements",
        help_text="Its plan (used in plan mode). Empty: no plan, so only its additions.",
    )
    extra_system_models = models.ManyToManyField(
        "models_registry.AIModel",
        blank=True,
        related_name="extra_entitlements",
        limit_choices_to={"is_system": True},
        help_text="System models this organization may use on top of its plan.",
    )
    max_user_models = models.PositiveIntegerField(
        null=True,
        blank=True,
        validators=[MaxValueValidator(limits.MAX_USER_MODELS_QUOTA)],
        help_text=f"At most this many user models (0 to {limits.MAX_USER_MODELS_QUOTA:,}). Empty: unlimited.",
    )

    class Meta:
        ordering = ["organization_id"]

    def __str__(self) -> str:
        return f"Entitlement of {self.organization_id}"

    def effective_mode(self) -> str:
        return effective_mode(self.mode)


def effective_mode(mode: str | None) -> str:
    if mode in (None, EntitlementMode.DEFAULT):
        return settings.DEFAULT_ENTITLEMENT
    return mode


def entitled_q(organization_id: str, *, model_ref: str = "pk") -> Q:
    """System model rows (`model_ref` names the system model's id in the outer query: "pk",
    or "parent_id" for a user model's base) that the organization may use. One statement of
    the rule, evaluated by the database in the caller's query."""
    entitlement = Entitlement.objects.filter(organization_id=organization_id)
    if settings.DEFAULT_ENTITLEMENT == EntitlementMode.ALL:
        everything = ~Q(Exists(entitlement.filter(mode=EntitlementMode.PLAN)))
    else:
        everything = Q(Exists(entitlement.filter(mode=EntitlementMode.ALL)))
    in_plan = Exists(
        Plan.system_models.through.objects.filter(
            plan__entitlements__organization_id=organization_id, aimodel_id=OuterRef(model_ref)
        )
    )
    added = Exists(
        Entitlement.extra_system_models.through.objects.filter(
            entitlement__organization_id=organization_id, aimodel_id=OuterRef(model_ref)
        )
    )
    return everything | Q(in_plan) | Q(added)


def entitlement_of(organization_id: str) -> Entitlement | None:
    return Entitlement.objects.filter(organization_id=organization_id).select_related("plan").first()


def why_entitled(organization_id: str) -> list[tuple[object, str]]:
    """Every enabled system model the organization may use (by `entitled_q`, the rule itself),
    with the reason: "default mode all", "mode all", "plan <name>", "addition", or both of the
    last two. For staff, in the admin."""
    from models_registry.models import AIModel

    entitlement = entitlement_of(organization_id)
    plan = entitlement.plan if entitlement else None
    plan_ids = set(plan.system_models.values_list("pk", flat=True)) if plan else set()
    added_ids = set(entitlement.extra_system_models.values_list("pk", flat=True)) if entitlement else set()
    in_all_mode = effective_mode(entitlement.mode if entitlement else None) == EntitlementMode.ALL
    everything = "mode all" if entitlement and entitlement.mode == EntitlementMode.ALL else "default mode all"
    entitled = AIModel.objects.filter(is_system=True, is_enabled=True).filter(entitled_q(organization_id))
    reasons = []
    for model in entitled.order_by("name"):
        why = [f"plan {plan.name}"] if model.pk in plan_ids else []
        why += ["addition"] if model.pk in added_ids else []
        reasons.append((model, everything if in_all_mode else ", ".join(why)))
    return reasons
