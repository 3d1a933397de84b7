"""Two scans at the same moment (two beat processes, or a re-delivered scan running next to the
first) on PostgreSQL, each in its own thread and connection: every reminder is sent once, and a
signatory is suspended once."""

from __future__ import annotations

import threading
from datetime import date, timedelta

import pytest
from django.core import mail
from django.db import connection

from code_portal.models import AuditEvent
from code_portal.reminders import scans, services
from code_portal.reminders.models import Notification, NotificationStatus
from signatories.models import MembershipRole, SignatoryStatus
from tests.code_portal.reminders.helpers import at, sign
from tests.factories import MembershipFactory, SignatoryFactory

pytestmark = [
    pytest.mark.skipif(connection.vendor != "postgresql",
                       reason="needs PostgreSQL (DATABASE_URL): SQLite serialises every writer, "
                              "so two scans cannot interleave"),
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

SIGNED = date(2025, 3, 10)
DUE = date(2026, 3, 10)


def _companies(n: int, status=SignatoryStatus.ACTIVE) -> list:
    companies = []
    for _ in range(n):
        signatory = SignatoryFactory(active=True, status=status)
        sign(signatory, SIGNED)
        MembershipFactory(signatory=signatory, role=MembershipRole.ADMIN)
        companies.append(signatory)
    return companies


def _race(target, runs: int = 2) -> list:
    """Start ``runs`` threads together (a barrier), each with its own connection."""
    barrier, results, errors = threading.Barrier(runs), [], []

    def body():
        try:
            barrier.wait(10)
            results.append(target())
        except Exception as exc:  # reported below: a thread's exception would be lost
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=body) for _ in range(runs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors, errors
    return results


def test_concurrent_due_scans_send_each_reminder_once(time_machine):
    companies = _companies(25)
    time_machine.move_to(at(DUE - timedelta(days=30)), tick=False)

    results = _race(scans.scan_reports_due, runs=3)

    assert sum(len(r) for r in results) == 25  # the claims were split, none taken twice
    assert Notification.objects.filter(status=NotificationStatus.SENT).count() == 25
    assert len(mail.outbox) == 25
    assert sorted(m.to[0] for m in mail.outbox) == sorted(
        c.memberships.get().user.email for c in companies)


def test_concurrent_overdue_scans_suspend_once_and_remind_once(time_machine, staff_reviewer):
    companies = _companies(5, status=SignatoryStatus.REPORTING_OVERDUE)
    time_machine.move_to(at(DUE + timedelta(days=91)), tick=False)

    _race(scans.scan_reports_overdue, runs=2)

    for company in companies:
        company.refresh_from_db()
        assert company.status == SignatoryStatus.SUSPENDED
        assert AuditEvent.objects.filter(signatory=company, action="signatory.suspend").count() == 1
    assert Notification.objects.filter(kind="report-overdue-digest").count() == 1
    assert len([m for m in mail.outbox if m.to == [staff_reviewer.email]]) == 1


def test_two_workers_sending_the_same_notification_send_it_once():
    notification = Notification.objects.create(
        key="race", kind="report-due", recipients=["a@example.org"],
        template="reminders/email/report_due",
        context={"company": "X", "year": 2025, "due_on": "2026-03-10", "days_left": 7,
                 "url": "http://x/"}, reason="race")

    results = _race(lambda: services.notification_deliver(notification.pk), runs=4)

    assert sorted(results) == [False, False, False, True]
    assert len(mail.outbox) == 1
