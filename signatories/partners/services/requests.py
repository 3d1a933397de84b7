"""Confirmation requests: send (one, bulk), cancel, e-mail, expire, remind."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from code_portal.audit import audit_record
from code_portal.authz import require
from code_portal.errors import DomainError
from code_portal.models import User
from signatories.models import Signatory
from signatories.partners import tokens
from signatories.partners.models import (
    LINK_VALID_DAYS,
    ConfirmationRequest,
    Partner,
)
from signatories.partners.services.partners import EMAIL_BATCH, R, _tasks, partner_state_refresh

# --- Sending requests ---------------------------------------------------------------------------------

def _expire_stale(partner_ids: Iterable[int], now) -> None:
    """Pending requests whose link ran out become ``expired`` (so a new one may be sent)."""
    stale = list(ConfirmationRequest.objects.select_for_update()
                 .filter(partner_id__in=list(partner_ids), status=R.PENDING, expires_at__lte=now)
                 .select_related("partner"))
    for req in stale:
        _mark_expired(req)


def _mark_expired(req: ConfirmationRequest) -> None:
    updated = ConfirmationRequest.objects.filter(pk=req.pk, status=R.PENDING).update(
        status=R.EXPIRED, updated_at=timezone.now())
    if updated:
        req.status = R.EXPIRED
        partner_state_refresh([req.partner_id])
        audit_record(actor=None, action="partner_confirmation.expired", obj=req,
                     signatory=req.signatory, from_state=R.PENDING, to_state=R.EXPIRED)


def _new_request(partner: Partner, actor: User | None, now, language: str = "") -> ConfirmationRequest:
    salt, digest = tokens.salt_and_hash()
    return ConfirmationRequest(
        partner=partner, signatory_id=partner.signatory_id, token_salt=salt, token_hash=digest,
        email=partner.contact_email, language=language or partner.language,
        requested_by=actor if actor is not None and actor.pk else None, sent_at=now,
        expires_at=now + timedelta(days=LINK_VALID_DAYS))


def _enqueue_emails(ids: list[int]) -> None:
    for start in range(0, len(ids), EMAIL_BATCH):
        batch = ids[start:start + EMAIL_BATCH]
        transaction.on_commit(lambda batch=batch: _tasks().send_confirmation_emails.delay(batch))


@dataclass
class BulkResult:
    sent: list[int] = field(default_factory=list)       # new request ids
    already_pending: int = 0
    without_email: int = 0


@transaction.atomic
def confirmation_requests_send(*, actor: User | None, signatory: Signatory,
                               partner_ids: Iterable[int] | None = None) -> BulkResult:
    """Send a request to each of the signatory's partners (all of them with ``None``).

    Idempotent: a partner with a pending, unexpired request gets nothing new (and the unique
    index ``partners_request_one_pending_per_partner`` enforces it under concurrency). Requests
    are inserted in bulk and their e-mails go out from tasks of ``EMAIL_BATCH`` requests each,
    scheduled on commit.
    """
    require(actor, "partners.send_requests", signatory)
    now = timezone.now()
    partners = Partner.objects.filter(signatory=signatory).only(
        "id", "signatory_id", "contact_email", "language", "name")
    if partner_ids is not None:
        partners = partners.filter(pk__in=[int(p) for p in partner_ids])
    partners = list(partners.order_by("id"))
    result = BulkResult()
    _expire_stale([p.pk for p in partners], now)
    pending = set(ConfirmationRequest.objects.filter(
        partner_id__in=[p.pk for p in partners], status=R.PENDING).values_list("partner_id", flat=True))
    new = []
    for partner in partners:
        if partner.pk in pending:
            result.already_pending += 1
        elif not partner.contact_email:
            result.without_email += 1
        else:
            new.append(_new_request(partner, actor, now))
    # ignore_conflicts: a concurrent send that won the unique pending index leaves us nothing
    # to do for that partner; the rows that went in are found again by their token hash.
    ConfirmationRequest.objects.bulk_create(new, batch_size=500, ignore_conflicts=True)
    created = list(ConfirmationRequest.objects.filter(token_hash__in=[r.token_hash for r in new])
                   .select_related("partner").order_by("id"))
    result.already_pending += len(new) - len(created)
    for req in created:
        audit_record(actor=actor, action="partner_confirmation.requested", obj=req,
                     signatory=signatory, to_state=R.PENDING,
                     changes={"email": {"to": req.email}})
    result.sent = [r.pk for r in created]
    if created:
        partner_state_refresh([r.partner_id for r in created])
    _enqueue_emails(result.sent)
    return result


def confirmation_request_send(*, actor: User | None, partner: Partner) -> ConfirmationRequest:
    """One partner: the new request, or the one already pending."""
    if not partner.contact_email:
        raise DomainError(_("Add the partner's contact e-mail address first."),
                          field="contact_email")
    confirmation_requests_send(actor=actor, signatory=partner.signatory, partner_ids=[partner.pk])
    return ConfirmationRequest.objects.filter(partner=partner).order_by("-sent_at", "-id").first()


@transaction.atomic
def confirmation_request_cancel(*, actor: User | None, request: ConfirmationRequest
                                ) -> ConfirmationRequest:
    require(actor, "partners.send_requests", request.signatory)
    updated = ConfirmationRequest.objects.filter(pk=request.pk, status=R.PENDING).update(
        status=R.CANCELLED, cancelled_at=timezone.now(), updated_at=timezone.now())
    if not updated:
        raise DomainError(_("Only a pending request can be cancelled."))
    request.refresh_from_db()
    partner_state_refresh([request.partner_id])
    audit_record(actor=actor, action="partner_confirmation.cancelled", obj=request,
                 signatory=request.signatory, from_state=R.PENDING, to_state=R.CANCELLED)
    return request


def confirmation_emails_send(*, request_ids: list[int]) -> int:
    """E-mail the link of each request, once: the ``emailed_at`` claim is won before sending,
    so a re-delivered task sends nothing twice. Returns the number of e-mails sent."""
    from code_portal.notifications import send_templated_email

    sent = 0
    for req in (ConfirmationRequest.objects.filter(pk__in=request_ids, emailed_at__isnull=True,
                                                   status=R.PENDING)
                .select_related("partner", "signatory").order_by("id")):
        claimed = ConfirmationRequest.objects.filter(pk=req.pk, emailed_at__isnull=True).update(
            emailed_at=timezone.now())
        if not claimed:
            continue
        sent += send_templated_email(
            to=[req.email], template="partners/email/confirmation_request",
            language=req.language or None,
            context={"request_id": req.pk, "partner_name": req.partner.name,
                     "operator_name": req.signatory.display_name,
                     "expires_on": timezone.localdate(req.expires_at)})
    return sent


@transaction.atomic
def confirmation_requests_expire(*, now=None) -> int:
    """The daily job: pending requests whose link ran out become ``expired`` (audited)."""
    now = now or timezone.now()
    stale = list(ConfirmationRequest.objects.select_for_update()
                 .filter(status=R.PENDING, expires_at__lte=now).select_related("signatory"))
    for req in stale:
        _mark_expired(req)
    return len(stale)


@transaction.atomic
def confirmation_requests_expire_one(*, request_id: int) -> bool:
    """Mark one pending request whose link ran out as expired (when its link is opened)."""
    req = (ConfirmationRequest.objects.select_for_update().select_related("signatory")
           .filter(pk=request_id, status=R.PENDING, expires_at__lte=timezone.now()).first())
    if req is None:
        return False
    _mark_expired(req)
    return True


# --- Reminders ----------------------------------------------------------------------------------------

REMINDER_TEMPLATE = "partners/email/confirmation_reminder"


def confirmation_reminders_claim(*, today: date | None = None) -> list[int]:
    """Remind partners whose request is still pending, on each configured day after sending
    (``reminder_offsets("partner-confirmation-pending")``, default 7 and 21 days).

    One query finds the pending, unexpired requests whose send date + an offset is today; each
    occasion is claimed once through the reminders machinery (key
    ``partner-pending:<request id>:<offset>d``), which sends after commit: a re-run the same day
    sends nothing new. The reminder carries the same link as the first e-mail (the token is
    derived, not stored: the template computes it from the request id at send time).
    """
    from code_portal.reminders import kinds
    from code_portal.reminders.services import (
        Draft,
        notifications_claim,
        reminder_enabled,
        reminder_offsets,
    )

    kind = kinds.PARTNER_CONFIRMATION_PENDING
    if not reminder_enabled(kind):
        return []
    today = today or timezone.localdate()
    offsets = reminder_offsets(kind)
    if not offsets:
        return []
    days = {today - timedelta(days=offset): offset for offset in offsets}
    tz = timezone.get_current_timezone()
    window = Q()
    for day in days:
        start = timezone.make_aware(datetime.combine(day, time.min), tz)
        window |= Q(sent_at__gte=start, sent_at__lt=start + timedelta(days=1))
    rows = (ConfirmationRequest.objects.filter(window, status=R.PENDING,
                                               expires_at__gt=timezone.now())
            .select_related("partner", "signatory").order_by("id"))
    drafts = []
    for req in rows:
        offset = days[timezone.localdate(req.sent_at)]
        drafts.append(Draft(
            kind=kind, key=f"partner-pending:{req.pk}:{offset}d", signatory_id=req.signatory_id,
            recipients=[req.email], template=REMINDER_TEMPLATE,
            context={"request_id": req.pk, "partner_name": req.partner.name,
                     "operator_name": req.signatory.display_name,
                     "expires_on": timezone.localdate(req.expires_at).isoformat()},
            reason=f"Confirmation requested {offset} days ago and not answered yet.",
            language=req.language))
    return notifications_claim(drafts)
