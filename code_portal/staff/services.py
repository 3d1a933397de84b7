"""Writes of the staff workspace: export jobs (request, run, fail).

The audit trail has no write here: services across the apps write it with
``code_portal.audit.audit_record``; nothing in the app edits or deletes an entry.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from datetime import timedelta

from django.conf import settings
from django.core.files import File
from django.db import transaction
from django.http import QueryDict
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from code_portal.audit import audit_record
from code_portal.authz import require
from code_portal.errors import DomainError
from code_portal.models import User
from code_portal.staff import exports
from code_portal.staff.models import ExportJob, ExportStatus
from training.exports import Export

logger = logging.getLogger(__name__)

# Up to this many rows an export is written straight into the response; above it a Celery task
# writes the file and the person follows its progress (settings.STAFF_EXPORT_INLINE_MAX_ROWS).
DEFAULT_INLINE_MAX_ROWS = 2000
# rows between two progress updates of a running job (one UPDATE each)
PROGRESS_EVERY = 500

ProgressCallback = Callable[[int, int], None]


def keep_days() -> int:
    """Days a written export file is kept (settings.STAFF_EXPORT_KEEP_DAYS, default 7)."""
    return int(getattr(settings, "STAFF_EXPORT_KEEP_DAYS", 7))


def inline_max_rows() -> int:
    return int(getattr(settings, "STAFF_EXPORT_INLINE_MAX_ROWS", DEFAULT_INLINE_MAX_ROWS))


@transaction.atomic
def export_request(*, actor: User, kind: str, fmt: str, params: QueryDict | dict,
                   allow_inline: bool = True) -> tuple[ExportJob, Export | None]:
    """Record an export of a staff list with the list's current filters.

    Small results come back as an ``Export`` to write into the response at once (the job is
    recorded as done, without a file); larger ones (and every one with ``allow_inline=False``,
    the API's) get a pending job whose task is enqueued on commit. Either way the export is in
    the audit trail (who exported which list, with which filters, how many rows).
    """
    require(actor, "staff.export")
    spec = exports.KINDS.get(kind)
    if spec is None:
        raise DomainError(_("This list cannot be exported."), field="kind")
    if fmt not in exports.FORMATS:
        raise DomainError(_("Choose CSV or XLSX."), field="format")
    query = exports.clean_params(params)
    if spec.freeze:
        spec.freeze(query)
    queryset = spec.queryset(actor, query)
    total = queryset.count()
    inline = allow_inline and total <= inline_max_rows()
    now = timezone.now()
    job = ExportJob.objects.create(
        requested_by=actor, kind=kind, format=fmt, filters=dict(query.lists()), inline=inline,
        total_rows=total, processed_rows=total if inline else 0,
        status=ExportStatus.DONE if inline else ExportStatus.PENDING,
        finished_at=now if inline else None)
    audit_record(actor=actor, action="export.created", obj=job, changes={
        "list": {"to": kind}, "format": {"to": fmt}, "filters": {"to": query.urlencode()},
        "rows": {"to": total}})
    if inline:
        export = spec.build(queryset, query)
        ExportJob.objects.filter(pk=job.pk).update(filename=f"{export.filename}.{fmt}")
        return job, export

    def enqueue() -> None:
        from code_portal.staff.tasks import run_export

        result = run_export.delay(job.pk)
        ExportJob.objects.filter(pk=job.pk, task_id="").update(task_id=result.id or "")

    transaction.on_commit(enqueue)
    return job, None


def _counted(rows, job_id: int, total: int, on_progress: ProgressCallback | None,
             written: list[int]) -> Iterator:
    for done, row in enumerate(rows, start=1):
        yield row
        written[0] = done
        if done % PROGRESS_EVERY == 0:
            ExportJob.objects.filter(pk=job_id, status=ExportStatus.RUNNING).update(
                processed_rows=done, total_rows=max(total, done), updated_at=timezone.now())
            if on_progress:
                on_progress(done, total)


def export_execute(*, job_id: int, on_progress: ProgressCallback | None = None) -> ExportJob | None:
    """Write the file of a pending export. Returns None when there was nothing to do.

    Claim first: a pending job, or a running one whose worker died (the task is delivered again
    after ``reject_on_worker_lost``), is taken; a finished job exits quietly, so a task that
    runs twice writes one file and sends one e-mail. The rows are read again now, for the
    requester (their scope of today), with the filters stored on the job.
    """
    claimed = ExportJob.objects.filter(
        pk=job_id, status__in=[ExportStatus.PENDING, ExportStatus.RUNNING],
    ).update(status=ExportStatus.RUNNING, processed_rows=0, updated_at=timezone.now())
    if not claimed:
        return None
    job = ExportJob.objects.select_related("requested_by").get(pk=job_id)
    user = job.requested_by
    with translation.override(user.language or settings.LANGUAGE_CODE):
        if not user.has_perm("staff.export") or job.kind not in exports.KINDS:
            return _finish(job, ExportStatus.FAILED,
                           error=_("You are no longer allowed to export this list."))
        spec = exports.KINDS[job.kind]
        query = exports.clean_params(job.filters)
        queryset = spec.queryset(user, query)
        total = queryset.count()
        ExportJob.objects.filter(pk=job.pk).update(total_rows=total)
        if on_progress:
            on_progress(0, total)
        export = spec.build(queryset, query)
        rows_written = [0]
        export.rows = _counted(export.rows, job.pk, total, on_progress, rows_written)
        handle = exports.write_file(export, job.format)
        try:
            if job.file:  # an earlier run that died after storing its file
                job.file.delete(save=False)
            filename = f"{export.filename}.{job.format}"
            job.file.save(filename, File(handle, name=filename), save=False)
        finally:
            handle.close()
        finished = _finish(job, ExportStatus.DONE, file=job.file.name, filename=filename,
                           total_rows=rows_written[0], processed_rows=rows_written[0])
        if finished is None:  # another run of the same job finished first: keep its file only
            job.file.delete(save=False)
        return finished


def export_fail(*, job_id: int, message: str = "") -> ExportJob | None:
    """Mark a job that crashed as failed (once) and tell the requester."""
    job = (ExportJob.objects.select_related("requested_by")
           .filter(pk=job_id, status__in=[ExportStatus.PENDING, ExportStatus.RUNNING]).first())
    if job is None:
        return None
    with translation.override(job.requested_by.language or settings.LANGUAGE_CODE):
        return _finish(job, ExportStatus.FAILED, error=message or _(
            "The export stopped because of an unexpected error. Please try again later."))


def _finish(job: ExportJob, status: str, **fields) -> ExportJob | None:
    """Finish a running (or pending) job once; the winner schedules the e-mail."""
    with transaction.atomic():
        won = ExportJob.objects.filter(
            pk=job.pk, status__in=[ExportStatus.PENDING, ExportStatus.RUNNING],
        ).update(status=status, finished_at=timezone.now(), updated_at=timezone.now(), **fields)
        if not won:
            return None

        def notify() -> None:
            from code_portal.staff.tasks import notify_export_finished

            notify_export_finished.delay(job.pk)

        transaction.on_commit(notify)
    return ExportJob.objects.get(pk=job.pk)


def export_purge_expired(*, now=None) -> int:
    """Delete the files of exports finished more than ``keep_days()`` ago; the jobs stay, as
    the record of who exported what (the page then says the file is no longer available).
    Returns the number of files deleted. Safe to run concurrently: each job's file is cleared
    by a conditional update before its file is removed."""
    cutoff = (now or timezone.now()) - timedelta(days=keep_days())
    deleted = 0
    expired = (ExportJob.objects.filter(finished_at__lt=cutoff).exclude(file="")
               .values_list("pk", "file"))
    for pk, name in expired.iterator():
        if ExportJob.objects.filter(pk=pk, file=name).update(file=""):
            ExportJob.file.field.storage.delete(name)
            deleted += 1
    return deleted
