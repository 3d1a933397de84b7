"""Reads scoped to the user. Anything a user may not see looks exactly like a missing object."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import (
    CharField,
    Count,
    DateTimeField,
    F,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.functions import Coalesce
from django.http import Http404
from django.utils import timezone

from code_portal.models import AuditEvent, StaffRole, User
from signatories.models import (
    GOOD_STANDING,
    AuditItem,
    AuditItemStatus,
    AuditSample,
    Invitation,
    Membership,
    MembershipRole,
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


def possible_duplicates_q(signatory: Signatory) -> Q:
    """Other signatories with the same legal name (any case) and country, or the same website
    domain: what an application is flagged for (the service) and what staff are shown."""
    q = Q(legal_name__iexact=signatory.legal_name, country=signatory.country)
    if signatory.website_domain:
        q |= Q(website_domain=signatory.website_domain)
    return q & ~Q(pk=signatory.pk)


def possible_duplicates_for(user: User, signatory: Signatory, limit: int = 10) -> list[Signatory]:
    """The signatories this one may duplicate, among those the user may see (one query)."""
    return list(signatory_list_for(user).filter(possible_duplicates_q(signatory))
                .order_by("applied_at", "id")[:limit])


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


# --- Sampling for audits (issue 8) ---------------------------------------------------------------

def audit_sample_scope_q(user: User, prefix: str = "") -> Q:
    """The samples a user may see: central staff all; a local representative those of their
    countries (never a sample over every country); nobody else any."""
    if not user.is_authenticated or not user.is_active:
        return Q(pk__in=[])
    if user.staff_role in (StaffRole.ADMIN, StaffRole.REVIEWER):
        return Q()
    if user.staff_role == StaffRole.LOCAL_REP:
        return Q(**{f"{prefix}country__in": [c.code for c in user.staff_countries]})
    return Q(pk__in=[])


def audit_sample_list_for(user: User) -> QuerySet[AuditSample]:
    """Samples with their progress, counted in the list's own query."""
    today = timezone.localdate()
    items = "items__"
    return (
        AuditSample.objects.filter(audit_sample_scope_q(user)).select_related("drawn_by")
        .annotate(
            planned=Count("items", filter=Q(**{f"{items}status": AuditItemStatus.PLANNED})),
            in_progress=Count("items", filter=Q(**{f"{items}status": AuditItemStatus.IN_PROGRESS})),
            closed=Count("items", filter=Q(**{f"{items}status": AuditItemStatus.CLOSED})),
            overdue=Count("items", filter=Q(**{f"{items}follow_up_on__lt": today})
                          & ~Q(**{f"{items}status": AuditItemStatus.CLOSED})),
        )
        .order_by("-drawn_at", "-id")
    )


def audit_sample_get_for(user: User, pk: int | str) -> AuditSample:
    try:
        return audit_sample_list_for(user).get(pk=int(pk))
    except (AuditSample.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc


def audit_item_list_for(user: User) -> QuerySet[AuditItem]:
    return AuditItem.objects.filter(audit_sample_scope_q(user, "sample__")).select_related(
        "sample", "signatory", "auditor")


def audit_item_get_for(user: User, pk: int | str) -> AuditItem:
    try:
        return audit_item_list_for(user).get(pk=int(pk))
    except (AuditItem.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc


def auditor_choices_for(sample: AuditSample) -> QuerySet[User]:
    """Code staff who may audit the sample's signatories: central staff, and the local
    representatives of the sample's country."""
    q = Q(staff_role__in=[StaffRole.ADMIN, StaffRole.REVIEWER])
    if sample.country:
        # staff_countries is a comma-separated list of codes (django-countries, multiple=True)
        code = sample.country.code
        q |= Q(staff_role=StaffRole.LOCAL_REP) & (
            Q(staff_countries=code) | Q(staff_countries__startswith=f"{code},")
            | Q(staff_countries__endswith=f",{code}") | Q(staff_countries__contains=f",{code},"))
    return User.objects.filter(q, is_active=True).order_by("email")


# --- The staff dossier of one signatory (issue 8) -------------------------------------------------

DOSSIER_LIST_SIZE = 10


@dataclass
class Truncated:
    """The first rows of a list, and whether there are more (fetched as N + 1 rows: no COUNT)."""

    rows: list
    more: bool

    @classmethod
    def of(cls, queryset, size: int = DOSSIER_LIST_SIZE) -> Truncated:
        rows = list(queryset[: size + 1])
        return cls(rows=rows[:size], more=len(rows) > size)

    def __iter__(self):
        return iter(self.rows)

    def __len__(self) -> int:
        return len(self.rows)


@dataclass
class Dossier:
    signatory: Signatory
    users: Truncated
    events: Truncated
    notes: Truncated
    reports: list
    audit_items: Truncated
    coverage: dict
    partners: dict
    notifications: Truncated
    # the signatories it may duplicate (only looked up when it is flagged)
    duplicates: list


def _partner_figures(as_of) -> dict:
    """The partners app's confirmation figures of the outer signatory, as subqueries of the
    dossier's own signatory query (same definitions as ``partners.selectors
    .confirmation_summary``: contracts in force on ``as_of``, confirmed on that day)."""
    from signatories.partners.models import Partner
    from signatories.partners.selectors import confirmed_on_exists, in_force_q

    in_force = Partner.objects.filter(in_force_q(as_of), signatory=OuterRef("pk")).order_by()

    def count(qs) -> Coalesce:
        return Coalesce(Subquery(qs.values("signatory").annotate(n=Count("id")).values("n")[:1],
                                 output_field=IntegerField()), Value(0))

    return {
        "partners_in_force": count(in_force),
        "partners_confirmed": count(in_force.filter(confirmed_on_exists(as_of))),
        "partners_clause": count(in_force.filter(carries_clause=True)),
        "partners_clause_confirmed": count(in_force.filter(confirmed_on_exists(as_of),
                                                           carries_clause=True)),
    }


def _signatory_with_figures(user: User, pk: int | str, as_of) -> Signatory:
    """The signatory with its training coverage and partner figures, in one query."""
    from training.coverage import annotate_coverage

    try:
        return annotate_coverage(signatory_list_for(user), as_of).annotate(
            **_partner_figures(as_of)).get(pk=int(pk))
    except (Signatory.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc


def _users_and_invitations(signatory: Signatory, size: int = 25) -> Truncated:
    """Members, then open invitations, in one UNION query (the dossier keeps a fixed, small
    number of queries)."""
    def text(value: str) -> Value:
        return Value(value, output_field=CharField())

    columns = ("kind", "pk", "u_email", "u_name", "role", "created_at", "u_expires")
    members = Membership.objects.filter(signatory=signatory).annotate(
        kind=text("member"), u_email=F("user__email"), u_name=F("user__full_name"),
        u_expires=Value(None, output_field=DateTimeField()),
    ).order_by().values_list(*columns)
    invitations = Invitation.objects.filter(
        signatory=signatory, accepted_at__isnull=True, revoked_at__isnull=True,
    ).annotate(kind=text("invitation"), u_email=F("email"), u_name=text(""),
               u_expires=F("expires_at")).order_by().values_list(*columns)
    roles = dict(MembershipRole.choices)
    rows = [
        {"kind": kind, "pk": pk, "email": email, "name": name, "role": role,
         "role_label": roles.get(role, role), "since": created_at, "expires_at": expires_at}
        # "member" sorts after "invitation": descending puts the members first
        for kind, pk, email, name, role, created_at, expires_at
        in members.union(invitations, all=True).order_by("-kind", "u_email")[: size + 1]
    ]
    return Truncated(rows=rows[:size], more=len(rows) > size)


def _reports_with_certificates(signatory: Signatory) -> list:
    """Every annual report with its decision and its latest certificate (the one in force
    first, else the latest revoked one), in one query."""
    from reporting.models import Certificate, Report

    latest = Certificate.objects.filter(report=OuterRef("pk")).order_by(
        F("revoked_at").asc(nulls_first=True), "-issued_at", "-pk")
    return list(
        Report.objects.filter(signatory=signatory).select_related("reviewer").annotate(
            cert_pk=Subquery(latest.values("pk")[:1]),
            cert_number=Subquery(latest.values("number")[:1]),
            cert_valid_until=Subquery(latest.values("valid_until")[:1]),
            cert_revoked_at=Subquery(latest.values("revoked_at")[:1]),
        ).order_by("-year")
    )


def signatory_dossier_for(user: User, pk: int | str) -> Dossier:
    """Everything Code staff know about one signatory, in a fixed number of queries.

    Company users and staff who may not see the signatory get 404, as on the staff pages.
    """
    # Imported here: the partners and reminders selectors import this module.
    from code_portal.reminders.kinds import KIND_CHOICES
    from code_portal.reminders.selectors import notification_list_for
    from signatories.partners.selectors import share as partner_share
    from training.coverage import share

    today = timezone.localdate()
    signatory = _signatory_with_figures(user, pk, today)
    if not user.has_perm("signatories.view_staff_notes", signatory):
        raise Http404

    coverage = {
        "as_of": today,
        "trained": signatory.cov_trained, "employees": signatory.cov_employees,
        "share": share(signatory.cov_trained, signatory.cov_employees),
        "cf_trained": signatory.cov_cf_trained, "cf_employees": signatory.cov_cf_employees,
        "cf_share": share(signatory.cov_cf_trained, signatory.cov_cf_employees),
    }
    partners = {
        "partners": signatory.partners_in_force, "confirmed": signatory.partners_confirmed,
        "rate": partner_share(signatory.partners_confirmed, signatory.partners_in_force),
        "clause_contracts": signatory.partners_clause,
        "clause_confirmed": signatory.partners_clause_confirmed,
        "clause_rate": partner_share(signatory.partners_clause_confirmed,
                                     signatory.partners_clause),
    }

    notifications = Truncated.of(notification_list_for(user).filter(signatory=signatory))
    kinds = dict(KIND_CHOICES)
    for notification in notifications:
        notification.kind_label = kinds.get(notification.kind, notification.kind)
    return Dossier(
        signatory=signatory,
        partners=partners,
        notifications=notifications,
        users=_users_and_invitations(signatory),
        events=Truncated.of(AuditEvent.objects.filter(signatory=signatory).select_related("actor")),
        notes=Truncated.of(signatory.staff_notes.select_related("author")),
        reports=_reports_with_certificates(signatory),
        audit_items=Truncated.of(
            audit_item_list_for(user).filter(signatory=signatory).order_by("-sample__drawn_at",
                                                                            "-sample_id")),
        coverage=coverage,
        duplicates=(possible_duplicates_for(user, signatory) if signatory.possible_duplicate
                    else []),
    )
