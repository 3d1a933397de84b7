"""Every write to annual reports: atomic, permission-checked, audited, side effects on commit."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _
from django_fsm import TransitionNotAllowed

from code_portal.audit import audit_record
from code_portal.authz import require as _require
from code_portal.errors import DomainError
from code_portal.models import User
from code_portal.uploads import check_upload
from reporting import answers as answer_rules
from reporting.models import (
    Answer,
    Criterion,
    CriterionReview,
    Evidence,
    Prefill,
    Question,
    Questionnaire,
    QuestionType,
    Report,
    ReportStatus,
    Score,
    Section,
)
from signatories.models import Signatory, SignatoryStatus

EVIDENCE_MAX_BYTES = 20 * 1024 * 1024
REPORTING_STATUSES = (SignatoryStatus.ACTIVE, SignatoryStatus.REPORTING_OVERDUE,
                      SignatoryStatus.SUSPENDED)


class EditConflict(DomainError):
    """Someone else saved the report since this user loaded it."""


class MissingAnswers(DomainError):
    def __init__(self, missing: list[answer_rules.Missing]):
        super().__init__(_("Some required answers are missing."))
        self.missing = missing




def default_due_date(signatory: Signatory, year: int) -> date:
    """Staff's deadline if set, else the anniversary of signing in the reporting year's
    following year (12 months after signing, then each anniversary)."""
    if signatory.reporting_deadline and signatory.reporting_deadline.year == year + 1:
        return signatory.reporting_deadline
    start = (signatory.member_since or timezone.localdate())
    target_year = year + 1
    try:
        return start.replace(year=target_year)
    except ValueError:
        return start.replace(year=target_year, day=28)


def current_questionnaire(year: int) -> Questionnaire:
    q = (Questionnaire.objects.filter(year__lte=year, is_published=True)
         .order_by("-year", "-version").first())
    if q is None:
        raise DomainError(_("There is no published questionnaire for %(year)s yet.")
                          % {"year": year})
    return q


def _customer_facing_trained_in_year(signatory: Signatory, year: int, as_of: date) -> int:
    """Customer-facing people of the company with a completion dated in the reporting year (up
    to ``as_of``): "trained this year", where coverage counts training still valid however old."""
    from training.models import Trainee

    return (Trainee.objects.filter(signatory=signatory, is_customer_facing=True,
                                   records__completed_on__gte=date(year, 1, 1),
                                   records__completed_on__lte=as_of)
            .values("pk").distinct().count())


def _prefill_values(signatory: Signatory, year: int) -> dict[str, Any]:
    from signatories.partners.selectors import clause_share
    from training.coverage import coverage_for

    as_of = min(date(year, 12, 31), timezone.localdate())
    coverage = coverage_for(signatory, as_of)
    values: dict[str, Any] = {
        Prefill.TRAINING_CF_TRAINED: coverage.customer_facing_trained,
        Prefill.TRAINING_CF_TRAINED_IN_YEAR: _customer_facing_trained_in_year(signatory, year,
                                                                              as_of),
        Prefill.TRAINING_CF_SHARE: coverage.customer_facing_share,
        # of the hotel contracts in force on as_of: carrying the clause and confirmed by the
        # hotel on that day (definition in signatories.partners.selectors.clause_share)
        Prefill.PARTNERS_CLAUSE_SHARE: clause_share(signatory, as_of),
    }
    return {k: v for k, v in values.items() if v is not None}


def _existing_report(signatory: Signatory, year: int) -> Report | None:
    return Report.objects.filter(signatory=signatory, year=year).first()


@transaction.atomic
def report_start(*, actor: User, signatory: Signatory, year: int) -> Report:
    """Open the year's report (draft), pinned to the current questionnaire, prefilled."""
    _require(actor, "reporting.edit_report", signatory)
    if signatory.status not in REPORTING_STATUSES:
        raise DomainError(_("Only signed members report."))
    existing = _existing_report(signatory, year)
    if existing is not None:
        return existing
    questionnaire = current_questionnaire(year)
    try:
        # A colleague (or a double click) may start the same year at the same moment: the
        # unique (signatory, year) constraint lets one insert win; the other opens that report.
        with transaction.atomic():
            report = Report.objects.create(signatory=signatory, year=year,
                                           questionnaire=questionnaire,
                                           due_on=default_due_date(signatory, year))
    except IntegrityError:
        return Report.objects.get(signatory=signatory, year=year)
    prefills = _prefill_values(signatory, year)
    questions = Question.objects.filter(section__questionnaire=questionnaire).exclude(prefill="")
    Answer.objects.bulk_create([
        Answer(report=report, question=q, value=prefills[q.prefill], updated_by=actor)
        for q in questions if q.prefill in prefills
    ])
    audit_record(actor=actor, action="report.started", obj=report, signatory=signatory,
                 to_state=report.status)
    return report


def report_questions(report: Report) -> list[Question]:
    return list(Question.objects.filter(section__questionnaire_id=report.questionnaire_id)
                .select_related("section").order_by("section__order", "section__criterion",
                                                    "order", "id"))


@transaction.atomic
def report_save_answers(*, actor: User, report: Report, values: dict[str, Any],
                        expected_version: int) -> tuple[Report, dict[str, str]]:
    """Save answers (by question code). Returns the report and per-question errors.

    Valid answers are saved even if others are invalid, so nothing the user typed is lost; the
    invalid ones come back as errors. The version check refuses a save based on a stale copy.
    """
    _require(actor, "reporting.edit_report", report.signatory)
    updated = Report.objects.filter(
        pk=report.pk, version=expected_version,
        status__in=[ReportStatus.DRAFT, ReportStatus.CHANGES_REQUESTED],
    ).update(version=F("version") + 1, updated_at=timezone.now())
    if not updated:
        current = Report.objects.get(pk=report.pk)
        if not current.is_editable_by_company:
            raise DomainError(_("This report has been submitted and can no longer be edited."))
        raise EditConflict(_("Someone else saved this report while you were editing it. "
                             "Reload to see their changes; your answers are still in the form."))
    questions = {q.code: q for q in report_questions(report)}
    errors: dict[str, str] = {}
    changed = []
    existing = {a.question_id: a for a in Answer.objects.filter(report=report)}
    for code, raw in values.items():
        question = questions.get(code)
        if question is None:
            errors[code] = _("Unknown question.")
            continue
        if question.type == QuestionType.FILE:
            continue
        try:
            value = answer_rules.clean_value(question, raw)
        except answer_rules.AnswerError as exc:
            errors[code] = str(exc)
            continue
        answer = existing.get(question.pk)
        if answer is None:
            existing[question.pk] = Answer(report=report, question=question, value=value,
                                           updated_by=actor)
            changed.append(existing[question.pk])
        elif answer.value != value:
            answer.value = value
            answer.updated_by = actor
            changed.append(answer)
    for answer in changed:
        answer.save()
    if changed:
        codes = {q.pk: q.code for q in questions.values()}  # no query per changed answer
        audit_record(actor=actor, action="report.answers_saved", obj=report,
                     signatory=report.signatory,
                     changes={"questions": {"to": sorted({codes[a.question_id]
                                                          for a in changed})}})
    report.refresh_from_db()
    return report, errors


def report_missing(report: Report) -> list[answer_rules.Missing]:
    questions = report_questions(report)
    values = dict(Answer.objects.filter(report=report).values_list("question_id", "value"))
    with_evidence = set(Evidence.objects.filter(report=report)
                        .values_list("question_id", flat=True))
    return answer_rules.missing_required(questions, values, with_evidence)


def _transition(*, report: Report, actor: User | None, name: str, reason: str = "",
                extra: dict | None = None, changes: dict | None = None) -> Report:
    locked = Report.objects.select_for_update().get(pk=report.pk)
    before = locked.status
    try:
        getattr(locked, name)(by=actor, description=reason)
    except TransitionNotAllowed as exc:
        raise DomainError(_("A report that is “%(status)s” cannot be changed this way.")
                          % {"status": locked.get_status_display()}) from exc
    for key, value in (extra or {}).items():
        setattr(locked, key, value)
    locked.save()
    audit_record(actor=actor, action=f"report.{name}", obj=locked, signatory=locked.signatory,
                 from_state=before, to_state=locked.status, reason=reason, changes=changes)
    report.refresh_from_db()
    return report


def _check_score(score: str | None, field: str) -> None:
    if score and score not in Score.values:
        raise DomainError(_("Choose met, partly met or not met."), field=field)


def _decision_changes(report: Report, overall_score: str | None) -> dict[str, Any]:
    """What the decision's audit row keeps beside its reason: the round's score and comment per
    criterion (a request for changes may say everything there) and the overall score."""
    reviews = CriterionReview.objects.filter(report=report, round=max(report.submission_count, 1))
    criteria = {str(r.criterion): {"score": r.score, "comment": r.comment}
                for r in reviews if r.score or r.comment}
    changes: dict[str, Any] = {}
    if criteria:
        changes["criteria"] = {"to": criteria}
    after = report.overall_score if overall_score is None else overall_score
    if after or report.overall_score:
        changes["overall_score"] = {"from": report.overall_score, "to": after}
    return changes


def _decision_fields(reason: str, overall_score: str | None) -> dict[str, Any]:
    """The report fields a final decision sets; ``overall_score`` None keeps the saved one."""
    fields: dict[str, Any] = {"decided_at": timezone.now(), "decision_reason": reason}
    if overall_score is not None:
        fields["overall_score"] = overall_score
    return fields


@transaction.atomic
def report_submit(*, actor: User, report: Report) -> Report:
    _require(actor, "reporting.submit_report", report.signatory)
    # Lock first, so a colleague's save or submission cannot slip in between the completeness
    # check and the transition.
    Report.objects.select_for_update().filter(pk=report.pk).first()
    missing = report_missing(report)
    if missing:
        raise MissingAnswers(missing)
    report = _transition(report=report, actor=actor, name="submit",
                         extra={"submitted_at": timezone.now(),
                                "submission_count": report.submission_count + 1})
    transaction.on_commit(lambda: _tasks().notify_report_event.delay(report.pk, "submitted"))
    return report


@transaction.atomic
def report_assign(*, actor: User, report: Report, reviewer: User | None) -> Report:
    _require(actor, "reporting.assign_report", report.signatory)
    if reviewer is not None and not reviewer.has_perm("reporting.review_report", report.signatory):
        raise DomainError(_("This person cannot review this signatory's reports."),
                          field="reviewer")
    before = report.reviewer_id
    Report.objects.filter(pk=report.pk).update(reviewer=reviewer)
    report.refresh_from_db()
    audit_record(actor=actor, action="report.assigned", obj=report, signatory=report.signatory,
                 changes={"reviewer": {"from": before, "to": reviewer.email if reviewer else None}})
    if report.status == ReportStatus.SUBMITTED and reviewer is not None:
        report = _transition(report=report, actor=actor, name="start_review")
    return report


@transaction.atomic
def report_review_criterion(*, actor: User, report: Report, criterion: int, score: str,
                            comment: str) -> CriterionReview:
    _require(actor, "reporting.review_report", report.signatory)
    if report.status not in (ReportStatus.SUBMITTED, ReportStatus.UNDER_REVIEW):
        raise DomainError(_("Only a submitted report can be reviewed."))
    if criterion not in Criterion.values:
        raise DomainError(_("Unknown criterion."), field="criterion")
    if score and score not in Score.values:
        raise DomainError(_("Choose met, partly met or not met."), field="score")
    review, _created = CriterionReview.objects.update_or_create(
        report=report, round=max(report.submission_count, 1), criterion=criterion,
        defaults={"score": score, "comment": comment.strip(), "reviewer": actor})
    if report.status == ReportStatus.SUBMITTED:
        _transition(report=report, actor=actor, name="start_review")
    return review


@transaction.atomic
def report_score_overall(*, actor: User, report: Report, score: str) -> Report:
    """The reviewer's overall score, kept while the review goes on (the decision confirms it)."""
    _require(actor, "reporting.review_report", report.signatory)
    _check_score(score, "overall_score")
    locked = Report.objects.select_for_update().get(pk=report.pk)
    if locked.status not in (ReportStatus.SUBMITTED, ReportStatus.UNDER_REVIEW):
        raise DomainError(_("Only a submitted report can be reviewed."))
    if locked.overall_score != score:
        locked.overall_score = score
        locked.save(update_fields=["overall_score", "updated_at"])
    if locked.status == ReportStatus.SUBMITTED:
        _transition(report=locked, actor=actor, name="start_review")
    report.refresh_from_db()
    return report


@transaction.atomic
def report_request_changes(*, actor: User, report: Report, reason: str,
                           overall_score: str | None = None) -> Report:
    """Send the report back. ``overall_score`` None keeps the one saved during the review."""
    _require(actor, "reporting.decide_report", report.signatory)
    _check_score(overall_score, "overall_score")
    has_comments = CriterionReview.objects.filter(
        report=report, round=max(report.submission_count, 1)).exclude(comment="").exists()
    if not reason.strip() and not has_comments:
        raise DomainError(_("Say what needs to change: comment on a criterion or give a reason."),
                          field="reason")
    extra = {} if overall_score is None else {"overall_score": overall_score}
    report = _transition(report=report, actor=actor, name="request_changes", reason=reason,
                         extra=extra, changes=_decision_changes(report, overall_score))
    transaction.on_commit(lambda: _tasks().notify_report_event.delay(report.pk,
                                                                     "changes_requested"))
    return report


@transaction.atomic
def report_approve(*, actor: User, report: Report, overall_score: str | None = None,
                   reason: str = "") -> Report:
    """Approve. ``overall_score`` None keeps the one saved during the review."""
    _require(actor, "reporting.decide_report", report.signatory)
    _check_score(overall_score, "overall_score")
    report = _transition(report=report, actor=actor, name="approve", reason=reason,
                         extra=_decision_fields(reason, overall_score),
                         changes=_decision_changes(report, overall_score))
    # The certificate for the year is issued by a task, after the decision is committed.
    transaction.on_commit(lambda: _tasks().report_approved.delay(report.pk))
    return report


@transaction.atomic
def report_reject(*, actor: User, report: Report, reason: str,
                  overall_score: str | None = None) -> Report:
    """Reject, with a reason. ``overall_score`` None keeps the one saved during the review."""
    _require(actor, "reporting.decide_report", report.signatory)
    if not reason.strip():
        raise DomainError(_("Please give a reason."), field="reason")
    _check_score(overall_score, "overall_score")
    report = _transition(report=report, actor=actor, name="reject", reason=reason,
                         extra=_decision_fields(reason, overall_score),
                         changes=_decision_changes(report, overall_score))
    transaction.on_commit(lambda: _tasks().notify_report_event.delay(report.pk, "rejected"))
    return report


@transaction.atomic
def report_set_due_date(*, actor: User, report: Report, due_on: date, reason: str) -> Report:
    _require(actor, "reporting.set_due_date", report.signatory)
    if not reason.strip():
        raise DomainError(_("Please give a reason."), field="reason")
    before = report.due_on
    Report.objects.filter(pk=report.pk).update(due_on=due_on)
    report.refresh_from_db()
    audit_record(actor=actor, action="report.due_date_moved", obj=report,
                 signatory=report.signatory, reason=reason,
                 changes={"due_on": {"from": str(before), "to": str(due_on)}})
    return report


@transaction.atomic
def evidence_add(*, actor: User, report: Report, question: Question,
                 upload: UploadedFile) -> Evidence:
    _require(actor, "reporting.edit_report", report.signatory)
    if not report.is_editable_by_company:
        raise DomainError(_("This report has been submitted and can no longer be edited."))
    if question.section.questionnaire_id != report.questionnaire_id:
        raise DomainError(_("Unknown question."), field="question")
    if not (question.type == QuestionType.FILE or question.allows_evidence):
        raise DomainError(_("This question does not take files."), field="question")
    try:
        checked = check_upload(upload, kinds=("pdf", "image", "office"),
                               max_bytes=EVIDENCE_MAX_BYTES)
    except ValidationError as exc:
        raise DomainError(exc.messages[0], field="file") from exc
    evidence = Evidence(report=report, question=question, original_name=checked.name,
                        content_type=checked.content_type, size=checked.size,
                        sha256=checked.sha256, uploaded_by=actor)
    evidence.file.save(checked.name, upload, save=False)
    evidence.save()
    audit_record(actor=actor, action="report.evidence_added", obj=report,
                 signatory=report.signatory,
                 changes={"file": {"to": checked.name}, "sha256": {"to": checked.sha256},
                          "question": {"to": question.code}})
    return evidence


@transaction.atomic
def evidence_delete(*, actor: User, evidence: Evidence) -> None:
    report = evidence.report
    _require(actor, "reporting.edit_report", report.signatory)
    if not report.is_editable_by_company:
        raise DomainError(_("This report has been submitted and can no longer be edited."))
    audit_record(actor=actor, action="report.evidence_deleted", obj=report,
                 signatory=report.signatory, changes={"file": {"from": evidence.original_name}})
    name, storage = evidence.file.name, evidence.file.storage
    evidence.delete()
    transaction.on_commit(lambda: storage.delete(name))


@transaction.atomic
def questionnaire_copy(*, actor: User | None, questionnaire: Questionnaire,
                       year: int | None = None) -> Questionnaire:
    """Copy a questionnaire to a new, unpublished version (sections, questions and the links
    between conditional questions), so the copy can be edited while reports keep the original."""
    year = year or questionnaire.year
    # Lock the year's versions so two copies made at once do not take the same number.
    last = (Questionnaire.objects.select_for_update().filter(year=year)
            .order_by("-version").values_list("version", flat=True).first())
    copy = Questionnaire.objects.create(year=year, version=(last or 0) + 1,
                                        title=questionnaire.title, is_published=False)
    new_ids: dict[int, Question] = {}
    links: list[tuple[Question, int]] = []
    for section in questionnaire.sections.all().prefetch_related("questions"):
        new_section = Section.objects.create(questionnaire=copy, criterion=section.criterion,
                                             title=section.title, intro=section.intro,
                                             order=section.order)
        for question in section.questions.all():
            parent_id = question.show_if_question_id
            old_id = question.pk
            question.pk = None
            question.section = new_section
            question.show_if_question = None
            question.save()
            new_ids[old_id] = question
            if parent_id:
                links.append((question, parent_id))
    for question, parent_id in links:
        # a link to a question outside this questionnaire (should not happen) is dropped
        question.show_if_question = new_ids.get(parent_id)
        question.save(update_fields=["show_if_question"])
    audit_record(actor=actor, action="questionnaire.copied", obj=copy,
                 changes={"from": {"from": str(questionnaire),
                                   "to": f"{copy.year} v{copy.version}"}})
    return copy

def _tasks():
    from reporting import tasks

    return tasks
