"""The records every app leaves: the audit trail, the `Idempotency-Key` store, and the
organizations that have called the API."""

from django.db import models

from core import limits


class AuditEvent(models.Model):
    """Who created, changed or deleted a model, particle or composition, when, and which fields.

    Written from the version history (core/audit.py), so every path that saves
    through the ORM — the API, the admin, the shell — leaves an event.
    """

    class Action(models.TextChoices):
        CREATED = "created", "Created"
        UPDATED = "updated", "Updated"
        DELETED = "deleted", "Deleted"

    id = models.BigAutoField(primary_key=True)
    occurred_at = models.DateTimeField(db_index=True)
    organization_id = models.CharField(
        max_length=limits.ORGANIZATION_ID_MAX_LENGTH,
        null=True,
        blank=True,
        help_text="The organization owning the object; empty for global objects.",
    )
    actor = models.CharField(
        max_length=limits.ACTOR_MAX_LENGTH,
        blank=True,
        default="",
        help_text='"member:<id>", "m2m:<client id>" or "staff:<username>".',
    )
    action = models.CharField(max_length=16, choices=Action.choices)
    object_type = models.CharField(max_length=64, help_text="model, prompt-particle or prompt-composition.")
    object_id = models.UUIDField()
    object_repr = models.CharField(max_length=255, blank=True, default="")
    changed_fields = models.JSONField(default=list, blank=True, help_text="camelCase names of the changed fields.")
    request_id = models.CharField(max_length=128, blank=True, default="")

    class Meta:
        db_table = "models_registry_auditevent"  # the table it had before it moved here
        ordering = ["-occurred_at", "-id"]
        indexes = [
            models.Index(fields=["organization_id", "-occurred_at"], name="audit_org_time"),
            models.Index(fields=["organization_id", "object_id"], name="audit_org_object"),
            models.Index(fields=["organization_id", "actor"], name="audit_org_actor"),
        ]

    def __str__(self) -> str:
        return f"{self.actor or 'unknown'} {self.action} {self.object_type} {self.object_repr}"


class IdempotencyRecord(models.Model):
    """One `Idempotency-Key` of one principal, with its response: written in the same transaction as
    the work it answers (core/idempotency.py). `response_status` is empty only in rows left by
    versions that claimed keys before the work; such a row counts as no record."""

    id = models.BigAutoField(primary_key=True)
    organization_id = models.CharField(max_length=limits.ORGANIZATION_ID_MAX_LENGTH)
    actor = models.CharField(max_length=limits.ACTOR_MAX_LENGTH)
    key = models.CharField(max_length=255)
    request_fingerprint = models.CharField(max_length=64)
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    response_body = models.JSONField(null=True, blank=True)
    response_headers = models.JSONField(
        default=dict, blank=True, help_text="The headers a replay repeats (Location, ETag)."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(db_index=True)

    class Meta:
        db_table = "models_registry_idempotencyrecord"  # the table it had before it moved here
        constraints = [
            models.UniqueConstraint(
                fields=["organization_id", "actor", "key"], name="models_registry_idempotencyrecord_unique_key"
            )
        ]

    def __str__(self) -> str:
        return f"{self.organization_id} {self.actor} {self.key}"


class CacheGeneration(models.Model):
    """A counter per scope (an organization id, or `GLOBAL` for what every organization sees),
    bumped in the same transaction as every write that can change a cached read of that scope.

    Cached bodies are keyed by the generations they were read under, so once a write has
    committed no reader can find a body older than it, whatever the cache did or lost.
    """

    GLOBAL = "*global*"

    scope = models.CharField(primary_key=True, max_length=limits.ORGANIZATION_ID_MAX_LENGTH)
    value = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.scope}: {self.value}"


class Organization(models.Model):
    """A Stytch organization that has called the API: recorded on its first authenticated
    request (core.organizations), with the slug its tokens carry. Staff see them in the admin
    and hang entitlements on them (models_registry)."""

    id = models.CharField(
        primary_key=True, max_length=limits.ORGANIZATION_ID_MAX_LENGTH, help_text="The Stytch organization id."
    )
    slug = models.CharField(
        max_length=limits.ORGANIZATION_SLUG_MAX_LENGTH,
        blank=True,
        default="",
        help_text="The organization's slug, as its latest token carried it.",
    )
    first_seen_at = models.DateTimeField(auto_now_add=True, help_text="Its first authenticated request.")

    class Meta:
        ordering = ["slug", "id"]

    def __str__(self) -> str:
        return f"{self.slug} ({self.id})" if self.slug else self.id
