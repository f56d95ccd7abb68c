"""The audit trail, derived from the version history.

simple-history records every save and delete of a tracked model with the actor
(core/history.py); the apps name the models to audit with `track()`. Each such record
also becomes an AuditEvent: who did what to which object, when, which fields changed, in
which request. Deriving it here means no write path (API, admin, shell) can forget it.
"""

from typing import Any

from django.db import models
from django.dispatch import receiver
from simple_history.signals import post_create_historical_record

from core.history import CHANGE_TYPES
from core.middleware import request_id_var
from core.models import AuditEvent

# The audited models and the `objectType` their events carry; each app registers its own.
OBJECT_TYPES: dict[type[models.Model], str] = {}
NOT_CHANGES = {"id", "created_at", "updated_at"}


def track(model: type[models.Model], *, object_type: str) -> None:
    """Record an audit event for every version simple-history keeps of `model` (call from `ready()`)."""
    OBJECT_TYPES[model] = object_type


def wire_name(model: type[models.Model], field_name: str) -> str:
    """The API's camelCase name of a model field (`parent` -> `parentId`)."""
    head, *rest = field_name.split("_")
    name = head + "".join(part.title() for part in rest)
    field = model._meta.get_field(field_name)
    return f"{name}Id" if field.is_relation and field.many_to_one else name


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
        fields.append("particleIds")
    return fields


@receiver(post_create_historical_record, dispatch_uid="core.audit.record_audit_event")
def record_audit_event(sender: Any, instance: models.Model, history_instance: Any, **kwargs: Any) -> None:
    model = instance._meta.concrete_model
    object_type = OBJECT_TYPES.get(model)
    if object_type is None:
        return
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
        request_id="" if request_id_var.get() == "-" else request_id_var.get(),
    )
