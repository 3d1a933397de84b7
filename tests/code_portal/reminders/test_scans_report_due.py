"""Annual report due soon: 60, 30 and 7 days before, to admins and reporters, once each."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.core import mail

from code_portal.reminders import scans, services
from code_portal.reminders.models import Notification, NotificationStatus, ReminderConfig
from reporting.models import ReportStatus
from signatories.models import MembershipRole
from tests.code_portal.reminders.helpers import days, due_on, keys, run, sign
from tests.factories import MembershipFactory, SignatoryFactory, UserFactory
from tests.reporting.factories import ReportFactory

pytestmark = pytest.mark.django_db

SIGNED = date(2025, 3, 10)
DUE = date(2026, 3, 10)  # the 2025 report: a year after signing


@pytest.fixture
def company(company_a, company_admin, reporter, viewer):
    sign(company_a, SIGNED)
    return company_a


def test_each_offset_is_sent_on_its_day_and_no_other(company, time_machine,
                                                     django_capture_on_commit_callbacks):
    sent_on = {}
    for day in days(DUE - timedelta(days=75), DUE + timedelta(days=0)):
        before = len(mail.outbox)
        run(scans.scan_reports_due, day, time_machine, django_capture_on_commit_callbacks)
        if len(mail.outbox) > before:
            sent_on[(DUE - day).days] = sorted(a for m in mail.outbox[before:] for a in m.to)

    both = ["admin@nordic.example", "reporter@nordic.example"]
    assert sent_on == {60: both, 30: both, 7: both}
    assert keys("report-due") == [f"report-due:{company.pk}:2025:{n}d:en" for n in (30, 60, 7)]
    message = mail.outbox[0]
    assert message.subject == "Annual report 2025 of Nordic Tours AB is due on 2026-03-10"
    assert "in 60 days" in message.body
    # the link leads to the page to act on, absolute; the settings page is linked too
    assert f"http://127.0.0.1:8000/company/{company.pk}/reports/" in message.body
    assert "http://127.0.0.1:8000/account/reminders/" in message.body
    html = message.alternatives[0][0]
    assert f'href="http://127.0.0.1:8000/company/{company.pk}/reports/"' in html


def test_a_report_due_on_29_february_is_reminded_30_days_before(
        company_a, company_admin, time_machine, django_capture_on_commit_callbacks):
    # The worker tests build "due in 30 days" from today's date; on the day that lands on
    # 29 February they use the staff deadline (no anniversary exists), which must work too.
    leap_day = date(2028, 2, 29)
    due_on(company_a, leap_day)
    run(scans.scan_reports_due, leap_day - timedelta(days=30), time_machine,
        django_capture_on_commit_callbacks)
    assert keys("report-due") == [f"report-due:{company_a.pk}:2027:30d:en"]
    assert mail.outbox[0].to == ["admin@nordic.example"]


def test_the_day_before_the_first_offset_sends_nothing(company, time_machine,
                                                       django_capture_on_commit_callbacks):
    run(scans.scan_reports_due, DUE - timedelta(days=61), time_machine,
        django_capture_on_commit_callbacks)
    assert mail.outbox == [] and Notification.objects.count() == 0


def test_the_day_turns_at_midnight_utc_whatever_the_time_zone_setting(
        company, settings, time_machine, django_capture_on_commit_callbacks):
    from datetime import UTC, datetime

    settings.TIME_ZONE = "Pacific/Auckland"  # 13 hours ahead: already the next day there
    day_before = DUE - timedelta(days=61)
    time_machine.move_to(datetime(day_before.year, day_before.month, day_before.day, 23, 59, 59,
                                  tzinfo=UTC), tick=False)
    assert scans.scan_date() == day_before
    with django_capture_on_commit_callbacks(execute=True):
        assert scans.scan_reports_due() == []
    time_machine.move_to(datetime(day_before.year, day_before.month, day_before.day + 1,
                                  0, 0, 0, tzinfo=UTC), tick=False)
    with django_capture_on_commit_callbacks(execute=True):
        assert len(scans.scan_reports_due()) == 1
    assert keys() == [f"report-due:{company.pk}:2025:60d:en"]


def test_a_missed_day_is_caught_up_once(company, time_machine,
                                        django_capture_on_commit_callbacks):
    # beat was down on day −60: the next run (−45) sends the 60-day reminder, and only once
    for day in (DUE - timedelta(days=45), DUE - timedelta(days=44)):
        run(scans.scan_reports_due, day, time_machine, django_capture_on_commit_callbacks)
    assert keys() == [f"report-due:{company.pk}:2025:60d:en"]
    assert len(mail.outbox) == 1


def test_rerunning_the_scan_sends_nothing_new(company, time_machine,
                                              django_capture_on_commit_callbacks):
    day = DUE - timedelta(days=30)
    run(scans.scan_reports_due, day, time_machine, django_capture_on_commit_callbacks)
    again = run(scans.scan_reports_due, day, time_machine, django_capture_on_commit_callbacks)
    later = run(scans.scan_reports_due, day, time_machine, django_capture_on_commit_callbacks,
                hour=23)
    assert again == [] and later == []
    assert len(mail.outbox) == 1
    assert Notification.objects.get().status == NotificationStatus.SENT


def test_a_submitted_report_is_not_chased(company, time_machine,
                                          django_capture_on_commit_callbacks):
    ReportFactory(signatory=company, year=2025, due_on=DUE, status=ReportStatus.SUBMITTED)
    run(scans.scan_reports_due, DUE - timedelta(days=7), time_machine,
        django_capture_on_commit_callbacks)
    assert mail.outbox == []


def test_a_started_report_uses_its_own_due_date_and_links_to_it(
        company, time_machine, django_capture_on_commit_callbacks):
    moved = DUE + timedelta(days=20)  # staff moved the deadline
    report = ReportFactory(signatory=company, year=2025, due_on=moved)
    run(scans.scan_reports_due, DUE - timedelta(days=41), time_machine,
        django_capture_on_commit_callbacks)  # 61 days before the new date
    assert mail.outbox == []
    run(scans.scan_reports_due, moved - timedelta(days=30), time_machine,
        django_capture_on_commit_callbacks)
    assert keys() == [f"report-due:{company.pk}:2025:30d:en"]
    assert "due on 2026-03-30, in 30 days" in mail.outbox[0].body
    assert f"http://127.0.0.1:8000/reports/{report.pk}/" in mail.outbox[0].body


def test_reporters_may_unsubscribe_admins_may_not(company, company_admin, reporter,
                                                  time_machine,
                                                  django_capture_on_commit_callbacks):
    services.reminder_preference_set(user=company_admin, optional_reminders=False)
    services.reminder_preference_set(user=reporter, optional_reminders=False)
    run(scans.scan_reports_due, DUE - timedelta(days=7), time_machine,
        django_capture_on_commit_callbacks)
    assert [m.to for m in mail.outbox] == [["admin@nordic.example"]]


def test_each_recipient_gets_it_in_their_language(company, reporter, time_machine,
                                                  django_capture_on_commit_callbacks):
    type(reporter).objects.filter(pk=reporter.pk).update(language="sv")
    run(scans.scan_reports_due, DUE - timedelta(days=7), time_machine,
        django_capture_on_commit_callbacks)
    by_language = dict(Notification.objects.values_list("language", "recipients"))
    assert by_language == {"en": ["admin@nordic.example"], "sv": ["reporter@nordic.example"]}


def test_offsets_follow_the_staff_setting(company, time_machine,
                                          django_capture_on_commit_callbacks):
    ReminderConfig.objects.filter(kind="report-due").update(offsets=[14])
    for day in days(DUE - timedelta(days=61), DUE):
        run(scans.scan_reports_due, day, time_machine, django_capture_on_commit_callbacks)
    assert keys() == [f"report-due:{company.pk}:2025:14d:en"]


def test_a_disabled_kind_sends_nothing(company, time_machine,
                                       django_capture_on_commit_callbacks):
    ReminderConfig.objects.filter(kind="report-due").update(enabled=False)
    run(scans.scan_reports_due, DUE - timedelta(days=7), time_machine,
        django_capture_on_commit_callbacks)
    assert mail.outbox == []


def test_signatories_not_chased_get_nothing(time_machine, django_capture_on_commit_callbacks):
    from signatories.models import SignatoryStatus

    for status in (SignatoryStatus.SUSPENDED, SignatoryStatus.WITHDRAWN,
                   SignatoryStatus.APPROVED):
        other = SignatoryFactory(status=status, active=status != SignatoryStatus.APPROVED)
        sign(other, SIGNED)
        MembershipFactory(signatory=other, role=MembershipRole.ADMIN)
    run(scans.scan_reports_due, DUE - timedelta(days=7), time_machine,
        django_capture_on_commit_callbacks)
    assert mail.outbox == []


def _company_with_people(n: int) -> None:
    for _ in range(n):
        signatory = SignatoryFactory(active=True, status="active")
        sign(signatory, SIGNED)
        for role in (MembershipRole.ADMIN, MembershipRole.REPORTER):
            MembershipFactory(signatory=signatory, role=role,
                              user=UserFactory(language="de"))


@pytest.mark.parametrize("companies", [3, 30])
def test_the_scan_runs_a_constant_number_of_queries(companies, time_machine,
                                                    django_assert_max_num_queries):
    _company_with_people(companies)
    time_machine.move_to(scans.datetime(2026, 2, 8, 6, tzinfo=scans.UTC), tick=False)
    with django_assert_max_num_queries(10):
        claimed = scans.scan_reports_due()
    assert len(claimed) == companies
