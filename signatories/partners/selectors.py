"""Reads of partners and confirmations, scoped to the user (404 for what they may not see),
and the set-based figures other apps use.

Definitions (also in the README):

* A partner's contract is **in force on D** when ``contract_start`` is empty or ≤ D and
  ``contract_end`` is empty or ≥ D.
* A partner is **confirmed on D** when one of its requests was confirmed on or before D and is
  valid on D (``confirmed_on <= D <= valid_until``; ``valid_until`` is the day before the
  anniversary, see ``models.valid_until_for``). From the anniversary it no longer counts.
* ``Partner.confirmed_until`` / ``Partner.last_request`` are kept by the services, so a list
  page and today's rates read one row per partner (no correlated subquery).
* The **state** shown per partner (today): confirmed (until the latest ``valid_until``) >
  pending (latest request unanswered, link not expired) > declined (latest request declined) >
  expired (a confirmation that ran out, or a link that expired unanswered) > never asked. A
  confirmation counts until it runs out even if a later renewal request is declined.
"""

from __future__ import annotations

from datetime import date, datetime

from django.core.cache import cache
from django.db.models import (
    Case,
    CharField,
    Count,
    Exists,
    OuterRef,
    Q,
    QuerySet,
    Value,
    When,
)
from django.http import Http404
from django.utils import timezone

from code_portal.models import StaffRole, User
from signatories.models import Signatory
from signatories.partners.models import (
    ConfirmationRequest,
    GuidelinesVersion,
    Partner,
    PartnerImportJob,
    PartnerKind,
    PartnerState,
    RequestStatus,
)
from signatories.selectors import signatory_get_for, signatory_scope_q

R = RequestStatus


def _404_unless(user: User, perm: str, signatory: Signatory) -> None:
    if not user.has_perm(perm, signatory):
        raise Http404


def _pk(value) -> int:
    try:
        return int(value)
    except (TypeError, ValueError) as exc:
        raise Http404 from exc


# --- Figures ----------------------------------------------------------------------------------------

def in_force_q(as_of: date, prefix: str = "") -> Q:
    return ((Q(**{f"{prefix}contract_start__isnull": True})
             | Q(**{f"{prefix}contract_start__lte": as_of}))
            & (Q(**{f"{prefix}contract_end__isnull": True})
               | Q(**{f"{prefix}contract_end__gte": as_of})))


def confirmed_on_exists(as_of: date) -> Exists:
    """EXISTS a confirmation of the outer partner valid on ``as_of`` (index partners_req_valid_idx)."""
    return Exists(ConfirmationRequest.objects.filter(
        partner=OuterRef("pk"), status=R.CONFIRMED, confirmed_on__lte=as_of,
        valid_until__gte=as_of))


def share(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None


def _summary_from(row: dict) -> dict:
    return {
        "partners": row["partners"], "confirmed": row["confirmed"],
        "share": share(row["confirmed"], row["partners"]),
        "clause_contracts": row["clause_contracts"],
        "clause_confirmed": row["clause_confirmed"],
        "clause_share": share(row["clause_confirmed"], row["clause_contracts"]),
    }


def _counts() -> dict:
    return {
        "partners": Count("id"),
        "confirmed": Count("id", filter=Q(is_confirmed=True)),
        "clause_contracts": Count("id", filter=Q(carries_clause=True)),
        "clause_confirmed": Count("id", filter=Q(carries_clause=True, is_confirmed=True)),
    }


def confirmation_summary(signatory_queryset: QuerySet[Signatory], as_of: date) -> dict:
    """Partners with a contract in force on ``as_of`` of the given signatories, how many are
    confirmed on that day and the share (%; None without partners); the same for the contracts
    that carry the Code clause. One query, whatever the number of signatories.

    For the staff dashboard: pass the signatories the user may see.
    """
    row = (Partner.objects.filter(in_force_q(as_of), signatory__in=signatory_queryset.values("pk"))
           .annotate(is_confirmed=_confirmed_on(as_of)).aggregate(**_counts()))
    return _summary_from(row)


def partner_status_counts(partner_queryset: QuerySet[Partner], *, today: date | None = None
                          ) -> dict[str, int]:
    """How many of the partners are in each state today (every state present, zeros included).
    One query."""
    rows = (with_state(partner_queryset.order_by(), today=today).values("state")
            .annotate(n=Count("id")).order_by())
    counts = dict.fromkeys(PartnerState.values, 0)
    counts.update({row["state"]: row["n"] for row in rows})
    return counts


def clause_share(signatory: Signatory, as_of: date) -> float | None:
    """The annual report's prefill ``partners.clause_share``: of the signatory's hotel contracts
    in force on ``as_of``, the share (%) that carry the Code clause *and* whose hotel's adherence
    is confirmed on that day. None without hotel contracts (then nothing is prefilled)."""
    row = (Partner.objects.filter(in_force_q(as_of), signatory=signatory, kind=PartnerKind.HOTEL)
           .annotate(is_confirmed=_confirmed_on(as_of))
           .aggregate(total=Count("id"),
                      evidenced=Count("id", filter=Q(carries_clause=True, is_confirmed=True))))
    return share(row["evidenced"], row["total"])


def _scoped_signatories(user: User) -> QuerySet[Signatory]:
    return Signatory.objects.filter(signatory_scope_q(user))


def rates_signatories_for(user: User, as_of: date | None = None) -> QuerySet[Signatory]:
    """Staff: the rows of the rates page — the signatories in the user's scope that have a
    partner with a contract in force (today), by name; paginated before their figures are
    computed (``rates_for_signatories``). The staff dashboard counts the same rows. The
    semi-join is index-only (partners_in_force_idx): ~0.1 s to count 100,000 signatories with
    1M partners (bench)."""
    if not user.has_perm("partners.view_rates"):
        raise Http404
    as_of = as_of or timezone.localdate()
    in_force = Partner.objects.filter(in_force_q(as_of), signatory=OuterRef("pk"))
    return (_scoped_signatories(user).filter(Exists(in_force))
            .only("id", "legal_name", "trading_name", "country", "status")
            .order_by("legal_name", "id"))


def rates_for_signatories(signatory_ids: list[int], as_of: date) -> dict[int, dict]:
    """Per signatory: the figures of ``confirmation_summary``. One grouped query."""
    rows = (Partner.objects.filter(in_force_q(as_of), signatory_id__in=signatory_ids)
            .annotate(is_confirmed=_confirmed_on(as_of))
            .values("signatory_id").annotate(**_counts()).order_by())
    found = {row["signatory_id"]: _summary_from(row) for row in rows}
    empty = _summary_from({"partners": 0, "confirmed": 0, "clause_contracts": 0,
                           "clause_confirmed": 0})
    return {pk: found.get(pk, empty) for pk in signatory_ids}


RATES_CACHE_SECONDS = 300


def rates_by_country(user: User, as_of: date) -> list[dict]:
    """Staff: per country of the operator signatory. One grouped query over every partner in
    the user's scope (~0.9 s at 1M partners, bench), so the result is cached for
    ``RATES_CACHE_SECONDS`` per scope and day."""
    if not user.has_perm("partners.view_rates"):
        raise Http404
    scope = ("all" if user.staff_role in (StaffRole.ADMIN, StaffRole.REVIEWER)
             else f"user{user.pk}")
    key = f"partners:rates-by-country:{scope}:{as_of.isoformat()}"

    def compute() -> list[dict]:
        rows = (Partner.objects.filter(in_force_q(as_of),
                                       signatory__in=_scoped_signatories(user).values("pk"))
                .annotate(is_confirmed=_confirmed_on(as_of))
                .values("signatory__country").annotate(**_counts())
                .order_by("signatory__country"))
        return [{"country": str(row["signatory__country"]), **_summary_from(row)} for row in rows]

    return cache.get_or_set(key, compute, RATES_CACHE_SECONDS)


# --- Per-partner state --------------------------------------------------------------------------------

def with_state(partners: QuerySet[Partner], *, today: date | None = None,
               now: datetime | None = None) -> QuerySet[Partner]:
    """Annotate ``state`` (PartnerState) from the partner's kept columns (``confirmed_until``,
    ``last_status``, ``last_expires_at``): a CASE on its own row, no join, no subquery.

    For a day in the past, ``confirmed_until`` may belong to a later confirmation: pass
    ``today`` only for today or later, and use ``confirmed_on_exists`` for past days."""
    now = now or timezone.now()
    today = today or timezone.localdate(now)
    return partners.annotate(state=Case(
        When(confirmed_until__gte=today, then=Value(PartnerState.CONFIRMED)),
        When(last_status=R.PENDING, last_expires_at__gt=now, then=Value(PartnerState.PENDING)),
        When(last_status=R.DECLINED, then=Value(PartnerState.DECLINED)),
        When(confirmed_until__isnull=False, then=Value(PartnerState.EXPIRED)),
        When(last_status__in=[R.PENDING, R.EXPIRED], then=Value(PartnerState.EXPIRED)),
        default=Value(PartnerState.NEVER_ASKED), output_field=CharField()))


def _confirmed_on(as_of: date) -> Q | Exists:
    """Confirmed on ``as_of``: today (or later) from the kept column, a past day by EXISTS."""
    if as_of >= timezone.localdate():
        return Q(confirmed_until__gte=as_of)
    return confirmed_on_exists(as_of)


# --- Scoped reads -------------------------------------------------------------------------------------

def partner_signatory_for(user: User, pk) -> Signatory:
    """The operator whose partner pages are asked for; 404 unless the user may see them."""
    signatory = signatory_get_for(user, pk)
    _404_unless(user, "partners.view_partners", signatory)
    return signatory


def partner_list_for(user: User, signatory: Signatory | None = None) -> QuerySet[Partner]:
    """Partners the user may see (of one signatory, if given), with their state."""
    qs = Partner.objects.filter(signatory__in=_scoped_signatories(user).values("pk"))
    if signatory is not None:
        _404_unless(user, "partners.view_partners", signatory)
        qs = qs.filter(signatory=signatory)
    return with_state(qs.select_related("linked_signatory", "signatory")).order_by("name", "id")


def partner_get_for(user: User, pk, signatory: Signatory | None = None) -> Partner:
    try:
        return partner_list_for(user, signatory).get(pk=_pk(pk))
    except Partner.DoesNotExist as exc:
        raise Http404 from exc


def request_list_for(user: User, partner: Partner) -> QuerySet[ConfirmationRequest]:
    """The requests of a partner the user may see (partner_get_for has checked the operator)."""
    return (ConfirmationRequest.objects.filter(partner=partner)
            .select_related("requested_by", "responder_user", "guidelines_version")
            .order_by("-sent_at", "-id"))


def addressed_signatory_for(user: User, pk) -> Signatory:
    """The hotel signatory whose incoming requests are asked for: its members only."""
    signatory = signatory_get_for(user, pk)
    _404_unless(user, "partners.view_addressed_requests", signatory)
    return signatory


def addressed_requests_for(user: User, hotel: Signatory) -> QuerySet[ConfirmationRequest]:
    """Requests addressed to the hotel signatory: to partners that operators linked to it."""
    _404_unless(user, "partners.view_addressed_requests", hotel)
    return (ConfirmationRequest.objects.filter(partner__linked_signatory=hotel)
            .select_related("partner", "signatory", "responder_user")
            .order_by("-sent_at", "-id"))


def addressed_request_get_for(user: User, hotel: Signatory, pk) -> ConfirmationRequest:
    try:
        return addressed_requests_for(user, hotel).get(pk=_pk(pk))
    except ConfirmationRequest.DoesNotExist as exc:
        raise Http404 from exc


def confirmation_audit_get_for(user: User, pk) -> ConfirmationRequest:
    """Staff: one request with everything about its answer; 404 outside the user's scope."""
    try:
        req = (ConfirmationRequest.objects
               .filter(signatory__in=_scoped_signatories(user).values("pk"))
               .select_related("partner", "signatory", "requested_by", "responder_user",
                               "guidelines_version").get(pk=_pk(pk)))
    except ConfirmationRequest.DoesNotExist as exc:
        raise Http404 from exc
    _404_unless(user, "partners.audit_confirmation", req.signatory)
    return req


def import_get_for(user: User, signatory: Signatory, pk) -> PartnerImportJob:
    _404_unless(user, "partners.view_partners", signatory)
    try:
        return PartnerImportJob.objects.select_related("uploaded_by").get(
            pk=_pk(pk), signatory=signatory)
    except PartnerImportJob.DoesNotExist as exc:
        raise Http404 from exc


def request_by_token(token: str) -> ConfirmationRequest | None:
    from signatories.partners.tokens import token_hash

    if not token or len(token) > 100:
        return None
    return (ConfirmationRequest.objects.select_related("partner", "signatory", "guidelines_version")
            .filter(token_hash=token_hash(token)).first())


def current_guidelines() -> GuidelinesVersion | None:
    return (GuidelinesVersion.objects.filter(is_current=True).prefetch_related("texts").first())


def link_suggestions(partner: Partner, limit: int = 5) -> list[Signatory]:
    """Signatories that may be this partner: same name (case-insensitive) and country, or the
    same website domain. Not the operator itself."""
    q = Q(legal_name__iexact=partner.name, country=partner.country) | Q(
        trading_name__iexact=partner.name, country=partner.country)
    if partner.website_domain:
        q |= Q(website_domain=partner.website_domain)
    return list(Signatory.objects.filter(q).exclude(pk=partner.signatory_id)
                .order_by("legal_name", "id")[:limit])
