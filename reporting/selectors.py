"""Report reads scoped to the user: another company's report looks like a missing one."""

from __future__ import annotations

from django.db.models import QuerySet
from django.http import Http404

from code_portal.models import StaffRole, User
from reporting.models import Evidence, Questionnaire, Report, ReportStatus
from signatories.models import Signatory
from signatories.selectors import signatory_scope_q


def report_list_for(user: User) -> QuerySet[Report]:
    reports = Report.objects.select_related("signatory", "reviewer", "questionnaire")
    if user.is_authenticated and user.is_active and user.staff_role in (StaffRole.ADMIN,
                                                                        StaffRole.REVIEWER):
        # Central staff see every report: a semi-join against every signatory would only cost
        # (a hash of 100k ids on each count of the queue; see bench/reporting.py).
        return reports
    ids = Signatory.objects.filter(signatory_scope_q(user)).values("pk")
    return reports.filter(signatory__in=ids)


def report_get_for(user: User, pk: int | str) -> Report:
    try:
        return report_list_for(user).get(pk=int(pk))
    except (Report.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc


def review_queue_for(user: User) -> QuerySet[Report]:
    if not user.has_perm("reporting.view_queue", None) and not user.is_code_staff:
        return Report.objects.none()
    return report_list_for(user).filter(
        status__in=[ReportStatus.SUBMITTED, ReportStatus.UNDER_REVIEW]
    ).order_by("submitted_at", "id")


def staff_report_list_for(user: User, params) -> QuerySet[Report]:
    """The staff report list: the review queue (submitted / under review, oldest submission
    first) unless ``params`` asks for statuses, then every report in the user's scope with those
    statuses (e.g. drafts past their due date, approvals of a year), by due date."""
    if not user.is_code_staff:
        return Report.objects.none()
    if params and params.getlist("status"):
        return report_list_for(user).order_by("due_on", "id")
    return review_queue_for(user)


def evidence_get_for(user: User, pk: int | str) -> Evidence:
    try:
        return Evidence.objects.select_related("report__signatory", "question").get(
            pk=int(pk), report__in=report_list_for(user).values("pk"))
    except (Evidence.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc


def previous_report(report: Report) -> Report | None:
    return (Report.objects.filter(signatory_id=report.signatory_id, year__lt=report.year)
            .order_by("-year").first())


def questionnaire_for_year(year: int) -> Questionnaire:
    q = (Questionnaire.objects.filter(year__lte=year, is_published=True)
         .order_by("-year", "-version").prefetch_related("sections__questions").first())
    if q is None:
        raise Http404
    return q
