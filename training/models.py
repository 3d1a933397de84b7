"""Criterion 2: courses, sessions, the people trained and their completions, yearly headcount."""

from __future__ import annotations

from django.conf import global_settings, settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from code_portal.models import ImportJobBase, ImportStatus, TimeStampedModel  # noqa: F401 (re-exported)


class DeliveryMode(models.TextChoices):
    ELEARNING = "elearning", _("E-learning")
    CLASSROOM = "classroom", _("Classroom")
    WEBINAR = "webinar", _("Webinar")
    ON_THE_JOB = "on_the_job", _("On the job")


class Course(TimeStampedModel):
    """A training course. ``signatory`` empty = the Code's catalogue (maintained by Code staff)."""

    signatory = models.ForeignKey(
        "signatories.Signatory", null=True, blank=True, on_delete=models.CASCADE,
        related_name="courses", help_text=_("Empty for courses of the Code's catalogue."),
    )
    title = models.CharField(_("title"), max_length=200)
    provider = models.CharField(_("provider"), max_length=200)
    delivery_mode = models.CharField(_("delivery mode"), max_length=20,
                                     choices=DeliveryMode.choices)
    language = models.CharField(_("language"), max_length=10, choices=global_settings.LANGUAGES)
    duration_hours = models.DecimalField(_("duration (hours)"), max_digits=5, decimal_places=1)
    covers_childrens_rights = models.BooleanField(_("covers children's rights"), default=False)
    covers_prevention = models.BooleanField(_("covers prevention of sexual exploitation"),
                                            default=False)
    covers_reporting = models.BooleanField(_("covers how to report suspected cases"),
                                           default=False)
    validity_months = models.PositiveSmallIntegerField(
        _("validity (months)"), null=True, blank=True,
        help_text=_("A refresher is due after this many months. Empty: never expires."),
    )
    is_active = models.BooleanField(_("offered"), default=True)

    class Meta:
        ordering = ["title", "id"]
        verbose_name = _("course")
        verbose_name_plural = _("courses")
        constraints = [
            models.CheckConstraint(condition=models.Q(duration_hours__gt=0),
                                   name="training_course_positive_duration"),
            models.CheckConstraint(condition=models.Q(validity_months__isnull=True)
                                   | models.Q(validity_months__gt=0),
                                   name="training_course_positive_validity"),
        ]
        indexes = [
            # course pickers and lists: catalogue + the company's own
            models.Index(fields=["signatory", "title"], name="training_course_owner_idx"),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_catalogue(self) -> bool:
        return self.signatory_id is None


class TrainingSession(TimeStampedModel):
    signatory = models.ForeignKey("signatories.Signatory", on_delete=models.CASCADE,
                                  related_name="training_sessions")
    course = models.ForeignKey(Course, on_delete=models.PROTECT, related_name="sessions")
    starts_on = models.DateField(_("start date"))
    ends_on = models.DateField(_("end date"), null=True, blank=True)
    is_online = models.BooleanField(_("online"), default=False)
    location = models.CharField(_("location"), max_length=200, blank=True)
    trainer = models.CharField(_("trainer"), max_length=200, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL,
                                   related_name="+")

    class Meta:
        ordering = ["-starts_on", "-id"]
        verbose_name = _("training session")
        verbose_name_plural = _("training sessions")
        constraints = [
            models.CheckConstraint(condition=models.Q(ends_on__isnull=True)
                                   | models.Q(ends_on__gte=models.F("starts_on")),
                                   name="training_session_ends_after_start"),
        ]
        indexes = [models.Index(fields=["signatory", "-starts_on"], name="training_session_list_idx")]

    def __str__(self) -> str:
        return f"{self.course} – {self.starts_on}"


def attachment_path(instance: SessionAttachment, filename: str) -> str:
    return f"training/{instance.session.signatory_id}/sessions/{instance.session_id}/{filename}"


class SessionAttachment(TimeStampedModel):
    """Attendance sheet, slides… Private: served only through an authorised view."""

    session = models.ForeignKey(TrainingSession, on_delete=models.CASCADE,
                                related_name="attachments")
    file = models.FileField(upload_to=attachment_path, max_length=300)
    original_name = models.CharField(_("file name"), max_length=200)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL,
                                    related_name="+")

    class Meta:
        ordering = ["created_at"]

    def __str__(self) -> str:
        return self.original_name


class Trainee(TimeStampedModel):
    """A person of a signatory who takes training. Minimal personal data; erasable.

    Erasure blanks the personal fields but keeps the row and its completions, so totals already
    counted (coverage, annual reports) do not change.
    """

    signatory = models.ForeignKey("signatories.Signatory", on_delete=models.CASCADE,
                                  related_name="trainees")
    staff_reference = models.CharField(_("staff reference"), max_length=100, blank=True)
    name = models.CharField(_("name"), max_length=200, blank=True)
    email = models.EmailField(_("e-mail (optional)"), blank=True)
    department = models.CharField(_("department / role"), max_length=100, blank=True)
    is_customer_facing = models.BooleanField(_("customer-facing"), default=False)
    erased_at = models.DateTimeField(_("personal data erased"), null=True, blank=True)

    class Meta:
        ordering = ["name", "staff_reference", "id"]
        verbose_name = _("trained person")
        verbose_name_plural = _("trained people")
        constraints = [
            models.UniqueConstraint(
                fields=["signatory", "staff_reference"],
                condition=~models.Q(staff_reference=""),
                name="training_trainee_unique_reference",
            ),
            models.CheckConstraint(
                condition=~models.Q(staff_reference="", name="") | models.Q(erased_at__isnull=False),
                name="training_trainee_identified",
            ),
        ]
        indexes = [
            # coverage per department
            models.Index(fields=["signatory", "department"], name="training_trainee_dept_idx"),
        ]

    def __str__(self) -> str:
        if self.erased_at:
            return str(_("(erased)"))
        return self.name or self.staff_reference


class TrainingRecord(TimeStampedModel):
    """One completion: this person completed this course on this date."""

    signatory = models.ForeignKey("signatories.Signatory", on_delete=models.CASCADE,
                                  related_name="training_records")
    trainee = models.ForeignKey(Trainee, on_delete=models.CASCADE, related_name="records")
    course = models.ForeignKey(Course, on_delete=models.PROTECT, related_name="records")
    session = models.ForeignKey(TrainingSession, null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="records")
    completed_on = models.DateField(_("completed on"))
    # First day on which the training no longer counts (completed_on + course validity);
    # empty = never expires. Stored so that expiry queries are set-based and indexed.
    expires_on = models.DateField(_("valid until (exclusive)"), null=True, blank=True)
    import_job = models.ForeignKey("training.ImportJob", null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="records")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")

    history = HistoricalRecords()

    class Meta:
        ordering = ["-completed_on", "-id"]
        verbose_name = _("training record")
        verbose_name_plural = _("training records")
        constraints = [
            models.UniqueConstraint(fields=["trainee", "course", "completed_on"],
                                    name="training_record_no_duplicate_completion"),
            models.CheckConstraint(condition=models.Q(expires_on__isnull=True)
                                   | models.Q(expires_on__gt=models.F("completed_on")),
                                   name="training_record_expires_after_completion"),
        ]
        indexes = [
            # record list: a company's records, newest first
            models.Index(fields=["signatory", "-completed_on"], name="training_record_list_idx"),
            # coverage and refresher scans: valid/expiring records by date
            models.Index(fields=["signatory", "expires_on"], name="training_record_expiry_idx"),
            models.Index(fields=["expires_on"], name="training_record_expires_idx"),
        ]

    def __str__(self) -> str:
        # No personal data: this text is copied into the append-only audit trail, which an
        # erasure cannot change.
        return f"{self.course} ({self.completed_on}) #{self.pk or ''}"


class Headcount(TimeStampedModel):
    """What a company states about its staff for a year: the denominators of coverage."""

    signatory = models.ForeignKey("signatories.Signatory", on_delete=models.CASCADE,
                                  related_name="headcounts")
    year = models.PositiveSmallIntegerField(_("year"))
    employees = models.PositiveIntegerField(_("employees"))
    customer_facing_employees = models.PositiveIntegerField(_("customer-facing employees"))

    class Meta:
        ordering = ["-year"]
        verbose_name = _("headcount")
        verbose_name_plural = _("headcounts")
        constraints = [
            models.UniqueConstraint(fields=["signatory", "year"],
                                    name="training_headcount_one_per_year"),
            models.CheckConstraint(
                condition=models.Q(customer_facing_employees__lte=models.F("employees")),
                name="training_headcount_customer_facing_within_total",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.signatory} {self.year}"


def import_path(instance: ImportJob, filename: str) -> str:
    return f"training/{instance.signatory_id}/imports/{filename}"


class ImportJob(ImportJobBase):
    """A bulk upload of training completions."""

    signatory = models.ForeignKey("signatories.Signatory", on_delete=models.CASCADE,
                                  related_name="training_imports")
    file = models.FileField(upload_to=import_path, max_length=300)
    created_records = models.PositiveIntegerField(default=0)
    skipped_duplicates = models.PositiveIntegerField(default=0)

    class Meta(ImportJobBase.Meta):
        verbose_name = _("training import")
        verbose_name_plural = _("training imports")
        indexes = [models.Index(fields=["signatory", "-created_at"], name="training_import_list_idx")]
