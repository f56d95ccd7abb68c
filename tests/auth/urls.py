"""Test-only views that echo the authenticated principal (``@pytest.mark.urls("tests.auth.urls")``)."""

from typing import Any

from django.urls import path
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.authentication import Principal


def describe(request: Request) -> dict[str, Any]:
    principal: Principal = request.user
    return {
        "kind": principal.kind,
        "subject_id": principal.subject_id,
        "organization_id": principal.organization_id,
        "organization_slug": principal.organization_slug,
        "roles": sorted(principal.roles),
        "scopes": sorted(principal.scopes),
        "authentication_factors": list(principal.authentication_factors),
        "actor": principal.actor,
        "auth_sub": request.auth["sub"],
    }


class ModelsProbeView(APIView):
    resource = "models"

    def get(self, request: Request) -> Response:
        return Response(describe(request))

    def post(self, request: Request) -> Response:
        return Response(describe(request), status=status.HTTP_201_CREATED)

    def delete(self, request: Request) -> Response:
        return Response(status=status.HTTP_204_NO_CONTENT)


class PromptsProbeView(ModelsProbeView):
    resource = "prompts"


urlpatterns = [
    path("probe/models", ModelsProbeView.as_view(), name="probe-models"),
    path("probe/prompts", PromptsProbeView.as_view(), name="probe-prompts"),
]
