"""Celery tasks for signatories: they take ids and call services or send mail; nothing else."""

from __future__ import annotations

from celery import shared_task
from django.conf import settings
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from code_portal.models import AuditEvent, StaffRole, User
from code_portal.notifications import send_templated_email
from signatories.models import Invitation, Membership, MembershipRole, Signatory

MAIL_RETRY = {"autoretry_for": (OSError,), "retry_backoff": True, "max_retries": 5}


def _staff_recipients(signatory: Signatory) -> list[str]:
    staff = User.objects.filter(is_active=True).filter(
        Q(staff_role__in=[StaffRole.ADMIN, StaffRole.REVIEWER])
        | Q(staff_role=StaffRole.LOCAL_REP, staff_countries__contains=signatory.country.code)
    ).values_list("email", flat=True)
    return [*staff, *settings.STAFF_NOTIFICATION_EMAILS]


@shared_task(**MAIL_RETRY)
def notify_staff_new_application(signatory_id: int) -> int:
    signatory = Signatory.objects.filter(pk=signatory_id).first()
    if signatory is None:
        return 0
    return send_templated_email(
        to=_staff_recipients(signatory), template="signatories/email/new_application",
        context={"signatory": signatory,
                 "url": settings.SITE_URL + reverse("staff-signatory-detail",
                                                    args=[signatory.pk])},
    )


@shared_task(**MAIL_RETRY)
def notify_company_of_transition(signatory_id: int, transition: str) -> int:
    signatory = Signatory.objects.filter(pk=signatory_id).first()
    if signatory is None:
        return 0
    admins = Membership.objects.filter(signatory=signatory, role=MembershipRole.ADMIN,
                                       user__is_active=True).select_related("user")
    # The reason staff gave (the company sees it in its history too), from the latest event.
    reason = (AuditEvent.objects.filter(signatory=signatory, action=f"signatory.{transition}")
              .order_by("-occurred_at", "-pk").values_list("reason", flat=True).first() or "")
    sent = 0
    for membership in admins:
        sent += send_templated_email(
            to=[membership.user.email], template="signatories/email/status_changed",
            language=membership.user.language or None,
            context={"signatory": signatory, "transition": transition, "user": membership.user,
                     "reason": reason,
                     "url": settings.SITE_URL + reverse("company-dashboard",
                                                        args=[signatory.pk])},
        )
    return sent


@shared_task(**MAIL_RETRY)
def send_invitation(invitation_id: int, token: str) -> int:
    invitation = (Invitation.objects.select_related("signatory", "invited_by")
                  .filter(pk=invitation_id).first())
    if invitation is None or not invitation.is_open:
        return 0
    return send_templated_email(
        to=[invitation.email], template="signatories/email/invitation",
        context={"invitation": invitation,
                 "url": settings.SITE_URL + reverse("invitation-accept", args=[token])},
    )


@shared_task
def purge_expired_invitations() -> int:
    """Daily: close invitations whose link has expired (their hash is useless afterwards)."""
    return Invitation.objects.filter(accepted_at__isnull=True, revoked_at__isnull=True,
                                     expires_at__lt=timezone.now()).update(
        revoked_at=timezone.now())
