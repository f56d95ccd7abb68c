from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from core.models import IdempotencyRecord


def record(key: str, expires_in: timedelta) -> IdempotencyRecord:
    return IdempotencyRecord.objects.create(
        organization_id="org-a",
        actor="member:m",
        key=key,
        request_fingerprint="f" * 64,
        expires_at=timezone.now() + expires_in,
    )


@pytest.mark.django_db
def test_only_expired_keys_are_purged() -> None:
    record("old", timedelta(seconds=-1))
    record("fresh", timedelta(hours=1))
    out = StringIO()

    call_command("purge_idempotency_keys", stdout=out)

    assert list(IdempotencyRecord.objects.values_list("key", flat=True)) == ["fresh"]
    assert "deleted 1 expired" in out.getvalue()
