"""Numbered versions of a row, with who changed it, on top of django-simple-history.

simple-history records every save and delete of a tracked model as a historical row. Two
things are added here:

- `history_actor`: who made the change, as text ("member:<id>", "m2m:<client id>",
  "staff:<username>", "system:seed"). API callers are Stytch principals, not Django users,
  so they cannot go into simple-history's `history_user` foreign key; staff in the admin
  still fill it as well. A service passes the actor explicitly (`instance._history_actor`);
  otherwise it comes from the request simple-history's middleware keeps.
- a composition's ordered particle ids (`particle_ids`): the through rows are not columns
  of the composition, so their order is kept as a snapshot on each historical row.

Version numbers are not stored: version n of an object is its n-th historical row in
chronological order (`numbered_history`).
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.db import models
from django.db.models import F, QuerySet, Window
from django.db.models.functions import RowNumber
from django.dispatch import receiver
from simple_history.models import HistoricalRecords
from simple_history.signals import pre_create_historical_record

from core.authentication import Principal
from core.limits import ACTOR_MAX_LENGTH

CHANGE_TYPES = {"+": "created", "~": "updated", "-": "deleted"}


class HistoricalActorBase(models.Model):
    """Abstract base of every historical model: records who made the change."""

    history_actor = models.CharField(
        max_length=ACTOR_MAX_LENGTH,
        blank=True,
        default="",
        help_text='Who made the change: "member:<id>", "m2m:<client id>", "staff:<username>" or "system:<job>".',
    )

    class Meta:
        abstract = True

    def fill_snapshot(self, instance: models.Model) -> None:
        """Record state that lives outside the row's own columns (none by default)."""


class HistoricalCompositionBase(HistoricalActorBase):
    """A prompt composition's historical row also keeps its ordered particle ids."""

    particle_ids = models.JSONField(
        default=list, blank=True, help_text="The composition's particle ids, in position order, at that version."
    )

    class Meta:
        abstract = True

    def fill_snapshot(self, instance: models.Model) -> None:
        particle_ids = getattr(instance, "_history_particle_ids", None)
        if particle_ids is None:
            # Written outside the services (shell, admin): read the order as it is now.
            particle_ids = instance.items.order_by("position").values_list("particle_id", flat=True)
        self.particle_ids = [str(particle_id) for particle_id in particle_ids]


def django_user_of_request(request: Any, **kwargs: Any) -> Any:
    """simple-history's `history_user`: a Django user (staff in the admin), never a Principal."""
    user = getattr(request, "user", None)
    return user if isinstance(user, get_user_model()) else None


def actor_of(user: Any) -> str:
    if isinstance(user, Principal):
        return user.actor
    if isinstance(user, get_user_model()) and user.is_authenticated:
        return f"staff:{user.get_username()}"
    return ""


def current_actor() -> str:
    """The actor of the request being served, if simple-history's middleware saw one."""
    request = getattr(HistoricalRecords.context, "request", None)
    return actor_of(getattr(request, "user", None))


class ActorHistoricalRecords(HistoricalRecords):
    """`HistoricalRecords` with the actor base, no Principal in `history_user`, and proxies tracked.

    Django sends a proxy instance's save and delete signals with the proxy class as sender,
    which simple-history (connected to the concrete class) would miss: `UserModel(...).save()`
    must be recorded like `AIModel(...).save()`.
    """

    def __init__(
        self, *args: Any, bases: Any = (HistoricalActorBase,), get_user: Any = django_user_of_request, **kwargs: Any
    ) -> None:
        super().__init__(*args, bases=bases, get_user=get_user, **kwargs)

    def finalize(self, sender: type[models.Model], **kwargs: Any) -> None:
        if sender is not self.cls and sender._meta.proxy and sender._meta.concrete_model is self.cls:
            models.signals.post_save.connect(self.post_save, sender=sender, weak=False)
            models.signals.post_delete.connect(self.post_delete, sender=sender, weak=False)
            models.signals.pre_delete.connect(self.pre_delete, sender=sender, weak=False)
            # The proxies' admins show the concrete model's history (SimpleHistoryAdmin looks here).
            sender._meta.simple_history_manager_attribute = self.manager_name
            return
        super().finalize(sender, **kwargs)


@receiver(pre_create_historical_record, dispatch_uid="core.history.fill_history_actor")
def fill_history_actor(sender: Any, instance: models.Model, history_instance: Any, **kwargs: Any) -> None:
    if not isinstance(history_instance, HistoricalActorBase):
        return
    actor = getattr(instance, "_history_actor", "") or current_actor() or actor_of(history_instance.history_user)
    history_instance.history_actor = actor[:ACTOR_MAX_LENGTH]
    history_instance.fill_snapshot(instance)


def save_with_actor(
    instance: models.Model, *, actor: str, change_reason: str | None = None, **save_kwargs: Any
) -> None:
    """Save, recording `actor` (and why, when given) on the version simple-history keeps."""
    instance._history_actor = actor
    instance._change_reason = change_reason
    instance.save(**save_kwargs)


def delete_with_actor(instance: models.Model, *, actor: str) -> None:
    instance._history_actor = actor
    instance._change_reason = None
    instance.delete()


def numbered(records: QuerySet) -> QuerySet:
    """One object's historical rows, newest first, each with `version_number` (1 = the first)."""
    return records.annotate(
        version_number=Window(RowNumber(), order_by=[F("history_date").asc(), F("history_id").asc()])
    ).order_by("-history_date", "-history_id")


def numbered_history(obj: models.Model) -> QuerySet:
    """The object's historical rows, newest first, each with `version_number` (1 = the first)."""
    return numbered(obj.history.all())


ACTOR_KINDS = {"member": "member", "m2m": "M2M client", "staff": "staff account", "system": "system job"}


def describe_actor(actor: str) -> tuple[str, str] | None:
    """("member", "member-live-...") for "member:member-live-...": what kind of principal made a
    change, and its id; None for an empty actor (a version written before actors were kept)."""
    kind, _, identifier = actor.partition(":")
    if not actor:
        return None
    if kind in ACTOR_KINDS and identifier:
        return ACTOR_KINDS[kind], identifier
    return "actor", actor


def history_version(obj: models.Model, number: int) -> Any | None:
    """Version `number` of the object (1-based, chronological), or None."""
    if number < 1:
        return None
    records = list(obj.history.order_by("history_date", "history_id")[number - 1 : number])
    if not records:
        return None
    records[0].version_number = number
    return records[0]


def copy_to_history(
    model: type[models.Model], pks: list[Any], *, actor: str, reason: str, when: Any, batch_size: int = 500
) -> None:
    """One "changed" version of each row, copied from the row as it is now, set-based
    (INSERT ... SELECT, no signals): for bulk changes, where saving row by row would cost a
    round trip per row and simple-history's bulk helper builds every value in Python. The
    caller records the audit events (core.audit.record_bulk_update)."""
    from django.db import connection

    history_table = model.history.model._meta.db_table
    quote = connection.ops.quote_name
    columns = ", ".join(quote(field.column) for field in model._meta.concrete_fields)
    extra = ", ".join(
        quote(column)
        for column in ("history_date", "history_change_reason", "history_type", "history_actor", "history_user_id")
    )
    pk_field = model._meta.pk
    when_value = connection.ops.adapt_datetimefield_value(when)
    with connection.cursor() as cursor:
        for start in range(0, len(pks), batch_size):
            batch = [pk_field.get_db_prep_value(pk, connection) for pk in pks[start : start + batch_size]]
            cursor.execute(
                f"INSERT INTO {quote(history_table)} ({columns}, {extra}) "  # noqa: S608 - names from _meta
                f"SELECT {columns}, %s, %s, %s, %s, NULL FROM {quote(model._meta.db_table)} "
                f"WHERE {quote(pk_field.column)} IN ({', '.join(['%s'] * len(batch))})",
                [when_value, reason, "~", actor, *batch],
            )
