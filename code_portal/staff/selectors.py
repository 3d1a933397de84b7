"""Reads of the staff workspace (audit trail, export jobs), scoped to the user.

Audit trail scope (decided here, documented in the README):
- central Code staff (staff admins, staff reviewers) see every event;
- a local representative sees the events *about a signatory* they may see (their countries,
  through ``signatory_scope_q``); events without a signatory (users' API tokens, the course
  catalogue, questionnaires, certificate regeneration of a whole year, exports) concern the
  whole membership and are for central staff only;
- anyone else (company users, outsiders, anonymous): nothing; pages and API answer 404.
"""

from __future__ import annotations

from django.db.models import QuerySet
from django.http import Http404

from code_portal.models import AuditEvent, StaffRole, User
from code_portal.staff.models import ExportJob
from signatories.models import Signatory
from signatories.selectors import signatory_scope_q


def _is_central(user: User) -> bool:
    return bool(user.is_authenticated and user.is_active
                and user.staff_role in (StaffRole.ADMIN, StaffRole.REVIEWER))


def audit_events_for(user: User) -> QuerySet[AuditEvent]:
    """The audit events the user may read; 404 for anyone without the audit trail permission."""
    if not user.has_perm("staff.view_audit_trail"):
        raise Http404
    events = AuditEvent.objects.select_related("signatory", "content_type")
    if _is_central(user):
        return events
    # a semi-join on the signatories in scope (not a join: no repeated rows, no DISTINCT)
    return events.filter(signatory__in=Signatory.objects.filter(signatory_scope_q(user))
                         .values("pk"))


def audit_event_get_for(user: User, pk: int | str) -> AuditEvent:
    try:
        return audit_events_for(user).get(pk=int(pk))
    except (AuditEvent.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc


def export_jobs_for(user: User) -> QuerySet[ExportJob]:
    """The user's own exports: an export is private to the person who asked for it."""
    if not user.has_perm("staff.export"):
        raise Http404
    return ExportJob.objects.filter(requested_by=user)


def export_job_get_for(user: User, pk: int | str) -> ExportJob:
    try:
        return export_jobs_for(user).get(pk=int(pk))
    except (ExportJob.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc
