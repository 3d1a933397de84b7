"""Every write to signatories, memberships and invitations.

Each service is atomic, checks the actor's permission and the current state, writes its audit
row in the same transaction, and schedules side effects with ``transaction.on_commit``.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import date, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_fsm import TransitionNotAllowed

from code_portal.audit import audit_record, diff_fields
from code_portal.authz import require as _require
from code_portal.errors import DomainError
from code_portal.models import User
from signatories.models import (
    CodeVersion,
    Invitation,
    Membership,
    MembershipRole,
    Signatory,
    SignatoryStatus,
    StaffNote,
    website_domain,
)
from signatories.permissions import REASON_REQUIRED
from signatories.selectors import possible_duplicates_q

PROFILE_FIELDS = ["legal_name", "trading_name", "type", "country", "address", "website",
                  "employees", "contact_name", "contact_email", "contact_phone"]
STAFF_ONLY_FIELDS = ["reporting_deadline"]
# Set when applying; afterwards only Code staff change it: the country decides which local
# representative oversees the company, and its membership number names the country.
COMPANY_LOCKED_FIELDS = ["country"]




def _find_duplicates(signatory: Signatory) -> list[int]:
    # every signatory, whoever applies: the flag is for staff
    return list(Signatory.objects.filter(possible_duplicates_q(signatory))
                .order_by("pk").values_list("pk", flat=True)[:10])


@transaction.atomic
def signatory_apply(
    *,
    data: dict[str, Any],
    applicant: User | None = None,
    applicant_email: str = "",
    applicant_name: str = "",
    password: str | None = None,
) -> Signatory:
    """A company applies to sign The Code. The applicant becomes the company's admin.

    A logged-in applicant is used as is; otherwise a new account is created from e-mail and
    password (an existing address must log in first, so nobody can attach themselves to it).
    """
    if applicant is None:
        email = applicant_email.strip().lower()
        if User.objects.filter(email__iexact=email).exists():
            raise DomainError(
                _("An account with this e-mail address already exists. Log in, then apply."),
                field="applicant_email",
            )
        applicant = User.objects.create_user(email=email, password=password,
                                             full_name=applicant_name.strip())
    signatory = Signatory(**{k: v for k, v in data.items() if k in PROFILE_FIELDS})
    signatory.website_domain = website_domain(signatory.website)
    signatory.save()
    duplicates = _find_duplicates(signatory)
    if duplicates:
        signatory.possible_duplicate = True
        signatory.save(update_fields=["possible_duplicate"])
        Signatory.objects.filter(pk__in=duplicates).update(possible_duplicate=True)
    Membership.objects.create(user=applicant, signatory=signatory, role=MembershipRole.ADMIN)
    audit_record(actor=applicant, action="signatory.applied", obj=signatory, signatory=signatory,
                 to_state=signatory.status,
                 changes={"duplicates_of": duplicates} if duplicates else None)
    transaction.on_commit(lambda: _tasks().notify_staff_new_application.delay(signatory.pk))
    return signatory


def _transition(
    *,
    signatory: Signatory,
    actor: User | None,
    name: str,
    reason: str = "",
    extra: dict | None = None,
) -> Signatory:
    _require(actor, f"signatories.{name}", signatory)
    if name in REASON_REQUIRED and not reason.strip():
        raise DomainError(_("Please give a reason."), field="reason")
    # Lock the row: two staff members acting at once serialise here, and the second sees the
    # new state (and a clear refusal) instead of overwriting it.
    locked = Signatory.objects.select_for_update().get(pk=signatory.pk)
    before = locked.status
    method = getattr(locked, name)
    try:
        method(by=actor, description=reason)
    except TransitionNotAllowed as exc:
        raise DomainError(
            _("A signatory that is “%(status)s” cannot be %(action)s.")
            % {"status": locked.get_status_display(), "action": ACTION_LABELS[name]}
        ) from exc
    now = timezone.now()
    locked.status_changed_at = now
    for key, value in (extra or {}).items():
        setattr(locked, key, value)
    locked._history_user = actor
    locked.save()
    audit_record(actor=actor, action=f"signatory.{name}", obj=locked, signatory=locked,
                 from_state=before, to_state=locked.status, reason=reason,
                 changes={k: {"to": str(v)} for k, v in (extra or {}).items()} or None)
    signatory.refresh_from_db()
    return signatory


ACTION_LABELS = {
    "approve": gettext_lazy("approved"), "reject": gettext_lazy("rejected"),
    "sign": gettext_lazy("signed"),
    "flag_overdue": gettext_lazy("flagged as reporting overdue"),
    "suspend": gettext_lazy("suspended"), "reinstate": gettext_lazy("reinstated"),
    "withdraw": gettext_lazy("withdrawn"), "expel": gettext_lazy("expelled"),
}


@transaction.atomic
def signatory_approve(*, signatory: Signatory, actor: User | None, reason: str = "") -> Signatory:
    # The membership number is derived from the primary key: unique without a counter race.
    number = signatory.membership_number or f"TC-{signatory.country.code}-{signatory.pk:06d}"
    signatory = _transition(signatory=signatory, actor=actor, name="approve", reason=reason,
                            extra={"approved_at": timezone.now(), "membership_number": number})
    transaction.on_commit(lambda: _tasks().notify_company_of_transition.delay(signatory.pk,
                                                                              "approve"))
    return signatory


@transaction.atomic
def signatory_reject(*, signatory: Signatory, actor: User | None, reason: str) -> Signatory:
    signatory = _transition(signatory=signatory, actor=actor, name="reject", reason=reason)
    transaction.on_commit(lambda: _tasks().notify_company_of_transition.delay(signatory.pk,
                                                                              "reject"))
    return signatory


def _anniversary(start: date, years: int = 1) -> date:
    try:
        return start.replace(year=start.year + years)
    except ValueError:  # 29 February
        return start.replace(year=start.year + years, day=28)


@transaction.atomic
def signatory_sign(
    *,
    signatory: Signatory,
    actor: User,
    signer_name: str,
    signer_title: str,
    code_version: CodeVersion | None = None,
) -> Signatory:
    if not signer_name.strip():
        raise DomainError(_("Enter the name of the person signing."), field="signer_name")
    if not signer_title.strip():
        raise DomainError(_("Enter the signer's title or position."), field="signer_title")
    code_version = code_version or CodeVersion.objects.filter(is_current=True).first()
    if code_version is None:
        raise DomainError(_("There is no current version of the Code text to sign."))
    now = timezone.now()
    today = timezone.localdate(now)
    # A deadline staff set meanwhile is read from the locked row, not from the caller's copy.
    deadline = Signatory.objects.select_for_update().values_list(
        "reporting_deadline", flat=True).get(pk=signatory.pk)
    return _transition(
        signatory=signatory, actor=actor, name="sign",
        reason=_("Signed version %(version)s") % {"version": code_version.version},
        extra={
            "signed_at": now, "signer_name": signer_name.strip(),
            "signer_title": signer_title.strip(), "signed_code_version": code_version,
            "member_since": today,
            "reporting_deadline": deadline or _anniversary(today),
        },
    )


@transaction.atomic
def signatory_flag_overdue(*, signatory: Signatory, actor: User | None, reason: str) -> Signatory:
    return _transition(signatory=signatory, actor=actor, name="flag_overdue", reason=reason)


@transaction.atomic
def signatory_suspend(*, signatory: Signatory, actor: User | None, reason: str) -> Signatory:
    signatory = _transition(signatory=signatory, actor=actor, name="suspend", reason=reason)
    _revoke_certificates(signatory, actor, reason)
    transaction.on_commit(lambda: _tasks().notify_company_of_transition.delay(signatory.pk,
                                                                              "suspend"))
    return signatory


@transaction.atomic
def signatory_reinstate(*, signatory: Signatory, actor: User | None, reason: str) -> Signatory:
    return _transition(signatory=signatory, actor=actor, name="reinstate", reason=reason)


@transaction.atomic
def signatory_withdraw(*, signatory: Signatory, actor: User, reason: str) -> Signatory:
    return _transition(signatory=signatory, actor=actor, name="withdraw", reason=reason)


@transaction.atomic
def signatory_expel(*, signatory: Signatory, actor: User, reason: str) -> Signatory:
    signatory = _transition(signatory=signatory, actor=actor, name="expel", reason=reason)
    _revoke_certificates(signatory, actor, reason)
    transaction.on_commit(lambda: _tasks().notify_company_of_transition.delay(signatory.pk,
                                                                              "expel"))
    return signatory


TRANSITION_SERVICES = {
    "approve": signatory_approve,
    "reject": signatory_reject,
    "sign": signatory_sign,
    "flag_overdue": signatory_flag_overdue,
    "suspend": signatory_suspend,
    "reinstate": signatory_reinstate,
    "withdraw": signatory_withdraw,
    "expel": signatory_expel,
}


def _revoke_certificates(signatory: Signatory, actor: User | None, reason: str) -> None:
    # Same transaction as the status change: a suspended or expelled member holds no valid
    # certificate. Imported lazily: reporting imports signatories.
    from reporting.certificates import certificate_revoke_current

    certificate_revoke_current(signatory=signatory, actor=actor, reason=reason)


def _tasks():
    # Imported lazily: tasks import services.
    from signatories import tasks

    return tasks


@transaction.atomic
def signatory_update_profile(
    *, signatory: Signatory, actor: User, data: dict[str, Any], reason: str = ""
) -> Signatory:
    _require(actor, "signatories.edit_profile", signatory)
    if actor.has_perm("signatories.approve", signatory):  # Code staff in scope
        allowed = [*PROFILE_FIELDS, *STAFF_ONLY_FIELDS]
    else:
        allowed = [f for f in PROFILE_FIELDS if f not in COMPANY_LOCKED_FIELDS]
    unknown = set(data) - set(allowed)
    if unknown:
        raise PermissionDenied(_("You may not change: %(fields)s") %
                               {"fields": ", ".join(sorted(unknown))})
    locked = Signatory.objects.select_for_update().get(pk=signatory.pk)
    before = {f: getattr(locked, f) for f in allowed}
    for key, value in data.items():
        setattr(locked, key, value)
    changes = diff_fields(locked, before, allowed)
    if not changes:
        return locked
    locked._change_reason = reason or "profile edited"
    # the history row names the actor even outside a web request (tasks, shell, API tokens)
    locked._history_user = actor
    locked.save()
    action = "signatory.renamed" if "legal_name" in changes else "signatory.profile_updated"
    audit_record(actor=actor, action=action, obj=locked, signatory=locked, changes=changes,
                 reason=reason)
    return locked


# --- Team: invitations and memberships --------------------------------------------------------

def _hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@transaction.atomic
def invitation_create(
    *, signatory: Signatory, actor: User, email: str, role: str
) -> tuple[Invitation, str]:
    """Invite someone by e-mail. Returns the invitation and the one-time token (only e-mailed)."""
    _require(actor, "signatories.manage_members", signatory)
    email = email.strip().lower()
    if role not in MembershipRole.values:
        raise DomainError(_("Choose a valid role."), field="role")
    if Membership.objects.filter(signatory=signatory, user__email__iexact=email).exists():
        raise DomainError(_("This person is already a member of your company."), field="email")
    # A new invitation to the same address replaces the open one.
    Invitation.objects.filter(
        signatory=signatory, accepted_at__isnull=True, revoked_at__isnull=True
    ).annotate(e=Lower("email")).filter(e=email).update(revoked_at=timezone.now())
    token = secrets.token_urlsafe(32)
    invitation = Invitation.objects.create(
        signatory=signatory, email=email, role=role, token_hash=_hash_token(token),
        invited_by=actor,
        expires_at=timezone.now() + timedelta(days=settings.INVITATION_VALID_DAYS),
    )
    audit_record(actor=actor, action="invitation.created", obj=invitation, signatory=signatory,
                 changes={"email": {"to": email}, "role": {"to": role}})
    transaction.on_commit(lambda: _tasks().send_invitation.delay(invitation.pk, token))
    return invitation, token


def invitation_from_token(token: str) -> Invitation:
    """The invitation for a token, or a DomainError that says why it cannot be used."""
    invitation = (Invitation.objects.select_related("signatory")
                  .filter(token_hash=_hash_token(token or "")).first())
    if invitation is None:
        raise DomainError(_("This invitation link is not valid."))
    if invitation.accepted_at is not None:
        raise DomainError(_("This invitation has already been used."))
    if invitation.revoked_at is not None:
        raise DomainError(_("This invitation was withdrawn. Ask your administrator for a new one."))
    if invitation.expires_at <= timezone.now():
        raise DomainError(_("This invitation has expired. Ask your administrator for a new one."))
    return invitation


@transaction.atomic
def invitation_accept(*, token: str, user: User) -> Membership:
    invitation = invitation_from_token(token)
    # Claim the invitation first: a replayed or concurrent accept finds it used.
    claimed = Invitation.objects.filter(pk=invitation.pk, accepted_at__isnull=True,
                                        revoked_at__isnull=True).update(
        accepted_at=timezone.now(), accepted_by=user)
    if claimed != 1:
        raise DomainError(_("This invitation has already been used."))
    if user.email.lower() != invitation.email.lower():
        raise DomainError(_("This invitation was sent to another e-mail address."))
    try:
        with transaction.atomic():
            membership = Membership.objects.create(user=user, signatory=invitation.signatory,
                                                   role=invitation.role)
    except IntegrityError as exc:
        raise DomainError(_("You are already a member of this company.")) from exc
    audit_record(actor=user, action="membership.joined", obj=membership,
                 signatory=invitation.signatory, changes={"role": {"to": invitation.role}})
    return membership


@transaction.atomic
def invitation_revoke(*, invitation: Invitation, actor: User) -> Invitation:
    _require(actor, "signatories.manage_members", invitation.signatory)
    updated = Invitation.objects.filter(pk=invitation.pk, accepted_at__isnull=True,
                                        revoked_at__isnull=True).update(revoked_at=timezone.now())
    if not updated:
        raise DomainError(_("This invitation is no longer open."))
    audit_record(actor=actor, action="invitation.revoked", obj=invitation,
                 signatory=invitation.signatory)
    invitation.refresh_from_db()
    return invitation


def _ensure_admin_remains(membership: Membership) -> None:
    admins = (Membership.objects.select_for_update()
              .filter(signatory_id=membership.signatory_id, role=MembershipRole.ADMIN))
    if [m.pk for m in admins] == [membership.pk]:
        raise DomainError(_("A company needs at least one administrator. "
                            "Make someone else an administrator first."))


@transaction.atomic
def membership_change_role(*, membership: Membership, actor: User, role: str) -> Membership:
    _require(actor, "signatories.manage_members", membership.signatory)
    if role not in MembershipRole.values:
        raise DomainError(_("Choose a valid role."), field="role")
    if membership.role == MembershipRole.ADMIN and role != MembershipRole.ADMIN:
        _ensure_admin_remains(membership)
    before = membership.role
    membership.role = role
    membership.save(update_fields=["role", "updated_at"])
    audit_record(actor=actor, action="membership.role_changed", obj=membership,
                 signatory=membership.signatory, changes={"role": {"from": before, "to": role}})
    return membership


@transaction.atomic
def membership_remove(*, membership: Membership, actor: User) -> None:
    """An admin removes a member, or a user leaves (actor == membership.user)."""
    if actor.pk != membership.user_id:
        _require(actor, "signatories.manage_members", membership.signatory)
    if membership.role == MembershipRole.ADMIN:
        _ensure_admin_remains(membership)
    audit_record(actor=actor,
                 action="membership.left" if actor.pk == membership.user_id else
                 "membership.removed",
                 obj=membership, signatory=membership.signatory,
                 changes={"user": {"from": membership.user.email}})
    membership.delete()


@transaction.atomic
def staff_note_add(*, signatory: Signatory, actor: User, text: str) -> StaffNote:
    _require(actor, "signatories.add_staff_note", signatory)
    if not text.strip():
        raise DomainError(_("The note is empty."), field="text")
    return StaffNote.objects.create(signatory=signatory, author=actor, text=text.strip())


def api_token_regenerate(*, user: User):
    """Replace the user's personal API token (the old one stops working at once)."""
    from rest_framework.authtoken.models import Token

    with transaction.atomic():
        Token.objects.filter(user=user).delete()
        token = Token.objects.create(user=user)
        audit_record(actor=user, action="user.api_token_regenerated", obj=user)
    return token


__all__ = [
    "signatory_apply", "signatory_approve", "signatory_reject", "signatory_sign",
    "signatory_flag_overdue", "signatory_suspend", "signatory_reinstate", "signatory_withdraw",
    "signatory_expel", "signatory_update_profile", "invitation_create", "invitation_accept",
    "invitation_revoke", "invitation_from_token", "membership_change_role", "membership_remove",
    "staff_note_add", "api_token_regenerate", "TRANSITION_SERVICES", "SignatoryStatus",
]
