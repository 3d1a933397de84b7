"""Reminders through the broker and a real Celery worker (Redis when REDIS_URL is set).

The scan is sent the way beat sends it: django-celery-beat's DatabaseScheduler reads the entry
that ``setup_schedules`` wrote from ``CELERY_BEAT_DEFAULTS`` and publishes the task by name. The
worker (a thread of this process, see tests/code_portal/test_tasks_worker.py) runs the scan,
which fans out the send tasks through the broker again.
"""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.core import mail
from django.core.management import call_command
from django.utils import timezone

from code_portal.celery import app
from code_portal.reminders.models import Notification, NotificationStatus
from signatories.models import MembershipRole, SignatoryStatus
from tests.code_portal.reminders.helpers import due_on
from tests.code_portal.test_tasks_worker import (  # noqa: F401 (fixture)
    FlakyMailBackend,
    _wait_for,
    worker,
)
from tests.factories import MembershipFactory, SignatoryFactory

pytestmark = [
    pytest.mark.celery_worker,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

SCAN = "code_portal.reminders.tasks.scan_reports_due"
SEND_BATCH = "code_portal.reminders.tasks.send_notifications"


def _due_in(days: int, n: int) -> list:
    """``n`` companies whose annual report is due ``days`` from today (real time: the worker
    thread shares this process's clock)."""
    due = timezone.localdate() + timedelta(days=days)
    companies = []
    for _ in range(n):
        signatory = SignatoryFactory(active=True, status=SignatoryStatus.ACTIVE)
        due_on(signatory, due)
        MembershipFactory(signatory=signatory, role=MembershipRole.ADMIN)
        companies.append(signatory)
    return companies


def _beat_sends(name: str) -> None:
    """What beat does when the entry is due: the database scheduler publishes it by name."""
    from django_celery_beat.models import PeriodicTask
    from django_celery_beat.schedulers import DatabaseScheduler, ModelEntry

    scheduler = DatabaseScheduler(app=app, lazy=True)
    # (all_as_schedule() only loads the crontab entries due in the current hour)
    entry = ModelEntry(PeriodicTask.objects.get(name=name), app=app)
    scheduler.apply_async(entry, producer=None, advance=False)


def test_beat_entry_runs_the_scan_on_the_worker_which_fans_out_the_sends(worker):  # noqa: F811
    companies = _due_in(30, 3)
    call_command("setup_schedules")

    _beat_sends("reminders-report-due")

    # marked sent right after the mail goes out: wait for the mark, not only the mail
    _wait_for(lambda: Notification.objects.filter(status=NotificationStatus.SENT).count() == 3,
              "three reminders sent", 60)
    assert len(mail.outbox) == 3
    assert sorted(m.to[0] for m in mail.outbox) == sorted(
        c.memberships.get().user.email for c in companies)
    ran = [name for name, _thread in worker.ran]
    assert ran[0] == SCAN and ran.count(SEND_BATCH) == 1
    assert all(thread != threading.get_ident() for _name, thread in worker.ran)
    assert worker.published == [SCAN, SEND_BATCH]  # published by beat's call, then the scan

    # beat fires again (or a second beat): nothing new is sent
    _beat_sends("reminders-report-due")
    _wait_for(lambda: [n for n, _t in worker.ran].count(SCAN) == 2, "the second scan", 60)
    assert len(mail.outbox) == 3


def test_a_transient_mail_failure_is_retried_through_the_broker_and_sent_once(
        worker, settings):  # noqa: F811
    settings.EMAIL_BACKEND = "tests.code_portal.test_tasks_worker.FlakyMailBackend"
    settings.REMINDERS_RETRY_BACKOFF_MAX = 1  # a one-second backoff for the test
    FlakyMailBackend.failures_left = 1
    _due_in(7, 1)

    app.send_task(SCAN)

    _wait_for(lambda: Notification.objects.filter(status=NotificationStatus.SENT).exists(),
              "the retried reminder", 60)
    assert len(mail.outbox) == 1
    notification = Notification.objects.get()
    assert notification.status == NotificationStatus.SENT and notification.attempts == 2
    assert notification.last_error.startswith("ConnectionRefusedError")  # logged
    ran = [name for name, _thread in worker.ran]
    assert ran == [SCAN, SEND_BATCH, "code_portal.reminders.tasks.send_notification"]
