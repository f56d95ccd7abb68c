"""Rate limits per organization and per client (member or M2M client), kept in the shared cache.

With several workers the counters must live in one place (Redis through REDIS_URL);
with the local-memory cache each worker would count on its own.
"""

from django.conf import settings
from rest_framework.throttling import SimpleRateThrottle

from config.authentication import Principal


class PrincipalRateThrottle(SimpleRateThrottle):
    """Reads its rate from settings.THROTTLE_RATES on every request, so it can be tuned per environment."""

    def get_rate(self) -> str | None:
        return settings.THROTTLE_RATES.get(self.scope)

    def ident_of(self, principal: Principal) -> str:
        raise NotImplementedError

    def get_cache_key(self, request, view) -> str | None:
        principal = request.user
        if not isinstance(principal, Principal):
            return None
        return self.cache_format % {"scope": self.scope, "ident": self.ident_of(principal)}


class OrganizationRateThrottle(PrincipalRateThrottle):
    scope = "organization"

    def ident_of(self, principal: Principal) -> str:
        return principal.organization_id


class ClientRateThrottle(PrincipalRateThrottle):
    scope = "client"

    def ident_of(self, principal: Principal) -> str:
        return f"{principal.organization_id}:{principal.actor}"
