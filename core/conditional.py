"""Conditional reads: a strong ETag on every GET of an object, a list page or a resolved model,
and `If-None-Match` answered with a 304 before the body is read or rendered.

A tag is a digest of everything the body is a function of, all of it known before the body is
read:

- the generations (core.generations) of the caller's organization and of the global scope:
  every write that can change a body an organization reads bumps one of them in its own
  transaction, so a write that has committed always changes the digest;
- the request: its absolute URL with the query string (paging links are absolute), and the
  media type it is rendered as;
- what else the viewset says its bodies depend on (`conditional_context()`), e.g. the UTC day
  for models, whose lifecycle status is a function of it;
- `REPRESENTATION`, raised by hand in a release that changes what a body looks like.

An object's ETag is `"<version>.<context>"`: `version` is the object's own (its id and
`updated_at`) and is all `If-Match` compares, so a change elsewhere in the organization never
fails a write; `context` is the digest above. A list page's, a resolved model's or a version
list's is `"<context>"`. Either way the whole tag names one body exactly (a strong validator),
and since an object's version changes only in a write that bumps a generation, the context
alone decides whether a tag is current.

`If-None-Match` (GET and HEAD) compares weakly, as RFC 9110 says (`W/` is ignored); `*` matches
any current representation.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable

from django.db.models import Model
from django.http import HttpResponse
from rest_framework import exceptions, status
from rest_framework.response import Response

# Raise in a release that changes a response body without a write (a new field, a new format).
REPRESENTATION = "1"

# What revalidating clients and caches are told: keep it, but ask before each use.
CACHE_CONTROL = "private, no-cache"

_TAG = re.compile(r'"[\x21\x23-\x7e]*"')
_DIGEST_CHARACTERS = 24


def _digest(parts: Iterable[object]) -> str:
    text = "\x1f".join(str(part) for part in parts)
    return hashlib.blake2b(text.encode(), digest_size=_DIGEST_CHARACTERS // 2).hexdigest()


def context_of(
    *, organization_id: str, generations: tuple[int, int], url: str, media_type: str, extra: Iterable[object] = ()
) -> str:
    """The digest of what a body read now at `url` depends on besides its object's own version."""
    return _digest((REPRESENTATION, organization_id, *generations, url, media_type, *extra))


def version_of(obj: Model) -> str:
    """The object's own version: changes whenever it is saved."""
    return _digest((obj.pk, obj.updated_at.isoformat()))


def object_tag(obj: Model, context: str) -> str:
    return f'"{version_of(obj)}.{context}"'


def context_tag(context: str) -> str:
    return f'"{context}"'


def _tags(value: str, header: str, *, weak_allowed: bool) -> list[str]:
    tags = [tag.strip() for tag in value.split(",")]
    for index, tag in enumerate(tags):
        if tag.startswith("W/"):
            if not weak_allowed:
                raise exceptions.ValidationError({header: [f"Weak ETags (W/...) cannot be used with {header}."]})
            tags[index] = tag = tag[2:]
        if not _TAG.fullmatch(tag):
            raise exceptions.ValidationError(
                {header: ['Must be "*" or ETags as the API sent them, quoted ("...") and comma-separated.']}
            )
    return tags


def parse_if_match(value: str) -> set[str]:
    """The strong entity tags of an If-Match header (or {"*"}); a 400 naming the header when it is
    empty, unquoted or weak: this API's ETags are strong, and such a header can never match."""
    if value.strip() == "*":
        return {"*"}
    return set(_tags(value, "If-Match", weak_allowed=False))


def if_match_allows(candidates: set[str], obj: Model) -> bool:
    """Whether a write may go ahead: `*`, or a tag naming the object's current version."""
    if "*" in candidates:
        return True
    version = version_of(obj)
    return any(tag.strip('"').split(".", 1)[0] == version for tag in candidates)


def parse_if_none_match(value: str | None) -> set[str]:
    """The entity tags of an If-None-Match header (W/ dropped), {"*"}, or none when absent."""
    if value is None:
        return set()
    if value.strip() == "*":
        return {"*"}
    return set(_tags(value, "If-None-Match", weak_allowed=True))


def current_tag(candidates: set[str], context: str) -> str | None:
    """The candidate that names a body of `context`, if any: the ETag a 304 repeats."""
    for tag in candidates:
        if tag == f'"{context}"' or tag.endswith(f'.{context}"'):
            return tag
    return None


class Answered(Exception):
    """Raised before the body is read: the answer is already there (a 304 for the caller's current
    copy, or the shared cache's copy of the 200)."""

    def __init__(self, response: HttpResponse) -> None:
        super().__init__("answered")
        self._response = response

    def response(self) -> HttpResponse:
        return self._response


def not_modified(etag: str) -> Response:
    return Response(status=status.HTTP_304_NOT_MODIFIED, headers={"ETag": etag})
