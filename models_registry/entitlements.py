"""Which organization may use which system model: plans, per-organization additions, modes.

- A **plan** is a named set of system models ("Starter", "Enterprise"). Changing a plan changes
  every organization on it at once.
- An organization's **entitlement** (one row, optional) says its mode, its plan, the system
  models added on top of the plan, and an optional quota of user models.
- The **mode** is `all` (every enabled system model) or `plan` (its plan and additions only);
  `default` follows DEFAULT_ENTITLEMENT (`all` unless configured). An organization without an
  entitlement row is in the default mode with no plan. An empty plan means no system model,
  never all of them.

`entitled_set()` states the rule once: one small query reads what the organization may use
(every system model, or these ids), and its `q()` applies that inside the caller's own query:
the API's visibility (`selectors.visible_system_models`), `parentId` validation, `/resolved`'s
`base_entitled`, the OpenAI catalog and imports. A request reads it once. (The rule used to be
three EXISTS subqueries in each of those queries: building and compiling them cost a list page
or a resolved model more CPU than a query of its own.)
"""

from __future__ import annotations

import functools
import uuid
from dataclasses import dataclass

from django.conf import settings
from django.core.validators import MaxValueValidator
from django.db import models
from django.db.models import BooleanField, Expression, ExpressionWrapper, Q, Value
from django.db.models.functions import Lower

from core import statements
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


@dataclass(frozen=True)
class EntitledSet:
    """The system models an organization may use, as read at one moment: every one
    (`everything`), or those whose ids are in `ids` (none when empty)."""

    everything: bool
    ids: frozenset[uuid.UUID] = frozenset()

    def allows(self, model_id: uuid.UUID) -> bool:
        return self.everything or model_id in self.ids

    def q(self, model_ref: str = "pk") -> Q:
        """The rows it allows, as a condition of the caller's query (`model_ref` names the system
        model's id there: "pk", or "parent_id" for a user model's base)."""
        if self.everything:
            return Q()
        # One array parameter whatever the number of ids (core.lookups): compiled once, the first
        # page of models binds any organization's ids to it (core.statements.Template).
        return Q(**{f"{model_ref}__any": sorted(self.ids)})

    def column(self, model_ref: str = "pk") -> Expression:
        """Whether it allows the row, as a boolean column of the caller's query."""
        if self.everything or not self.ids:
            return Value(self.everything, output_field=BooleanField())
        return ExpressionWrapper(self.q(model_ref), output_field=BooleanField())


def entitled_set(organization_id: str) -> EntitledSet:
    """What the organization may use now, in one query: its entitlement's mode (none: the
    default mode), its plan's system models and its additions."""
    rows = statements.fetch_rows(_entitled_sql(), [organization_id] * 3)  # prepared: every list and create reads it
    modes = [mode for mode, _ in rows if mode is not None]
    if effective_mode(modes[0] if modes else None) == EntitlementMode.ALL:
        return EntitledSet(everything=True)
    return EntitledSet(everything=False, ids=frozenset(_uuid(model_id) for _, model_id in rows if model_id is not None))


def _uuid(value: object) -> uuid.UUID:
    return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))  # SQLite keeps UUIDs as text


def entitlement_of(organization_id: str) -> Entitlement | None:
    return Entitlement.objects.filter(organization_id=organization_id).select_related("plan").first()


def why_entitled(organization_id: str) -> list[tuple[object, str]]:
    """Every enabled system model the organization may use (by `entitled_set`, the rule itself),
    with the reason: "default mode all", "mode all", "plan <name>", "addition", or both of the
    last two. For staff, in the admin."""
    from models_registry.models import AIModel

    entitlement = entitlement_of(organization_id)
    plan = entitlement.plan if entitlement else None
    plan_ids = set(plan.system_models.values_list("pk", flat=True)) if plan else set()
    added_ids = set(entitlement.extra_system_models.values_list("pk", flat=True)) if entitlement else set()
    in_all_mode = effective_mode(entitlement.mode if entitlement else None) == EntitlementMode.ALL
    everything = "mode all" if entitlement and entitlement.mode == EntitlementMode.ALL else "default mode all"
    entitled = AIModel.objects.filter(is_system=True, is_enabled=True).filter(entitled_set(organization_id).q())
    reasons = []
    for model in entitled.order_by("name"):
        why = [f"plan {plan.name}"] if model.pk in plan_ids else []
        why += ["addition"] if model.pk in added_ids else []
        reasons.append((model, everything if in_all_mode else ", ".join(why)))
    return reasons


@functools.cache
def _entitled_sql() -> str:
    """Plain SQL: the ORM would take longer to build this query than the database to answer it.
    Rows: (mode, NULL) for the entitlement row if there is one, (NULL, id) for each system model
    of its plan and each addition. (Built on first use: the through tables exist once every
    model is loaded.)"""
    entitlement = Entitlement._meta.db_table
    in_plan = Plan.system_models.through._meta.db_table
    added = Entitlement.extra_system_models.through._meta.db_table
    return " UNION ALL ".join(
        (
            # Table names from the models' own metadata; the organization id is a parameter.
            f"SELECT e.mode, NULL FROM {entitlement} e WHERE e.organization_id = %s",  # noqa: S608
            f"SELECT NULL, p.aimodel_id FROM {in_plan} p JOIN {entitlement} e ON e.plan_id = p.plan_id "  # noqa: S608
            "WHERE e.organization_id = %s",
            f"SELECT NULL, x.aimodel_id FROM {added} x JOIN {entitlement} e ON e.id = x.entitlement_id "  # noqa: S608
            "WHERE e.organization_id = %s",
        )
    )
