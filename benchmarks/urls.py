"""The project's URLs plus the anchors `bench/baseline-models`, `bench/empty` and
`v1/bench/resolved-floor/{id}`, mounted only in the benchmark server.

The baseline reads the same rows as an organization's `GET /v1/models?limit=50` (enabled
system models plus the organization's user models, same ordering, 50 rows) with `.values()`
and returns them with `JsonResponse`: no authentication, no throttling, no serializer, no
pagination count. The ratio of the API's throughput to this one is what the framework costs.

`bench/empty` answers `{}` and reads nothing: what the stack itself (gunicorn, the middleware,
a JsonResponse) costs a request. It is the floor the API's figures are read against
(benchmarks/http_benchmarks.py): the resolved p99 beside this view's, and the highest list ratio
any page read could reach.

`v1/bench/resolved-floor/{id}` answers a cached `GET /v1/models/{id}/resolved` with the I/O
such an answer cannot skip and nothing else: the bearer token verified by the API's own
authenticator, its read access checked as the API's permission checks it (`Principal.can_read`),
the generations read (core.generations), the rate limits counted in the round trip that fetches
the entry (core.throttling), and the entry answered as the API answers it (core.response_cache).
No DRF: no request wrapper, negotiation, permission classes, viewset or finalize. Under `/v1/`,
the same middleware runs for it as for the API. Between it and `bench/empty` lies what the
hit's I/O costs; between it and the API, what DRF's dispatch does. It finds the API's entry only
while it makes the API's key: a 500 when it does not, which the benchmark checks before it
measures.
"""

import os
import time

from django.core.cache import caches
from django.db.models import Q
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt
from rest_framework.exceptions import AuthenticationFailed

from config.urls import handler404, handler500  # noqa: F401
from config.urls import urlpatterns as project_urlpatterns
from core import conditional, generations, response_cache
from core.authentication import StytchJWTAuthentication
from core.renderers import ORJSONRenderer
from core.throttling import PrincipalRateThrottle, increment_counters
from models_registry import selectors
from models_registry.models import AIModel

# The organization whose rows the baseline reads (benchmarks/run.py sets it to the token's).
ORGANIZATION_ID = os.environ.get("BENCH_ORGANIZATION_ID", "organization-test-bench")
LIMIT = 50


def baseline_view(request: HttpRequest) -> JsonResponse:
    rows = (
        AIModel.objects.filter(Q(is_system=True, is_enabled=True) | Q(is_system=False, organization_id=ORGANIZATION_ID))
        .order_by("-is_system", "name", "id")
        .values()[:LIMIT]
    )
    return JsonResponse({"results": list(rows)})


def empty_view(request: HttpRequest) -> JsonResponse:
    return JsonResponse({})


@csrf_exempt  # as DRF's views are
def resolved_floor_view(request: HttpRequest, pk: str) -> HttpResponse:
    try:
        authenticated = StytchJWTAuthentication().authenticate(request)
    except AuthenticationFailed as exc:
        return JsonResponse({"detail": str(exc.detail)}, status=401)
    if authenticated is None:
        return JsonResponse({"detail": "a bearer token is needed"}, status=401)
    principal, _ = authenticated
    if not principal.can_read("models"):  # AIModelViewSet's ResourcePermission, for a read
        return JsonResponse({"detail": "reading models needs the read:models scope"}, status=403)
    request.user = principal  # as DRF sets it: the access line names the actor
    organization_id = principal.organization_id
    context = conditional.context_of(
        organization_id=organization_id,
        generations=generations.read(organization_id),
        url=request.build_absolute_uri(f"/v1/models/{pk}/resolved"),
        media_type=ORJSONRenderer.media_type,
        extra=selectors.read_context(),  # AIModelViewSet.conditional_context()
    )
    key = response_cache.key(context)
    counters = [(name, seconds) for name, seconds, _, _ in PrincipalRateThrottle.limits_of(principal, time.time())]
    _, found = increment_counters(caches["default"], counters, (key,))
    cached = response_cache.get(key, found)
    if cached is None:
        return JsonResponse({"detail": "not in the response cache under the API's key"}, status=500)
    return cached


urlpatterns = [
    *project_urlpatterns,
    path("bench/baseline-models", baseline_view),
    path("bench/empty", empty_view),
]
# Under /v1/, ahead of the API's own routes, so the same middleware runs for it as for the API
# (CORS's, and not the browser session's, messages' and login's, which skip /v1/).
urlpatterns.insert(0, path("v1/bench/resolved-floor/<uuid:pk>", resolved_floor_view))
