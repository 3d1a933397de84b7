"""Pages for bulk import (upload, progress, row errors) and training downloads (CSV/XLSX).

Same shape as ``training.views``: every page starts from ``training_signatory_for`` (404 for
anyone who may not see the company) and an import job is looked up through the scoped selector
*and* checked to belong to the company of the URL.
"""

from __future__ import annotations

import csv

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from code_portal.errors import DomainError
from signatories.models import Signatory
from training import exports, selectors, services
from training.coverage import as_of_for_year
from training.filters import CoverageFilter
from training.importers import COLUMNS, MAX_ROWS, CourseIndex
from training.models import ImportJob
from training.services import IMPORT_MAX_BYTES

JOBS_PER_PAGE = 20
ERRORS_SHOWN = 500


class ImportForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("File (CSV or XLSX)"),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.xlsx,text/csv"}))
    import_valid_rows = forms.BooleanField(
        required=False, label=gettext_lazy("Import the valid rows even if some rows have errors"),
        help_text=gettext_lazy("Without this, nothing is imported from a file with errors."))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # formatted here, in the language of the request (a lazy string % values is not lazy)
        self.fields["file"].help_text = _("Up to %(mb)s MB and %(rows)s rows.") % {
            "mb": IMPORT_MAX_BYTES // (1024 * 1024), "rows": f"{MAX_ROWS:,}"}


def _company(request: HttpRequest, pk: int) -> Signatory:
    return selectors.training_signatory_for(request.user, pk)


def _job(request: HttpRequest, signatory: Signatory, job_pk: int) -> ImportJob:
    job = selectors.import_get_for(request.user, job_pk)
    if job.signatory_id != signatory.pk:
        raise Http404
    return job


def _context(request: HttpRequest, signatory: Signatory, **extra) -> dict:
    return {"signatory": signatory, "section": "imports",
            "can_edit": request.user.has_perm("training.edit", signatory),
            "can_export": request.user.has_perm("training.export", signatory),
            "staff_view": request.user.is_code_staff, **extra}


@login_required
def import_upload(request: HttpRequest, pk: int) -> HttpResponse:
    signatory = _company(request, pk)
    form = ImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST":
        if not request.user.has_perm("training.edit", signatory):
            raise PermissionDenied
        if form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                job = services.import_create(
                    actor=request.user, signatory=signatory, upload=upload,
                    import_valid_rows=form.cleaned_data["import_valid_rows"])
            except DomainError as exc:
                form.add_error("file" if exc.field == "file" else None, exc.message)
            else:
                messages.success(request, _("The file has been received and is being imported."))
                return redirect("training-import-detail", pk=signatory.pk, job_pk=job.pk)
    jobs = (selectors.import_list_for(request.user).filter(signatory=signatory)
            .defer("errors").order_by("-created_at", "-id"))
    page = Paginator(jobs, JOBS_PER_PAGE).get_page(request.GET.get("page"))
    courses = sorted(CourseIndex.for_signatory(signatory).by_id.values(),
                     key=lambda c: (c.title.casefold(), c.pk))
    return render(request, "training/import_upload.html", _context(
        request, signatory, form=form, page=page, courses=courses, columns=COLUMNS))


@login_required
def import_template(request: HttpRequest, pk: int, fmt: str) -> HttpResponse:
    signatory = _company(request, pk)
    return exports.import_template_response(signatory, fmt)


def _progress_context(request: HttpRequest, signatory: Signatory, job: ImportJob) -> dict:
    finished = job.finished
    row_errors = [e for e in job.errors if e.get("line")] if finished else []
    return _context(
        request, signatory, job=job, finished=finished,
        file_errors=[m for e in job.errors if not e.get("line") for m in e["errors"]],
        row_errors=row_errors[:ERRORS_SHOWN], error_rows=len(row_errors),
        valid_rows=services.import_valid_row_count(job) if finished else 0,
        errors_truncated=len(row_errors) > ERRORS_SHOWN, errors_shown=ERRORS_SHOWN,
        # rows still to go through the database (the progress bar's denominator is known only
        # once the file has been read)
        counting=not finished and not job.total_rows)


@login_required
def import_detail(request: HttpRequest, pk: int, job_pk: int) -> HttpResponse:
    signatory = _company(request, pk)
    job = _job(request, signatory, job_pk)
    return render(request, "training/import_detail.html",
                  _progress_context(request, signatory, job))


@login_required
@require_POST
def import_accept_valid_rows(request: HttpRequest, pk: int, job_pk: int) -> HttpResponse:
    """A file that imported nothing because of row errors: import its valid rows after all."""
    signatory = _company(request, pk)
    job = _job(request, signatory, job_pk)
    try:
        services.import_accept_valid_rows(actor=request.user, job=job)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("The valid rows of the file are being imported."))
    return redirect("training-import-detail", pk=signatory.pk, job_pk=job.pk)


@login_required
def import_progress(request: HttpRequest, pk: int, job_pk: int) -> HttpResponse:
    """The part of the job page that htmx polls every second until the job is finished."""
    signatory = _company(request, pk)
    job = _job(request, signatory, job_pk)
    response = render(request, "training/import_progress.html",
                      _progress_context(request, signatory, job))
    response["Cache-Control"] = "no-store"
    return response


class _Echo:
    def write(self, value: str) -> str:
        return value


@login_required
def import_errors_csv(request: HttpRequest, pk: int, job_pk: int) -> StreamingHttpResponse:
    """Every row error of a job, for files with more errors than the page shows."""
    signatory = _company(request, pk)
    job = _job(request, signatory, job_pk)
    writer = csv.writer(_Echo())

    def lines():
        yield "\ufeff" + writer.writerow([_("Line"), _("Errors")])
        for entry in job.errors:
            yield writer.writerow([entry.get("line") or "", " ".join(entry["errors"])])

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="import-{job.pk}-errors.csv"'
    return response


# --- Downloads ------------------------------------------------------------------------------------

def _year(request: HttpRequest, today) -> int:
    try:
        year = int(request.GET.get("year", today.year))
    except (TypeError, ValueError):
        return today.year
    return year if 1998 <= year <= today.year else today.year


@login_required
def company_export(request: HttpRequest, pk: int, what: str, fmt: str) -> HttpResponse:
    """``records`` (every completion) or ``coverage`` (the summary of ``?year=``)."""
    signatory = _company(request, pk)
    if not request.user.has_perm("training.export", signatory):
        raise PermissionDenied
    today = timezone.localdate()
    if what == "records":
        exports.log_personal_data_export(actor=request.user, signatory=signatory, fmt=fmt)
        export = exports.records_export(signatory, today=today)
    else:
        export = exports.coverage_export(signatory, as_of=as_of_for_year(_year(request, today),
                                                                         today))
    return exports.export_response(export, fmt)


@login_required
def staff_coverage_export(request: HttpRequest, fmt: str) -> HttpResponse:
    """Coverage per signatory, with the filters of the staff coverage page (country, type,
    search, year). A local representative gets the signatories of their countries."""
    if not request.user.has_perm("signatories.view_queue"):
        raise Http404
    today = timezone.localdate()
    as_of = as_of_for_year(_year(request, today), today)
    signatories = selectors.coverage_list_for(request.user, as_of)
    filterset = CoverageFilter(request.GET or None, queryset=signatories, request=request)
    if filterset.is_bound and not filterset.is_valid():
        signatories = signatories.none()
    elif filterset.is_bound:
        signatories = filterset.qs
    return exports.export_response(exports.staff_coverage_export(signatories, as_of=as_of), fmt)
