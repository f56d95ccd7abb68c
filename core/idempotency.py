"""`Idempotency-Key` for POST requests, atomic with the work (Stripe's design).

A POST with a key runs in one database transaction (`TenantScopedViewSet.dispatch`): the key
is locked, its record looked up, the work done and the response stored, and all of it commits
together. So whatever happens to the process, a retry finds one of two things:

- the record, with the response: the work committed, and the retry replays that response
  (status, body, `Location`, `ETag`, plus `Idempotent-Replayed: true`) and creates nothing;
- nothing at all: nothing committed (a crash before the commit, a 5xx), and the retry does
  the work once.

There is no third state, no claim left "in progress" by a worker that died. Within
IDEMPOTENCY_KEY_TTL_SECONDS the same key with the same method, path and body replays; with a
different body it is a 422; while another request with the key is still running, a 409 at
once (PostgreSQL: a transaction-scoped advisory lock; elsewhere the unique index decides at
the insert). Keys are scoped to the organization and the principal. A 4xx is stored and
replayed like a success (the same request would fail the same way); a 5xx stores nothing.
"""

import hashlib
import re
from dataclasses import dataclass
from datetime import timedelta

import orjson
from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.http import HttpRequest
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

IN_PROGRESS = f"A request with this {HEADER} is still in progress; retry shortly."


class Replay(Exception):  # noqa: N818 - control flow, not an error
    def __init__(self, response: Response):
        self.response = response


@dataclass(frozen=True)
class Pending:
    """A keyed request that found no record: its response is stored when the work is done."""

    organization_id: str
    actor: str
    key: str
    fingerprint: str


def applies(request: HttpRequest) -> bool:
    return request.method == "POST" and HEADER in request.headers


def _fingerprint(request: Request) -> str:
    body = request.body if request.content_type.startswith("application/json") else b""
    try:
        canonical = orjson.dumps(orjson.loads(body or b"null"), option=orjson.OPT_SORT_KEYS)
    except orjson.JSONDecodeError:
        canonical = body
    return hashlib.sha256(request.method.encode() + b" " + request.path.encode() + b"\n" + canonical).hexdigest()


def _lock(pending: Pending) -> None:
    """Hold the key until the transaction ends; a 409 if another request holds it now."""
    if connection.vendor != "postgresql":
        return  # SQLite runs one writer at a time; the unique index settles the rest in store()
    scope = "\x1f".join((pending.organization_id, pending.actor, pending.key)).encode()
    lock_id = int.from_bytes(hashlib.sha256(scope).digest()[:8], "big", signed=True)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [lock_id])
        (acquired,) = cursor.fetchone()
    if not acquired:
        raise Conflict(IN_PROGRESS)


def begin(request: Request, principal: Principal) -> Pending | None:
    """Start a keyed request inside its transaction: None without a key; raise Replay when the
    key's response is stored, UnprocessableEntity for a bad key or another request's key,
    Conflict while another request with the key runs; else the Pending request."""
    if not applies(request):
        return None
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("idempotency.begin() must run inside the request's transaction.")
    key = request.headers[HEADER]
    if not KEY_PATTERN.fullmatch(key):
        raise UnprocessableEntity(
            f"{HEADER} must be 1 to {MAX_KEY_LENGTH} visible ASCII characters (no spaces or control characters)."
        )
    pending = Pending(principal.organization_id, principal.actor, key, _fingerprint(request))
    _lock(pending)
    records = IdempotencyRecord.objects.filter(organization_id=pending.organization_id, actor=pending.actor, key=key)
    existing = records.first()
    if existing is None:
        return pending
    if existing.expires_at <= timezone.now() or existing.response_status is None:
        # Expired, or a claim left by a version that claimed keys before the work: gone.
        records.delete()
        return pending
    if existing.request_fingerprint != pending.fingerprint:
        raise UnprocessableEntity(f"This {HEADER} was already used with a different request; use a new key.")
    headers = {**existing.response_headers, REPLAYED_HEADER: "true"}
    raise Replay(Response(existing.response_body, status=existing.response_status, headers=headers))


def store(pending: Pending, response: Response) -> None:
    """Store the response of a keyed request in its transaction (never a 5xx: see dispatch).
    Conflict if a request with the same key committed meanwhile (the caller rolls back)."""
    try:
        with transaction.atomic():
            IdempotencyRecord.objects.create(
                organization_id=pending.organization_id,
                actor=pending.actor,
                key=pending.key,
                request_fingerprint=pending.fingerprint,
                expires_at=timezone.now() + timedelta(seconds=settings.IDEMPOTENCY_KEY_TTL_SECONDS),
                response_status=response.status_code,
                response_body=orjson.loads(ORJSONRenderer().render(response.data) or b"null"),
                response_headers={name: response[name] for name in REPLAYED_HEADERS if response.has_header(name)},
            )
    except IntegrityError:
        raise Conflict(IN_PROGRESS) from None
