"""Every write to partners and confirmation requests: atomic, permission-checked, audited.

``actor=None`` is the system or, for the public link, the anonymous partner (the audit row then
says "system"; the request itself keeps the responder's name, IP address and browser).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from code_portal.audit import audit_record, diff_fields
from code_portal.authz import require
from code_portal.errors import DomainError
from code_portal.models import User
from code_portal.uploads import check_upload
from signatories.models import Signatory
from signatories.partners import tokens
from signatories.partners.models import (
    LINK_VALID_DAYS,
    ConfirmationRequest,
    GuidelinesVersion,
    Partner,
    PartnerImportJob,
    RequestStatus,
    valid_until_for,
)

R = RequestStatus
PARTNER_FIELDS = ["kind", "name", "country", "city", "contact_email", "website", "language",
                  "contract_reference", "contract_start", "contract_end", "carries_clause"]
# Requests per e-mail task: 1,000 requests are 10 tasks, not 1,000 e-mails in the request.
EMAIL_BATCH = 100
IMPORT_MAX_BYTES = 10 * 1024 * 1024
MAX_TEXT = 2000


def _tasks():
    from signatories.partners import tasks

    return tasks


def _check_partner(partner: Partner) -> None:
    if not partner.name.strip():
        raise DomainError(_("Enter the partner's name."), field="name")
    if partner.contract_start and partner.contract_end and partner.contract_end < partner.contract_start:
        raise DomainError(_("The contract cannot end before it starts."), field="contract_end")


# --- Partners ---------------------------------------------------------------------------------------

@transaction.atomic
def partner_create(*, actor: User | None, signatory: Signatory, data: dict[str, Any]) -> Partner:
    require(actor, "partners.manage_partners", signatory)
    partner = Partner(signatory=signatory, **{k: v for k, v in data.items() if k in PARTNER_FIELDS})
    _check_partner(partner)
    partner.save()
    audit_record(actor=actor, action="partner.created", obj=partner, signatory=signatory)
    return partner


@transaction.atomic
def partner_update(*, actor: User | None, partner: Partner, data: dict[str, Any]) -> Partner:
    require(actor, "partners.manage_partners", partner.signatory)
    before = {name: getattr(partner, name) for name in PARTNER_FIELDS}
    for key, value in data.items():
        if key in PARTNER_FIELDS:
            setattr(partner, key, value)
    _check_partner(partner)
    changes = diff_fields(partner, before, PARTNER_FIELDS)
    if changes:
        partner.save()
        audit_record(actor=actor, action="partner.edited", obj=partner,
                     signatory=partner.signatory, changes=changes)
    return partner


@transaction.atomic
def partner_delete(*, actor: User | None, partner: Partner) -> None:
    require(actor, "partners.manage_partners", partner.signatory)
    audit_record(actor=actor, action="partner.deleted", obj=partner, signatory=partner.signatory,
                 changes={"name": {"from": partner.name}})
    partner.delete()


@transaction.atomic
def partner_link(*, actor: User | None, partner: Partner, linked: Signatory | None) -> Partner:
    """Link the partner to the signatory it is (or unlink it with ``linked=None``)."""
    require(actor, "partners.manage_partners", partner.signatory)
    if linked is not None and linked.pk == partner.signatory_id:
        raise DomainError(_("A company cannot be its own partner."), field="linked_signatory")
    before = partner.linked_signatory_id
    partner.linked_signatory = linked
    partner.save(update_fields=["linked_signatory", "updated_at"])
    audit_record(actor=actor, action="partner.linked" if linked else "partner.unlinked",
                 obj=partner, signatory=partner.signatory,
                 changes={"linked_signatory": {"from": before, "to": linked.pk if linked else None}})
    return partner


# --- The partner's kept state ------------------------------------------------------------------------

def partner_state_refresh(partner_ids: Iterable[int] | None = None) -> int:
    """Recompute ``Partner.last_request`` and ``Partner.confirmed_until`` from the requests, in
    one UPDATE (all partners with ``None``). Services call it for the partners they touch; the
    bench calls it after bulk SQL inserts."""
    partners = Partner.objects.all()
    if partner_ids is not None:
        partners = partners.filter(pk__in=list(partner_ids))
    latest = ConfirmationRequest.objects.filter(partner=OuterRef("pk")).order_by("-sent_at", "-id")
    return partners.update(
        last_request=Subquery(latest.values("id")[:1]),
        last_status=Coalesce(Subquery(latest.values("status")[:1]), Value("")),
        last_expires_at=Subquery(latest.values("expires_at")[:1]),
        confirmed_until=Subquery(ConfirmationRequest.objects.filter(
            partner=OuterRef("pk"), status=R.CONFIRMED).order_by("-valid_until")
            .values("valid_until")[:1]))


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


# --- Import -------------------------------------------------------------------------------------------

@transaction.atomic
def partner_import_create(*, actor: User, signatory: Signatory, upload: UploadedFile,
                          import_valid_rows: bool = False) -> PartnerImportJob:
    """Store the upload, check its columns now, and enqueue its import (a Celery task)."""
    require(actor, "partners.import_partners", signatory)
    try:
        checked = check_upload(upload, kinds=("csv", "xlsx"), max_bytes=IMPORT_MAX_BYTES)
    except ValidationError as exc:
        raise DomainError(exc.messages[0], field="file") from exc
    from signatories.partners.importer import check_partner_file
    from training.importers import ImportFileError

    try:
        check_partner_file(upload, filename=checked.name)
    except ImportFileError as exc:
        raise DomainError(exc.message, field="file") from exc
    job = PartnerImportJob(signatory=signatory, uploaded_by=actor, original_name=checked.name,
                           import_valid_rows=import_valid_rows)
    job.file.save(checked.name, upload, save=False)
    job.save()
    audit_record(actor=actor, action="partner_import.created", obj=job, signatory=signatory,
                 changes={"file": {"to": checked.name}})

    def enqueue() -> None:
        result = _tasks().run_partner_import.delay(job.pk)
        PartnerImportJob.objects.filter(pk=job.pk, task_id="").update(task_id=result.id or "")

    transaction.on_commit(enqueue)
    return job


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
