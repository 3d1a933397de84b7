"""Rendering and sending one notification (no database writes: the services claim and mark)."""

from __future__ import annotations

from django.conf import settings
from django.urls import reverse

from code_portal.notifications import send_templated_email
from code_portal.reminders.models import Notification


def unsubscribe_url() -> str:
    return settings.SITE_URL + reverse("reminder-preferences")


def send_notification_email(notification: Notification) -> int:
    """Render ``template`` (``_subject.txt``, ``.txt``, ``.html``) with the stored context in
    the notification's language and send it to its recipients."""
    if not notification.recipients:
        return 0
    context = {
        **notification.context,
        "notification_reason": notification.reason,
        "unsubscribe_url": unsubscribe_url(),
    }
    return send_templated_email(to=notification.recipients, template=notification.template,
                                context=context, language=notification.language or None)
