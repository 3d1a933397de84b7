"""Overdue reports: reminders +1 day then every 14 days to the admins, escalation (flag at +1,
suspend after the 90-day grace period with the certificate revoked), the staff digest, and
reinstatement."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.core import mail

from code_portal.models import AuditEvent
from code_portal.reminders import scans
from code_portal.reminders.models import Notification
from reporting.models import Certificate, ReportStatus
from signatories import services as signatory_services
from signatories.models import Signatory, SignatoryStatus
from tests.code_portal.reminders.helpers import days, keys, run, sign
from tests.reporting.factories import ReportFactory

pytestmark = pytest.mark.django_db

SIGNED = date(2025, 3, 10)
DUE = date(2026, 3, 10)


@pytest.fixture
def company(company_a, company_admin, reporter):
    sign(company_a, SIGNED)
    return company_a


def _status(signatory) -> str:
    return Signatory.objects.get(pk=signatory.pk).status


def _company_mails(before: int) -> list:
    return [m for m in mail.outbox[before:] if "admin@nordic.example" in m.to]


def test_reminders_on_day_one_then_every_fourteen_days_until_suspension(
        company, staff_reviewer, time_machine, django_capture_on_commit_callbacks):
    reminded, status_on = [], {}
    for day in days(DUE - timedelta(days=1), DUE + timedelta(days=95)):
        before = len(mail.outbox)
        run(scans.scan_reports_overdue, day, time_machine, django_capture_on_commit_callbacks)
        if any(m.subject.startswith("Overdue: annual report") for m in mail.outbox[before:]):
            reminded.append((day - DUE).days)
        status_on[(day - DUE).days] = _status(company)

    assert reminded == [1, 15, 29, 43, 57, 71, 85]
    # only the admins get overdue reminders (reporters are not asked to answer for it)
    overdue = [m for m in mail.outbox if m.subject.startswith("Overdue: annual")]
    assert {tuple(m.to) for m in overdue} == {("admin@nordic.example",)}
    assert "is 15 days overdue" in overdue[1].body
    assert f"http://127.0.0.1:8000/company/{company.pk}/reports/" in overdue[1].body
    # escalation: active until the due day, flagged on day 1, suspended on day 91 (> 90)
    assert status_on[0] == SignatoryStatus.ACTIVE
    assert status_on[1] == SignatoryStatus.REPORTING_OVERDUE
    assert status_on[90] == SignatoryStatus.REPORTING_OVERDUE
    assert status_on[91] == SignatoryStatus.SUSPENDED
    events = list(AuditEvent.objects.filter(signatory=company, action__in=[
        "signatory.flag_overdue", "signatory.suspend"]).order_by("occurred_at"))
    assert [(e.action, e.actor_label) for e in events] == [
        ("signatory.flag_overdue", "system"), ("signatory.suspend", "system")]
    assert events[1].reason == "no annual report"
    assert events[1].occurred_at.date() == DUE + timedelta(days=91)


def test_staff_are_told_in_a_digest(company, staff_reviewer, local_rep_sweden,
                                    local_rep_other_country, time_machine,
                                    django_capture_on_commit_callbacks):
    run(scans.scan_reports_overdue, DUE + timedelta(days=1), time_machine,
        django_capture_on_commit_callbacks)
    digests = {m.to[0]: m for m in mail.outbox if m.subject.startswith("Overdue annual reports")}
    # central staff and the local representative of Sweden; not Kenya's
    assert set(digests) == {staff_reviewer.email, local_rep_sweden.email}
    body = digests[staff_reviewer.email].body
    assert "Flagged as reporting overdue today" in body and "Nordic Tours AB" in body
    assert f"http://127.0.0.1:8000/staff/signatories/{company.pk}/" in body
    # a re-run the same day has nothing new: no second digest
    before = len(mail.outbox)
    run(scans.scan_reports_overdue, DUE + timedelta(days=1), time_machine,
        django_capture_on_commit_callbacks, hour=12)
    assert len(mail.outbox) == before
    # the suspension day's digest says so
    for day in days(DUE + timedelta(days=2), DUE + timedelta(days=91)):
        run(scans.scan_reports_overdue, day, time_machine, django_capture_on_commit_callbacks)
    last = [m for m in mail.outbox if m.to == [staff_reviewer.email]][-1]
    assert "Suspended today (no annual report; certificate revoked)" in last.body


def test_suspension_revokes_the_certificate(company, staff_admin, time_machine,
                                            django_capture_on_commit_callbacks):
    from tests.reporting.certificate_helpers import approve

    time_machine.move_to(scans.datetime(2025, 9, 1, tzinfo=scans.UTC), tick=False)
    earlier = ReportFactory(signatory=company, year=2024, due_on=date(2025, 5, 1),
                            status=ReportStatus.SUBMITTED)
    certificate = approve(earlier, staff_admin, django_capture_on_commit_callbacks)
    assert certificate.revoked_at is None
    run(scans.scan_reports_overdue, DUE + timedelta(days=91), time_machine,
        django_capture_on_commit_callbacks)
    certificate = Certificate.objects.get(pk=certificate.pk)
    assert _status(company) == SignatoryStatus.SUSPENDED
    assert certificate.revoked_at is not None
    assert "no annual report" in certificate.revocation_reason


def test_first_scan_after_the_grace_period_flags_then_suspends(
        company, time_machine, django_capture_on_commit_callbacks):
    result = run(scans.scan_reports_overdue, DUE + timedelta(days=120), time_machine,
                 django_capture_on_commit_callbacks)
    assert result.flagged == [company.pk] and result.suspended == [company.pk]
    assert list(AuditEvent.objects.filter(signatory=company).filter(
        action__in=["signatory.flag_overdue", "signatory.suspend"])
        .order_by("id").values_list("to_state", flat=True)) == ["reporting_overdue", "suspended"]
    # suspended: no overdue reminder goes with it (the suspension notice does)
    assert not [m for m in mail.outbox if m.subject.startswith("Overdue: annual report")]


def test_a_submitted_report_stops_reminders_and_escalation(
        company, time_machine, django_capture_on_commit_callbacks):
    run(scans.scan_reports_overdue, DUE + timedelta(days=1), time_machine,
        django_capture_on_commit_callbacks)
    ReportFactory(signatory=company, year=2025, due_on=DUE, status=ReportStatus.SUBMITTED)
    before = len(mail.outbox)
    for day in days(DUE + timedelta(days=2), DUE + timedelta(days=100)):
        run(scans.scan_reports_overdue, day, time_machine, django_capture_on_commit_callbacks)
    assert len(mail.outbox) == before
    assert _status(company) == SignatoryStatus.REPORTING_OVERDUE  # staff reinstate it


def test_a_reinstated_signatory_is_not_escalated_again_for_that_report(
        company, staff_reviewer, time_machine, django_capture_on_commit_callbacks):
    for day in days(DUE, DUE + timedelta(days=91)):
        run(scans.scan_reports_overdue, day, time_machine, django_capture_on_commit_callbacks)
    assert _status(company) == SignatoryStatus.SUSPENDED
    time_machine.move_to(scans.datetime(2026, 6, 10, 9, tzinfo=scans.UTC), tick=False)
    signatory_services.signatory_reinstate(signatory=company, actor=staff_reviewer,
                                           reason="Extension granted until July")
    before = len(mail.outbox)
    for day in days(DUE + timedelta(days=92), DUE + timedelta(days=130)):
        run(scans.scan_reports_overdue, day, time_machine, django_capture_on_commit_callbacks)
    assert _status(company) == SignatoryStatus.ACTIVE
    assert AuditEvent.objects.filter(signatory=company, action="signatory.suspend").count() == 1
    # still asked to submit: the next reminder of the 14-day cycle (+99, +113, +127)
    overdue = [m for m in mail.outbox[before:] if m.subject.startswith("Overdue: annual")]
    assert len(overdue) == 3


def test_reinstated_during_the_grace_period_is_not_suspended(
        company, staff_reviewer, time_machine, django_capture_on_commit_callbacks):
    run(scans.scan_reports_overdue, DUE + timedelta(days=1), time_machine,
        django_capture_on_commit_callbacks)
    assert _status(company) == SignatoryStatus.REPORTING_OVERDUE
    time_machine.move_to(scans.datetime(2026, 3, 20, 9, tzinfo=scans.UTC), tick=False)
    signatory_services.signatory_reinstate(signatory=company, actor=staff_reviewer,
                                           reason="Report arrives by post")
    for day in (DUE + timedelta(days=11), DUE + timedelta(days=91), DUE + timedelta(days=100)):
        run(scans.scan_reports_overdue, day, time_machine, django_capture_on_commit_callbacks)
    assert _status(company) == SignatoryStatus.ACTIVE


def test_rerunning_the_scan_sends_nothing_new(company, time_machine,
                                              django_capture_on_commit_callbacks):
    run(scans.scan_reports_overdue, DUE + timedelta(days=15), time_machine,
        django_capture_on_commit_callbacks)
    count, notifications = len(mail.outbox), keys()
    again = run(scans.scan_reports_overdue, DUE + timedelta(days=15), time_machine,
                django_capture_on_commit_callbacks)
    assert again.claimed == [] and len(mail.outbox) == count and keys() == notifications
    assert f"report-overdue:{company.pk}:2025:+15d:en" in notifications


def test_the_scan_runs_a_constant_number_of_queries_without_escalation(
        time_machine, django_assert_max_num_queries, staff_reviewer):
    from signatories.models import MembershipRole
    from tests.factories import MembershipFactory, SignatoryFactory

    def add(n):
        for _ in range(n):
            s = SignatoryFactory(active=True, status=SignatoryStatus.REPORTING_OVERDUE)
            sign(s, SIGNED)
            MembershipFactory(signatory=s, role=MembershipRole.ADMIN)

    add(3)
    time_machine.move_to(scans.datetime(2026, 3, 25, 6, tzinfo=scans.UTC), tick=False)
    with django_assert_max_num_queries(16) as few:
        scans.scan_reports_overdue()
    Notification.objects.all().delete()
    add(30)
    with django_assert_max_num_queries(len(few.captured_queries)):
        result = scans.scan_reports_overdue()
    assert len(result.claimed) == 34  # 33 companies + the staff digest
