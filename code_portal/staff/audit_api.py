"""``GET /api/v1/audit-events/``: the audit trail, read-only, with the page's filters and scope.

A ``ReadOnlyModelViewSet``: POST, PUT, PATCH and DELETE answer 405 for everyone. Users
without the audit trail permission get 404 (list and detail), as on the staff pages.
"""

from __future__ import annotations

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import serializers, viewsets

from code_portal.models import AuditEvent
from code_portal.staff.audit_changes import readable_changes
from code_portal.staff.audit_filters import AuditEventFilter
from code_portal.staff.selectors import audit_events_for


class StaffAuditEventSerializer(serializers.ModelSerializer):
    object_type = serializers.SerializerMethodField()
    signatory_name = serializers.SerializerMethodField()
    changes_readable = serializers.SerializerMethodField()

    class Meta:
        model = AuditEvent
        fields = ["id", "occurred_at", "actor", "actor_label", "action", "object_type",
                  "object_id", "object_repr", "signatory", "signatory_name", "from_state",
                  "to_state", "reason", "changes", "changes_readable"]
        read_only_fields = fields

    def get_object_type(self, event: AuditEvent) -> str:
        return f"{event.content_type.app_label}.{event.content_type.model}"

    def get_signatory_name(self, event: AuditEvent) -> str | None:
        return event.signatory.legal_name if event.signatory else None

    def get_changes_readable(self, event: AuditEvent) -> list[dict[str, str]]:
        return [{"field": c.field, "before": c.before, "after": c.after}
                for c in readable_changes(event.changes)]


@extend_schema_view(
    list=extend_schema(summary="Audit events (Code staff; local representatives: their "
                               "countries' signatories)"),
    retrieve=extend_schema(summary="One audit event"),
)
class AuditEventViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = StaffAuditEventSerializer
    filterset_class = AuditEventFilter

    def get_queryset(self) -> QuerySet[AuditEvent]:
        if getattr(self, "swagger_fake_view", False):  # schema generation
            return AuditEvent.objects.none()
        return audit_events_for(self.request.user).order_by("-occurred_at", "-id")
