"""Bounds shared by every app (see each app's own limits.py for its fields)."""

# Stytch organization ids look like "organization-live-<uuid>".
ORGANIZATION_ID_MAX_LENGTH = 128
ORGANIZATION_SLUG_MAX_LENGTH = 128

# "member:<id>", "m2m:<client id>", "staff:<username>" or "system:<job>".
ACTOR_MAX_LENGTH = 255

# A Stytch id from a token (organization, member, M2M client: "organization-live-<uuid>"):
# letters, digits, ".", "_" and "-", starting with a letter or digit. Anything else (NUL,
# spaces, control characters) is refused before it reaches the database.
STYTCH_ID_PATTERN = r"[A-Za-z0-9][A-Za-z0-9._-]*"
SUBJECT_ID_MAX_LENGTH = 128

# How deeply a request body's JSON may nest (the API's bodies need 2 levels).
MAX_JSON_DEPTH = 32

# List pages (core/pagination.py): rows per page by default and at most (a larger `limit` is
# capped, not refused); the largest `offset` (offset and limit must add up within a signed 64-bit
# integer, as the databases count rows); how far a page's `count` counts exactly before it stops
# and says so (`countIsEstimate`), so a total never reads more rows than this.
PAGE_DEFAULT_LIMIT = 50
PAGE_MAX_LIMIT = 200
PAGE_MAX_OFFSET = 2**62
PAGE_COUNT_CAP = 10_000
# A `cursor` longer than this is not one the API made (it holds one row's sort values).
CURSOR_MAX_LENGTH = 2048
