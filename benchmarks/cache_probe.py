"""A header that tells the benchmark whether a GET was answered from the shared response cache.

Mounted only in the benchmark server (benchmarks/settings.py), innermost, so it sees the view's
own response object. The API says nothing about the cache on the wire, and the server's counter
(`model_registry_response_cache_lookups_total`) adds up every organization; the mixed benchmark
needs hit or miss per request, per organization. The test is the one the viewset itself makes
before it stores a body (core/api/viewsets.py, `finalize_response`): a 200 rendered by DRF is a
`Response`, the cache's copy is a plain `HttpResponse`. benchmarks/mixed.py checks the headers'
totals against the server's counter, so the probe cannot drift from the cache unnoticed.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from rest_framework.response import Response

HEADER = "X-Bench-Response-Cache"


class ResponseCacheProbeMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if request.method == "GET" and response.status_code == 200 and request.path.startswith("/v1/"):
            response[HEADER] = "miss" if isinstance(response, Response) else "hit"
        return response
