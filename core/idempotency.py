"""`Idempotency-Key` for POST requests.

The first request with a key claims it (a committed row, before the work starts) and
stores its response when done. Within IDEMPOTENCY_KEY_TTL_SECONDS, the same key with the
same method, path and body replays that response and creates nothing; with a different
body it is a 422; while the first is still running, a 409. Keys are scoped to the
organization and the principal. A 5xx releases the key so the client can retry; a claim left
by a worker that died is released after IDEMPOTENCY_IN_PROGRESS_TIMEOUT_SECONDS.
"""

import hashlib
import re
from dataclasses import dataclass
from datetime import timedelta

import orjson
from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from rest_framework.request import Request
from rest_framework.response import Response

from core.authentication import Principal
from core.errors import UnprocessableEntity
from core.exceptions import Conflict
from core.models import IdempotencyRecord
from core.renderers import ORJSONRenderer

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
# Response headers a replay repeats.
REPLAYED_HEADERS = ("Location", "ETag")
MAX_KEY_LENGTH = 255
# Visible ASCII only: a NUL or a control character would reach the database.
KEY_PATTERN = re.compile(rf"[\x21-\x7e]{{1,{MAX_KEY_LENGTH}}}")


class Replay(Exception):  # noqa: N818 - control flow, not an error
    def __init__(self, response: Response):
        self.response = response


@dataclass
class Claim:
    record_id: int


def _fingerprint(request: Request) -> str:
    body = request.body if request.content_type.startswith("application/json") else b""
    try:
        canonical = orjson.dumps(orjson.loads(body or b"null"), option=orjson.OPT_SORT_KEYS)
    except orjson.JSONDecodeError:
        canonical = body
    return hashlib.sha256(request.method.encode() + b" " + request.path.encode() + b"\n" + canonical).hexdigest()


def claim(request: Request, principal: Principal) -> Claim | None:
    """Claim the request's key, or raise Replay / Conflict / UnprocessableEntity."""
    key = request.headers.get(HEADER)
    if key is None or request.method != "POST":
        return None
    if not KEY_PATTERN.fullmatch(key):
        raise UnprocessableEntity(
            f"{HEADER} must be 1 to {MAX_KEY_LENGTH} visible ASCII characters (no spaces or control characters)."
        )
    fingerprint = _fingerprint(request)
    scope = {"organization_id": principal.organization_id, "actor": principal.actor, "key": key}
    now = timezone.now()
    for _ in range(2):
        try:
            with transaction.atomic():
                record = IdempotencyRecord.objects.create(
                    **scope,
                    request_fingerprint=fingerprint,
                    expires_at=now + timedelta(seconds=settings.IDEMPOTENCY_KEY_TTL_SECONDS),
                )
            return Claim(record_id=record.pk)
        except IntegrityError:
            existing = IdempotencyRecord.objects.filter(**scope).first()
            if existing is None:
                continue
            abandoned = existing.response_status is None and existing.created_at <= now - timedelta(
                seconds=settings.IDEMPOTENCY_IN_PROGRESS_TIMEOUT_SECONDS
            )
            if existing.expires_at <= now or abandoned:
                IdempotencyRecord.objects.filter(pk=existing.pk, response_status=existing.response_status).delete()
                continue
            if existing.request_fingerprint != fingerprint:
                raise UnprocessableEntity(
                    f"This {HEADER} was already used with a different request; use a new key."
                ) from None
            if existing.response_status is None:
                raise Conflict(f"A request with this {HEADER} is still in progress; retry shortly.") from None
            headers = {**existing.response_headers, REPLAYED_HEADER: "true"}
            raise Replay(Response(existing.response_body, status=existing.response_status, headers=headers)) from None
    raise Conflict(f"A request with this {HEADER} is still in progress; retry shortly.")


def complete(claimed: Claim, response: Response) -> None:
    """Store the response of a claimed request, or release the key after a server error."""
    records = IdempotencyRecord.objects.filter(pk=claimed.record_id)
    if response.status_code >= 500:
        records.delete()
        return
    records.update(
        response_status=response.status_code,
        response_body=orjson.loads(ORJSONRenderer().render(response.data) or b"null"),
        response_headers={name: response[name] for name in REPLAYED_HEADERS if response.has_header(name)},
    )
