"""Every write in the training log: atomic, permission-checked, audited."""

from __future__ import annotations

import calendar
from datetime import date
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from code_portal.audit import audit_record, diff_fields
from code_portal.authz import require as _require
from code_portal.errors import DomainError
from code_portal.models import User
from code_portal.uploads import check_upload
from signatories.models import Signatory
from training.models import (
    Course,
    Headcount,
    ImportJob,
    ImportStatus,
    SessionAttachment,
    Trainee,
    TrainingRecord,
    TrainingSession,
)

ATTACHMENT_MAX_BYTES = 20 * 1024 * 1024
IMPORT_MAX_BYTES = 10 * 1024 * 1024

COURSE_FIELDS = ["title", "provider", "delivery_mode", "language", "duration_hours",
                 "covers_childrens_rights", "covers_prevention", "covers_reporting",
                 "validity_months", "is_active"]
SESSION_FIELDS = ["course", "starts_on", "ends_on", "is_online", "location", "trainer", "notes"]




def add_months(day: date, months: int) -> date:
    """Same day ``months`` later, clamped to the month's end (31 Jan + 1 month = 28/29 Feb)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return day.replace(year=year, month=month,
                       day=min(day.day, calendar.monthrange(year, month)[1]))


def expiry_for(course: Course, completed_on: date) -> date | None:
    return add_months(completed_on, course.validity_months) if course.validity_months else None


def courses_available_q(signatory: Signatory) -> Q:
    """Courses a company may record: the catalogue and its own."""
    return Q(signatory__isnull=True) | Q(signatory=signatory)


# --- Courses ---------------------------------------------------------------------------------

@transaction.atomic
def course_create(*, actor: User, signatory: Signatory | None, data: dict[str, Any]) -> Course:
    if signatory is None:
        if not actor.has_perm("training.manage_catalogue"):
            raise PermissionDenied(_("Only Code staff maintain the course catalogue."))
    else:
        _require(actor, "training.edit", signatory)
    course = Course.objects.create(signatory=signatory,
                                   **{k: v for k, v in data.items() if k in COURSE_FIELDS})
    audit_record(actor=actor, action="course.created", obj=course, signatory=signatory)
    return course


@transaction.atomic
def course_update(*, actor: User, course: Course, data: dict[str, Any]) -> Course:
    if course.signatory_id is None:
        if not actor.has_perm("training.manage_catalogue"):
            raise PermissionDenied(_("Only Code staff maintain the course catalogue."))
    else:
        _require(actor, "training.edit", course.signatory)
    before = {f: getattr(course, f) for f in COURSE_FIELDS}
    for key, value in data.items():
        if key in COURSE_FIELDS:
            setattr(course, key, value)
    course.save()
    changes = diff_fields(course, before, COURSE_FIELDS)
    if "validity_months" in changes:
        # Expiry is stored per record: recompute it for this course's records in one pass.
        _recompute_expiry(course)
    if changes:
        audit_record(actor=actor, action="course.updated", obj=course,
                     signatory=course.signatory, changes=changes)
    return course


def _recompute_expiry(course: Course) -> None:
    records = list(TrainingRecord.objects.filter(course=course).only("id", "completed_on"))
    for record in records:
        record.expires_on = expiry_for(course, record.completed_on)
    TrainingRecord.objects.bulk_update(records, ["expires_on"], batch_size=1000)


@transaction.atomic
def course_delete(*, actor: User, course: Course) -> None:
    if course.signatory_id is None:
        if not actor.has_perm("training.manage_catalogue"):
            raise PermissionDenied(_("Only Code staff maintain the course catalogue."))
    else:
        _require(actor, "training.edit", course.signatory)
    # Completions and sessions point at the course (PROTECT): they are evidence already given.
    if course.records.exists() or course.sessions.exists():
        raise DomainError(_("This course has sessions or completions and cannot be deleted; "
                            "mark it as no longer offered instead."))
    audit_record(actor=actor, action="course.deleted", obj=course, signatory=course.signatory)
    course.delete()


# --- Sessions --------------------------------------------------------------------------------

def _validate_session(signatory: Signatory, data: dict[str, Any]) -> None:
    course = data.get("course")
    if course is not None and not Course.objects.filter(
            courses_available_q(signatory), pk=course.pk).exists():
        raise DomainError(_("Choose a course from the catalogue or your own courses."),
                          field="course")
    today = timezone.localdate()
    if data.get("starts_on") and data["starts_on"] > today:
        raise DomainError(_("A session is recorded after it took place: the date cannot be in "
                            "the future."), field="starts_on")
    if data.get("ends_on") and data.get("starts_on") and data["ends_on"] < data["starts_on"]:
        raise DomainError(_("The end date is before the start date."), field="ends_on")


@transaction.atomic
def session_create(*, actor: User, signatory: Signatory, data: dict[str, Any]) -> TrainingSession:
    _require(actor, "training.edit", signatory)
    _validate_session(signatory, data)
    session = TrainingSession.objects.create(
        signatory=signatory, created_by=actor,
        **{k: v for k, v in data.items() if k in SESSION_FIELDS})
    audit_record(actor=actor, action="training_session.created", obj=session,
                 signatory=signatory)
    return session


@transaction.atomic
def session_update(*, actor: User, session: TrainingSession,
                   data: dict[str, Any]) -> TrainingSession:
    _require(actor, "training.edit", session.signatory)
    merged = {f: getattr(session, f) for f in SESSION_FIELDS} | data
    _validate_session(session.signatory, merged)
    before = {f: getattr(session, f) for f in SESSION_FIELDS}
    for key, value in data.items():
        if key in SESSION_FIELDS:
            setattr(session, key, value)
    session.save()
    changes = diff_fields(session, before, SESSION_FIELDS)
    if changes:
        audit_record(actor=actor, action="training_session.updated", obj=session,
                     signatory=session.signatory, changes=changes)
    return session


@transaction.atomic
def session_delete(*, actor: User, session: TrainingSession) -> None:
    _require(actor, "training.edit", session.signatory)
    audit_record(actor=actor, action="training_session.deleted", obj=session,
                 signatory=session.signatory)
    for attachment in session.attachments.all():
        name = attachment.file.name
        transaction.on_commit(lambda n=name, s=attachment.file.storage: s.delete(n))
    session.delete()


@transaction.atomic
def attachment_add(*, actor: User, session: TrainingSession,
                   upload: UploadedFile) -> SessionAttachment:
    _require(actor, "training.edit", session.signatory)
    try:
        checked = check_upload(upload, kinds=("pdf", "image", "office"),
                               max_bytes=ATTACHMENT_MAX_BYTES)
    except ValidationError as exc:
        raise DomainError(exc.messages[0], field="file") from exc
    attachment = SessionAttachment(session=session, original_name=checked.name,
                                   content_type=checked.content_type, size=checked.size,
                                   sha256=checked.sha256, uploaded_by=actor)
    attachment.file.save(checked.name, upload, save=False)
    attachment.save()
    audit_record(actor=actor, action="training_attachment.added", obj=attachment,
                 signatory=session.signatory,
                 changes={"file": {"to": checked.name}, "sha256": {"to": checked.sha256}})
    return attachment


@transaction.atomic
def attachment_delete(*, actor: User, attachment: SessionAttachment) -> None:
    session = attachment.session
    _require(actor, "training.edit", session.signatory)
    audit_record(actor=actor, action="training_attachment.deleted", obj=attachment,
                 signatory=session.signatory,
                 changes={"file": {"from": attachment.original_name}})
    name, storage = attachment.file.name, attachment.file.storage
    attachment.delete()
    transaction.on_commit(lambda: storage.delete(name))


# --- People and completions --------------------------------------------------------------------

def trainee_for(*, signatory: Signatory, staff_reference: str = "", name: str = "",
                email: str = "", department: str = "",
                is_customer_facing: bool | None = None) -> Trainee:
    """Find the person by staff reference (or by name when there is none), else create them.

    Without a staff reference the name is matched case-insensitively against every current
    person of the company, whatever their reference (so "Björn Ek" finds the Björn Ek recorded
    as E002 instead of creating a second person); more than one match is refused.
    ``is_customer_facing=None`` means "as recorded": an existing person keeps their flag and a
    new person is recorded as not customer-facing.
    """
    staff_reference, name = staff_reference.strip(), name.strip()
    if not staff_reference and not name:
        raise DomainError(_("Give the person's staff reference or name."), field="name")
    people = Trainee.objects.filter(signatory=signatory, erased_at__isnull=True)
    if staff_reference:
        trainee = people.filter(staff_reference=staff_reference).first()
    else:
        matches = list(people.filter(name__iexact=name).order_by("pk")[:2])
        if len(matches) > 1:
            raise DomainError(_("More than one person is called “%(name)s”: give the staff "
                                "reference of the one you mean.") % {"name": name},
                              field="staff_reference")
        trainee = matches[0] if matches else None
    if trainee is None:
        trainee = Trainee.objects.create(signatory=signatory, staff_reference=staff_reference,
                                         name=name, email=email.strip(),
                                         department=department.strip(),
                                         is_customer_facing=bool(is_customer_facing))
    else:
        changed = False
        updates = [("email", email.strip()), ("department", department.strip()),
                   ("is_customer_facing", is_customer_facing)]
        if staff_reference:
            # found by reference: the name given is the current one (found by name, the name
            # is the same but for its case: keep it as recorded)
            updates.insert(0, ("name", name))
        for field, value in updates:
            if value not in ("", None) and getattr(trainee, field) != value:
                setattr(trainee, field, value)
                changed = True
        if changed:
            trainee.save()
    return trainee


@transaction.atomic
def record_create(
    *,
    actor: User,
    signatory: Signatory,
    course: Course,
    completed_on: date,
    staff_reference: str = "",
    name: str = "",
    email: str = "",
    department: str = "",
    is_customer_facing: bool | None = None,
    session: TrainingSession | None = None,
) -> TrainingRecord:
    _require(actor, "training.edit", signatory)
    if completed_on > timezone.localdate():
        raise DomainError(_("The completion date cannot be in the future."), field="completed_on")
    if not Course.objects.filter(courses_available_q(signatory), pk=course.pk).exists():
        raise DomainError(_("Choose a course from the catalogue or your own courses."),
                          field="course")
    if session is not None and session.signatory_id != signatory.pk:
        raise DomainError(_("Choose one of your own sessions."), field="session")
    trainee = trainee_for(signatory=signatory, staff_reference=staff_reference, name=name,
                          email=email, department=department,
                          is_customer_facing=is_customer_facing)
    try:
        with transaction.atomic():
            record = TrainingRecord.objects.create(
                signatory=signatory, trainee=trainee, course=course, session=session,
                completed_on=completed_on, expires_on=expiry_for(course, completed_on),
                created_by=actor)
    except IntegrityError as exc:
        raise DomainError(_("This person's completion of this course on this date is already "
                            "recorded.")) from exc
    audit_record(actor=actor, action="training_record.created", obj=record, signatory=signatory)
    return record


@transaction.atomic
def record_delete(*, actor: User, record: TrainingRecord, reason: str = "") -> None:
    _require(actor, "training.edit", record.signatory)
    audit_record(actor=actor, action="training_record.deleted", obj=record,
                 signatory=record.signatory, reason=reason,
                 changes={"course": {"from": record.course_id},
                          "completed_on": {"from": str(record.completed_on)}})
    record._change_reason = reason or "deleted"
    record.delete()


@transaction.atomic
def trainee_erase(*, actor: User, trainee: Trainee) -> Trainee:
    """GDPR erasure: the person's data goes; their completions stay, anonymous, in the totals."""
    _require(actor, "training.erase_person", trainee.signatory)
    if trainee.erased_at is not None:
        return trainee
    trainee.name = ""
    trainee.email = ""
    trainee.staff_reference = ""
    trainee.erased_at = timezone.now()
    trainee.save()
    _forget_import_files(trainee.signatory)
    # simple-history keeps old versions of records, not of people: nothing personal remains.
    audit_record(actor=actor, action="trainee.erased", obj=trainee, signatory=trainee.signatory,
                 reason=_("Personal data erased on request"))
    return trainee


def _forget_import_files(signatory: Signatory) -> None:
    """An uploaded file may name the erased person: delete the stored copies of the company's
    finished imports (their results stay). Pending or running imports still need theirs."""
    jobs = ImportJob.objects.filter(signatory=signatory, status__in=ImportJob.FINISHED).exclude(
        file="")
    names = list(jobs.values_list("file", flat=True))
    if not names:
        return
    jobs.update(file="", updated_at=timezone.now())
    storage = ImportJob._meta.get_field("file").storage

    def delete_files() -> None:
        for name in names:
            storage.delete(name)

    transaction.on_commit(delete_files)


@transaction.atomic
def headcount_set(*, actor: User, signatory: Signatory, year: int, employees: int,
                  customer_facing_employees: int) -> Headcount:
    _require(actor, "training.edit", signatory)
    if customer_facing_employees > employees:
        raise DomainError(_("Customer-facing employees cannot outnumber all employees."),
                          field="customer_facing_employees")
    if not 1998 <= year <= timezone.localdate().year + 1:
        raise DomainError(_("Enter a year between 1998 and next year."), field="year")
    headcount, created = Headcount.objects.select_for_update().get_or_create(
        signatory=signatory, year=year,
        defaults={"employees": employees, "customer_facing_employees": customer_facing_employees})
    before = {"employees": headcount.employees,
              "customer_facing_employees": headcount.customer_facing_employees}
    if not created:
        headcount.employees = employees
        headcount.customer_facing_employees = customer_facing_employees
        headcount.save()
    changes = diff_fields(headcount, {} if created else before,
                          ["employees", "customer_facing_employees"])
    if changes:
        audit_record(actor=actor, action="headcount.set", obj=headcount, signatory=signatory,
                     changes=changes)
    return headcount


# --- Imports --------------------------------------------------------------------------------

@transaction.atomic
def import_create(*, actor: User, signatory: Signatory, upload: UploadedFile,
                  import_valid_rows: bool = False) -> ImportJob:
    """Store the upload and enqueue its import (a Celery task validates and imports it)."""
    _require(actor, "training.edit", signatory)
    try:
        checked = check_upload(upload, kinds=("csv", "xlsx"), max_bytes=IMPORT_MAX_BYTES)
    except ValidationError as exc:
        raise DomainError(exc.messages[0], field="file") from exc
    from training.importers import ImportFileError, check_import_file

    try:
        # encoding, columns and row count now, so a wrong file is answered at once
        check_import_file(upload, filename=checked.name)
    except ImportFileError as exc:
        raise DomainError(exc.message, field="file") from exc
    job = ImportJob(signatory=signatory, uploaded_by=actor, original_name=checked.name,
                    import_valid_rows=import_valid_rows)
    job.file.save(checked.name, upload, save=False)
    job.save()
    audit_record(actor=actor, action="training_import.created", obj=job, signatory=signatory,
                 changes={"file": {"to": checked.name}})
    _enqueue_import(job.pk)
    return job


def _enqueue_import(job_id: int) -> None:
    def enqueue() -> None:
        from training.tasks import run_import

        result = run_import.delay(job_id)
        ImportJob.objects.filter(pk=job_id, task_id="").update(task_id=result.id or "")

    transaction.on_commit(enqueue)


def import_valid_row_count(job: ImportJob) -> int:
    """Rows of a checked file that had no error (what "import the valid rows" would record)."""
    return max(0, job.total_rows - sum(1 for e in job.errors if e.get("line")))


@transaction.atomic
def import_accept_valid_rows(*, actor: User, job: ImportJob) -> ImportJob:
    """The user has seen the row errors of a file that imported nothing and chooses to import its
    valid rows: the same job runs again with ``import_valid_rows`` (no second upload)."""
    _require(actor, "training.edit", job.signatory)
    if (job.status != ImportStatus.INVALID or not any(e.get("line") for e in job.errors)
            or not import_valid_row_count(job)):
        raise DomainError(_("Only a file whose check found some valid rows and some rows with "
                            "errors can have its valid rows imported."))
    if not job.file or not job.file.storage.exists(job.file.name):
        raise DomainError(_("The file is no longer stored: upload it again."))
    # conditional UPDATE: two clicks (or two users) start one run, the second is refused
    won = ImportJob.objects.filter(pk=job.pk, status=ImportStatus.INVALID).update(
        status=ImportStatus.PENDING, import_valid_rows=True, processed_rows=0, finished_at=None,
        task_id="", updated_at=timezone.now())
    if not won:
        raise DomainError(_("This import has already been started again."))
    job.refresh_from_db()
    audit_record(actor=actor, action="training_import.valid_rows_accepted", obj=job,
                 signatory=job.signatory, from_state=ImportStatus.INVALID,
                 to_state=ImportStatus.PENDING,
                 changes={"import_valid_rows": {"from": False, "to": True}})
    _enqueue_import(job.pk)
    return job
