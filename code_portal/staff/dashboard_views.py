"""The staff overview dashboard and the annual summary PDF (issue 8).

Code staff and local representatives only (``staff.view_dashboard``); anyone else gets the same
404 as the other staff pages. Figures are scoped in ``code_portal.staff.dashboard``.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from code_portal.staff.charts import build_charts
from code_portal.staff.dashboard import (
    CACHE_SECONDS,
    FIRST_YEAR,
    DashboardFilters,
    cached_dashboard_for,
    country_choices,
    parse_filters,
)
from code_portal.staff.summary_pdf import render_summary, summary_data, summary_filename
from signatories.models import SignatoryType


def _require(request: HttpRequest, perm: str) -> None:
    if not request.user.has_perm(perm):
        raise Http404


@login_required
@require_GET
def dashboard(request: HttpRequest) -> HttpResponse:
    _require(request, "staff.view_dashboard")
    today = timezone.localdate()
    filters = parse_filters(request.GET, today=today)
    data = cached_dashboard_for(request.user, filters, today=today)
    charts = [{"chart": chart, "svg": chart.svg()} for chart in build_charts(data)]
    return render(request, "staff/dashboard.html", {
        "dashboard": data, "filters": filters, "charts": charts,
        "years": range(today.year, FIRST_YEAR - 1, -1),
        "countries": country_choices(request.user),
        "types": SignatoryType.choices,
        "can_download_summary": request.user.has_perm("staff.view_annual_summary"),
        "cache_minutes": CACHE_SECONDS // 60,
    })


@login_required
@require_GET
def annual_summary(request: HttpRequest, year: int) -> HttpResponse:
    """The board's summary of a year as a PDF, with the dashboard's country/type filters."""
    _require(request, "staff.view_annual_summary")
    today = timezone.localdate()
    if not FIRST_YEAR <= year <= today.year:
        raise Http404
    parsed = parse_filters(request.GET, today=today)
    filters = DashboardFilters(year=year, country=parsed.country, type=parsed.type)
    content = render_summary(summary_data(request.user, filters, today=today))
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{summary_filename(filters)}"'
    # figures of a local representative's countries: never kept by shared caches
    response["Cache-Control"] = "private, no-store"
    return response
