"""Training services: validation, permissions per role, erasure and the audit trail."""

from datetime import date, timedelta

import pytest
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from code_portal.errors import DomainError
from code_portal.models import AuditEvent
from tests.training.factories import (
    CourseFactory,
    SessionFactory,
    TraineeFactory,
)
from training import services
from training.coverage import coverage_for
from training.models import Course, Headcount, SessionAttachment, Trainee, TrainingRecord

pytestmark = pytest.mark.django_db

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def today():
    return timezone.localdate()


def record(actor, signatory, course, **kwargs):
    values = {"completed_on": today() - timedelta(days=10), "staff_reference": "EMP-1",
              "name": "Ann Ek", "department": "Sales", "is_customer_facing": True} | kwargs
    return services.record_create(actor=actor, signatory=signatory, course=course, **values)


@pytest.fixture
def course():
    return CourseFactory(validity_months=24)


# --- completions: validation ----------------------------------------------------------------

def test_reporter_records_a_completion_with_its_expiry(reporter, company_a, course):
    done = date(2024, 1, 31)
    created = record(reporter, company_a, course, completed_on=done)
    assert created.signatory == company_a
    assert created.expires_on == date(2026, 1, 31)
    assert created.trainee.name == "Ann Ek"
    assert created.created_by == reporter


def test_completion_today_is_accepted_but_tomorrow_is_refused(reporter, company_a, course):
    assert record(reporter, company_a, course, completed_on=today())
    with pytest.raises(DomainError) as exc:
        record(reporter, company_a, course, completed_on=today() + timedelta(days=1),
               staff_reference="EMP-2")
    assert exc.value.field == "completed_on"
    assert TrainingRecord.objects.count() == 1


def test_another_companys_course_is_refused(reporter, company_a, company_b):
    theirs = CourseFactory(signatory=company_b)
    with pytest.raises(DomainError) as exc:
        record(reporter, company_a, theirs)
    assert exc.value.field == "course"
    assert not Trainee.objects.filter(signatory=company_a).exists()


def test_unknown_course_is_refused(reporter, company_a):
    ghost = CourseFactory.build(pk=987654)
    with pytest.raises(DomainError) as exc:
        record(reporter, company_a, ghost)
    assert exc.value.field == "course"


def test_own_and_catalogue_courses_are_accepted(reporter, company_a):
    record(reporter, company_a, CourseFactory(signatory=company_a), staff_reference="E1")
    record(reporter, company_a, CourseFactory(signatory=None), staff_reference="E2")
    assert TrainingRecord.objects.filter(signatory=company_a).count() == 2


def test_duplicate_completion_is_refused_and_nothing_is_added(reporter, company_a, course):
    record(reporter, company_a, course)
    with pytest.raises(DomainError, match="already recorded"):
        record(reporter, company_a, course)
    assert TrainingRecord.objects.count() == 1
    # the same course on another day is a new completion (a refresher), not a duplicate
    record(reporter, company_a, course, completed_on=today() - timedelta(days=1))
    assert TrainingRecord.objects.count() == 2


def test_a_person_is_found_again_by_staff_reference(reporter, company_a, course):
    first = record(reporter, company_a, course, completed_on=date(2023, 1, 1))
    second = record(reporter, company_a, CourseFactory(), name="Ann Ek-Berg",
                    department="Support")
    assert first.trainee_id == second.trainee_id
    person = Trainee.objects.get()
    assert (person.name, person.department) == ("Ann Ek-Berg", "Support")


def test_a_person_needs_a_staff_reference_or_a_name(reporter, company_a, course):
    with pytest.raises(DomainError) as exc:
        record(reporter, company_a, course, staff_reference=" ", name="")
    assert exc.value.field == "name"


def test_another_companys_session_is_refused(reporter, company_a, company_b, course):
    with pytest.raises(DomainError) as exc:
        record(reporter, company_a, course, session=SessionFactory(signatory=company_b))
    assert exc.value.field == "session"


# --- permissions per role ------------------------------------------------------------------

@pytest.mark.parametrize("persona", ["company_admin", "reporter"])
def test_company_admins_and_reporters_record_training(persona, request, company_a, course):
    assert record(request.getfixturevalue(persona), company_a, course)


@pytest.mark.parametrize("persona", ["viewer", "outsider", "staff_reviewer", "staff_admin",
                                     "local_rep_sweden", "local_rep_other_country"])
def test_others_cannot_record_training(persona, request, company_a, course):
    with pytest.raises(PermissionDenied):
        record(request.getfixturevalue(persona), company_a, course)
    assert not TrainingRecord.objects.exists()


@pytest.mark.parametrize("persona", ["viewer", "outsider", "staff_reviewer"])
def test_others_cannot_set_the_headcount_or_add_sessions(persona, request, company_a, course):
    actor = request.getfixturevalue(persona)
    with pytest.raises(PermissionDenied):
        services.headcount_set(actor=actor, signatory=company_a, year=today().year,
                               employees=5, customer_facing_employees=2)
    with pytest.raises(PermissionDenied):
        services.session_create(actor=actor, signatory=company_a,
                                data={"course": course, "starts_on": today()})


def test_only_code_staff_maintain_the_catalogue(reporter, company_admin, staff_reviewer,
                                                local_rep_sweden):
    data = {"title": "E-learning", "provider": "The Code", "delivery_mode": "elearning",
            "language": "en", "duration_hours": 2}
    for actor in (reporter, company_admin, local_rep_sweden):
        with pytest.raises(PermissionDenied):
            services.course_create(actor=actor, signatory=None, data=data)
    course = services.course_create(actor=staff_reviewer, signatory=None, data=data)
    assert course.is_catalogue
    with pytest.raises(PermissionDenied):
        services.course_update(actor=reporter, course=course, data={"title": "Mine now"})
    with pytest.raises(PermissionDenied):
        services.course_delete(actor=company_admin, course=course)


def test_staff_cannot_write_a_companys_own_course(staff_admin, company_a):
    with pytest.raises(PermissionDenied):
        services.course_create(actor=staff_admin, signatory=company_a,
                               data={"title": "x", "provider": "y", "delivery_mode": "webinar",
                                     "language": "en", "duration_hours": 1})


# --- courses -------------------------------------------------------------------------------

def test_changing_a_courses_validity_recomputes_stored_expiry(reporter, company_a):
    course = CourseFactory(signatory=company_a, validity_months=12)
    created = record(reporter, company_a, course, completed_on=date(2024, 1, 31))
    assert created.expires_on == date(2025, 1, 31)
    services.course_update(actor=reporter, course=course, data={"validity_months": 1})
    created.refresh_from_db()
    assert created.expires_on == date(2024, 2, 29)
    services.course_update(actor=reporter, course=course, data={"validity_months": None})
    created.refresh_from_db()
    assert created.expires_on is None
    event = AuditEvent.objects.filter(action="course.updated").first()
    assert event.changes["validity_months"] == {"from": 1, "to": None}


def test_a_course_in_use_cannot_be_deleted_but_an_unused_one_can(reporter, company_a):
    used = CourseFactory(signatory=company_a)
    record(reporter, company_a, used)
    with pytest.raises(DomainError, match="cannot be deleted"):
        services.course_delete(actor=reporter, course=used)
    unused = CourseFactory(signatory=company_a)
    unused_pk = unused.pk
    services.course_delete(actor=reporter, course=unused)
    assert not Course.objects.filter(pk=unused_pk).exists()
    assert AuditEvent.objects.filter(action="course.deleted", object_id=str(unused_pk)).exists()


# --- sessions ------------------------------------------------------------------------------

def test_session_dates_cannot_be_in_the_future_or_end_before_they_start(reporter, company_a,
                                                                         course):
    with pytest.raises(DomainError) as exc:
        services.session_create(actor=reporter, signatory=company_a,
                                data={"course": course, "starts_on": today() + timedelta(1)})
    assert exc.value.field == "starts_on"
    with pytest.raises(DomainError) as exc:
        services.session_create(actor=reporter, signatory=company_a,
                                data={"course": course, "starts_on": today(),
                                      "ends_on": today() - timedelta(days=1)})
    assert exc.value.field == "ends_on"
    session = services.session_create(actor=reporter, signatory=company_a,
                                      data={"course": course, "starts_on": today(),
                                            "ends_on": today(), "trainer": "Eva"})
    with pytest.raises(DomainError) as exc:
        services.session_update(actor=reporter, session=session,
                                data={"starts_on": today() + timedelta(days=2)})
    assert exc.value.field == "starts_on"


def test_session_with_another_companys_course_is_refused(reporter, company_a, company_b):
    with pytest.raises(DomainError) as exc:
        services.session_create(actor=reporter, signatory=company_a,
                                data={"course": CourseFactory(signatory=company_b),
                                      "starts_on": today()})
    assert exc.value.field == "course"


def test_attachments_are_checked_by_content_and_audited(reporter, company_a):
    session = SessionFactory(signatory=company_a)
    with pytest.raises(DomainError) as exc:
        services.attachment_add(actor=reporter, session=session,
                                upload=SimpleUploadedFile("sheet.pdf", b"MZ\x90\x00 not a pdf"))
    assert exc.value.field == "file"
    with pytest.raises(DomainError, match="empty"):
        services.attachment_add(actor=reporter, session=session,
                                upload=SimpleUploadedFile("sheet.png", b""))
    added = services.attachment_add(actor=reporter, session=session,
                                    upload=SimpleUploadedFile("attendance.png", PNG))
    assert (added.original_name, added.content_type, added.size) == (
        "attendance.png", "image/png", len(PNG))
    assert added.file.read() == PNG
    assert AuditEvent.objects.filter(action="training_attachment.added").count() == 1


def test_deleting_an_attachment_removes_the_file_after_commit(
        reporter, company_a, django_capture_on_commit_callbacks):
    session = SessionFactory(signatory=company_a)
    added = services.attachment_add(actor=reporter, session=session,
                                    upload=SimpleUploadedFile("a.png", PNG))
    storage, name = added.file.storage, added.file.name
    with django_capture_on_commit_callbacks(execute=True):
        services.attachment_delete(actor=reporter, attachment=added)
    assert not SessionAttachment.objects.exists()
    assert not storage.exists(name)


def test_viewer_cannot_upload_attachments(viewer, company_a):
    with pytest.raises(PermissionDenied):
        services.attachment_add(actor=viewer, session=SessionFactory(signatory=company_a),
                                upload=SimpleUploadedFile("a.png", PNG))


# --- headcount -----------------------------------------------------------------------------

def test_headcount_bounds(reporter, company_a):
    year = today().year
    with pytest.raises(DomainError) as exc:
        services.headcount_set(actor=reporter, signatory=company_a, year=year, employees=5,
                               customer_facing_employees=6)
    assert exc.value.field == "customer_facing_employees"
    for bad_year in (1997, year + 2):
        with pytest.raises(DomainError) as exc:
            services.headcount_set(actor=reporter, signatory=company_a, year=bad_year,
                                   employees=5, customer_facing_employees=1)
        assert exc.value.field == "year"
    assert not Headcount.objects.exists()
    services.headcount_set(actor=reporter, signatory=company_a, year=year + 1, employees=5,
                           customer_facing_employees=5)


def test_headcount_is_one_per_year_and_changes_are_audited_once(reporter, company_a):
    year = today().year
    services.headcount_set(actor=reporter, signatory=company_a, year=year, employees=40,
                           customer_facing_employees=10)
    services.headcount_set(actor=reporter, signatory=company_a, year=year, employees=45,
                           customer_facing_employees=10)
    services.headcount_set(actor=reporter, signatory=company_a, year=year, employees=45,
                           customer_facing_employees=10)  # no change: no audit row
    stated = Headcount.objects.get(signatory=company_a, year=year)
    assert (stated.employees, stated.customer_facing_employees) == (45, 10)
    events = list(AuditEvent.objects.filter(action="headcount.set").order_by("id"))
    assert len(events) == 2
    assert events[1].changes == {"employees": {"from": 40, "to": 45}}
    assert events[1].actor == reporter


# --- finding the person ------------------------------------------------------------------------

def test_recording_leaves_the_customer_facing_flag_as_recorded(reporter, company_a, course):
    bjorn = TraineeFactory(signatory=company_a, staff_reference="E002", name="Björn Ek",
                           is_customer_facing=True)
    record(reporter, company_a, course, staff_reference="E002", name="", department="",
           is_customer_facing=None)
    bjorn.refresh_from_db()
    assert bjorn.is_customer_facing
    record(reporter, company_a, CourseFactory(), staff_reference="E002", name="",
           department="", is_customer_facing=False)
    bjorn.refresh_from_db()
    assert not bjorn.is_customer_facing  # an explicit "no" is kept
    new = record(reporter, company_a, CourseFactory(), staff_reference="E003", name="Ida",
                 is_customer_facing=None)
    assert new.trainee.is_customer_facing is False


def test_recording_by_name_finds_a_person_with_a_reference(reporter, company_a, course):
    bjorn = TraineeFactory(signatory=company_a, staff_reference="E002", name="Björn Ek")
    TraineeFactory(signatory=company_a, staff_reference="E009", name="Björn Ek",
                   erased_at=timezone.now())  # erased: never matched
    TraineeFactory(name="Björn Ek")  # another company
    created = record(reporter, company_a, course, staff_reference="", name=" BJÖRN EK ")
    assert created.trainee == bjorn
    bjorn.refresh_from_db()
    assert (bjorn.name, bjorn.staff_reference) == ("Björn Ek", "E002")
    assert Trainee.objects.filter(signatory=company_a, erased_at__isnull=True).count() == 1


def test_recording_by_an_ambiguous_name_asks_for_the_reference(reporter, company_a, course):
    TraineeFactory(signatory=company_a, staff_reference="E002", name="Björn Ek")
    TraineeFactory(signatory=company_a, staff_reference="", name="björn ek")
    with pytest.raises(DomainError) as exc:
        record(reporter, company_a, course, staff_reference="", name="Björn Ek")
    assert exc.value.field == "staff_reference"
    assert not TrainingRecord.objects.exists()
    assert record(reporter, company_a, course, staff_reference="E002",
                  name="Björn Ek").trainee.staff_reference == "E002"


# --- erasure -------------------------------------------------------------------------------

def test_erasure_removes_personal_data_and_keeps_totals(company_admin, reporter, company_a,
                                                        course):
    services.headcount_set(actor=reporter, signatory=company_a, year=today().year,
                           employees=10, customer_facing_employees=5)
    created = record(reporter, company_a, course, email="ann.ek@nordic.example")
    record(reporter, company_a, CourseFactory())
    services.record_delete(actor=reporter, record=record(reporter, company_a, CourseFactory()),
                           reason="typo")
    before = coverage_for(company_a, today())

    services.trainee_erase(actor=company_admin, trainee=created.trainee)

    person = Trainee.objects.get(pk=created.trainee_id)
    assert (person.name, person.staff_reference, person.email) == ("", "", "")
    assert person.erased_at is not None
    assert person.department == "Sales" and person.is_customer_facing  # not identifying alone
    assert TrainingRecord.objects.filter(trainee=person).count() == 2
    after = coverage_for(company_a, today())
    assert (after.trained, after.customer_facing_trained, after.share) == (
        before.trained, before.customer_facing_trained, before.share)
    # nothing that names the person remains in the audit trail or the records' history
    for event in AuditEvent.objects.all():
        text = f"{event.object_repr} {event.reason} {event.changes}"
        assert "Ann" not in text and "EMP-1" not in text and "ann.ek" not in text
    assert AuditEvent.objects.filter(action="trainee.erased", actor=company_admin).count() == 1
    assert str(person) != "Ann Ek"


def test_erasure_is_idempotent_and_admin_only(company_admin, reporter, company_a):
    person = TraineeFactory(signatory=company_a)
    with pytest.raises(PermissionDenied):
        services.trainee_erase(actor=reporter, trainee=person)
    services.trainee_erase(actor=company_admin, trainee=person)
    services.trainee_erase(actor=company_admin, trainee=person)
    assert AuditEvent.objects.filter(action="trainee.erased").count() == 1


def test_after_erasure_the_same_staff_reference_is_a_new_person(company_admin, reporter,
                                                                company_a, course):
    first = record(reporter, company_a, course, completed_on=date(2023, 1, 1))
    services.trainee_erase(actor=company_admin, trainee=first.trainee)
    again = record(reporter, company_a, course)
    assert again.trainee_id != first.trainee_id


# --- audit trail ---------------------------------------------------------------------------

def test_every_training_write_leaves_an_audit_row(reporter, company_a, course):
    session = services.session_create(actor=reporter, signatory=company_a,
                                      data={"course": course, "starts_on": today()})
    services.session_update(actor=reporter, session=session, data={"trainer": "Eva Lind"})
    created = record(reporter, company_a, course, session=session)
    services.record_delete(actor=reporter, record=created, reason="Entered twice")
    own = services.course_create(actor=reporter, signatory=company_a, data={
        "title": "Induction", "provider": "HR", "delivery_mode": "on_the_job",
        "language": "sv", "duration_hours": 1})
    services.session_delete(actor=reporter, session=session)

    events = {e.action: e for e in AuditEvent.objects.filter(signatory=company_a)}
    assert set(events) >= {"training_session.created", "training_session.updated",
                           "training_record.created", "training_record.deleted",
                           "course.created", "training_session.deleted"}
    assert events["training_record.deleted"].reason == "Entered twice"
    assert events["training_session.updated"].changes == {"trainer": {"from": "",
                                                                      "to": "Eva Lind"}}
    assert events["course.created"].object_id == str(own.pk)
    assert all(e.actor == reporter for e in events.values())
