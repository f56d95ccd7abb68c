"""GET /v1/audit-events: the organization's audit trail, for its admins."""

import django_filters
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import serializers
from rest_framework.exceptions import PermissionDenied
from rest_framework.permissions import BasePermission

from core import audit
from core.api.viewsets import ListViewSetMixin, TenantScopedViewSet
from core.authentication import Principal
from core.filters import StrictFilterSet, UTCIsoDateTimeFilter
from core.models import AuditEvent
from core.openapi import conditional_read
from core.permissions import ResourcePermission
from core.schema_errors import error_responses
from core.serializers import RowRepresentation


class AuditEventSerializer(serializers.ModelSerializer):
    occurredAt = serializers.DateTimeField(source="occurred_at", help_text="When the change happened.")
    organizationId = serializers.CharField(source="organization_id", help_text="The organization of the object.")
    actor = serializers.CharField(help_text="Who made the change: `member:<id>`, `m2m:<client id>` or `staff:<name>`.")
    action = serializers.ChoiceField(choices=AuditEvent.Action.choices, help_text="created, updated or deleted.")
    objectType = serializers.CharField(
        source="object_type", help_text="model, prompt-particle, prompt-composition or entitlement."
    )
    objectId = serializers.UUIDField(source="object_id", help_text="The changed object's id.")
    objectRepr = serializers.CharField(source="object_repr", help_text="The object's name at the time.")
    changedFields = serializers.ListField(
        source="changed_fields", child=serializers.CharField(), help_text="camelCase names of the changed fields."
    )
    requestId = serializers.CharField(source="request_id", help_text="The X-Request-ID of the request that made it.")

    class Meta:
        model = AuditEvent
        fields = [
            "id",
            "occurredAt",
            "organizationId",
            "actor",
            "action",
            "objectType",
            "objectId",
            "objectRepr",
            "changedFields",
            "requestId",
        ]
        read_only_fields = fields


class AuditEventFilter(StrictFilterSet):
    objectId = django_filters.UUIDFilter(field_name="object_id", help_text="Only events of this object.")
    objectType = django_filters.ChoiceFilter(
        field_name="object_type",
        choices=[(object_type, object_type) for object_type in audit.object_types()],  # the apps are ready here
        help_text="Only events of this kind of object.",
    )
    actor = django_filters.CharFilter(field_name="actor", help_text="Only events by this actor, e.g. `member:<id>`.")
    action = django_filters.ChoiceFilter(field_name="action", choices=AuditEvent.Action.choices)
    since = UTCIsoDateTimeFilter(field_name="occurred_at", lookup_expr="gte", help_text="From this time on.")
    until = UTCIsoDateTimeFilter(field_name="occurred_at", lookup_expr="lt", help_text="Before this time.")

    class Meta:
        model = AuditEvent
        fields: list[str] = []


class IsOrganizationAdmin(BasePermission):
    """Members with a write role, or M2M clients with `read:audit` / `read:*`."""

    def has_permission(self, request, view) -> bool:
        principal = request.user
        if not isinstance(principal, Principal):
            return True  # ResourcePermission answers 401 first
        if principal.is_admin:
            return True
        if principal.kind == "m2m" and principal.has_scope("read", "audit"):
            return True
        raise PermissionDenied(
            "The audit trail is for organization admins (a role in STYTCH_WRITE_ROLES, or the 'read:audit' scope)."
        )


@extend_schema_view(
    list=extend_schema(
        operation_id="audit_events_list",
        summary="List audit events",
        description="Who created, changed or deleted your organization's models, particles and compositions, "
        "newest first. For organization admins.",
        tags=["audit"],
        **conditional_read(responses={200: AuditEventSerializer(many=True), **error_responses(400, 401, 403, 429)}),
    )
)
class AuditEventViewSet(ListViewSetMixin, TenantScopedViewSet):
    resource = "audit"
    queryset = AuditEvent.objects.all()
    serializer_class = AuditEventSerializer
    row_representation = RowRepresentation(AuditEventSerializer)
    filterset_class = AuditEventFilter
    permission_classes = [ResourcePermission, IsOrganizationAdmin]

    def visible_to(self, organization_id: str):
        return AuditEvent.objects.filter(organization_id=organization_id).order_by("-occurred_at", "-id")
