"""Numbered versions of an object, and restoring one, for any viewset of a history-tracked model.

    class PromptParticleViewSet(VersionedViewSetMixin, ResourceViewSet):
        version_serializer_class = PromptParticleVersionSerializer

        def restore_version(self, instance, record):
            return services.particle_restore(particle=instance, record=record, actor=self.principal.actor)

adds `GET {prefix}/{id}/versions` (paginated, newest first) and
`POST {prefix}/{id}/versions/{number}/restore` (needs write access; answers with the object).
Visibility and permissions are the viewset's own: `get_object()` gives 404 for another
organization's object and 403 when writing a global one.

A viewset whose versions are not simply the object's historical rows (a model's system prompt
versions) overrides `get_versions` and `get_version` as well.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import transaction
from django.db.models import Model, QuerySet
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, serializers
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from core.history import CHANGE_TYPES, history_version, numbered_history
from core.openapi import ETAG, IF_MATCH, conditional_read
from core.pagination import OffsetPagination
from core.schema_errors import error_responses


class ChangeTypeField(serializers.ChoiceField):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(choices=list(CHANGE_TYPES.values()), **kwargs)

    def to_representation(self, value: str) -> str:
        return CHANGE_TYPES.get(value, value)


class VersionSerializer(serializers.Serializer):
    """One version of an object: a historical row and its number."""

    number = serializers.IntegerField(
        source="version_number", help_text="1 for the first version, counting up in chronological order."
    )
    actor = serializers.CharField(
        source="history_actor",
        help_text="Who made the change: `member:<member id>`, `m2m:<client id>`, `staff:<username>` or `system:<job>`.",
    )
    createdAt = serializers.DateTimeField(source="history_date", help_text="When the change was made.")
    changeType = ChangeTypeField(source="history_type", help_text="What the change was.")
    changeReason = serializers.CharField(
        source="history_change_reason", allow_null=True, help_text='Why, when known (e.g. "Restored version 2").'
    )


class VersionedViewSetMixin:
    version_serializer_class: type[serializers.Serializer]

    def get_versions(self, instance: Model) -> QuerySet | Sequence:
        """The versions, newest first, each with `version_number`."""
        return numbered_history(instance)

    def get_version(self, instance: Model, number: int) -> Any | None:
        return history_version(instance, number)

    def restore_version(self, instance: Model, record: Any) -> Model:
        """Bring `record` back as a new version and return the object to show."""
        raise NotImplementedError(f"{type(self).__name__} must define restore_version(instance, record).")

    def get_serializer_class(self):
        if getattr(self, "action", None) == "versions":
            return self.version_serializer_class
        return super().get_serializer_class()

    @action(
        detail=True,
        methods=["get"],
        url_path="versions",
        url_name="versions",
        filter_backends=[],
        pagination_class=OffsetPagination,
    )
    def versions(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        instance = self.get_object()
        page = self.paginate_queryset(self.get_versions(instance))
        data = self.version_serializer_class(page, many=True).data
        return self.get_paginated_response(data)

    @action(
        detail=True,
        methods=["post"],
        url_path=r"versions/(?P<number>[0-9]{1,9})/restore",
        url_name="restore-version",
        filter_backends=[],
        pagination_class=None,
    )
    def restore(self, request: Request, *args: Any, number: str, **kwargs: Any) -> Response:
        with transaction.atomic():
            instance = self.get_object_for_update()
            record = self.get_version(instance, int(number))
            if record is None:
                raise exceptions.NotFound(f"There is no version {int(number)} of this object.")
            instance = self.restore_version(instance, record)
        return self.respond_with(instance, self.represent(instance))


def version_actions_schema(
    *,
    noun: str,
    operation_prefix: str,
    tags: list[str],
    version_serializer: type[serializers.Serializer],
    object_serializer: type[serializers.Serializer],
) -> dict[str, Any]:
    """`extend_schema_view(**version_actions_schema(...))` documents the two actions of the mixin."""
    number = OpenApiParameter(
        "number", int, OpenApiParameter.PATH, description="The version to restore (1 = the first version)."
    )
    return {
        "versions": extend_schema(
            operation_id=f"{operation_prefix}_versions_list",
            summary=f"List the versions of a {noun}",
            description=f"Every change to the {noun} is a numbered version (1 = the first) with who made it "
            "and when. Newest first.",
            tags=tags,
            request=None,
            **conditional_read(
                responses={200: version_serializer(many=True), **error_responses(400, 401, 403, 404, 429)}
            ),
        ),
        "restore": extend_schema(
            operation_id=f"{operation_prefix}_versions_restore",
            summary=f"Restore a version of a {noun}",
            description=f"Brings the {noun} back to version `number`, recorded as a new version. Needs write "
            "access; global objects cannot be restored through the API (403).",
            tags=tags,
            parameters=[number, IF_MATCH, ETAG],
            request=None,
            responses={
                200: OpenApiResponse(object_serializer, description=f"The {noun} as restored."),
                **error_responses(400, 401, 403, 404, 409, 412, 429),
            },
        ),
    }
