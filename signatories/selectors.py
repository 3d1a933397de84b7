"""Reads scoped to the user. Anything a user may not see looks exactly like a missing object."""

from __future__ import annotations

from django.db.models import Count, Prefetch, Q, QuerySet
from django.http import Http404

from code_portal.models import AuditEvent, StaffRole, User
from signatories.models import (
    GOOD_STANDING,
    Invitation,
    Membership,
    Signatory,
    SignatoryStatus,
)


def signatory_scope_q(user: User) -> Q:
    """The signatories a user may see, as a filter usable on any relation to Signatory."""
    if not user.is_authenticated or not user.is_active:
        return Q(pk__in=[])
    if user.staff_role in (StaffRole.ADMIN, StaffRole.REVIEWER):
        return Q()
    # A subquery, not a join through memberships: a join can repeat rows, and the DISTINCT it
    # then needs (with an OR on the country) made a local representative's list a full scan
    # and sort of every signatory (~0.8 s at 100k rows; see bench/README.md).
    own = Q(pk__in=Membership.objects.filter(user=user).values("signatory_id"))
    if user.staff_role == StaffRole.LOCAL_REP:
        return Q(country__in=[c.code for c in user.staff_countries]) | own
    return own


def signatory_list_for(user: User) -> QuerySet[Signatory]:
    return Signatory.objects.filter(signatory_scope_q(user)).select_related("signed_code_version")


def signatory_get_for(user: User, pk: int | str) -> Signatory:
    try:
        return signatory_list_for(user).get(pk=int(pk))
    except (Signatory.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc


def signatory_companies_of(user: User) -> QuerySet[Signatory]:
    """The companies the user is a member of (their own dashboard)."""
    if not user.is_authenticated:
        return Signatory.objects.none()
    return Signatory.objects.filter(memberships__user=user).annotate(
        member_count=Count("memberships", distinct=True)
    ).order_by("legal_name")


def application_queue_for(user: User) -> QuerySet[Signatory]:
    return signatory_list_for(user).filter(status=SignatoryStatus.APPLIED).order_by("applied_at",
                                                                                    "id")


def public_signatory_list(search: str = "") -> QuerySet[Signatory]:
    # `status` must be loaded: ConcurrentTransitionMixin reads it in __init__, and a deferred
    # status costs one query per row.
    qs = Signatory.objects.filter(status__in=GOOD_STANDING).only(
        "id", "legal_name", "trading_name", "type", "country", "member_since", "status")
    if search:
        qs = qs.filter(Q(legal_name__icontains=search) | Q(trading_name__icontains=search))
    return qs.order_by("legal_name", "id")


def membership_list_for(user: User, signatory: Signatory) -> QuerySet[Membership]:
    if not user.has_perm("signatories.view_members", signatory):
        raise Http404
    return Membership.objects.filter(signatory=signatory).select_related("user").order_by(
        "user__email")


def membership_get_for(user: User, signatory: Signatory, pk: int | str) -> Membership:
    try:
        return membership_list_for(user, signatory).get(pk=int(pk))
    except (Membership.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc


def invitation_list_for(user: User, signatory: Signatory) -> QuerySet[Invitation]:
    if not user.has_perm("signatories.manage_members", signatory):
        raise Http404
    return Invitation.objects.filter(signatory=signatory, accepted_at__isnull=True,
                                     revoked_at__isnull=True).select_related("invited_by")


def invitation_get_for(user: User, signatory: Signatory, pk: int | str) -> Invitation:
    try:
        return invitation_list_for(user, signatory).get(pk=int(pk))
    except (Invitation.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc


def audit_events_for(user: User, signatory: Signatory) -> QuerySet[AuditEvent]:
    if not user.has_perm("signatories.view_history", signatory):
        raise Http404
    return AuditEvent.objects.filter(signatory=signatory).select_related("actor")


def memberships_prefetch() -> Prefetch:
    return Prefetch("memberships", queryset=Membership.objects.select_related("user"))
