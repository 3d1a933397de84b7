"""The notification contract: claim an occasion once, send once, retry without resending."""

from __future__ import annotations

import pytest
from django.core import mail
from django.core.mail.backends.locmem import EmailBackend as LocmemBackend

from code_portal.reminders import services, tasks
from code_portal.reminders.kinds import DEFAULTS, PARTNER_CONFIRMATION_PENDING
from code_portal.reminders.models import Notification, NotificationStatus, ReminderConfig
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=False)

CONTEXT = {"company": "Nordic Tours AB", "year": 2025, "due_on": "2026-03-01", "days_left": 30,
           "url": "http://testserver/company/1/reports/", "optional": False}


def _enqueue(key="report-due:1:2025:30d:en", signatory=None, recipients=None, **kw):
    return services.notification_enqueue(
        kind="report-due", key=key, signatory=signatory,
        recipients=recipients or ["a@example.org"], template="reminders/email/report_due",
        context=CONTEXT, reason="Annual report 2025 due in 30 days", **kw)


def test_enqueue_sends_once_after_commit(django_capture_on_commit_callbacks, company_a):
    with django_capture_on_commit_callbacks(execute=True):
        notification = _enqueue(signatory=company_a)
    assert notification is not None
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["a@example.org"]
    assert message.subject == "Annual report 2025 of Nordic Tours AB is due on 2026-03-01"
    assert "http://testserver/company/1/reports/" in message.body
    assert "/account/reminders/" in message.body  # settings link in every reminder
    assert message.alternatives and "<a href=" in message.alternatives[0][0]
    notification.refresh_from_db()
    assert notification.status == NotificationStatus.SENT
    assert notification.sent_at is not None and notification.attempts == 1


def test_the_same_occasion_is_claimed_once(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        first = _enqueue()
        second = _enqueue()
    assert first is not None and second is None
    assert Notification.objects.count() == 1
    assert len(mail.outbox) == 1


def test_a_rerun_of_a_sent_notification_sends_nothing(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        notification = _enqueue()
    assert tasks.send_notification.delay(notification.pk).get() is False
    assert tasks.send_notifications.delay([notification.pk]).get() == 0
    assert len(mail.outbox) == 1


class FailingOnceBackend(LocmemBackend):
    failures_left = 1

    def send_messages(self, messages):
        if FailingOnceBackend.failures_left > 0:
            FailingOnceBackend.failures_left -= 1
            raise ConnectionRefusedError("SMTP down")
        return super().send_messages(messages)


def test_a_transient_failure_is_logged_and_scheduled_for_a_retry_that_sends_once(
        settings, django_capture_on_commit_callbacks):
    from celery.exceptions import Retry

    settings.EMAIL_BACKEND = f"{__name__}.FailingOnceBackend"
    FailingOnceBackend.failures_left = 1
    with pytest.raises(Retry), django_capture_on_commit_callbacks(execute=True):
        notification = _enqueue()  # eager: the first attempt fails and asks for a retry
    notification.refresh_from_db()
    assert (notification.status, notification.attempts) == (NotificationStatus.PENDING, 1)
    assert "SMTP down" in notification.last_error
    assert tasks.send_notification.delay(notification.pk).get() is True  # the retry
    assert tasks.send_notification.delay(notification.pk).get() is False  # a duplicate retry
    notification.refresh_from_db()
    assert (notification.status, notification.attempts) == (NotificationStatus.SENT, 2)
    assert "SMTP down" in notification.last_error  # the log keeps why it took two attempts
    assert len(mail.outbox) == 1


def test_failure_before_the_retry_leaves_it_pending_with_the_error(settings):
    settings.EMAIL_BACKEND = f"{__name__}.FailingOnceBackend"
    FailingOnceBackend.failures_left = 1
    notification = Notification.objects.create(
        key="k1", kind="report-due", recipients=["a@example.org"],
        template="reminders/email/report_due", context=CONTEXT, reason="test")
    with pytest.raises(ConnectionRefusedError):
        services.notification_deliver(notification.pk)
    notification.refresh_from_db()
    assert notification.status == NotificationStatus.PENDING
    assert "SMTP down" in notification.last_error
    assert mail.outbox == []
    assert services.notification_deliver(notification.pk) is True
    assert services.notification_deliver(notification.pk) is False  # never twice
    assert len(mail.outbox) == 1


def test_the_final_failed_attempt_marks_it_failed(settings):
    settings.EMAIL_BACKEND = f"{__name__}.FailingOnceBackend"
    FailingOnceBackend.failures_left = 1
    notification = Notification.objects.create(
        key="k2", kind="report-due", recipients=["a@example.org"],
        template="reminders/email/report_due", context=CONTEXT, reason="test")
    with pytest.raises(ConnectionRefusedError):
        services.notification_deliver(notification.pk, final_attempt=True)
    notification.refresh_from_db()
    assert notification.status == NotificationStatus.FAILED


def test_a_send_in_another_workers_hands_is_not_repeated_until_its_lease_expires(
        settings, time_machine):
    time_machine.move_to("2026-03-01 06:00Z", tick=False)
    notification = Notification.objects.create(
        key="k3", kind="report-due", recipients=["a@example.org"],
        template="reminders/email/report_due", context=CONTEXT, reason="test")
    services.notification_claim_send(notification.pk)  # a worker took it, then died
    assert services.notification_deliver(notification.pk) is False
    assert services.notifications_to_dispatch() == []
    time_machine.move_to("2026-03-01 06:20Z", tick=False)  # lease 900 s expired
    assert services.notifications_to_dispatch() == [notification.pk]
    assert services.notification_deliver(notification.pk) is True
    assert len(mail.outbox) == 1


def test_partner_kind_has_its_default_offsets(db):
    assert DEFAULTS[PARTNER_CONFIRMATION_PENDING].offsets == (7, 21)
    assert services.reminder_offsets("partner-confirmation-pending") == [7, 21]


def test_offsets_come_from_the_staff_setting(db):
    ReminderConfig.objects.filter(kind="report-due").update(offsets=[45, 10])
    assert services.reminder_offsets("report-due") == [10, 45]
    ReminderConfig.objects.filter(kind="report-due").delete()
    assert services.reminder_offsets("report-due") == [7, 30, 60]


def test_optional_recipients_drop_unsubscribed_and_inactive_users(db):
    keen = UserFactory(email="keen@example.org")
    off = UserFactory(email="off@example.org")
    gone = UserFactory(email="gone@example.org", is_active=False)
    services.reminder_preference_set(user=off, optional_reminders=False)
    assert services.optional_recipients([keen, off, gone]) == ["keen@example.org"]


def test_the_dispatcher_sends_what_a_lost_publish_left_pending(time_machine):
    time_machine.move_to("2026-03-01 06:00Z", tick=False)
    # claimed in a transaction whose on-commit publish never happened (process died)
    lost = Notification.objects.create(
        key="lost", kind="report-due", recipients=["a@example.org"],
        template="reminders/email/report_due", context=CONTEXT, reason="test")
    assert tasks.dispatch_pending.delay().get() == 0  # too fresh: its own task may be coming
    time_machine.move_to("2026-03-01 06:02Z", tick=False)
    assert tasks.dispatch_pending.delay().get() == 1
    assert tasks.dispatch_pending.delay().get() == 0  # sent: nothing left to hand out
    lost.refresh_from_db()
    assert lost.status == NotificationStatus.SENT and len(mail.outbox) == 1
