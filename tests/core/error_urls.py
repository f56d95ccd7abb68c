"""A URLconf with plain Django views under /v1/ that fail, to reach the project's error handlers."""

from django.http import HttpRequest
from django.urls import path

from config.urls import handler404, handler500, urlpatterns  # noqa: F401


def broken(request: HttpRequest):
    raise RuntimeError("boom: this text must not reach the client")


urlpatterns = [path("v1/broken", broken), path("html/broken", broken), *urlpatterns]
