"""Celery tasks of the staff workspace: they take ids and call a service or send mail."""

from __future__ import annotations

import logging

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.urls import reverse
from django.utils.translation import gettext, override

from code_portal.notifications import send_templated_email
from code_portal.staff import services
from code_portal.staff.models import ExportJob, ExportStatus

logger = logging.getLogger(__name__)

# An export of every signatory or a year of audit events is written in a few minutes; the
# limit must stay below the broker's visibility timeout (CELERY_VISIBILITY_TIMEOUT, 1 hour), or
# a late-acknowledged task still running would be delivered a second time.
EXPORT_TIME_LIMIT = 30 * 60
EXPORT_MAX_RETRIES = 3
MAIL_RETRY = {"autoretry_for": (OSError,), "retry_backoff": True, "max_retries": 5}


@shared_task(bind=True, acks_late=True, reject_on_worker_lost=True,
             time_limit=EXPORT_TIME_LIMIT, soft_time_limit=EXPORT_TIME_LIMIT - 60,
             max_retries=EXPORT_MAX_RETRIES)
def run_export(self, job_id: int) -> dict:
    """Write the file of one export job. Safe to run again (see ``services.export_execute``)."""

    def progress(done: int, total: int) -> None:
        if self.request.id and not self.request.is_eager:
            self.update_state(state="PROGRESS", meta={"current": done, "total": total})

    try:
        job = services.export_execute(job_id=job_id, on_progress=progress)
    except (OperationalError, InterfaceError) as exc:
        # the database went away: try again later; the job stays "running" and is claimed again
        if self.request.retries < EXPORT_MAX_RETRIES:
            raise self.retry(exc=exc, countdown=10 * 2 ** self.request.retries) from exc
        services.export_fail(job_id=job_id)
        raise
    except SoftTimeLimitExceeded:
        logger.warning("staff export %s hit its time limit", job_id)
        job = ExportJob.objects.select_related("requested_by").filter(pk=job_id).first()
        language = (job.requested_by.language if job else "") or settings.LANGUAGE_CODE
        with override(language):
            services.export_fail(job_id=job_id, message=gettext(
                "The export took too long and was stopped. Narrow the list with its filters "
                "and export it again."))
        return {"job": job_id, "status": ExportStatus.FAILED}
    except Exception:
        logger.exception("staff export %s failed", job_id)
        services.export_fail(job_id=job_id)
        raise
    if job is None:
        return {"job": job_id, "status": "skipped"}
    return {"job": job.pk, "status": job.status, "rows": job.total_rows}


@shared_task(acks_late=True, **MAIL_RETRY)
def notify_export_finished(job_id: int) -> int:
    """Tell the requester that their export is ready (with the link) or failed."""
    job = (ExportJob.objects.select_related("requested_by")
           .filter(pk=job_id, finished_at__isnull=False, inline=False).first())
    if job is None or not job.requested_by.is_active:
        return 0
    user = job.requested_by
    with override(user.language or settings.LANGUAGE_CODE):
        url = settings.SITE_URL + reverse("staff-export-detail", args=[job.pk])
    return send_templated_email(
        to=[user.email], template="staff/export_email", language=user.language or None,
        context={"job": job, "user": user, "url": url,
                 "list_label": services.exports.KINDS[job.kind].label
                 if job.kind in services.exports.KINDS else job.kind},
    )


@shared_task(acks_late=True)
def purge_expired_exports() -> int:
    """Daily: delete export files older than STAFF_EXPORT_KEEP_DAYS (the jobs stay)."""
    return services.export_purge_expired()
