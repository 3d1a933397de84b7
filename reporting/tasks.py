"""Celery tasks for annual reports: take ids, call services or send mail."""

from __future__ import annotations

from celery import shared_task
from django.conf import settings
from django.urls import reverse

from code_portal.notifications import send_templated_email
from reporting.models import Report
from signatories.models import Membership, MembershipRole

MAIL_RETRY = {"autoretry_for": (OSError,), "retry_backoff": True, "max_retries": 5}


@shared_task(**MAIL_RETRY)
def notify_report_event(report_id: int, event: str) -> int:
    """Tell the company's admins and reporters what happened to their report."""
    report = Report.objects.select_related("signatory").filter(pk=report_id).first()
    if report is None:
        return 0
    members = Membership.objects.filter(
        signatory_id=report.signatory_id, user__is_active=True,
        role__in=[MembershipRole.ADMIN, MembershipRole.REPORTER]).select_related("user")
    url = settings.SITE_URL + reverse("report-detail", args=[report.pk])
    sent = 0
    for membership in members:
        sent += send_templated_email(
            to=[membership.user.email], template="reporting/email/report_event",
            language=membership.user.language or None,
            context={"report": report, "event": event, "url": url, "user": membership.user})
    return sent


@shared_task(acks_late=True, **MAIL_RETRY)
def report_approved(report_id: int) -> int:
    """After approval: tell the company. The certificate issue hooks in here (certificates issue)."""
    return notify_report_event(report_id, "approved")
