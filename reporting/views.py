"""HTML pages for annual reports: the company's list and report page, and the staff's review
queue and review page. Same shape as the API: selector (404 for outsiders) → service → render."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Min
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from code_portal.errors import DomainError
from code_portal.models import User
from code_portal.private_files import private_file_response
from reporting import answers as answer_rules
from reporting import services
from reporting.filters import ReportFilter
from reporting.forms import (
    EVIDENCE_ACCEPT,
    EVIDENCE_MAX_MB,
    AssignForm,
    DueDateForm,
    ReviewForm,
    StartReportForm,
    evidence_field_name,
    raw_answers,
)
from reporting.models import Answer, Question, Questionnaire, Report, ReportStatus
from reporting.report_page import (
    build_report_page,
    changed_by_others_since,
    latest_reason,
    report_history,
)
from reporting.selectors import (
    evidence_get_for,
    report_get_for,
    report_list_for,
    staff_report_list_for,
)
from signatories.permissions import is_central_staff
from signatories.selectors import signatory_get_for

PAGE_SIZE = 25
# Statuses in which the company sees the reviewer's comments of the last round.
DECIDED_OR_RETURNED = (ReportStatus.CHANGES_REQUESTED, ReportStatus.APPROVED,
                       ReportStatus.REJECTED)
# A save made by someone else while this page was being read would carry a timestamp a little
# before the page's; the margin errs on the side of reporting a conflict.
LOADED_AT_MARGIN = timedelta(seconds=5)


def _loaded_at() -> str:
    return (timezone.now() - LOADED_AT_MARGIN).isoformat()


def _can_edit(user: User, report: Report) -> bool:
    return report.is_editable_by_company and user.has_perm("reporting.edit_report",
                                                           report.signatory)


def _safe_next(request: HttpRequest, default: str) -> str:
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()},
                                                  require_https=request.is_secure()):
        return target
    return default


# --- Company pages -------------------------------------------------------------------------

def _startable_years(signatory, existing: set[int]) -> list[int]:
    """Reporting years a company may open: from the year it signed (or the first questionnaire)
    up to this year, minus those already started."""
    first_questionnaire = Questionnaire.objects.filter(is_published=True).aggregate(
        first=Min("year"))["first"]
    if first_questionnaire is None:
        return []
    this_year = timezone.localdate().year
    since = signatory.member_since.year if signatory.member_since else this_year
    return [y for y in range(max(since, first_questionnaire), this_year + 1) if y not in existing]


@login_required
def company_reports(request: HttpRequest, pk: int) -> HttpResponse:
    signatory = signatory_get_for(request.user, pk)
    reports = list(report_list_for(request.user).filter(signatory=signatory).order_by("-year"))
    can_start = (request.user.has_perm("reporting.edit_report", signatory)
                 and signatory.status in services.REPORTING_STATUSES)
    years = _startable_years(signatory, {r.year for r in reports}) if can_start else []
    form = StartReportForm(request.POST or None, years=years)
    if request.method == "POST":
        if not can_start:
            raise PermissionDenied
        if form.is_valid():
            try:
                report = services.report_start(actor=request.user, signatory=signatory,
                                               year=form.cleaned_data["year"])
            except DomainError as exc:
                messages.error(request, exc.message)
            else:
                messages.success(request, _("The %(year)s report has been started. Your answers "
                                            "are saved as a draft until you submit.")
                                 % {"year": report.year})
                return redirect("report-detail", pk=report.pk)
    return render(request, "reporting/company_reports.html", {
        "signatory": signatory, "reports": reports, "form": form, "years": years,
        "today": timezone.localdate(),
        "open_statuses": (ReportStatus.DRAFT, ReportStatus.CHANGES_REQUESTED),
    })


@dataclass
class SaveOutcome:
    report: Report
    errors: dict[str, list[str]] = field(default_factory=dict)
    conflict: bool = False
    theirs: dict[int, Any] | None = None


def _differences(questions: list[Question], saved: dict[int, Any],
                 typed: dict[str, Any]) -> dict[int, Any]:
    """Answers saved by someone else that differ from what this user typed."""
    theirs = {}
    for question in questions:
        if question.code not in typed:
            continue
        try:
            mine = answer_rules.clean_value(question, typed[question.code])
        except answer_rules.AnswerError:
            mine = typed[question.code]
        if mine != saved.get(question.pk):
            theirs[question.pk] = saved.get(question.pk)
    return theirs


def _save_typed(request: HttpRequest, report: Report, questions: list[Question],
                typed: dict[str, Any]) -> SaveOutcome:
    """Save the typed answers with the version check.

    A version mismatch caused only by this user's own saves (autosave still in flight when they
    pressed "Save draft", or a second tab) is not a conflict: nobody else's answer would be
    overwritten, so the save is retried once against the current version.
    """
    try:
        expected = int(request.POST.get("version", ""))
    except ValueError:
        expected = -1
    loaded_at = parse_datetime(request.POST.get("loaded_at", ""))
    for attempt in range(2):
        try:
            report, errors = services.report_save_answers(
                actor=request.user, report=report, values=typed, expected_version=expected)
        except services.EditConflict:
            report.refresh_from_db()
            if attempt or changed_by_others_since(report, request.user, loaded_at):
                saved = dict(Answer.objects.filter(report=report)
                             .values_list("question_id", "value"))
                return SaveOutcome(report=report, conflict=True,
                                   theirs=_differences(questions, saved, typed))
            expected = report.version
        else:
            return SaveOutcome(report=report, errors={k: [v] for k, v in errors.items()})
    raise AssertionError("unreachable")


def _upload_evidence(request: HttpRequest, report: Report, questions: list[Question],
                     errors: dict[str, list[str]]) -> int:
    added = 0
    for question in questions:
        if not (question.type == "file" or question.allows_evidence):
            continue
        for upload in request.FILES.getlist(evidence_field_name(question)):
            try:
                services.evidence_add(actor=request.user, report=report, question=question,
                                      upload=upload)
            except DomainError as exc:
                errors.setdefault(question.code, []).append(
                    _("%(file)s: %(error)s") % {"file": upload.name, "error": exc.message})
            else:
                added += 1
    return added


def _render_report(request: HttpRequest, report: Report, *, typed=None, errors=None,
                   theirs=None, missing=None, conflict: bool = False,
                   status: int = 200) -> HttpResponse:
    user = request.user
    page = build_report_page(
        report, typed=typed, errors=errors, theirs=theirs,
        with_reviews="latest" if report.status in DECIDED_OR_RETURNED else "")
    history = report_history(report, for_staff=user.is_code_staff)
    problems = []
    if missing:
        problems = [(m.question, m.message) for m in missing]
    elif errors:
        problems = [(row.question, message) for row in page.rows() for message in row.errors]
    return render(request, "reporting/report_detail.html", {
        "report": report, "signatory": report.signatory, "page": page,
        "can_edit": _can_edit(user, report),
        "can_review": user.has_perm("reporting.review_report", report.signatory),
        "problems": problems, "missing": bool(missing), "conflict": conflict, "history": history,
        "changes_reason": (latest_reason(history, "report.request_changes")
                           if report.status == ReportStatus.CHANGES_REQUESTED else ""),
        "loaded_at": _loaded_at(), "evidence_accept": EVIDENCE_ACCEPT,
        "evidence_max_mb": EVIDENCE_MAX_MB,
    }, status=status)


@login_required
def report_detail(request: HttpRequest, pk: int) -> HttpResponse:
    report = report_get_for(request.user, pk)
    if request.method != "POST":
        return _render_report(request, report)
    if not request.user.has_perm("reporting.edit_report", report.signatory):
        raise PermissionDenied
    if not report.is_editable_by_company:
        messages.error(request, _("This report has been submitted and can no longer be edited."))
        return redirect("report-detail", pk=report.pk)
    questions = services.report_questions(report)
    typed = raw_answers(questions, request.POST)
    try:
        outcome = _save_typed(request, report, questions, typed)
    except DomainError as exc:  # submitted by a colleague meanwhile
        messages.error(request, exc.message)
        return redirect("report-detail", pk=report.pk)
    report, errors = outcome.report, outcome.errors
    # Files never conflict with anyone's answers, so they are kept even on an edit conflict.
    added = _upload_evidence(request, report, questions, errors)
    if outcome.conflict:
        return _render_report(request, report, typed=typed, errors=errors,
                              theirs=outcome.theirs, conflict=True, status=409)
    if errors:
        return _render_report(request, report, typed=typed, errors=errors)
    if request.POST.get("action") == "submit":
        try:
            services.report_submit(actor=request.user, report=report)
        except services.MissingAnswers as exc:
            return _render_report(request, report, missing=exc.missing)
        except DomainError as exc:
            messages.error(request, exc.message)
            return redirect("report-detail", pk=report.pk)
        messages.success(request, _("Thank you. Your report has been submitted to the Code "
                                    "staff for review; it can no longer be changed."))
        return redirect("report-detail", pk=report.pk)
    if added:
        messages.success(request, _("Your draft has been saved and the files attached."))
    else:
        messages.success(request, _("Your draft has been saved."))
    return redirect("report-detail", pk=report.pk)


@login_required
@require_POST
def report_autosave(request: HttpRequest, pk: int) -> HttpResponse:
    """htmx: save the answers as the user moves from field to field (files are attached with
    "Save draft"). Answers the status line, the new version, and the questions whose
    visibility changed."""
    report = report_get_for(request.user, pk)
    if not request.user.has_perm("reporting.edit_report", report.signatory):
        raise PermissionDenied
    context: dict[str, Any] = {"report": report, "loaded_at": _loaded_at(),
                               "evidence_accept": EVIDENCE_ACCEPT,
                               "evidence_max_mb": EVIDENCE_MAX_MB, "can_edit": True}
    if not report.is_editable_by_company:
        context["status_text"] = _("This report has been submitted and can no longer be edited.")
        return render(request, "reporting/_autosave.html", context)
    questions = services.report_questions(report)
    before = dict(Answer.objects.filter(report=report).values_list("question_id", "value"))
    shown_before = {q.pk for q in answer_rules.visible_questions(questions, before)}
    typed = raw_answers(questions, request.POST)
    try:
        outcome = _save_typed(request, report, questions, typed)
    except DomainError as exc:
        context["status_text"] = exc.message
        return render(request, "reporting/_autosave.html", context)
    if outcome.conflict:
        context["status_text"] = _("Someone else has saved this report meanwhile. Press “Save "
                                   "draft” to compare your answers with theirs.")
        return render(request, "reporting/_autosave.html", context)
    page = build_report_page(outcome.report, typed=typed, errors=outcome.errors)
    changed = [row for row in page.rows() if row.visible != (row.question.pk in shown_before)]
    changed_codes = {row.code for row in changed}
    context.update({
        "report": outcome.report, "synced": True, "changed_rows": changed,
        "error_rows": [r for r in page.rows() if r.code not in changed_codes
                       and r.question.type != "file"],
        "status_text": (_("Saved at %(time)s, but some answers need attention.")
                        if outcome.errors else _("Saved at %(time)s."))
        % {"time": timezone.localtime().strftime("%H:%M")},
    })
    return render(request, "reporting/_autosave.html", context)


@login_required
def evidence_download(request: HttpRequest, pk: int, evidence_pk: int) -> FileResponse:
    evidence = evidence_get_for(request.user, evidence_pk)
    if evidence.report_id != pk:
        raise Http404
    return private_file_response(evidence.file, filename=evidence.original_name,
                                 content_type=evidence.content_type)


@login_required
@require_POST
def evidence_remove(request: HttpRequest, pk: int, evidence_pk: int) -> HttpResponse:
    evidence = evidence_get_for(request.user, evidence_pk)
    if evidence.report_id != pk:
        raise Http404
    if not request.user.has_perm("reporting.edit_report", evidence.report.signatory):
        raise PermissionDenied
    code, name = evidence.question.code, evidence.original_name
    try:
        services.evidence_delete(actor=request.user, evidence=evidence)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("The file “%(name)s” has been removed.") % {"name": name})
    return redirect(reverse("report-detail", args=[pk]) + f"#question-{code}")


# --- Code staff ----------------------------------------------------------------------------

@login_required
def staff_report_queue(request: HttpRequest) -> HttpResponse:
    if not request.user.is_code_staff:
        raise Http404
    filterset = ReportFilter(request.GET or None,
                             queryset=staff_report_list_for(request.user, request.GET),
                             request=request)
    qs = filterset.qs if filterset.is_bound and filterset.is_valid() else filterset.queryset
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "reporting/staff_queue.html", {
        "filter": filterset, "page": Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page")),
        "query": query.urlencode(),
        "filter_fields": [filterset.form[name] for name in (
            "search", "status", "country", "type", "year", "reviewer", "due_from", "due_to",
            "decided_from", "decided_to")],
        "review_queue": not request.GET.getlist("status"),
        "can_assign": is_central_staff(request.user),
    })


def _staff_report(request: HttpRequest, pk: int) -> Report:
    report = report_get_for(request.user, pk)
    if not request.user.has_perm("reporting.review_report", report.signatory):
        raise Http404
    return report


def _review_initial(page) -> dict[str, str]:
    initial = {}
    current_round = max(page.report.submission_count, 1)
    for block in page.sections:
        for review in block.reviews:
            if review.round == current_round:
                initial[f"score-{review.criterion}"] = review.score
                initial[f"comment-{review.criterion}"] = review.comment
    initial["overall_score"] = page.report.overall_score
    return initial


def _render_review(request: HttpRequest, report: Report, *, review_form=None, assign_form=None,
                   due_form=None, status: int = 200) -> HttpResponse:
    user, signatory = request.user, report.signatory
    page = build_report_page(report, with_previous=True, with_reviews="all")
    criteria = [block.section.criterion for block in page.sections]
    if review_form is None:
        review_form = ReviewForm(initial=_review_initial(page), criteria=criteria)
    fields = {n: (score, comment) for n, _label, score, comment in review_form.criterion_fields()}
    can_assign = user.has_perm("reporting.assign_report", signatory)
    if assign_form is None and can_assign:
        assign_form = AssignForm(initial={"reviewer": report.reviewer_id}, signatory=signatory)
    can_set_due = user.has_perm("reporting.set_due_date", signatory)
    if due_form is None and can_set_due:
        due_form = DueDateForm(initial={"due_on": report.due_on})
    return render(request, "reporting/staff_review.html", {
        "report": report, "signatory": signatory, "page": page,
        "review_form": review_form,
        # each section with the review fields of its criterion
        "blocks": [(block, fields.get(block.section.criterion)) for block in page.sections],
        "assign_form": assign_form, "due_form": due_form,
        "can_review": report.status in (ReportStatus.SUBMITTED, ReportStatus.UNDER_REVIEW),
        "can_decide": user.has_perm("reporting.decide_report", signatory),
        "history": report_history(report, for_staff=True),
        "previous_year": page.previous_year,
    }, status=status)


def _save_review(*, actor: User, report: Report, form: ReviewForm, existing: set[int]) -> str:
    """Store the scores and comments, then the decision, all or nothing. Returns the decision."""
    data = form.cleaned_data
    decision = data["decision"]
    with transaction.atomic():
        for number in form.criteria:
            score, comment = data[f"score-{number}"], data[f"comment-{number}"]
            if score or comment.strip() or number in existing:
                services.report_review_criterion(actor=actor, report=report, criterion=number,
                                                 score=score, comment=comment)
        overall = data["overall_score"]
        if decision == "request_changes":
            services.report_request_changes(actor=actor, report=report, reason=data["reason"],
                                            overall_score=overall)
        elif decision == "approve":
            services.report_approve(actor=actor, report=report, overall_score=overall,
                                    reason=data["reason"])
        elif decision == "reject":
            services.report_reject(actor=actor, report=report, reason=data["reason"],
                                   overall_score=overall)
        elif overall != report.overall_score:
            services.report_score_overall(actor=actor, report=report, score=overall)
    return decision


DECISION_MESSAGES = {
    "save": gettext_lazy("Your review has been saved."),
    "request_changes": gettext_lazy("Changes have been requested; the company has been told."),
    "approve": gettext_lazy("The report has been approved."),
    "reject": gettext_lazy("The report has been rejected."),
}


@login_required
def staff_report_review(request: HttpRequest, pk: int) -> HttpResponse:
    report = _staff_report(request, pk)
    if request.method != "POST":
        return _render_review(request, report)
    criteria = list(report.questionnaire.sections.values_list("criterion", flat=True))
    form = ReviewForm(request.POST, criteria=criteria)
    if not form.is_valid():
        return _render_review(request, report, review_form=form, status=400)
    if (form.cleaned_data["decision"] != "save"
            and not request.user.has_perm("reporting.decide_report", report.signatory)):
        raise PermissionDenied
    existing = set(report.criterion_reviews.filter(round=max(report.submission_count, 1))
                   .values_list("criterion", flat=True))
    try:
        decision = _save_review(actor=request.user, report=report, form=form, existing=existing)
    except DomainError as exc:
        report.refresh_from_db()
        form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        return _render_review(request, report, review_form=form, status=400)
    messages.success(request, DECISION_MESSAGES[decision])
    return redirect("staff-report-review", pk=report.pk)


@login_required
@require_POST
def staff_report_assign(request: HttpRequest, pk: int) -> HttpResponse:
    report = _staff_report(request, pk)
    if not request.user.has_perm("reporting.assign_report", report.signatory):
        raise PermissionDenied
    form = AssignForm(request.POST, signatory=report.signatory)
    if not form.is_valid():
        return _render_review(request, report, assign_form=form, status=400)
    try:
        report = services.report_assign(actor=request.user, report=report,
                                        reviewer=form.cleaned_data["reviewer"])
    except DomainError as exc:
        form.add_error("reviewer", exc.message)
        return _render_review(request, report, assign_form=form, status=400)
    if report.reviewer is None:
        messages.success(request, _("Nobody is assigned to this report now."))
    else:
        messages.success(request, _("%(name)s will review this report.")
                         % {"name": report.reviewer.full_name or report.reviewer.email})
    return redirect(_safe_next(request, reverse("staff-report-review", args=[report.pk])))


@login_required
@require_POST
def staff_report_due_date(request: HttpRequest, pk: int) -> HttpResponse:
    report = _staff_report(request, pk)
    if not request.user.has_perm("reporting.set_due_date", report.signatory):
        raise PermissionDenied
    form = DueDateForm(request.POST)
    if form.is_valid():
        try:
            services.report_set_due_date(actor=request.user, report=report,
                                         due_on=form.cleaned_data["due_on"],
                                         reason=form.cleaned_data["reason"])
        except DomainError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            messages.success(request, _("The due date has been moved."))
            return redirect("staff-report-review", pk=report.pk)
    return _render_review(request, report, due_form=form, status=400)

