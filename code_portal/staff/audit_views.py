"""The audit trail pages for Code staff: a filtered, paginated list and one event.

Read-only: there is no page, form or action that changes or deletes an entry. Anyone without
the audit trail permission (company users, outsiders) gets 404, as on every staff page.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from code_portal.staff.audit_changes import readable_changes
from code_portal.staff.audit_filters import AuditEventFilter
from code_portal.staff.selectors import audit_event_get_for, audit_events_for

PAGE_SIZE = 50


@login_required
def audit_list(request: HttpRequest) -> HttpResponse:
    events = audit_events_for(request.user)
    filterset = AuditEventFilter(request.GET or None, queryset=events)
    qs = filterset.qs if filterset.is_bound and filterset.is_valid() else events
    page = Paginator(qs.order_by("-occurred_at", "-id"), PAGE_SIZE).get_page(
        request.GET.get("page"))
    rows = [(event, readable_changes(event.changes)) for event in page.object_list]
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "staff/audit_list.html", {
        "filter": filterset, "page": page, "rows": rows, "query": query.urlencode(),
    })


@login_required
def audit_detail(request: HttpRequest, pk: int) -> HttpResponse:
    event = audit_event_get_for(request.user, pk)
    return render(request, "staff/audit_detail.html", {
        "event": event, "changes": readable_changes(event.changes),
        "object_type": event.content_type.model_class()._meta.verbose_name
        if event.content_type.model_class() else event.content_type.model,
        "can_view_signatory": event.signatory is not None
        and request.user.has_perm("signatories.view_staff_notes", event.signatory),
    })
