"""The notification log's filters, shared by the pages and the API."""

import django_filters
from django.utils.translation import gettext_lazy as _

from code_portal.reminders.kinds import KIND_CHOICES
from code_portal.reminders.models import Notification, NotificationStatus


class NotificationFilter(django_filters.FilterSet):
    kind = django_filters.ChoiceFilter(label=_("Kind"), choices=KIND_CHOICES)
    status = django_filters.ChoiceFilter(label=_("Status"), choices=NotificationStatus.choices)
    signatory = django_filters.NumberFilter(label=_("Signatory (id)"), field_name="signatory_id")

    class Meta:
        model = Notification
        fields = ["kind", "status", "signatory"]
