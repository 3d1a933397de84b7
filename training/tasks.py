"""Celery tasks for training: they take ids and call a service or send mail; nothing else."""

from __future__ import annotations

import logging

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.urls import reverse
from django.utils.translation import gettext_lazy, override

from code_portal.notifications import send_templated_email
from training import importers
from training.models import ImportJob, ImportStatus

logger = logging.getLogger(__name__)

# 100,000 rows (the most a file may have) import in well under this; it must stay below the
# broker's visibility timeout (CELERY_VISIBILITY_TIMEOUT, 1 hour) or a late-acked task that is
# still running would be delivered a second time.
IMPORT_TIME_LIMIT = 30 * 60
IMPORT_MAX_RETRIES = 3
MAIL_RETRY = {"autoretry_for": (OSError,), "retry_backoff": True, "max_retries": 5}


@shared_task(bind=True, acks_late=True, reject_on_worker_lost=True,
             time_limit=IMPORT_TIME_LIMIT, soft_time_limit=IMPORT_TIME_LIMIT - 60,
             max_retries=IMPORT_MAX_RETRIES)
def run_import(self, job_id: int) -> dict:
    """Validate and import one uploaded file. Safe to run again for the same job (see
    ``importers.import_execute``); progress goes to the job row and to the task's meta."""

    def progress(done: int, total: int) -> None:
        if self.request.id and not self.request.is_eager:
            self.update_state(state="PROGRESS", meta={"current": done, "total": total})

    try:
        job = importers.import_execute(job_id=job_id, on_progress=progress)
    except (OperationalError, InterfaceError) as exc:
        # the database went away: try again later; the job stays "running" and is claimed again
        if self.request.retries < IMPORT_MAX_RETRIES:
            raise self.retry(exc=exc, countdown=10 * 2 ** self.request.retries) from exc
        importers.import_fail(job_id=job_id)
        raise
    except SoftTimeLimitExceeded:
        logger.warning("training import %s hit its time limit", job_id)
        # lazy: worded in the uploader's language by import_fail
        importers.import_fail(job_id=job_id, message=gettext_lazy(
            "The import took too long and was stopped. Split the file into smaller files and "
            "upload them one by one: completions already imported will not be recorded twice."))
        return {"job": job_id, "status": ImportStatus.FAILED}
    except Exception:
        logger.exception("training import %s failed", job_id)
        importers.import_fail(job_id=job_id)
        raise
    if job is None:
        return {"job": job_id, "status": "skipped"}
    return {"job": job.pk, "status": job.status, "created": job.created_records,
            "skipped": job.skipped_duplicates, "errors": len(job.errors)}


@shared_task(acks_late=True, **MAIL_RETRY)
def notify_import_finished(job_id: int) -> int:
    """Tell the uploader that their import is finished (done, with errors, or failed)."""
    job = (ImportJob.objects.select_related("signatory", "uploaded_by")
           .filter(pk=job_id, finished_at__isnull=False).first())
    if job is None or job.uploaded_by is None or not job.uploaded_by.is_active:
        return 0
    user = job.uploaded_by
    with override(user.language or settings.LANGUAGE_CODE):
        url = settings.SITE_URL + reverse("training-import-detail", args=[job.signatory_id, job.pk])
    return send_templated_email(
        to=[user.email], template="training/email/import_done", language=user.language or None,
        context={"job": job, "signatory": job.signatory, "user": user, "url": url,
                 "error_rows": sum(1 for e in job.errors if e.get("line")),
                 "file_errors": [m for e in job.errors if not e.get("line") for m in e["errors"]]},
    )
