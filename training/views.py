"""HTML pages of the training log: selector → service → render, like the API.

Every page starts from ``training_signatory_for`` (404 for anyone who may not see the company),
and every object is looked up through a scoped selector *and* checked to belong to the company
in the URL, so another company's id in the path is a 404 too.
"""

from __future__ import annotations

import copy
from datetime import date

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from code_portal.errors import DomainError
from signatories.models import Signatory
from training import selectors, services
from training.api import attachment_response
from training.coverage import as_of_for_year, coverage_for, refreshers_due, share
from training.filters import CoverageFilter, RecordFilter
from training.forms import (
    AttachmentForm,
    CourseForm,
    EraseForm,
    HeadcountForm,
    RecordDeleteForm,
    RecordForm,
    SessionForm,
)
from training.models import Course, Headcount

PAGE_SIZE = 25
REFRESHERS_SHOWN = 50


def _page(request: HttpRequest, queryset, size: int = PAGE_SIZE):
    return Paginator(queryset, size).get_page(request.GET.get("page"))


def _query_without_page(request: HttpRequest) -> str:
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


def _posted(request: HttpRequest):
    """The POST data on a POST (even when empty, so the form is bound and shows its errors)."""
    return request.POST if request.method == "POST" else None


def _form_error(form, exc: DomainError) -> None:
    form.add_error(exc.field if exc.field in form.fields else None, exc.message)


def _company(request: HttpRequest, pk: int) -> Signatory:
    return selectors.training_signatory_for(request.user, pk)


def _require(request: HttpRequest, perm: str, signatory: Signatory) -> None:
    if not request.user.has_perm(perm, signatory):
        raise PermissionDenied


def _year(request: HttpRequest, today: date) -> int:
    try:
        year = int(request.GET.get("year", today.year))
    except (TypeError, ValueError):
        return today.year
    return year if 1998 <= year <= today.year else today.year


def _own(obj, signatory: Signatory):
    """The object, if it belongs to the company of the URL (else the same 404 as missing)."""
    if obj.signatory_id != signatory.pk:
        raise Http404
    return obj


def _context(request: HttpRequest, signatory: Signatory, **extra) -> dict:
    return {"signatory": signatory,
            "can_edit": request.user.has_perm("training.edit", signatory),
            "can_erase": request.user.has_perm("training.erase_person", signatory),
            "staff_view": request.user.is_code_staff, "today": timezone.localdate(), **extra}


# --- Overview: coverage, refreshers, headcount -------------------------------------------------

def _overview(request: HttpRequest, signatory: Signatory, form: HeadcountForm | None = None):
    today = timezone.localdate()
    year = _year(request, today)
    as_of = as_of_for_year(year, today)
    if form is None:
        stated = Headcount.objects.filter(signatory=signatory, year=year).first()
        form = HeadcountForm(initial={
            "year": year,
            "employees": stated.employees if stated else None,
            "customer_facing_employees": stated.customer_facing_employees if stated else None,
        })
    due = (refreshers_due(as_of, signatory=signatory).select_related("trainee", "course")
           .order_by("expires_on", "id")[:REFRESHERS_SHOWN])
    return render(request, "training/home.html", _context(
        request, signatory, coverage=coverage_for(signatory, as_of), year=year,
        year_query=f"?year={year}",
        years=range(today.year, max(1998, today.year - 5) - 1, -1), refreshers=due,
        refreshers_shown=REFRESHERS_SHOWN, headcount_form=form,
        headcounts=Headcount.objects.filter(signatory=signatory).order_by("-year")[:10]))


@login_required
def training_home(request: HttpRequest, pk: int) -> HttpResponse:
    signatory = _company(request, pk)
    if request.method != "POST":
        return _overview(request, signatory)
    _require(request, "training.edit", signatory)
    form = HeadcountForm(request.POST)
    if form.is_valid():
        try:
            services.headcount_set(actor=request.user, signatory=signatory, **form.cleaned_data)
        except DomainError as exc:
            _form_error(form, exc)
        else:
            messages.success(request, _("The headcount for %(year)s has been saved.")
                             % {"year": form.cleaned_data["year"]})
            return redirect(f"{request.path}?year={form.cleaned_data['year']}")
    return _overview(request, signatory, form)


# --- Records -----------------------------------------------------------------------------------

@login_required
def record_list(request: HttpRequest, pk: int) -> HttpResponse:
    signatory = _company(request, pk)
    records = selectors.record_list_for(request.user).filter(signatory=signatory)
    filterset = RecordFilter(request.GET or None, queryset=records, request=request,
                             courses=selectors.course_list_for(request.user, signatory),
                             company_page=True)
    qs = filterset.qs if filterset.is_bound and filterset.is_valid() else records
    return render(request, "training/record_list.html", _context(
        request, signatory, filter=filterset,
        page=_page(request, qs.order_by("-completed_on", "-id")),
        query=_query_without_page(request)))


@login_required
def record_add(request: HttpRequest, pk: int) -> HttpResponse:
    signatory = _company(request, pk)
    _require(request, "training.edit", signatory)
    form = RecordForm(_posted(request), signatory=signatory)
    if request.method == "POST" and form.is_valid():
        try:
            services.record_create(actor=request.user, signatory=signatory, **form.cleaned_data)
        except DomainError as exc:
            _form_error(form, exc)
        else:
            messages.success(request, _("The completion has been recorded."))
            if "add_another" in request.POST:
                return redirect("training-record-add", pk=signatory.pk)
            return redirect("training-records", pk=signatory.pk)
    return render(request, "training/record_form.html", _context(request, signatory, form=form))


@login_required
def record_delete(request: HttpRequest, pk: int, record_pk: int) -> HttpResponse:
    signatory = _company(request, pk)
    record = _own(selectors.record_get_for(request.user, record_pk), signatory)
    _require(request, "training.edit", signatory)
    form = RecordDeleteForm(_posted(request))
    if request.method == "POST" and form.is_valid():
        services.record_delete(actor=request.user, record=record,
                               reason=form.cleaned_data["reason"])
        messages.success(request, _("The completion has been deleted."))
        return redirect("training-records", pk=signatory.pk)
    return render(request, "training/record_delete.html",
                  _context(request, signatory, record=record, form=form))


# --- People ------------------------------------------------------------------------------------

@login_required
def person_detail(request: HttpRequest, pk: int, person_pk: int) -> HttpResponse:
    signatory = _company(request, pk)
    person = _own(selectors.trainee_get_for(request.user, person_pk), signatory)
    records = selectors.record_list_for(request.user).filter(trainee=person).order_by(
        "-completed_on", "-id")
    return render(request, "training/person_detail.html", _context(
        request, signatory, person=person, records=records))


@login_required
def person_erase(request: HttpRequest, pk: int, person_pk: int) -> HttpResponse:
    signatory = _company(request, pk)
    person = _own(selectors.trainee_get_for(request.user, person_pk), signatory)
    _require(request, "training.erase_person", signatory)
    form = EraseForm(_posted(request))
    if request.method == "POST" and form.is_valid():
        services.trainee_erase(actor=request.user, trainee=person)
        messages.success(request, _("The person's personal data has been erased."))
        return redirect("training-person", pk=signatory.pk, person_pk=person.pk)
    return render(request, "training/person_erase.html",
                  _context(request, signatory, person=person, form=form))


# --- Sessions and attachments ------------------------------------------------------------------

@login_required
def session_list(request: HttpRequest, pk: int) -> HttpResponse:
    signatory = _company(request, pk)
    sessions = (selectors.session_list_for(request.user).filter(signatory=signatory)
                .annotate(attachment_count=Count("attachments", distinct=True),
                          record_count=Count("records", distinct=True))
                .order_by("-starts_on", "-id"))
    return render(request, "training/session_list.html", _context(
        request, signatory, page=_page(request, sessions), query=""))


@login_required
def session_form(request: HttpRequest, pk: int, session_pk: int | None = None) -> HttpResponse:
    signatory = _company(request, pk)
    session = (_own(selectors.session_get_for(request.user, session_pk), signatory)
               if session_pk is not None else None)
    _require(request, "training.edit", signatory)
    # the form validates a copy: the service compares the stored session with the new values
    form = SessionForm(_posted(request), instance=copy.copy(session) if session else None,
                       signatory=signatory)
    if request.method == "POST" and form.is_valid():
        try:
            if session is None:
                session = services.session_create(actor=request.user, signatory=signatory,
                                                  data=form.cleaned_data)
            else:
                services.session_update(actor=request.user, session=session,
                                        data=form.cleaned_data)
        except DomainError as exc:
            _form_error(form, exc)
        else:
            messages.success(request, _("The session has been saved."))
            return redirect("training-session", pk=signatory.pk, session_pk=session.pk)
    return render(request, "training/session_form.html",
                  _context(request, signatory, form=form, session=session))


@login_required
def session_detail(request: HttpRequest, pk: int, session_pk: int) -> HttpResponse:
    signatory = _company(request, pk)
    session = _own(selectors.session_get_for(request.user, session_pk), signatory)
    form = AttachmentForm(_posted(request), request.FILES if request.method == "POST" else None)
    if request.method == "POST":
        _require(request, "training.edit", signatory)
        if form.is_valid():
            try:
                services.attachment_add(actor=request.user, session=session,
                                        upload=form.cleaned_data["file"])
            except DomainError as exc:
                _form_error(form, exc)
            else:
                messages.success(request, _("The file has been added."))
                return redirect("training-session", pk=signatory.pk, session_pk=session.pk)
    return render(request, "training/session_detail.html", _context(
        request, signatory, session=session, form=form,
        attachments=session.attachments.select_related("uploaded_by"),
        records=session.records.select_related("trainee").order_by("trainee__name", "id")))


@login_required
def session_delete(request: HttpRequest, pk: int, session_pk: int) -> HttpResponse:
    signatory = _company(request, pk)
    session = _own(selectors.session_get_for(request.user, session_pk), signatory)
    _require(request, "training.edit", signatory)
    if request.method == "POST":
        services.session_delete(actor=request.user, session=session)
        messages.success(request, _("The session has been deleted."))
        return redirect("training-sessions", pk=signatory.pk)
    return render(request, "training/session_delete.html",
                  _context(request, signatory, session=session))


def _attachment(request: HttpRequest, pk: int, session_pk: int, attachment_pk: int):
    signatory = _company(request, pk)
    attachment = selectors.attachment_get_for(request.user, attachment_pk)
    if attachment.session_id != session_pk or attachment.session.signatory_id != signatory.pk:
        raise Http404
    return signatory, attachment


@login_required
def attachment_download(request: HttpRequest, pk: int, session_pk: int,
                        attachment_pk: int) -> HttpResponse:
    _signatory, attachment = _attachment(request, pk, session_pk, attachment_pk)
    return attachment_response(attachment)


@login_required
@require_POST
def attachment_delete(request: HttpRequest, pk: int, session_pk: int,
                      attachment_pk: int) -> HttpResponse:
    signatory, attachment = _attachment(request, pk, session_pk, attachment_pk)
    services.attachment_delete(actor=request.user, attachment=attachment)
    messages.success(request, _("The file has been removed."))
    return redirect("training-session", pk=signatory.pk, session_pk=session_pk)


# --- Courses -----------------------------------------------------------------------------------

@login_required
def course_list(request: HttpRequest, pk: int) -> HttpResponse:
    signatory = _company(request, pk)
    courses = selectors.course_list_for(request.user, signatory).order_by("title", "id")
    return render(request, "training/course_list.html", _context(
        request, signatory, own=[c for c in courses if c.signatory_id == signatory.pk],
        catalogue=[c for c in courses if c.signatory_id is None]))


def _own_course(request: HttpRequest, signatory: Signatory, course_pk: int) -> Course:
    course = selectors.course_get_for(request.user, course_pk)
    if course.signatory_id is None:
        # the catalogue is read-only for companies (staff maintain it in the admin)
        raise PermissionDenied
    return _own(course, signatory)


@login_required
def course_form(request: HttpRequest, pk: int, course_pk: int | None = None) -> HttpResponse:
    signatory = _company(request, pk)
    course = _own_course(request, signatory, course_pk) if course_pk is not None else None
    _require(request, "training.edit", signatory)
    form = CourseForm(_posted(request), instance=copy.copy(course) if course else None)
    if request.method == "POST" and form.is_valid():
        try:
            if course is None:
                services.course_create(actor=request.user, signatory=signatory,
                                       data=form.cleaned_data)
            else:
                services.course_update(actor=request.user, course=course,
                                       data=form.cleaned_data)
        except DomainError as exc:
            _form_error(form, exc)
        else:
            messages.success(request, _("The course has been saved."))
            return redirect("training-courses", pk=signatory.pk)
    return render(request, "training/course_form.html",
                  _context(request, signatory, form=form, course=course))


@login_required
@require_POST
def course_delete(request: HttpRequest, pk: int, course_pk: int) -> HttpResponse:
    signatory = _company(request, pk)
    course = _own_course(request, signatory, course_pk)
    try:
        services.course_delete(actor=request.user, course=course)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("The course has been deleted."))
    return redirect("training-courses", pk=signatory.pk)


# --- Code staff --------------------------------------------------------------------------------

def _staff_only(request: HttpRequest) -> None:
    if not request.user.has_perm("signatories.view_queue"):
        raise Http404


@login_required
def staff_coverage(request: HttpRequest) -> HttpResponse:
    _staff_only(request)
    today = timezone.localdate()
    year = _year(request, today)
    signatories = selectors.coverage_list_for(request.user, as_of_for_year(year, today))
    filterset = CoverageFilter(request.GET or None, queryset=signatories, request=request)
    qs = filterset.qs if filterset.is_bound and filterset.is_valid() else signatories
    page = _page(request, qs)
    rows = list(page.object_list)
    for row in rows:
        row.share = share(row.cov_trained, row.cov_employees)
        row.cf_share = share(row.cov_cf_trained, row.cov_cf_employees)
    return render(request, "training/staff_coverage.html", {
        "filter": filterset, "page": page, "rows": rows, "year": year,
        "years": range(today.year, max(1998, today.year - 5) - 1, -1),
        "query": _query_without_page(request),
    })


@login_required
def staff_training_detail(request: HttpRequest, pk: int) -> HttpResponse:
    _staff_only(request)
    return _overview(request, _company(request, pk))
