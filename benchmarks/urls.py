"""The project's URLs plus `bench/baseline-models` and `bench/empty`, mounted only in the benchmark server.

The baseline reads the same rows as an organization's `GET /v1/models?limit=50` (enabled
system models plus the organization's user models, same ordering, 50 rows) with `.values()`
and returns them with `JsonResponse`: no authentication, no throttling, no serializer, no
pagination count. The ratio of the API's throughput to this one is what the framework costs.

`bench/empty` answers `{}` and reads nothing: what the stack itself (gunicorn, the middleware,
a JsonResponse) costs a request. It is the floor the API's figures are read against
(benchmarks/http_benchmarks.py): the resolved p99 beside this view's, and the highest list ratio
any page read could reach.
"""

import os

from django.db.models import Q
from django.http import HttpRequest, JsonResponse
from django.urls import path

from config.urls import handler404, handler500  # noqa: F401
from config.urls import urlpatterns as project_urlpatterns
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


urlpatterns = [
    *project_urlpatterns,
    path("bench/baseline-models", baseline_view),
    path("bench/empty", empty_view),
]
