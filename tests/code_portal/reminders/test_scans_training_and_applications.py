"""Training refreshers (30 days before expiry, one e-mail per company listing the people) and
the staff digest of applications waiting more than 5 days."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.core import mail
from django.utils import timezone

from code_portal.reminders import scans, services
from code_portal.reminders.models import Notification, RefresherNotice
from signatories.models import MembershipRole, SignatoryStatus
from tests.code_portal.reminders.helpers import at, days, keys, run
from tests.factories import MembershipFactory, SignatoryFactory, UserFactory
from tests.training.factories import CourseFactory, RecordFactory, TraineeFactory

pytestmark = pytest.mark.django_db

EXPIRES = date(2026, 6, 1)  # first day the training no longer counts


def _record(signatory, name: str, expires_on: date = EXPIRES, course=None):
    course = course or CourseFactory(title="Child protection basics", validity_months=24)
    return RecordFactory(trainee=TraineeFactory(signatory=signatory, name=name), course=course,
                         completed_on=expires_on - timedelta(days=730), expires_on=expires_on)


def test_one_email_per_company_listing_the_people_thirty_days_before(
        company_a, company_admin, reporter, time_machine, django_capture_on_commit_callbacks):
    course = CourseFactory(title="Child protection basics")
    _record(company_a, "Astrid Berg", course=course)
    _record(company_a, "Nils Ek", course=course)
    sent_on = []
    for day in days(EXPIRES - timedelta(days=40), EXPIRES):
        before = len(mail.outbox)
        run(scans.scan_training_refreshers, day, time_machine, django_capture_on_commit_callbacks)
        if len(mail.outbox) > before:
            sent_on.append((EXPIRES - day).days)
    assert sent_on == [30]
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["admin@nordic.example"]  # admins only
    assert message.subject == "Nordic Tours AB: 2 training refreshers due"
    assert "Astrid Berg: Child protection basics, valid until 2026-05-31" in message.body
    assert "Nils Ek" in message.body
    assert f"http://127.0.0.1:8000/company/{company_a.pk}/training/" in message.body
    assert "This reminder is optional" in message.body
    assert RefresherNotice.objects.count() == 2


def test_a_record_entering_the_window_later_gets_its_own_email_listing_only_it(
        company_a, company_admin, time_machine, django_capture_on_commit_callbacks):
    _record(company_a, "Astrid Berg")
    run(scans.scan_training_refreshers, EXPIRES - timedelta(days=30), time_machine,
        django_capture_on_commit_callbacks)
    _record(company_a, "Nils Ek", expires_on=EXPIRES + timedelta(days=3))
    run(scans.scan_training_refreshers, EXPIRES - timedelta(days=27), time_machine,
        django_capture_on_commit_callbacks)
    assert len(mail.outbox) == 2
    assert "Nils Ek" in mail.outbox[1].body and "Astrid Berg" not in mail.outbox[1].body


def test_renewed_training_and_unsubscribed_admins_get_nothing(
        company_a, company_admin, time_machine, django_capture_on_commit_callbacks):
    course = CourseFactory()
    old = _record(company_a, "Astrid Berg", course=course)
    RecordFactory(trainee=old.trainee, course=course, completed_on=EXPIRES - timedelta(days=40),
                  expires_on=EXPIRES + timedelta(days=690))
    run(scans.scan_training_refreshers, EXPIRES - timedelta(days=30), time_machine,
        django_capture_on_commit_callbacks)
    assert mail.outbox == []
    _record(company_a, "Nils Ek")
    services.reminder_preference_set(user=company_admin, optional_reminders=False)
    run(scans.scan_training_refreshers, EXPIRES - timedelta(days=30), time_machine,
        django_capture_on_commit_callbacks)
    assert mail.outbox == [] and Notification.objects.count() == 0


def test_refresher_rerun_sends_nothing_new(company_a, company_admin, time_machine,
                                           django_capture_on_commit_callbacks):
    _record(company_a, "Astrid Berg")
    for hour in (6, 7, 23):
        run(scans.scan_training_refreshers, EXPIRES - timedelta(days=30), time_machine,
            django_capture_on_commit_callbacks, hour=hour)
    assert len(mail.outbox) == 1


@pytest.mark.parametrize("companies", [2, 12])
def test_refresher_scan_queries_do_not_grow_with_companies(companies, time_machine,
                                                           django_assert_max_num_queries):
    for _ in range(companies):
        signatory = SignatoryFactory(active=True, status=SignatoryStatus.ACTIVE)
        MembershipFactory(signatory=signatory, role=MembershipRole.ADMIN)
        _record(signatory, "Someone")
        _record(signatory, "Someone else")
    time_machine.move_to(at(EXPIRES - timedelta(days=30)), tick=False)
    with django_assert_max_num_queries(9):
        assert len(scans.scan_training_refreshers()) == companies


# --- applications waiting ------------------------------------------------------------------------

def _application(name: str, country: str, applied_on: date):
    return SignatoryFactory(legal_name=name, country=country,
                            applied_at=at(applied_on, hour=15))


def test_applications_waiting_more_than_five_days_go_to_staff_in_a_digest(
        staff_reviewer, staff_admin, local_rep_sweden, local_rep_other_country, time_machine,
        django_capture_on_commit_callbacks):
    applied = date(2026, 3, 1)
    swedish = _application("Fjord Trips AB", "SE", applied)
    _application("Safari Kenya Ltd", "KE", applied + timedelta(days=3))
    # by the UTC calendar: applied on 1 March, listed from 7 March (6 days > 5), at any hour
    run(scans.scan_applications_waiting, applied + timedelta(days=5), time_machine,
        django_capture_on_commit_callbacks, hour=23)
    assert mail.outbox == []
    run(scans.scan_applications_waiting, applied + timedelta(days=6), time_machine,
        django_capture_on_commit_callbacks, hour=0)
    digests = {m.to[0]: m for m in mail.outbox}
    assert set(digests) == {staff_reviewer.email, staff_admin.email, local_rep_sweden.email}
    body = digests[staff_reviewer.email].body
    assert "Fjord Trips AB (SE), applied 2026-03-01, 6 days" in body
    assert "Safari Kenya" not in body  # 4 days
    assert f"http://127.0.0.1:8000/staff/signatories/{swedish.pk}/" in body
    assert digests[staff_reviewer.email].subject == "1 application waiting more than 5 days"
    # the next day: a new digest (once a day while applications wait), Kenya now listed
    run(scans.scan_applications_waiting, applied + timedelta(days=9), time_machine,
        django_capture_on_commit_callbacks)
    kenya_digests = [m for m in mail.outbox if "Safari Kenya" in m.body]
    # central staff and Kenya's local representative; Sweden's does not see it
    assert {m.to[0] for m in kenya_digests} == {staff_reviewer.email, staff_admin.email,
                                                local_rep_other_country.email}


def test_waiting_digest_once_a_day_and_staff_may_unsubscribe(
        staff_reviewer, staff_admin, time_machine, django_capture_on_commit_callbacks):
    _application("Fjord Trips AB", "SE", date(2026, 3, 1))
    services.reminder_preference_set(user=staff_admin, optional_reminders=False)
    for hour in (7, 8, 20):
        run(scans.scan_applications_waiting, date(2026, 3, 10), time_machine,
            django_capture_on_commit_callbacks, hour=hour)
    assert [m.to for m in mail.outbox] == [[staff_reviewer.email]]
    assert keys("applications-waiting") == [f"applications-waiting:2026-03-10:u{staff_reviewer.pk}"]


def test_extra_staff_addresses_get_the_digest(settings, time_machine,
                                              django_capture_on_commit_callbacks):
    settings.STAFF_NOTIFICATION_EMAILS = ["office@thecode.example"]
    _application("Fjord Trips AB", "SE", date(2026, 3, 1))
    UserFactory(email="not-staff@example.org")
    run(scans.scan_applications_waiting, date(2026, 3, 10), time_machine,
        django_capture_on_commit_callbacks)
    assert [m.to for m in mail.outbox] == [["office@thecode.example"]]
    assert timezone.now().date() == date(2026, 3, 10)
