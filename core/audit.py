"""The audit trail, derived from the version history.

simple-history records every save and delete of a tracked model with the actor
(core/history.py); the apps name the models to audit with `track()`. Each such record
also becomes an AuditEvent: who did what to which object, when, which fields changed, in
which request. Deriving it here means no write path (API, admin, shell) can forget it.
"""

from dataclasses import dataclass
from typing import Any

from django.db import models
from django.dispatch import receiver
from django.utils import timezone
from rest_framework import serializers
from simple_history.signals import post_create_historical_record

from core.history import CHANGE_TYPES
from core.middleware import request_id_var
from core.models import AuditEvent

NOT_CHANGES = {"id", "created_at", "updated_at"}


@dataclass(frozen=True)
class Tracked:
    object_type: str  # the events' `objectType`
    wire_names: dict[str, str]  # {model attribute: the API's name}, from the resource's serializer


# The audited models; each app registers its own.
TRACKED: dict[type[models.Model], Tracked] = {}
# Kinds of events recorded without a version history (`record_event`), registered by their app.
OTHER_OBJECT_TYPES: list[str] = []


def register_object_type(object_type: str) -> None:
    """An `objectType` recorded with `record_event()` (call from `ready()`)."""
    if object_type not in OTHER_OBJECT_TYPES:
        OTHER_OBJECT_TYPES.append(object_type)


def object_types() -> list[str]:
    """Every `objectType` an event can have, for the audit list's filter."""
    return [tracked.object_type for tracked in TRACKED.values()] + OTHER_OBJECT_TYPES


def track(model: type[models.Model], *, object_type: str, serializer: type[serializers.Serializer]) -> None:
    """Record an audit event for every version simple-history keeps of `model` (call from `ready()`).

    `changedFields` names the fields as `serializer` does (`source` -> field name).
    """
    names = {field.source: name for name, field in serializer().fields.items() if field.source != "*"}
    TRACKED[model] = Tracked(object_type=object_type, wire_names=names)


def wire_name(model: type[models.Model], field_name: str) -> str:
    """The API's name of a model field: the serializer's, or for a field the API does not show
    (`organization_id`), its camelCase."""
    names = TRACKED[model].wire_names
    field = model._meta.get_field(field_name)
    if field_name in names or field.attname in names:
        return names.get(field_name) or names[field.attname]
    head, *rest = field.attname.split("_")
    return head + "".join(part.title() for part in rest)


def changed_fields(model: type[models.Model], history_instance: Any, action: str) -> list[str]:
    if action == "deleted":
        return []
    previous = history_instance.prev_record if action == "updated" else None
    if previous is None:
        names = [
            field.name
            for field in model._meta.concrete_fields
            if field.name not in NOT_CHANGES and getattr(history_instance, field.attname) not in (None, "")
        ]
    else:
        names = [change.field for change in history_instance.diff_against(previous).changes]
        names = [name for name in names if name not in NOT_CHANGES]
    fields = sorted(wire_name(model, name) for name in names)
    if hasattr(history_instance, "particle_ids") and (
        previous is None or previous.particle_ids != history_instance.particle_ids
    ):
        fields.append(TRACKED[model].wire_names["particle_ids"])
    return fields


def current_request_id() -> str:
    """The id of the request being served ("" outside one), for the events it causes."""
    value = request_id_var.get()
    return "" if value == "-" else value


@receiver(post_create_historical_record, dispatch_uid="core.audit.record_audit_event")
def record_audit_event(sender: Any, instance: models.Model, history_instance: Any, **kwargs: Any) -> None:
    model = instance._meta.concrete_model
    tracked = TRACKED.get(model)
    if tracked is None:
        return
    object_type = tracked.object_type
    action = CHANGE_TYPES[history_instance.history_type]
    AuditEvent.objects.create(
        occurred_at=history_instance.history_date,
        organization_id=instance.organization_id,
        actor=history_instance.history_actor,
        action=action,
        object_type=object_type,
        object_id=instance.pk,
        object_repr=str(instance)[:255],
        changed_fields=changed_fields(model, history_instance, action),
        request_id=current_request_id(),
    )


def record_bulk_update(
    instances: list[models.Model], *, fields: list[str], actor: str, occurred_at: Any, batch_size: int = 500
) -> None:
    """Audit events for rows changed in bulk (`QuerySet.update()` and simple-history's
    `bulk_history_create` send no signals): one "updated" event per row naming `fields`."""
    if not instances:
        return
    model = instances[0]._meta.concrete_model
    tracked = TRACKED[model]
    request_id = current_request_id()
    changed = sorted(wire_name(model, name) for name in fields)
    AuditEvent.objects.bulk_create(
        [
            AuditEvent(
                occurred_at=occurred_at,
                organization_id=instance.organization_id,
                actor=actor,
                action="updated",
                object_type=tracked.object_type,
                object_id=instance.pk,
                object_repr=str(instance)[:255],
                changed_fields=changed,
                request_id=request_id,
            )
            for instance in instances
        ],
        batch_size=batch_size,
    )


def record_event(
    *,
    organization_id: str | None,
    actor: str,
    action: str,
    object_type: str,
    object_id: Any,
    object_repr: str,
    changed_fields: list[str],
    occurred_at: Any = None,
) -> AuditEvent:
    """One audit event for a change that has no version history of its own (entitlements)."""
    return AuditEvent.objects.create(
        occurred_at=occurred_at or timezone.now(),
        organization_id=organization_id,
        actor=actor,
        action=action,
        object_type=object_type,
        object_id=object_id,
        object_repr=object_repr[:255],
        changed_fields=sorted(changed_fields),
        request_id=current_request_id(),
    )
