"""Every write of the reminders app: claiming occasions, sending notifications exactly once,
reminder settings and preferences.

Exactly once, in two claims:

1. *The occasion*: a ``Notification`` row with a unique ``key`` is inserted before anything is
   sent. A re-run of a scan, a retried scan task or a second beat process inserting the same key
   loses (``IntegrityError`` / ``ON CONFLICT DO NOTHING``) and sends nothing.
2. *The send*: the send task moves the row ``pending → sending`` with a conditional UPDATE
   (one row or none), sends, then marks it ``sent``. A retried or redelivered task finds it
   ``sent`` (or being sent) and does nothing. A transient failure puts it back to ``pending``
   with the error and the task retries with backoff; after the last retry it is ``failed``.

A worker killed between the claim and the mark leaves the row ``sending``; after
``REMINDERS_SEND_LEASE_SECONDS`` the dispatcher (beat, every few minutes) hands it out again.
The only duplicate left possible is a kill in the instant between the mail server accepting
the message and the UPDATE that marks it sent (no mail protocol lets us make those one step).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from code_portal.audit import audit_record
from code_portal.models import User
from code_portal.reminders.kinds import DEFAULTS
from code_portal.reminders.models import (
    Notification,
    NotificationStatus,
    ReminderConfig,
    ReminderPreference,
)

NS = NotificationStatus


# --- configuration ----------------------------------------------------------------------------

def _config(kind: str) -> ReminderConfig | None:
    if kind not in DEFAULTS:
        raise KeyError(f"Unknown reminder kind: {kind}")
    return ReminderConfig.objects.filter(kind=kind).first()


@dataclass(frozen=True)
class KindSettings:
    enabled: bool
    offsets: list[int]  # ascending
    repeat_every_days: int | None


def reminder_settings() -> dict[str, KindSettings]:
    """Every kind's settings in one query (what the scans read once per run)."""
    rows = {c.kind: c for c in ReminderConfig.objects.all()}
    result = {}
    for kind, defaults in DEFAULTS.items():
        row = rows.get(kind)
        offsets = (row.offsets if row is not None and row.offsets else defaults.offsets)
        result[kind] = KindSettings(
            enabled=row.enabled if row is not None else True,
            offsets=sorted({int(o) for o in offsets}),
            repeat_every_days=(row.repeat_every_days if row is not None
                               else defaults.repeat_every_days))
    return result


def reminder_offsets(kind: str) -> list[int]:
    """The configured offsets (days) of a kind, ascending, or the defaults in ``kinds.py``."""
    config = _config(kind)
    if config is not None and config.offsets:
        return sorted({int(o) for o in config.offsets})
    return sorted(DEFAULTS[kind].offsets)


def reminder_repeat_every(kind: str) -> int | None:
    config = _config(kind)
    if config is not None:
        return config.repeat_every_days
    return DEFAULTS[kind].repeat_every_days


def reminder_enabled(kind: str) -> bool:
    config = _config(kind)
    return config.enabled if config is not None else True


# --- recipients -------------------------------------------------------------------------------

def unsubscribed_user_ids(user_ids: Iterable[int]) -> set[int]:
    """Users (of those given) who turned optional reminders off. One query."""
    ids = list(set(user_ids))
    if not ids:
        return set()
    return set(ReminderPreference.objects.filter(user_id__in=ids, optional_reminders=False)
               .values_list("user_id", flat=True))


def optional_recipients(users: Iterable[User]) -> list[str]:
    """E-mail addresses of the active users who did not unsubscribe from optional reminders."""
    users = [u for u in users if u.is_active and u.email]
    off = unsubscribed_user_ids(u.pk for u in users)
    return sorted({u.email for u in users if u.pk not in off})


@transaction.atomic
def reminder_preference_set(*, user: User, optional_reminders: bool) -> ReminderPreference:
    preference, _created = ReminderPreference.objects.select_for_update().get_or_create(
        user=user, defaults={"optional_reminders": optional_reminders})
    if preference.optional_reminders != optional_reminders:
        preference.optional_reminders = optional_reminders
        preference.save(update_fields=["optional_reminders", "updated_at"])
    audit_record(actor=user, action="reminders.preference_changed", obj=preference,
                 changes={"optional_reminders": {"to": optional_reminders}})
    return preference


def reminder_preference_for(user: User) -> bool:
    preference = ReminderPreference.objects.filter(user=user).first()
    return preference.optional_reminders if preference else True


# --- claiming occasions -----------------------------------------------------------------------

def notification_enqueue(
    *,
    kind: str,
    key: str,
    signatory,
    recipients: list[str],
    template: str,
    context: dict,
    reason: str,
    language: str = "",
) -> Notification | None:
    """Claim the occasion ``key`` and send the e-mail after commit. ``None`` if already claimed.

    Safe under concurrency: the unique constraint decides, inside a savepoint, so the caller's
    transaction carries on. Recipients may be empty (everyone unsubscribed): the occasion is
    still claimed and logged, and the send task marks it sent without mailing anybody.
    """
    if kind not in DEFAULTS:
        raise KeyError(f"Unknown reminder kind: {kind}")
    try:
        with transaction.atomic():
            notification = Notification.objects.create(
                key=key, kind=kind, signatory=signatory,
                recipients=sorted({r for r in recipients if r}), template=template,
                context=context, language=language or "", reason=reason,
            )
    except IntegrityError:
        return None
    transaction.on_commit(lambda: _tasks().send_notification.delay(notification.pk))
    return notification


@dataclass
class Draft:
    """A notification a scan wants to claim (see :func:`notifications_claim`)."""

    kind: str
    key: str
    signatory_id: int | None
    recipients: list[str]
    template: str
    context: dict
    reason: str
    language: str = ""
    extra: dict = field(default_factory=dict)  # what the scan needs afterwards (not stored)


def notifications_claim_keys(drafts: Sequence[Draft], *,
                             batch_size: int | None = None) -> dict[str, int]:
    """Claim many occasions at once and fan out one send task per batch after commit.

    One INSERT … ON CONFLICT DO NOTHING per 1,000 rows and one SELECT of the rows this run won
    (by its claim token): keys another run or an earlier day already holds are skipped.
    Returns {key: id} of the notifications this call claimed.
    """
    # Leave out the occasions already claimed (a re-run, the next day of a long overdue
    # period): one SELECT per 5,000 keys is much cheaper than inserting rows that conflict.
    keys = [d.key for d in drafts]
    taken: set[str] = set()
    for start in range(0, len(keys), 5000):
        taken.update(Notification.objects.filter(key__in=keys[start:start + 5000])
                     .values_list("key", flat=True))
    drafts = [d for d in drafts if d.key not in taken]
    if not drafts:
        return {}
    token = uuid.uuid4()
    now = timezone.now()
    Notification.objects.bulk_create(
        [Notification(key=d.key, kind=d.kind, signatory_id=d.signatory_id,
                      recipients=sorted({r for r in d.recipients if r}), template=d.template,
                      context=d.context, reason=d.reason, language=d.language or "",
                      created_at=now, claim_token=token) for d in drafts],
        ignore_conflicts=True, batch_size=1000,
    )
    won = list(Notification.objects.filter(claim_token=token).order_by("id")
               .values_list("id", "key"))
    ids = [pk for pk, _key in won]
    size = batch_size or settings.REMINDERS_SEND_BATCH_SIZE
    batches = [ids[i:i + size] for i in range(0, len(ids), size)]

    def fan_out() -> None:
        tasks = _tasks()
        for batch in batches:
            tasks.send_notifications.delay(batch)

    transaction.on_commit(fan_out)
    return {key: pk for pk, key in won}


def notifications_claim(drafts: Sequence[Draft], *, batch_size: int | None = None) -> list[int]:
    """See :func:`notifications_claim_keys`; returns the ids this call claimed."""
    return sorted(notifications_claim_keys(drafts, batch_size=batch_size).values())


# --- sending ----------------------------------------------------------------------------------

class AlreadyHandled(Exception):
    """The notification was sent, failed for good, or is being sent by someone else."""


def _lease_expired_q() -> Q:
    lease = timedelta(seconds=settings.REMINDERS_SEND_LEASE_SECONDS)
    return Q(status=NS.SENDING, claimed_at__lt=timezone.now() - lease)


def notification_claim_send(notification_id: int) -> Notification:
    """pending → sending, one row or none (a conditional UPDATE: the claim of the send).

    A row left ``sending`` by a worker that died is claimable again once its lease expired.
    """
    claimed = Notification.objects.filter(
        Q(pk=notification_id) & (Q(status=NS.PENDING) | _lease_expired_q())
    ).update(status=NS.SENDING, claimed_at=timezone.now(), attempts=F("attempts") + 1)
    if claimed != 1:
        raise AlreadyHandled(notification_id)
    return Notification.objects.get(pk=notification_id)


def notification_mark_sent(notification: Notification) -> None:
    # last_error stays: the log shows that it took a retry, and why
    Notification.objects.filter(pk=notification.pk, status=NS.SENDING).update(
        status=NS.SENT, sent_at=timezone.now())


def notification_release(notification_id: int, error: str, *, final: bool) -> None:
    """A send failed: back to pending for the retry, or failed for good."""
    Notification.objects.filter(pk=notification_id, status=NS.SENDING).update(
        status=NS.FAILED if final else NS.PENDING, last_error=error[:2000])


def notification_deliver(notification_id: int, *, final_attempt: bool = False) -> bool:
    """Claim, send, mark. False if there was nothing to do (already sent or in hand).

    Transient errors (``OSError``, which covers SMTP and connection errors) give the claim back
    and propagate, so the caller retries (on the final attempt the row is marked failed);
    anything else (a template error…) marks the notification failed at once.
    """
    from code_portal.reminders.delivery import send_notification_email

    try:
        notification = notification_claim_send(notification_id)
    except AlreadyHandled:
        return False
    try:
        send_notification_email(notification)
    except OSError as exc:
        notification_release(notification_id, f"{type(exc).__name__}: {exc}",
                             final=final_attempt)
        raise
    except Exception as exc:
        notification_release(notification_id, f"{type(exc).__name__}: {exc}", final=True)
        raise
    notification_mark_sent(notification)
    return True


def notifications_to_dispatch(limit: int = 5000) -> list[int]:
    """Rows that should be sent but no task is known to hold: pending for longer than a minute
    (the on-commit publish was lost, or a retry is overdue) or sending past the lease."""
    stale = timezone.now() - timedelta(seconds=60)
    return list(Notification.objects.filter(
        Q(status=NS.PENDING, created_at__lt=stale) | _lease_expired_q()
    ).order_by("id").values_list("id", flat=True)[:limit])


def _tasks():
    # Imported lazily: the tasks module imports this one.
    from code_portal.reminders import tasks

    return tasks
