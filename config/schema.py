"""drf-spectacular extensions for the project's API plumbing (import once, from urls.py)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema


class StytchBearerScheme(OpenApiAuthenticationExtension):
    target_class = "config.authentication.StytchJWTAuthentication"
    name = "StytchBearer"

    def get_security_definition(self, auto_schema: AutoSchema) -> dict[str, Any]:
        return {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "JWT",
            "description": (
                "A Stytch B2B session JWT (members; reads for any member of the organization, "
                "writes for the roles in STYTCH_WRITE_ROLES) or an M2M access token (clients; "
                "scopes `read:<resource>`, `write:<resource>`, `read:*`, `write:*`). "
                "Send it as `Authorization: Bearer <token>`. For local development, "
                "`python manage.py dev_token` prints one."
            ),
        }
