"""Reads of AI models that need care: what an organization may see, and what to prefetch."""

from typing import Any

from django.conf import settings
from django.db.models import CharField, F, Prefetch, Q, QuerySet, Value
from django.db.models.functions import Coalesce

from models_registry import lifecycle
from models_registry.entitlements import EntitledSet, entitled_set
from models_registry.lifecycle import status_of
from models_registry.models import AIModel
from prompts.models import PromptCompositionParticle


def read_context() -> tuple:
    """What every read of models depends on besides the rows and the cache generations: the UTC
    day (lifecycle statuses are a function of it) and the default entitlement (settings); for
    conditional reads' ETags (core.conditional)."""
    return (lifecycle.today(), repr(settings.DEFAULT_ENTITLEMENT))


def visible_system_models(entitled: EntitledSet) -> QuerySet[AIModel]:
    """The enabled system models an organization is entitled to (its `entitled_set`)."""
    return AIModel.objects.filter(Q(is_system=True, is_enabled=True) & entitled.q())


def own_user_models(organization_id: str) -> QuerySet[AIModel]:
    """The organization's user models, enabled or not, whatever their base."""
    return AIModel.objects.filter(is_system=False, organization_id=organization_id).select_related("parent")


def visible_from(system_models: QuerySet[AIModel], user_models: QuerySet[AIModel]) -> QuerySet[AIModel]:
    """What an organization sees: its `visible_system_models` plus its `own_user_models`, as one
    queryset (the list reads the two apart, each through its index: views.AIModelViewSet.partition)."""
    return (system_models | user_models).select_related("parent")


def with_entitlement(queryset: QuerySet[AIModel], organization_id: str) -> QuerySet[AIModel]:
    """The models, each read with whether the organization may build on it (`entitled`, by its
    `entitled_set`, read now) as a column of the same query.
    `entitlement_for` names the organization the answer is for, so a service never takes it
    for another's (`services.ensure_entitled`)."""
    return queryset.annotate(
        entitlement_for=Value(organization_id, output_field=CharField()),
        entitled=entitled_set(organization_id).column(),
    )


def with_system_prompt(queryset: QuerySet[AIModel], entitled: EntitledSet) -> QuerySet[AIModel]:
    """Everything the resolved view needs, in a constant number of queries: including whether
    the organization (whose `entitled_set` this is) is still entitled to a user model's base
    (`base_entitled`), and the name of its base's successor (`base_successor_name`, for the
    reason a retired model is unusable: one column, not the successor's row)."""
    return (
        queryset.annotate(
            base_entitled=entitled.column("parent_id"),
            base_successor_name=Coalesce(F("parent__successor__name"), F("successor__name")),
        )
        .select_related("system_prompt_composition")
        .prefetch_related(
            Prefetch(
                "system_prompt_composition__items",
                queryset=PromptCompositionParticle.objects.select_related("particle").order_by("position"),
            )
        )
    )


# --- Versions of a model's system prompt -------------------------------------------------------

MODEL_PROMPT_FIELDS = ("system_prompt_override", "system_prompt_composition_id")
MODEL_PROMPT_RESTORE_REASON = "Restored system prompt version {number}"


def _prompt_values(record: Any) -> tuple:
    return tuple(getattr(record, field) for field in MODEL_PROMPT_FIELDS)


def model_prompt_versions(model: AIModel) -> list:
    """The versions of a model's system prompt (`systemPromptOverride`, `systemPromptCompositionId`),
    newest first, each historical row with `version_number` (1 = the first, chronological).

    A model's history records every change to any of its fields; a prompt version is the first
    row and each row where the prompt fields changed (or were restored).
    """
    versions = []
    previous = None
    restore_prefix = MODEL_PROMPT_RESTORE_REASON.split("{")[0]
    for record in model.history.order_by("history_date", "history_id"):
        values = _prompt_values(record)
        restored = (record.history_change_reason or "").startswith(restore_prefix)
        if previous is None or values != previous or restored:
            versions.append(record)
        previous = values
    for number, record in enumerate(versions, start=1):
        record.version_number = number
    return versions[::-1]


def model_prompt_version(model: AIModel, number: int) -> Any | None:
    return next((record for record in model_prompt_versions(model) if record.version_number == number), None)


# --- Deprecations ------------------------------------------------------------------------------

DEPRECATION_GROUPS = (("retired", None), ("within30Days", 30), ("within90Days", 90), ("later", None))


def deprecations_of(organization_id: str, on) -> dict[str, list[dict[str, Any]]]:
    """The organization's user models whose base system model is deprecated or has a retirement
    day set, grouped by the time left before it retires: retired, within 30 days, within 90 days,
    later (or no day set). Soonest first in each group."""
    # The closing bases first, as a subquery: a handful of system models (only they carry
    # lifecycle days, a CHECK constraint), so the organization's models are found through the
    # parent's index. Filtering on the joined parent instead read every model of the organization
    # (the 100,000 of the scale set's big one: 212 ms of execution against 20).
    closing = AIModel.objects.filter(Q(is_system=True) & (Q(deprecated_at__lte=on) | Q(retires_at__isnull=False)))
    rows = (
        AIModel.objects.filter(is_system=False, organization_id=organization_id, parent__in=closing.values("pk"))
        .order_by(F("parent__retires_at").asc(nulls_last=True), "name", "id")
        .values(
            "id",
            "name",
            "is_enabled",
            "parent_id",
            "parent__name",
            "parent__deprecated_at",
            "parent__retires_at",
            "parent__successor_id",
            "parent__successor__name",
        )
    )
    groups: dict[str, list[dict[str, Any]]] = {name: [] for name, _ in DEPRECATION_GROUPS}
    for row in rows:
        retires_at = row["parent__retires_at"]
        days_left = (retires_at - on).days if retires_at is not None else None
        if days_left is not None and days_left <= 0:
            group = "retired"
        elif days_left is not None and days_left <= 30:
            group = "within30Days"
        elif days_left is not None and days_left <= 90:
            group = "within90Days"
        else:
            group = "later"
        groups[group].append(
            {
                "id": str(row["id"]),
                "name": row["name"],
                "isEnabled": row["is_enabled"],
                "parentId": str(row["parent_id"]),
                "parentName": row["parent__name"],
                "lifecycleStatus": status_of(row["parent__deprecated_at"], retires_at, on).value,
                "deprecatedAt": row["parent__deprecated_at"].isoformat() if row["parent__deprecated_at"] else None,
                "retiresAt": retires_at.isoformat() if retires_at else None,
                "daysUntilRetirement": max(days_left, 0) if days_left is not None else None,
                "successorId": str(row["parent__successor_id"]) if row["parent__successor_id"] else None,
                "successorName": row["parent__successor__name"],
            }
        )
    return groups
