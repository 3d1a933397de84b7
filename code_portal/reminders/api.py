"""Notification log API (read-only, scoped like the pages) and the user's reminder settings."""

from __future__ import annotations

from rest_framework import serializers, viewsets
from rest_framework.response import Response
from rest_framework.views import APIView

from code_portal.reminders import selectors, services
from code_portal.reminders.filters import NotificationFilter
from code_portal.reminders.models import Notification


class NotificationSerializer(serializers.ModelSerializer):
    kind_display = serializers.CharField(source="get_kind_display", read_only=True)

    class Meta:
        model = Notification
        fields = ["id", "key", "kind", "kind_display", "signatory", "recipients", "language",
                  "reason", "status", "attempts", "last_error", "created_at", "sent_at"]
        read_only_fields = fields


class NotificationViewSet(viewsets.ReadOnlyModelViewSet):
    """What was sent, to whom, when and why. Staff admins and reviewers see everything; local
    representatives the signatories of their countries; companies their own. Anything else is
    404. Filters: ``kind``, ``status``, ``signatory``."""

    serializer_class = NotificationSerializer
    filterset_class = NotificationFilter

    def get_queryset(self):
        return selectors.notification_list_for(self.request.user)


class PreferenceSerializer(serializers.Serializer):
    optional_reminders = serializers.BooleanField()


class PreferenceView(APIView):
    """The current user's choice about optional reminders (training refreshers, reminders to
    reporters, staff digests). Due/overdue reminders to company admins are always sent."""

    serializer_class = PreferenceSerializer

    def get(self, request):
        return Response({"optional_reminders": services.reminder_preference_for(request.user)})

    def put(self, request):
        serializer = PreferenceSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        preference = services.reminder_preference_set(
            user=request.user, optional_reminders=serializer.validated_data["optional_reminders"])
        return Response({"optional_reminders": preference.optional_reminders})
