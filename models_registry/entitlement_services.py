"""Writes of plans and entitlements (models_registry.entitlements), for the admin and commands.

Each change is one transaction with an audit event per object changed (object types "plan" and
"entitlement"; an entitlement's event belongs to its organization, so its admins see it in
/v1/audit-events), and bumps the cache generations it affects in the same transaction: an
organization's for its entitlement, the global one for a plan (every organization on it), so
no list or /resolved body read after the change's response shows the old entitlement.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import transaction

from core import generations
from core.audit import record_event
from core.models import Organization
from models_registry.entitlements import Entitlement, Plan
from models_registry.models import AIModel

PLAN_FIELDS = {"name": "name", "description": "description"}
ENTITLEMENT_FIELDS = {"mode": "mode", "plan_id": "planId", "max_user_models": "maxUserModels"}


def _ids(models: Iterable[AIModel]) -> set:
    return {model.pk for model in models}


@transaction.atomic
def plan_save(*, plan: Plan, actor: str, system_models: Iterable[AIModel] | None = None) -> Plan:
    """Create or change a plan, and (if given) set its system models."""
    creating = plan._state.adding
    before = None if creating else Plan.objects.get(pk=plan.pk)
    plan.full_clean()
    plan.save()
    changed = [
        wire for field, wire in PLAN_FIELDS.items() if creating or getattr(before, field) != getattr(plan, field)
    ]
    if system_models is not None:
        wanted, current = _ids(system_models), set(plan.system_models.values_list("pk", flat=True))
        if wanted != current:
            plan.system_models.set(wanted)
            changed.append("systemModelIds")
    if changed:
        record_event(
            organization_id=None,
            actor=actor,
            action="created" if creating else "updated",
            object_type="plan",
            object_id=plan.pk,
            object_repr=plan.name,
            changed_fields=changed,
        )
        generations.bump_global()
    return plan


@transaction.atomic
def plans_add_system_model(*, plans: Iterable[Plan], system_model: AIModel, actor: str) -> int:
    """Add one system model to many plans; the number of plans that did not have it yet."""
    added = 0
    for plan in plans:
        if not plan.system_models.filter(pk=system_model.pk).exists():
            plan_save(plan=plan, actor=actor, system_models=[*plan.system_models.all(), system_model])
            added += 1
    return added


def _entitlement_for_update(organization_id: str) -> tuple[Entitlement, bool]:
    Organization.objects.get_or_create(id=organization_id)
    entitlement, created = Entitlement.objects.select_for_update().get_or_create(organization_id=organization_id)
    return entitlement, created


def _existing_for_update(organization_id: str) -> Entitlement | None:
    """The organization's entitlement, locked, without making one (a bulk change that changes
    nothing for an organization must leave no row and no event behind)."""
    return Entitlement.objects.select_for_update().filter(organization_id=organization_id).first()


@transaction.atomic
def entitlement_save(
    *, organization_id: str, actor: str, extra_system_models: Iterable[AIModel] | None = None, **fields: Any
) -> Entitlement:
    """Change an organization's entitlement (`mode`, `plan`, `max_user_models`, and if given its
    extra system models), creating it on first use."""
    entitlement, created = _entitlement_for_update(organization_id)
    before = {field: getattr(entitlement, field) for field in ENTITLEMENT_FIELDS}
    for field, value in fields.items():
        setattr(entitlement, field, value)
    entitlement.full_clean()
    entitlement.save()
    changed = [wire for field, wire in ENTITLEMENT_FIELDS.items() if getattr(entitlement, field) != before[field]]
    if extra_system_models is not None:
        wanted, current = _ids(extra_system_models), set(entitlement.extra_system_models.values_list("pk", flat=True))
        if wanted != current:
            entitlement.extra_system_models.set(wanted)
            changed.append("extraSystemModelIds")
    if changed or created:
        record_event(
            organization_id=organization_id,
            actor=actor,
            action="created" if created else "updated",
            object_type="entitlement",
            object_id=entitlement.pk,
            object_repr=str(entitlement),
            changed_fields=changed,
        )
        generations.bump(organization_id)
    return entitlement


@transaction.atomic
def assign_plan(*, organization_ids: Iterable[str], plan: Plan | None, actor: str) -> int:
    """Put many organizations on one plan (None: no plan); the number whose plan changed."""
    changed = 0
    for organization_id in organization_ids:
        current = _existing_for_update(organization_id)
        if (current.plan_id if current else None) != (plan.pk if plan else None):
            entitlement_save(organization_id=organization_id, actor=actor, plan=plan)
            changed += 1
    return changed


@transaction.atomic
def organizations_add_system_model(*, organization_ids: Iterable[str], system_model: AIModel, actor: str) -> int:
    """Add one system model to many organizations' additions; the number that did not have it."""
    added = 0
    for organization_id in organization_ids:
        entitlement = _existing_for_update(organization_id)
        current = list(entitlement.extra_system_models.all()) if entitlement else []
        if system_model.pk not in _ids(current):
            entitlement_save(organization_id=organization_id, actor=actor, extra_system_models=[*current, system_model])
            added += 1
    return added
