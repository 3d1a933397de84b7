"""Running an import job: claim it, validate its file, write the valid rows in batches.

Safe to run twice for the same job (a re-delivered task, a worker that died half way): people
are looked up before they are created, completions are inserted with ``ignore_conflicts`` on
the unique completion constraint, and only one run can finish the job.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from django.conf import settings
from django.db import transaction
from django.utils import timezone, translation
from django.utils.functional import Promise
from django.utils.translation import gettext as _

from code_portal.audit import audit_record
from signatories.models import Signatory
from training.importers.reading import ImportFileError
from training.importers.validation import ImportRow, chunks, existing_trainees, parse_upload
from training.models import ImportJob, ImportStatus, Trainee, TrainingRecord
from training.services import expiry_for

# Rows written per transaction: the progress bar moves once per batch, and a batch is the unit
# that a re-run may find half done (ignore_conflicts makes that harmless).
BATCH_SIZE = 1000

ProgressCallback = Callable[[int, int], None]
StrOrPromise = str | Promise


def import_execute(*, job_id: int, on_progress: ProgressCallback | None = None) -> ImportJob | None:
    """Validate the job's file and import it. Returns None when there was nothing to do.

    Claim first: only a pending job, or a running one whose worker died (the task is delivered
    again after ``reject_on_worker_lost``), is taken; a finished job exits quietly. Running twice
    writes nothing twice: the completions an earlier run of the job wrote are left out, people
    are looked up before they are created, and completions are inserted with
    ``ignore_conflicts`` on the unique completion constraint.
    """
    claimed = ImportJob.objects.filter(
        pk=job_id, status__in=[ImportStatus.PENDING, ImportStatus.RUNNING],
    ).update(status=ImportStatus.RUNNING, updated_at=timezone.now())
    if not claimed:
        return None
    job = ImportJob.objects.select_related("signatory", "uploaded_by").get(pk=job_id)
    language = (job.uploaded_by.language if job.uploaded_by else "") or settings.LANGUAGE_CODE
    with translation.override(language):
        try:
            with job.file.open("rb") as handle:
                data = handle.read()
            result = parse_upload(data, filename=job.original_name, signatory=job.signatory,
                                  job=job)
        except ImportFileError as exc:
            return _finish(job, ImportStatus.INVALID, errors=[{"line": None,
                                                               "errors": [exc.message]}])
        # (a job that already wrote rows in an earlier run finishes what it started, even if
        # someone recorded one of its completions by hand in between)
        if result.errors and not job.import_valid_rows and not result.already_imported:
            return _finish(job, ImportStatus.INVALID, errors=result.errors,
                           total_rows=result.total_rows)
        processed = result.total_rows - len(result.rows)
        ImportJob.objects.filter(pk=job.pk).update(total_rows=result.total_rows,
                                                   processed_rows=processed,
                                                   updated_at=timezone.now())
        if on_progress:
            on_progress(processed, result.total_rows)
        for batch in chunks(result.rows, BATCH_SIZE):
            processed += len(batch)
            _write_batch(job, batch, processed)
            if on_progress:
                on_progress(processed, result.total_rows)
        return _finish(job, ImportStatus.DONE, errors=result.errors,
                       total_rows=result.total_rows,
                       valid_rows=len(result.rows) + result.already_imported)


@transaction.atomic
def _write_batch(job: ImportJob, rows: Sequence[ImportRow], processed: int) -> None:
    # One writer per company at a time: people without a staff reference have no unique key in
    # the database, so two imports (or a re-delivered task) must not create the same person twice.
    list(Signatory.objects.select_for_update().filter(pk=job.signatory_id)
         .values_list("pk", flat=True))
    trainees = _trainees_for_batch(job.signatory_id, rows)
    records = []
    for row in rows:
        trainee = trainees.get(row.identity)
        if trainee is None:  # erased between lookup and insert: nothing to attach the row to
            continue
        records.append(TrainingRecord(
            signatory_id=job.signatory_id, trainee_id=trainee.pk, course_id=row.course.pk,
            completed_on=row.completed_on, expires_on=expiry_for(row.course, row.completed_on),
            import_job_id=job.pk, created_by_id=job.uploaded_by_id))
    TrainingRecord.objects.bulk_create(records, ignore_conflicts=True)
    _history_for_new_records(job)
    ImportJob.objects.filter(pk=job.pk).update(processed_rows=processed,
                                               updated_at=timezone.now())


def _trainees_for_batch(signatory_id: int, rows: Sequence[ImportRow]) -> dict[tuple, Trainee]:
    """Find or create the people of a batch (the last row about a person has the final say about
    their department, like ``services.trainee_for`` when records are added one by one)."""
    wanted: dict[tuple, ImportRow] = {}
    for row in rows:
        wanted[row.identity] = row
    fields = ("id", "staff_reference", "name", "email", "department", "is_customer_facing")
    existing = existing_trainees(signatory_id, wanted, fields)
    now = timezone.now()
    changed, new = [], []
    for identity, row in wanted.items():
        trainee = existing.get(identity)
        if trainee is None:
            new.append(Trainee(signatory_id=signatory_id, staff_reference=row.staff_reference,
                               name=row.name, email=row.email, department=row.department,
                               is_customer_facing=row.is_customer_facing))
            continue
        updates = {"name": row.name, "email": row.email, "department": row.department,
                   "is_customer_facing": row.is_customer_facing}
        dirty = False
        for name, value in updates.items():
            if value not in ("", None) and getattr(trainee, name) != value:
                setattr(trainee, name, value)
                dirty = True
        if dirty:
            trainee.updated_at = now
            changed.append(trainee)
    if changed:
        Trainee.objects.bulk_update(changed, [*fields[1:], "updated_at"])
    if new:
        # a person with a staff reference created meanwhile by someone else is simply found below
        Trainee.objects.bulk_create(new, ignore_conflicts=True)
        existing = existing_trainees(signatory_id, wanted)
    return existing


def _history_for_new_records(job: ImportJob) -> None:
    """bulk_create skips simple-history's signals: write the "created" versions ourselves, for
    the records of this job that have none yet (so a re-run does not write them twice)."""
    history = TrainingRecord.history.model
    new = list(TrainingRecord.objects.filter(import_job_id=job.pk).exclude(
        pk__in=history.objects.filter(import_job_id=job.pk).values("id")))
    if new:
        TrainingRecord.history.bulk_history_create(
            new, default_user=job.uploaded_by,
            default_change_reason=f"import {job.pk}: {job.original_name}"[:100])


def _finish(job: ImportJob, status: str, *, errors: list[dict], total_rows: int = 0,
            valid_rows: int = 0, processed_rows: int | None = None) -> ImportJob | None:
    from training.tasks import notify_import_finished

    with transaction.atomic():
        # a failed job may have written some batches before it stopped: say so
        created = (TrainingRecord.objects.filter(import_job_id=job.pk).count()
                   if status != ImportStatus.INVALID else 0)
        now = timezone.now()
        won = ImportJob.objects.filter(pk=job.pk, status=ImportStatus.RUNNING).update(
            status=status, errors=errors, total_rows=total_rows,
            processed_rows=total_rows if processed_rows is None else processed_rows,
            created_records=created, skipped_duplicates=max(0, valid_rows - created),
            finished_at=now, updated_at=now)
        if not won:  # another run finished it first
            return None
        job.refresh_from_db()
        audit_record(actor=job.uploaded_by, action=f"training_import.{status}", obj=job,
                     signatory=job.signatory, to_state=status,
                     changes={"total_rows": {"to": job.total_rows},
                              "created_records": {"to": job.created_records},
                              "skipped_duplicates": {"to": job.skipped_duplicates},
                              "rows_with_errors": {"to": len(errors)}})
        transaction.on_commit(lambda: notify_import_finished.delay(job.pk))
    return job


def import_fail(*, job_id: int, message: StrOrPromise | None = None) -> ImportJob | None:
    """Mark a job that crashed as failed (once) and tell the uploader."""
    job = (ImportJob.objects.select_related("signatory", "uploaded_by")
           .filter(pk=job_id, status__in=[ImportStatus.PENDING, ImportStatus.RUNNING]).first())
    if job is None:
        return None
    if job.status == ImportStatus.PENDING:
        ImportJob.objects.filter(pk=job.pk, status=ImportStatus.PENDING).update(
            status=ImportStatus.RUNNING)
    language = (job.uploaded_by.language if job.uploaded_by else "") or settings.LANGUAGE_CODE
    with translation.override(language):
        text = str(message) if message else _("The import stopped because of an unexpected error. Please try "
                            "again later: completions already imported will not be recorded "
                            "twice.")
        return _finish(job, ImportStatus.FAILED, errors=[{"line": None, "errors": [text]}],
                       total_rows=job.total_rows, processed_rows=job.processed_rows)
