from django.contrib import admin
from django.urls import include, path, re_path
from django.views.generic import TemplateView
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from core import errors, health, metrics
from models_registry.api.openai import openai_not_found

urlpatterns = [
    path("", TemplateView.as_view(template_name="index.html"), name="index"),
    # The OpenAPI document's info.license.url (settings.OPENAPI_LICENSE_URL).
    path("license", TemplateView.as_view(template_name="license.txt", content_type="text/plain"), name="license"),
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    # Prometheus metrics, for the scrapers METRICS_TOKEN or METRICS_ALLOWED_NETWORKS allow (core.metrics).
    path("metrics", metrics.metrics_view, name="metrics"),
    path("admin/", admin.site.urls),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="swagger-ui"),
    path("api/redoc/", SpectacularRedocView.as_view(url_name="schema"), name="redoc"),
    path("v1/", include("models_registry.api.urls")),
    path("v1/", include("prompts.api.urls")),
    path("v1/", include("core.api.urls")),
    # The OpenAI-compatible catalog (models_registry/api/openai.py), for runtimes that speak OpenAI.
    path("openai/v1/", include("models_registry.api.openai_urls")),
    re_path(r"^openai/", openai_not_found),
    # Anything else under /v1/ is a JSON 404, in DEBUG too.
    re_path(r"^v1/", errors.api_not_found),
]

handler404 = "core.errors.handler404"
handler500 = "core.errors.handler500"
