"""Celery tasks of the reminders app: the daily scans (beat) and the sends they fan out.

Tasks take ids and call services/scans; they are idempotent (see ``services.py``): acked late,
rejected back to the queue when the worker dies, retried with backoff on transient mail errors.
"""

from __future__ import annotations

import logging
import random

from celery import shared_task
from django.conf import settings

from code_portal.reminders import services

log = logging.getLogger(__name__)

SEND = {"acks_late": True, "reject_on_worker_lost": True,
        "soft_time_limit": 240, "time_limit": 300}
SCAN = {"acks_late": True, "reject_on_worker_lost": True,
        "soft_time_limit": 540, "time_limit": 600}


def _backoff(retries: int) -> int:
    # 60 s, 120 s, 240 s … capped: a countdown must stay well below the Redis visibility
    # timeout, or the broker would hand the waiting message to another worker (README).
    base = min(settings.REMINDERS_RETRY_BACKOFF_MAX, 60 * 2 ** retries)
    return base + random.randint(0, base // 4)  # noqa: S311 - jitter, not security


@shared_task(bind=True, max_retries=6, **SEND)
def send_notification(self, notification_id: int) -> bool:
    """Send one notification once; retry transient failures with exponential backoff."""
    try:
        return services.notification_deliver(
            notification_id, final_attempt=self.request.retries >= self.max_retries)
    except OSError as exc:
        log.warning("notification %s: send failed (%s), retry %s", notification_id, exc,
                    self.request.retries + 1)
        raise self.retry(exc=exc, countdown=_backoff(self.request.retries)) from exc


@shared_task(**SEND)
def send_notifications(notification_ids: list[int]) -> int:
    """One task per batch of e-mails (the scans' fan-out). A notification that fails for a
    transient reason goes on alone, through ``send_notification`` and its retries; the others
    of the batch are not held up. A redelivered batch skips what was already sent."""
    sent = 0
    for notification_id in notification_ids:
        try:
            sent += services.notification_deliver(notification_id, final_attempt=False)
        except OSError:
            send_notification.apply_async((notification_id,), countdown=_backoff(0))
        except Exception:
            log.exception("notification %s failed for good", notification_id)
    return sent


@shared_task(**SEND)
def dispatch_pending() -> int:
    """Every few minutes (beat): hand out again what no task holds any more — a publish lost
    after commit, or a row left ``sending`` by a worker that died (after its lease)."""
    ids = services.notifications_to_dispatch()
    size = settings.REMINDERS_SEND_BATCH_SIZE
    for start in range(0, len(ids), size):
        send_notifications.delay(ids[start:start + size])
    return len(ids)


# --- the daily scans (beat; see settings.CELERY_BEAT_DEFAULTS) --------------------------------
# Each claims its occasions in one transaction and fans out the sends after commit; a re-run,
# a redelivery after a crash or a second beat finds the occasions claimed and sends nothing.

@shared_task(**SCAN)
def scan_reports_due() -> int:
    from code_portal.reminders import scans

    return len(scans.scan_reports_due())


@shared_task(**SCAN)
def scan_reports_overdue() -> dict:
    from code_portal.reminders import scans

    result = scans.scan_reports_overdue()
    return {"claimed": len(result.claimed), "flagged": result.flagged,
            "suspended": result.suspended}


@shared_task(**SCAN)
def scan_training_refreshers() -> int:
    from code_portal.reminders import scans

    return len(scans.scan_training_refreshers())


@shared_task(**SCAN)
def scan_applications_waiting() -> int:
    from code_portal.reminders import scans

    return len(scans.scan_applications_waiting())
