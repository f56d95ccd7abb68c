from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command

from core.models import IdempotencyRecord
from tests.factories import IdempotencyRecordFactory


@pytest.mark.django_db
def test_only_expired_keys_are_purged() -> None:
    IdempotencyRecordFactory(key="old", expires_in=timedelta(seconds=-1))
    IdempotencyRecordFactory(key="fresh", expires_in=timedelta(hours=1))
    out = StringIO()

    call_command("purge_idempotency_keys", stdout=out)

    assert list(IdempotencyRecord.objects.values_list("key", flat=True)) == ["fresh"]
    assert "deleted 1 expired" in out.getvalue()
