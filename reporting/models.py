"""Annual compliance reports on the six criteria: versioned questionnaires, answers, evidence,
and the staff review."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django_fsm import ConcurrentTransitionMixin, FSMField, transition
from django_fsm_log.decorators import fsm_log_by, fsm_log_description
from simple_history.models import HistoricalRecords

from code_portal.models import TimeStampedModel


class Criterion(models.IntegerChoices):
    POLICY = 1, _("1. Policy")
    TRAINING = 2, _("2. Training")
    CONTRACTS = 3, _("3. Contracts")
    TRAVELLERS = 4, _("4. Travellers")
    STAKEHOLDERS = 5, _("5. Stakeholders")
    REPORTING = 6, _("6. Reporting")


class Questionnaire(TimeStampedModel):
    """One version of the questions for a reporting year. Reports pin the version they started
    with; a published version is never edited in place (copy it to a new version instead)."""

    year = models.PositiveSmallIntegerField(_("reporting year"))
    version = models.PositiveSmallIntegerField(_("version"), default=1)
    title = models.CharField(_("title"), max_length=200)
    is_published = models.BooleanField(_("published"), default=False)

    class Meta:
        ordering = ["-year", "-version"]
        verbose_name = _("questionnaire")
        verbose_name_plural = _("questionnaires")
        constraints = [
            models.UniqueConstraint(fields=["year", "version"],
                                    name="reporting_questionnaire_unique_version"),
        ]

    def __str__(self) -> str:
        return f"{self.title} ({self.year} v{self.version})"


class Section(models.Model):
    questionnaire = models.ForeignKey(Questionnaire, on_delete=models.CASCADE,
                                      related_name="sections")
    criterion = models.PositiveSmallIntegerField(_("criterion"), choices=Criterion.choices)
    title = models.CharField(_("title"), max_length=200)
    intro = models.TextField(_("introduction"), blank=True)
    order = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        ordering = ["order", "criterion", "id"]
        constraints = [
            models.UniqueConstraint(fields=["questionnaire", "criterion"],
                                    name="reporting_section_one_per_criterion"),
        ]

    def __str__(self) -> str:
        return self.title


class QuestionType(models.TextChoices):
    YES_NO = "yes_no", _("Yes / no")
    SINGLE = "single", _("Single choice")
    MULTIPLE = "multiple", _("Multiple choice")
    NUMBER = "number", _("Number")
    PERCENTAGE = "percentage", _("Percentage")
    SHORT_TEXT = "short_text", _("Short text")
    LONG_TEXT = "long_text", _("Long text")
    DATE = "date", _("Date")
    FILE = "file", _("File evidence")


class Prefill(models.TextChoices):
    NONE = "", _("None")
    TRAINING_CF_TRAINED = "training.customer_facing_trained", _(
        "Training log: customer-facing employees with valid training")
    TRAINING_CF_TRAINED_IN_YEAR = "training.customer_facing_trained_in_year", _(
        "Training log: customer-facing employees trained during the reporting year")
    TRAINING_CF_SHARE = "training.customer_facing_share", _(
        "Training log: share of customer-facing employees trained")
    PARTNERS_CLAUSE_SHARE = "partners.clause_share", _(
        "Hotel partners: share of contracts with the Code clause")


class Question(models.Model):
    section = models.ForeignKey(Section, on_delete=models.CASCADE, related_name="questions")
    code = models.SlugField(_("code"), max_length=60,
                            help_text=_("Stable key, the same across versions (for last year's "
                                        "answer)."))
    text = models.TextField(_("question"))
    help_text = models.TextField(_("help text"), blank=True)
    type = models.CharField(_("type"), max_length=20, choices=QuestionType.choices)
    required = models.BooleanField(_("required"), default=True)
    choices = models.JSONField(_("choices"), default=list, blank=True,
                               help_text=_('For choice questions: [{"value": "…", "label": "…"}]'))
    allows_evidence = models.BooleanField(_("evidence may be attached"), default=False)
    show_if_question = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="dependants",
        verbose_name=_("show only if question"))
    show_if_value = models.CharField(_("…has the answer"), max_length=100, blank=True)
    prefill = models.CharField(_("prefill from"), max_length=60, choices=Prefill.choices,
                               blank=True, default="")
    order = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        ordering = ["order", "id"]
        constraints = [
            models.UniqueConstraint(fields=["section", "code"],
                                    name="reporting_question_unique_code"),
        ]

    def __str__(self) -> str:
        return self.text[:80]


class ReportStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SUBMITTED = "submitted", _("Submitted")
    UNDER_REVIEW = "under_review", _("Under review")
    CHANGES_REQUESTED = "changes_requested", _("Changes requested")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")


R = ReportStatus


class Score(models.TextChoices):
    MET = "met", _("Met")
    PARTLY = "partly", _("Partly met")
    NOT_MET = "not_met", _("Not met")


class Report(ConcurrentTransitionMixin, TimeStampedModel):
    signatory = models.ForeignKey("signatories.Signatory", on_delete=models.CASCADE,
                                  related_name="reports")
    year = models.PositiveSmallIntegerField(_("reporting year"))
    questionnaire = models.ForeignKey(Questionnaire, on_delete=models.PROTECT,
                                      related_name="reports")
    due_on = models.DateField(_("due date"))
    status = FSMField(_("status"), max_length=20, choices=ReportStatus.choices, default=R.DRAFT,
                      protected=True)
    # Optimistic lock for the draft: every save of answers must name the version it started from.
    version = models.PositiveIntegerField(default=1)
    submission_count = models.PositiveSmallIntegerField(default=0)
    submitted_at = models.DateTimeField(_("submitted"), null=True, blank=True)
    reviewer = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                 on_delete=models.SET_NULL, related_name="reports_to_review",
                                 verbose_name=_("reviewer"))
    overall_score = models.CharField(_("overall score"), max_length=10, choices=Score.choices,
                                     blank=True)
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    decision_reason = models.TextField(_("reason for the decision"), blank=True)

    history = HistoricalRecords(excluded_fields=["status", "updated_at", "version"])

    class Meta:
        ordering = ["-year", "signatory_id"]
        verbose_name = _("annual report")
        verbose_name_plural = _("annual reports")
        constraints = [
            models.UniqueConstraint(fields=["signatory", "year"],
                                    name="reporting_report_one_per_year"),
        ]
        indexes = [
            # review queue: by status, oldest submission first
            models.Index(fields=["status", "submitted_at"], name="reporting_queue_idx"),
            # due/overdue scans
            models.Index(fields=["status", "due_on"], name="reporting_due_idx"),
            models.Index(fields=["reviewer", "status"], name="reporting_reviewer_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.signatory} – {self.year}"

    @property
    def is_editable_by_company(self) -> bool:
        return self.status in (R.DRAFT, R.CHANGES_REQUESTED)

    @fsm_log_by
    @fsm_log_description
    @transition(field=status, source=[R.DRAFT, R.CHANGES_REQUESTED], target=R.SUBMITTED)
    def submit(self, *, by=None, description=""):
        pass

    @fsm_log_by
    @fsm_log_description
    @transition(field=status, source=[R.SUBMITTED, R.UNDER_REVIEW], target=R.UNDER_REVIEW)
    def start_review(self, *, by=None, description=""):
        pass

    @fsm_log_by
    @fsm_log_description
    @transition(field=status, source=[R.SUBMITTED, R.UNDER_REVIEW], target=R.CHANGES_REQUESTED)
    def request_changes(self, *, by=None, description=""):
        pass

    @fsm_log_by
    @fsm_log_description
    @transition(field=status, source=[R.SUBMITTED, R.UNDER_REVIEW], target=R.APPROVED)
    def approve(self, *, by=None, description=""):
        pass

    @fsm_log_by
    @fsm_log_description
    @transition(field=status, source=[R.SUBMITTED, R.UNDER_REVIEW], target=R.REJECTED)
    def reject(self, *, by=None, description=""):
        pass


class Answer(models.Model):
    report = models.ForeignKey(Report, on_delete=models.CASCADE, related_name="answers")
    question = models.ForeignKey(Question, on_delete=models.PROTECT, related_name="answers")
    value = models.JSONField(_("answer"), null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL,
                                   related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["report", "question"],
                                    name="reporting_answer_one_per_question"),
        ]

    def __str__(self) -> str:
        return f"{self.report} / {self.question.code}"


def evidence_path(instance: Evidence, filename: str) -> str:
    return f"reports/{instance.report.signatory_id}/{instance.report_id}/{filename}"


class Evidence(models.Model):
    """A file attached to an answer. Private: served only through an authorised view."""

    report = models.ForeignKey(Report, on_delete=models.CASCADE, related_name="evidence")
    question = models.ForeignKey(Question, on_delete=models.PROTECT, related_name="evidence")
    file = models.FileField(upload_to=evidence_path, max_length=300)
    original_name = models.CharField(_("file name"), max_length=200)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField(_("size"))
    sha256 = models.CharField(_("checksum (SHA-256)"), max_length=64)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL,
                                    related_name="+")
    uploaded_at = models.DateTimeField(_("uploaded"), auto_now_add=True)

    class Meta:
        ordering = ["uploaded_at", "id"]
        verbose_name = _("evidence")
        verbose_name_plural = _("evidence")
        indexes = [models.Index(fields=["report", "question"], name="reporting_evidence_idx")]

    def __str__(self) -> str:
        return self.original_name


class CriterionReview(TimeStampedModel):
    """The reviewer's score and comment on one criterion, per submission round."""

    report = models.ForeignKey(Report, on_delete=models.CASCADE, related_name="criterion_reviews")
    round = models.PositiveSmallIntegerField(_("submission round"))
    criterion = models.PositiveSmallIntegerField(_("criterion"), choices=Criterion.choices)
    score = models.CharField(_("score"), max_length=10, choices=Score.choices, blank=True)
    comment = models.TextField(_("comment"), blank=True)
    reviewer = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL,
                                 related_name="+")

    class Meta:
        ordering = ["round", "criterion"]
        constraints = [
            models.UniqueConstraint(fields=["report", "round", "criterion"],
                                    name="reporting_review_one_per_criterion_round"),
        ]

    def __str__(self) -> str:
        return f"{self.report} C{self.criterion} r{self.round}"


# --- Certificates -------------------------------------------------------------------------------


class CertificateCounter(models.Model):
    """The last certificate number given out in a year. Its row is locked (SELECT … FOR UPDATE)
    while a number is taken, so numbers are sequential per year with no duplicates."""

    year = models.PositiveSmallIntegerField(primary_key=True)
    last_number = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.year}: {self.last_number}"


class CertificateState(models.TextChoices):
    VALID = "valid", _("Valid")
    EXPIRED = "expired", _("Expired")
    REVOKED = "revoked", _("Revoked")


def certificate_path(instance: Certificate, filename: str) -> str:
    return f"certificates/{instance.signatory_id}/{instance.number}.pdf"


class Certificate(TimeStampedModel):
    """A certificate of membership in good standing, issued when a year's report is approved.

    Private file: the PDF is served only through authorised views. Anyone may verify it by its
    code, which shows only the public fields.
    """

    signatory = models.ForeignKey("signatories.Signatory", on_delete=models.CASCADE,
                                  related_name="certificates")
    report = models.ForeignKey(Report, on_delete=models.PROTECT, related_name="certificates")
    year = models.PositiveSmallIntegerField(_("reporting year"))
    sequence = models.PositiveIntegerField(_("sequence in the year"))
    number = models.CharField(_("certificate number"), max_length=20, unique=True)
    code = models.CharField(_("verification code"), max_length=20, unique=True)
    company_name = models.CharField(_("company"), max_length=200)
    country = models.CharField(_("country"), max_length=2)
    valid_from = models.DateField(_("valid from"))
    valid_until = models.DateField(_("valid until"))
    issued_at = models.DateTimeField(_("issued"))
    replaces = models.OneToOneField("self", null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="replaced_by", verbose_name=_("replaces"))
    pdf = models.FileField(upload_to=certificate_path, max_length=200, blank=True)
    pdf_size = models.PositiveIntegerField(_("PDF size"), default=0)
    rendered_at = models.DateTimeField(_("PDF rendered"), null=True, blank=True)
    emailed_at = models.DateTimeField(_("e-mailed"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)
    revoked_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+",
                                   verbose_name=_("revoked by"))
    revocation_reason = models.TextField(_("reason for revocation"), blank=True)

    history = HistoricalRecords(excluded_fields=["updated_at", "rendered_at", "pdf", "pdf_size"])

    class Meta:
        ordering = ["-year", "-sequence"]
        verbose_name = _("certificate")
        verbose_name_plural = _("certificates")
        constraints = [
            # one certificate in force per signatory and year; re-issues revoke the old one first
            models.UniqueConstraint(fields=["signatory", "year"],
                                    condition=models.Q(revoked_at__isnull=True),
                                    name="reporting_certificate_one_current_per_year"),
            # one original certificate per approved report: the issue task is idempotent
            models.UniqueConstraint(fields=["report"], condition=models.Q(replaces__isnull=True),
                                    name="reporting_certificate_one_per_approval"),
            models.UniqueConstraint(fields=["year", "sequence"],
                                    name="reporting_certificate_unique_sequence"),
            models.CheckConstraint(condition=models.Q(valid_until__gte=models.F("valid_from")),
                                   name="reporting_certificate_validity_order"),
        ]
        indexes = [
            # company list: WHERE signatory_id = … ORDER BY year DESC, sequence DESC
            models.Index(fields=["signatory", "-year", "-sequence"],
                         name="reporting_cert_signatory_idx"),
        ]

    def __str__(self) -> str:
        return self.number

    def state_on(self, day) -> str:
        if self.revoked_at is not None:
            return CertificateState.REVOKED
        if day > self.valid_until:
            return CertificateState.EXPIRED
        return CertificateState.VALID


class RegenerationStatus(models.TextChoices):
    PENDING = "pending", _("Waiting")
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")


class CertificateRegeneration(TimeStampedModel):
    """A bulk re-render of one year's certificate PDFs (numbers and codes unchanged); its row
    carries the progress the staff page polls."""

    year = models.PositiveSmallIntegerField(_("year"))
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True,
                                     on_delete=models.SET_NULL, related_name="+")
    status = models.CharField(_("status"), max_length=10, choices=RegenerationStatus.choices,
                              default=RegenerationStatus.PENDING)
    total = models.PositiveIntegerField(default=0)
    done = models.PositiveIntegerField(default=0)
    # resume point when the broker redelivers the task after a worker was lost
    last_certificate_id = models.PositiveBigIntegerField(default=0)
    error = models.TextField(blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.year} ({self.status})"

    @property
    def percent(self) -> int:
        if not self.total:
            return 100 if self.status == RegenerationStatus.DONE else 0
        return int(100 * self.done / self.total)
