"""Exports of staff lists (POST from the export control of each list) and the requester's jobs.

An export is asked with a POST (it is recorded and may start a task): small results answer
with the file itself, larger ones redirect to the job page, which polls the progress (htmx)
and offers the download when the file is ready. Jobs are private to their requester: another
person's job is 404, staff admins included.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from code_portal.errors import DomainError
from code_portal.private_files import private_file_response
from code_portal.staff import exports, services
from code_portal.staff.models import ExportJob, ExportStatus
from code_portal.staff.selectors import export_job_get_for, export_jobs_for
from training.exports import XLSX_CONTENT_TYPE, export_response

JOBS_PER_PAGE = 20
CONTENT_TYPES = {"csv": "text/csv; charset=utf-8", "xlsx": XLSX_CONTENT_TYPE}


class ExportForm(forms.Form):
    kind = forms.ChoiceField(choices=exports.kind_choices)
    format = forms.ChoiceField(choices=[(f, f) for f in exports.FORMATS])
    query = forms.CharField(required=False, max_length=4000)


def _staff_only(request: HttpRequest) -> None:
    if not request.user.has_perm("staff.export"):
        raise Http404


def _context(job: ExportJob) -> dict:
    spec = exports.KINDS.get(job.kind)
    return {"job": job, "label": spec.label if spec else job.kind,
            "list_url": spec.list_url if spec else None,
            "query": exports.clean_params(job.filters).urlencode(),
            "keep_days": services.keep_days()}


@login_required
@require_POST
def export_create(request: HttpRequest) -> HttpResponse:
    _staff_only(request)
    form = ExportForm(request.POST)
    if not form.is_valid():
        return HttpResponse(_("This export cannot be made."), status=400,
                            content_type="text/plain; charset=utf-8")
    data = form.cleaned_data
    try:
        job, export = services.export_request(actor=request.user, kind=data["kind"],
                                              fmt=data["format"],
                                              params=QueryDict(data["query"]))
    except DomainError as exc:
        return HttpResponse(exc.message, status=400, content_type="text/plain; charset=utf-8")
    if export is not None:
        response = export_response(export, data["format"])
        response["Cache-Control"] = "private, no-store"
        return response
    messages.success(request, _("The list is long: it is being exported in the background. "
                                "This page shows the progress, and you will get an e-mail "
                                "with the link when the file is ready."))
    return redirect("staff-export-detail", pk=job.pk)


@login_required
def export_list(request: HttpRequest) -> HttpResponse:
    jobs = export_jobs_for(request.user).order_by("-created_at", "-id")
    page = Paginator(jobs, JOBS_PER_PAGE).get_page(request.GET.get("page"))
    labels = dict(exports.kind_choices())
    return render(request, "staff/export_list.html", {
        "page": page, "rows": [(job, labels.get(job.kind, job.kind)) for job in page.object_list],
    })


@login_required
def export_detail(request: HttpRequest, pk: int) -> HttpResponse:
    job = export_job_get_for(request.user, pk)
    return render(request, "staff/export_detail.html", _context(job))


@login_required
def export_progress(request: HttpRequest, pk: int) -> HttpResponse:
    """The part of the job page that htmx polls every second until the job is finished."""
    job = export_job_get_for(request.user, pk)
    response = render(request, "staff/export_progress.html", _context(job))
    response["Cache-Control"] = "no-store"
    return response


def download_response(job: ExportJob) -> HttpResponse:
    if job.status != ExportStatus.DONE or not job.file:
        raise Http404
    return private_file_response(job.file, filename=job.filename or f"export-{job.pk}.{job.format}",
                                 content_type=CONTENT_TYPES.get(job.format, ""))


@login_required
def export_download(request: HttpRequest, pk: int) -> HttpResponse:
    return download_response(export_job_get_for(request.user, pk))
