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
    """After approval: issue the year's certificate (idempotent), then tell the company once —
    the admins get the certificate attached, the reporters the approval notice."""
    from reporting.certificates import certificate_issue

    report = Report.objects.filter(pk=report_id).first()
    if report is None:
        return 0
    certificate, _created = certificate_issue(report=report)
    return certificate_send(certificate.pk)


@shared_task(acks_late=True, **MAIL_RETRY)
def certificate_send(certificate_id: int) -> int:
    """E-mail a certificate to the company's admins, with the PDF attached, once.

    Claim, then send: a re-run finds the claim taken and sends nothing. A transient mail error
    gives the claim back before the retry.
    """
    from reporting.certificates import (
        certificate_claim_email,
        certificate_release_email,
        verification_url,
    )
    from reporting.models import Certificate

    if not certificate_claim_email(certificate_id):
        return 0
    certificate = Certificate.objects.select_related("signatory", "report").get(pk=certificate_id)
    try:
        with certificate.pdf.open("rb") as handle:
            pdf = handle.read()
        members = list(Membership.objects.filter(
            signatory_id=certificate.signatory_id, user__is_active=True,
            role__in=[MembershipRole.ADMIN, MembershipRole.REPORTER]).select_related("user"))
        report_url = settings.SITE_URL + reverse("report-detail", args=[certificate.report_id])
        list_url = settings.SITE_URL + reverse("company-certificates",
                                               args=[certificate.signatory_id])
        sent = 0
        for membership in members:
            if membership.role == MembershipRole.ADMIN:
                sent += send_templated_email(
                    to=[membership.user.email], template="reporting/email/certificate_issued",
                    language=membership.user.language or None,
                    context={"certificate": certificate, "report": certificate.report,
                             "url": list_url, "verify_url": verification_url(certificate.code),
                             "user": membership.user},
                    attachments=[(f"{certificate.number}.pdf", pdf, "application/pdf")])
            elif certificate.replaces_id is None:  # reporters hear of the approval, once
                sent += send_templated_email(
                    to=[membership.user.email], template="reporting/email/report_event",
                    language=membership.user.language or None,
                    context={"report": certificate.report, "event": "approved",
                             "url": report_url, "user": membership.user})
    except OSError:
        certificate_release_email(certificate_id)
        raise
    return sent


@shared_task(acks_late=True)
def certificates_regenerate(job_id: int) -> int:
    """Re-render one year's certificate PDFs; progress is on the job row."""
    from reporting.certificates import regeneration_run

    return regeneration_run(job_id=job_id).done
