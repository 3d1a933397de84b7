"""Issuing, numbering, e-mailing, revoking, re-issuing and expiring certificates."""

from __future__ import annotations

import re
import threading
from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from django.core import mail
from django.core.exceptions import PermissionDenied
from django.db import connection, connections

from code_portal.errors import DomainError
from code_portal.models import AuditEvent
from reporting import certificates as svc
from reporting import tasks
from reporting.models import Certificate, CertificateState
from signatories import services as signatory_services
from signatories.models import SignatoryStatus
from tests.factories import MembershipFactory, SignatoryFactory, UserFactory
from tests.reporting.certificate_helpers import approve, submitted_report

pytestmark = pytest.mark.django_db


def test_approval_issues_a_numbered_certificate_and_mails_it_to_the_admins(
        company_a, company_admin, reporter, viewer, staff_reviewer,
        django_capture_on_commit_callbacks):
    certificate = approve(submitted_report(company_a), staff_reviewer,
                          django_capture_on_commit_callbacks)

    assert certificate.number == "TC-2030-000001"
    assert re.fullmatch(r"[23456789ABCDEFGHJKMNPQRSTUVWXYZ]{12}", certificate.code)
    assert certificate.company_name == "Nordic Tours AB"
    assert certificate.pdf.name and certificate.pdf_size > 0
    by_recipient = {m.to[0]: m for m in mail.outbox}
    assert set(by_recipient) == {company_admin.email, reporter.email}  # one each; viewer none
    admin_mail = by_recipient[company_admin.email]
    assert "TC-2030-000001" in admin_mail.subject
    assert admin_mail.attachments[0][0] == "TC-2030-000001.pdf"
    assert admin_mail.attachments[0][1][:5] == b"%PDF-"
    assert certificate.code in admin_mail.body
    assert not by_recipient[reporter.email].attachments
    assert AuditEvent.objects.filter(action="certificate.issued",
                                     object_id=str(certificate.pk)).count() == 1


def test_certificate_task_is_enqueued_on_commit_not_before(
        company_a, staff_reviewer, django_capture_on_commit_callbacks):
    from reporting import services

    report = submitted_report(company_a)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        services.report_approve(actor=staff_reviewer, report=report, overall_score="met")
        assert not Certificate.objects.exists()
    assert not Certificate.objects.exists()  # nothing ran inside the approving transaction
    for callback in callbacks:
        callback()
    assert Certificate.objects.filter(report=report).count() == 1


def test_validity_runs_one_year_from_the_approval_date_inclusive(
        company_a, staff_reviewer, django_capture_on_commit_callbacks):
    with time_machine.travel(datetime(2031, 3, 15, 10, tzinfo=UTC), tick=False):
        certificate = approve(submitted_report(company_a), staff_reviewer,
                              django_capture_on_commit_callbacks)
    assert (certificate.valid_from, certificate.valid_until) == (date(2031, 3, 15),
                                                                 date(2032, 3, 14))
    assert svc.validity_for(date(2028, 2, 29)) == (date(2028, 2, 29), date(2029, 2, 28))


def test_numbers_are_sequential_per_year(staff_reviewer, django_capture_on_commit_callbacks):
    numbers = [approve(submitted_report(SignatoryFactory(active=True,
                                                         status=SignatoryStatus.ACTIVE), year),
                       staff_reviewer, django_capture_on_commit_callbacks).number
               for year in (2030, 2030, 2031, 2030)]
    assert numbers == ["TC-2030-000001", "TC-2030-000002", "TC-2031-000001", "TC-2030-000003"]


def test_running_the_approval_task_again_issues_and_mails_nothing_new(
        company_a, company_admin, staff_reviewer, django_capture_on_commit_callbacks):
    certificate = approve(submitted_report(company_a), staff_reviewer,
                          django_capture_on_commit_callbacks)
    sent = len(mail.outbox)

    assert tasks.report_approved(certificate.report_id) == 0

    assert Certificate.objects.filter(report=certificate.report).count() == 1
    assert Certificate.objects.get().number == certificate.number
    assert len(mail.outbox) == sent


def test_only_an_approved_report_gets_a_certificate(company_a):
    with pytest.raises(DomainError):
        svc.certificate_issue(report=submitted_report(company_a))
    assert not Certificate.objects.exists()


@pytest.mark.skipif(connection.vendor != "postgresql",
                    reason="row locks (SELECT … FOR UPDATE) need PostgreSQL; SQLite serialises "
                           "all writers anyway")
# serialized_rollback: like the worker tests, leave the data-migration rows for the next test
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_concurrent_task_runs_give_one_certificate(company_a, company_admin, staff_reviewer):
    report = submitted_report(company_a)
    from reporting import services

    services.report_approve(actor=staff_reviewer, report=report, overall_score="met")
    Certificate.objects.all().delete()  # the eager on-commit run; now race two fresh runs
    mail.outbox.clear()
    barrier = threading.Barrier(2)
    results, errors = [], []

    def run():
        try:
            barrier.wait()
            results.append(tasks.report_approved(report.pk))
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)

    assert errors == []
    assert Certificate.objects.filter(report=report).count() == 1
    assert sorted(results) == [0, 1]  # one run mailed the admin, the other found it done
    assert [m.to for m in mail.outbox] == [[company_admin.email]]


def test_revoked_certificate_says_so_with_reason_date_and_actor(
        company_a, staff_admin, staff_reviewer, django_capture_on_commit_callbacks):
    certificate = approve(submitted_report(company_a), staff_reviewer,
                          django_capture_on_commit_callbacks)
    svc.certificate_revoke(certificate=certificate, actor=staff_admin, reason="Fraudulent report")
    certificate.refresh_from_db()
    assert certificate.state_on(date(2030, 1, 1)) == CertificateState.REVOKED
    assert certificate.revoked_by == staff_admin
    assert certificate.revocation_reason == "Fraudulent report"
    with pytest.raises(DomainError):
        svc.certificate_revoke(certificate=certificate, actor=staff_admin, reason="again")
    assert AuditEvent.objects.filter(action="certificate.revoked", actor=staff_admin).count() == 1


def test_company_admin_cannot_revoke(company_a, company_admin, staff_reviewer,
                                     django_capture_on_commit_callbacks):
    certificate = approve(submitted_report(company_a), staff_reviewer,
                          django_capture_on_commit_callbacks)
    with pytest.raises(PermissionDenied):
        svc.certificate_revoke(certificate=certificate, actor=company_admin, reason="no")


def test_reissue_gives_a_new_number_and_code_and_keeps_the_old_one_revoked(
        company_a, company_admin, staff_admin, staff_reviewer, django_capture_on_commit_callbacks):
    old = approve(submitted_report(company_a), staff_reviewer, django_capture_on_commit_callbacks)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        new = svc.certificate_reissue(certificate=old, actor=staff_admin, reason="Name corrected")
    old.refresh_from_db()

    assert new.number == "TC-2030-000002" and new.code != old.code
    assert (new.valid_from, new.valid_until) == (old.valid_from, old.valid_until)
    assert old.revoked_at is not None and new.replaces == old
    assert [m.attachments[0][0] for m in mail.outbox] == ["TC-2030-000002.pdf"]
    with pytest.raises(DomainError):
        svc.certificate_reissue(certificate=old, actor=staff_admin, reason="twice")
    assert AuditEvent.objects.filter(action="certificate.reissued").count() == 1


@pytest.mark.parametrize("transition", ["suspend", "expel"])
def test_suspending_or_expelling_revokes_the_current_certificate(
        transition, company_a, staff_admin, staff_reviewer, django_capture_on_commit_callbacks):
    certificate = approve(submitted_report(company_a), staff_reviewer,
                          django_capture_on_commit_callbacks)
    service = getattr(signatory_services, f"signatory_{transition}")
    service(signatory=company_a, actor=staff_admin, reason="Did not report")
    certificate.refresh_from_db()
    assert certificate.revoked_at is not None
    assert certificate.revocation_reason == "Did not report"


def test_expired_certificate_is_not_revoked_by_a_later_suspension(
        company_a, staff_admin, staff_reviewer, django_capture_on_commit_callbacks):
    with time_machine.travel(datetime(2031, 3, 15, 10, tzinfo=UTC), tick=False):
        certificate = approve(submitted_report(company_a), staff_reviewer,
                              django_capture_on_commit_callbacks)
    with time_machine.travel(datetime(2032, 4, 1, 10, tzinfo=UTC), tick=False):
        signatory_services.signatory_suspend(signatory=company_a, actor=staff_admin, reason="x")
        certificate.refresh_from_db()
        assert certificate.state_on(date(2032, 4, 1)) == CertificateState.EXPIRED


@pytest.mark.parametrize("days_after_last, revoked", [(0, True), (1, False)])
def test_suspension_on_the_last_valid_day_revokes_and_on_the_next_day_does_not(
        days_after_last, revoked, company_a, staff_admin, staff_reviewer,
        django_capture_on_commit_callbacks):
    with time_machine.travel(datetime(2031, 3, 15, 10, tzinfo=UTC), tick=False):
        certificate = approve(submitted_report(company_a), staff_reviewer,
                              django_capture_on_commit_callbacks)
    day = certificate.valid_until + timedelta(days=days_after_last)
    with time_machine.travel(datetime.combine(day, datetime.min.time(), tzinfo=UTC)
                             + timedelta(hours=23, minutes=59), tick=False):
        signatory_services.signatory_suspend(signatory=company_a, actor=staff_admin,
                                             reason="Did not report")
    certificate.refresh_from_db()
    assert (certificate.revoked_at is not None) is revoked
    expected = CertificateState.REVOKED if revoked else CertificateState.EXPIRED
    assert certificate.state_on(day + timedelta(days=1)) == expected
    if revoked:
        assert certificate.revoked_at.date() == certificate.valid_until


def test_state_is_valid_on_the_last_day_and_expired_the_next(
        company_a, staff_reviewer, django_capture_on_commit_callbacks):
    with time_machine.travel(datetime(2031, 3, 15, 10, tzinfo=UTC), tick=False):
        certificate = approve(submitted_report(company_a), staff_reviewer,
                              django_capture_on_commit_callbacks)
    last = certificate.valid_until
    assert certificate.state_on(last) == CertificateState.VALID
    assert certificate.state_on(last + timedelta(days=1)) == CertificateState.EXPIRED


def test_reissue_refused_for_a_suspended_member(
        company_a, staff_admin, staff_reviewer, django_capture_on_commit_callbacks):
    certificate = approve(submitted_report(company_a), staff_reviewer,
                          django_capture_on_commit_callbacks)
    signatory_services.signatory_suspend(signatory=company_a, actor=staff_admin, reason="late")
    with pytest.raises(DomainError):
        svc.certificate_reissue(certificate=certificate, actor=staff_admin, reason="try")


def test_inactive_admin_gets_no_mail(staff_reviewer, django_capture_on_commit_callbacks):
    signatory = SignatoryFactory(active=True, status=SignatoryStatus.ACTIVE)
    MembershipFactory(signatory=signatory, role="admin",
                      user=UserFactory(email="gone@x.example", is_active=False))
    approve(submitted_report(signatory), staff_reviewer, django_capture_on_commit_callbacks)
    assert mail.outbox == []
