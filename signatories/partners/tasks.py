"""Celery tasks for partners: they take ids and call a service or send mail; nothing else."""

from __future__ import annotations

import logging

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.urls import reverse
from django.utils.translation import gettext, override

from code_portal.notifications import send_templated_email
from signatories.models import MembershipRole
from signatories.partners import importer, services
from signatories.partners.models import ConfirmationRequest

logger = logging.getLogger(__name__)

MAIL_RETRY = {"autoretry_for": (OSError,), "retry_backoff": True, "max_retries": 5}
IMPORT_TIME_LIMIT = 30 * 60  # below the broker's visibility timeout (1 hour)


@shared_task(acks_late=True, reject_on_worker_lost=True, time_limit=300, soft_time_limit=270,
             **MAIL_RETRY)
def send_confirmation_emails(request_ids: list[int]) -> int:
    """E-mail the links of a batch of requests (each at most once: emailed_at is claimed)."""
    return services.confirmation_emails_send(request_ids=request_ids)


@shared_task(acks_late=True, reject_on_worker_lost=True)
def expire_confirmation_requests() -> int:
    """Daily: pending requests whose link ran out are marked expired (audited)."""
    return services.confirmation_requests_expire()


@shared_task(acks_late=True, **MAIL_RETRY)
def notify_operator_new_link_asked(request_id: int) -> int:
    """A partner whose link no longer works asks the operator for a new request."""
    req = (ConfirmationRequest.objects.select_related("partner", "signatory")
           .filter(pk=request_id).first())
    if req is None:
        return 0
    members = (req.signatory.memberships.filter(role__in=[MembershipRole.ADMIN,
                                                          MembershipRole.REPORTER],
                                                user__is_active=True)
               .select_related("user"))
    sent = 0
    for membership in members:
        user = membership.user
        with override(user.language or settings.LANGUAGE_CODE):
            url = settings.SITE_URL + reverse("partner-detail", args=[req.signatory_id,
                                                                       req.partner_id])
        sent += send_templated_email(to=[user.email], template="partners/email/new_link_asked",
                                     language=user.language or None,
                                     context={"partner_name": req.partner.name, "url": url,
                                              "operator_name": req.signatory.display_name})
    return sent


@shared_task(bind=True, acks_late=True, reject_on_worker_lost=True, time_limit=IMPORT_TIME_LIMIT,
             soft_time_limit=IMPORT_TIME_LIMIT - 60)
def run_partner_import(self, job_id: int) -> dict:
    """Validate and import one uploaded partner file; safe to run again for the same job."""

    def progress(done: int, total: int) -> None:
        if self.request.id and not self.request.is_eager:
            self.update_state(state="PROGRESS", meta={"current": done, "total": total})

    try:
        job = importer.import_run(job_id=job_id, on_progress=progress)
    except SoftTimeLimitExceeded:
        importer.import_fail(job_id=job_id, message=gettext(
            "The import took too long and was stopped. Split the file into smaller files."))
        return {"job": job_id, "status": "failed"}
    except Exception:
        logger.exception("partner import %s failed", job_id)
        importer.import_fail(job_id=job_id, message=gettext(
            "The import stopped because of an unexpected error. Please try again later."))
        raise
    if job is None:
        return {"job": job_id, "status": "skipped"}
    return {"job": job.pk, "status": job.status, "created": job.created_partners}


@shared_task(acks_late=True, reject_on_worker_lost=True, time_limit=600, soft_time_limit=540)
def remind_pending_confirmations(today: str | None = None) -> int:
    """Daily (the lead wires the beat entry): remind partners that have not answered.

    See ``services.confirmation_reminders_claim``; returns the number of reminders claimed."""
    from datetime import date

    return len(services.confirmation_reminders_claim(
        today=date.fromisoformat(today) if today else None))
