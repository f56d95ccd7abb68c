"""Prometheus metrics (prometheus-client), served at `/metrics` to the scrapers the environment allows.

Under gunicorn every worker writes its samples to files in PROMETHEUS_MULTIPROC_DIR
(gunicorn.conf.py makes the directory and empties it at start-up) and `/metrics` adds up the
files of all workers, whichever worker answers the scrape. Elsewhere (runserver, tests, commands)
the process counts in its own registry.

Who may scrape: a request with `Authorization: Bearer <METRICS_TOKEN>`, or one whose
REMOTE_ADDR is in METRICS_ALLOWED_NETWORKS. With neither set, `/metrics` is a 404 like any
unknown page; otherwise a caller that matches neither gets a 403.

Labels stay few: a request's route is its URL pattern's name (`models-resolved`), never its
path; the admin's pages count as one route, `admin`; a request answered before URL resolution
(a CORS preflight, a redirect to HTTPS, a 413, an unknown path) has route `unresolved`.
"""

from __future__ import annotations

import hmac
import ipaddress
import os
from functools import lru_cache

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseForbidden, HttpResponseNotAllowed
from django.views.decorators.cache import never_cache
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    disable_created_metrics,
    generate_latest,
    multiprocess,
)

MULTIPROCESS_DIR = os.environ.get("PROMETHEUS_MULTIPROC_DIR", "")
if MULTIPROCESS_DIR:
    os.makedirs(MULTIPROCESS_DIR, exist_ok=True)  # a management command run where gunicorn's variable is set

disable_created_metrics()  # the `_created` series: one per series, and nothing here needs them

REQUEST_DURATION = Histogram(
    "model_registry_request_duration_seconds",
    "Time from the first middleware to the response, by URL pattern name, method and status.",
    ["route", "method", "status"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
RESPONSE_CACHE_LOOKUPS = Counter(
    "model_registry_response_cache_lookups",
    "Reads of a rendered response (a list page, an object, a resolved model) from the shared cache "
    "(core.response_cache): result is hit or miss.",
    ["result"],
)
CACHE_FALLBACKS = Counter(
    "model_registry_cache_fallbacks",
    "Calls to the shared cache answered without it (core.cache): reason is error (the call failed "
    "and the breaker opened) or open (skipped while the breaker is open).",
    ["what", "reason"],
)
JWKS_FETCHES = Counter(
    "model_registry_jwks_fetches",
    "Fetches of the Stytch JWKS by the key store: outcome is success or failure.",
    ["outcome"],
)

RESPONSE_CACHE_HIT = RESPONSE_CACHE_LOOKUPS.labels("hit")
RESPONSE_CACHE_MISS = RESPONSE_CACHE_LOOKUPS.labels("miss")
JWKS_FETCH_SUCCESS = JWKS_FETCHES.labels("success")
JWKS_FETCH_FAILURE = JWKS_FETCHES.labels("failure")

METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
UNRESOLVED = "unresolved"
# (route, method, status) -> its histogram child: labels() costs more than the observation.
_request_series: dict[tuple[str, str, int], Histogram] = {}


def observe_request(request: HttpRequest, status: int, seconds: float) -> None:
    match = request.resolver_match
    if match is None:
        route = UNRESOLVED
    elif match.namespace == "admin":
        route = "admin"
    else:
        route = match.view_name
    method = request.method if request.method in METHODS else "other"
    key = (route, method, status)
    series = _request_series.get(key)
    if series is None:
        series = _request_series.setdefault(key, REQUEST_DURATION.labels(route, method, str(status)))
    series.observe(seconds)


def cache_fallback(what: str, reason: str) -> None:
    CACHE_FALLBACKS.labels(what, reason).inc()


# --- /metrics ---------------------------------------------------------------------------------------


@lru_cache(maxsize=8)
def _networks(cidrs: tuple[str, ...]) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    return tuple(ipaddress.ip_network(cidr, strict=False) for cidr in cidrs)


def _address_allowed(request: HttpRequest, cidrs: tuple[str, ...]) -> bool:
    try:
        address = ipaddress.ip_address(request.META.get("REMOTE_ADDR", ""))
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped  # a socket bound to [::] sees IPv4 callers as ::ffff:a.b.c.d
    return any(address in network for network in _networks(cidrs))


def _token_matches(request: HttpRequest, token: str) -> bool:
    scheme, _, credentials = request.headers.get("Authorization", "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(credentials.strip().encode(), token.encode())


def scrape_allowed(request: HttpRequest) -> bool:
    """True for an allowed scraper, False for another caller; Http404 when no scraper is configured."""
    token = settings.METRICS_TOKEN
    cidrs = tuple(settings.METRICS_ALLOWED_NETWORKS)
    if not token and not cidrs:
        raise Http404("Metrics are not enabled (set METRICS_TOKEN or METRICS_ALLOWED_NETWORKS).")
    return bool(token and _token_matches(request, token)) or bool(cidrs and _address_allowed(request, cidrs))


def registry() -> CollectorRegistry:
    """Every gunicorn worker's samples (multiprocess mode), else this process's registry."""
    if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        return REGISTRY
    collected = CollectorRegistry()
    multiprocess.MultiProcessCollector(collected)
    return collected


FORBIDDEN = "Forbidden: a metrics token or an allowed network is required.\n"


@never_cache
def metrics_view(request: HttpRequest) -> HttpResponse:
    """Outside the JSON API, so its refusals are plain: the site's 404 page, a text/plain 403."""
    if not scrape_allowed(request):
        return HttpResponseForbidden(
            "Forbidden: a metrics token or an allowed network is required.\n", content_type="text/plain"
        )
    if request.method not in ("GET", "HEAD"):
        return HttpResponseNotAllowed(["GET", "HEAD"])
    return HttpResponse(generate_latest(registry()), content_type=CONTENT_TYPE_LATEST)
