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
