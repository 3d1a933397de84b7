"""Reads of the notification log, scoped to the user. What a user may not see is a 404."""

from __future__ import annotations

from django.db.models import QuerySet
from django.http import Http404

from code_portal.models import StaffRole, User
from code_portal.reminders.models import Notification
from signatories.models import Signatory
from signatories.selectors import signatory_get_for, signatory_scope_q


def _fields(qs: QuerySet[Notification]) -> QuerySet[Notification]:
    # The list never shows the template context (it can be large): leave it in the database.
    return qs.select_related("signatory").defer("context", "signatory__address")


def notification_list_for(user: User) -> QuerySet[Notification]:
    """Staff admins and reviewers: every notification (digests to staff included); local
    representatives: those about signatories of their countries (and their own company's);
    company members: their companies' notifications."""
    if not user.is_authenticated or not user.is_active:
        return Notification.objects.none()
    if user.staff_role in (StaffRole.ADMIN, StaffRole.REVIEWER):
        qs = Notification.objects.all()
    else:
        scope = signatory_scope_q(user)
        qs = Notification.objects.filter(
            signatory__in=Signatory.objects.filter(scope).values("pk"))
    return _fields(qs).order_by("-created_at", "-id")


def notification_list_for_signatory(user: User, signatory_pk: int | str
                                    ) -> tuple[Signatory, QuerySet[Notification]]:
    signatory = signatory_get_for(user, signatory_pk)
    if not user.has_perm("reminders.view_notifications", signatory):
        raise Http404
    qs = _fields(Notification.objects.filter(signatory=signatory)).order_by("-created_at", "-id")
    return signatory, qs


def notification_get_for(user: User, pk: int | str) -> Notification:
    try:
        return notification_list_for(user).defer(None).select_related("signatory").get(
            pk=int(pk))
    except (Notification.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc
