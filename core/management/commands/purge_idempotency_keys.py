"""Delete Idempotency-Key records past their lifetime (run it daily, e.g. from cron)."""

from django.core.management.base import BaseCommand
from django.utils import timezone

from core.models import IdempotencyRecord


class Command(BaseCommand):
    help = "Delete Idempotency-Key records whose time (IDEMPOTENCY_KEY_TTL_SECONDS) has passed."

    def handle(self, *args, **options) -> None:
        deleted, _ = IdempotencyRecord.objects.filter(expires_at__lte=timezone.now()).delete()
        self.stdout.write(self.style.SUCCESS(f"deleted {deleted} expired idempotency key(s)"))
