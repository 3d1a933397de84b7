"""Answers: a partner confirms or declines (link or account), asks for a new link."""

from __future__ import annotations

from datetime import date

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from code_portal.audit import audit_record
from code_portal.authz import require
from code_portal.errors import DomainError
from code_portal.models import User
from signatories.partners.models import (
    ConfirmationRequest,
    GuidelinesVersion,
    valid_until_for,
)
from signatories.partners.services.partners import MAX_TEXT, R, _tasks, partner_state_refresh
from signatories.partners.services.requests import _mark_expired, confirmation_requests_send

# --- Answering ----------------------------------------------------------------------------------------

def _current_guidelines() -> GuidelinesVersion:
    version = GuidelinesVersion.objects.filter(is_current=True).first()
    if version is None:
        raise DomainError(_("There are no guidelines to confirm at the moment."))
    return version


def _lock_answerable(request_id: int) -> ConfirmationRequest:
    req = (ConfirmationRequest.objects.select_for_update().select_related("partner", "signatory")
           .get(pk=request_id))
    if req.status in (R.CONFIRMED, R.DECLINED):
        raise DomainError(_("This request has already been answered; the answer cannot be "
                            "changed."))
    if req.status == R.CANCELLED:
        raise DomainError(_("This request was withdrawn by the company that sent it."))
    if req.link_expired:
        # (the refusal rolls this transaction back: the expiry itself is recorded when the
        # link is opened, or by the daily job)
        raise DomainError(_("This link has expired."))
    return req


def _answer_checks(req: ConfirmationRequest, *, actor: User | None, name: str, position: str,
                   when: date | None, today: date) -> date:
    if actor is not None:
        hotel = req.partner.linked_signatory
        if hotel is None:
            raise DomainError(_("This request is not addressed to your company."))
        require(actor, "partners.respond_requests", hotel)
    if not name.strip():
        raise DomainError(_("Enter your name."), field="name")
    if not position.strip():
        raise DomainError(_("Enter your position."), field="position")
    if len(name) > 200 or len(position) > 200:
        raise DomainError(_("Keep the name and position under 200 characters."), field="name")
    when = when or today
    if when > today:
        raise DomainError(_("The date cannot be in the future."), field="date")
    if when < timezone.localdate(req.sent_at):
        raise DomainError(_("The date cannot be before the request was sent."), field="date")
    return when


def _record_answer(req: ConfirmationRequest, *, actor, status: str, name: str, position: str,
                   when: date, ip: str | None, user_agent: str, reason: str = "") -> None:
    now = timezone.now()
    req.status = status
    req.responded_at = now
    req.responder_name, req.responder_position, req.responder_date = name.strip(), position.strip(), when
    req.responder_user = actor if actor is not None and actor.pk else None
    req.ip_address = ip or None
    req.user_agent = (user_agent or "")[:400]
    req.guidelines_version = _current_guidelines()
    req.decline_reason = reason.strip()
    if status == R.CONFIRMED:
        req.confirmed_on = timezone.localdate(now)
        req.valid_until = valid_until_for(req.confirmed_on)
    req.save()
    partner_state_refresh([req.partner_id])
    audit_record(actor=actor, action=f"partner_confirmation.{status}", obj=req,
                 signatory=req.signatory, from_state=R.PENDING, to_state=status, reason=req.decline_reason,
                 changes={"responder": {"to": req.responder_name}, "ip": {"to": req.ip_address},
                          "user_agent": {"to": req.user_agent},
                          "guidelines_version": {"to": req.guidelines_version.version}})


@transaction.atomic
def confirmation_confirm(*, request_id: int, name: str, position: str, when: date | None = None,
                         ip: str | None = None, user_agent: str = "",
                         actor: User | None = None) -> ConfirmationRequest:
    """The partner confirms adherence (from the link, or from its signatory account with
    ``actor``). Valid until ``valid_until_for(today)``. A second answer is refused."""
    req = _lock_answerable(request_id)
    when = _answer_checks(req, actor=actor, name=name, position=position, when=when,
                          today=timezone.localdate())
    _record_answer(req, actor=actor, status=R.CONFIRMED, name=name, position=position, when=when,
                   ip=ip, user_agent=user_agent)
    return req


@transaction.atomic
def confirmation_decline(*, request_id: int, name: str, position: str, reason: str,
                         ip: str | None = None, user_agent: str = "",
                         actor: User | None = None) -> ConfirmationRequest:
    req = _lock_answerable(request_id)
    today = timezone.localdate()
    when = _answer_checks(req, actor=actor, name=name, position=position, when=today, today=today)
    if not reason.strip():
        raise DomainError(_("Please tell the company why you decline."), field="reason")
    if len(reason) > MAX_TEXT:
        raise DomainError(_("Keep the reason under 2,000 characters."), field="reason")
    _record_answer(req, actor=actor, status=R.DECLINED, name=name, position=position, when=when,
                   ip=ip, user_agent=user_agent, reason=reason)
    return req


@transaction.atomic
def confirmation_new_link(*, request_id: int) -> str:
    """The partner, from a link that no longer works, asks for a new one.

    * The link expired unanswered: a new request is made and its link e-mailed to the
      partner's contact address on file (never to an address typed on the page) → ``"sent"``;
      if one is pending already, nothing new → ``"pending"``.
    * The request was answered or withdrawn: the operator's admins and reporters are told once
      that the partner asks for a new request → ``"operator"``.
    """
    req = (ConfirmationRequest.objects.select_for_update().select_related("partner", "signatory")
           .get(pk=request_id))
    if req.link_expired:
        _mark_expired(req)
        partner = req.partner
        if not partner.contact_email:
            return _tell_operator(req)
        result = confirmation_requests_send(actor=None, signatory=req.signatory,
                                            partner_ids=[partner.pk])
        return "sent" if result.sent else "pending"
    if req.status == R.PENDING:
        return "pending"
    return _tell_operator(req)


def _tell_operator(req: ConfirmationRequest) -> str:
    claimed = ConfirmationRequest.objects.filter(pk=req.pk, new_link_asked_at__isnull=True).update(
        new_link_asked_at=timezone.now())
    if claimed:
        audit_record(actor=None, action="partner_confirmation.new_link_asked", obj=req,
                     signatory=req.signatory)
        transaction.on_commit(lambda: _tasks().notify_operator_new_link_asked.delay(req.pk))
    return "operator"


