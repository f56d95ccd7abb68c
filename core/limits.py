"""Bounds shared by every app (see each app's own limits.py for its fields)."""

# Stytch organization ids look like "organization-live-<uuid>".
ORGANIZATION_ID_MAX_LENGTH = 128

# "member:<id>", "m2m:<client id>", "staff:<username>" or "system:<job>".
ACTOR_MAX_LENGTH = 255

# How deeply a request body's JSON may nest (the API's bodies need 2 levels).
MAX_JSON_DEPTH = 32
