"""The training REST API (/api/v1/training/...): every role, scoping, writes through services."""

from datetime import date, timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from code_portal.models import AuditEvent
from tests.factories import SignatoryFactory
from tests.training.factories import (
    CourseFactory,
    HeadcountFactory,
    RecordFactory,
    SessionFactory,
    TraineeFactory,
    TrainingData,
)
from training.models import (
    Course,
    Headcount,
    SessionAttachment,
    Trainee,
    TrainingRecord,
    TrainingSession,
)

pytestmark = pytest.mark.django_db

API = "/api/v1/training"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def today():
    return timezone.localdate()


def ids(response):
    assert response.status_code == 200, response.content
    return {row["id"] for row in response.json()["results"]}


@pytest.fixture
def a(company_a):
    return TrainingData(company_a, prefix="A")


@pytest.fixture
def b(company_b):
    return TrainingData(company_b, prefix="B")


COURSE = {"title": "Induction: child protection", "provider": "HR", "delivery_mode": "classroom",
          "language": "sv", "duration_hours": "1.5", "covers_childrens_rights": True,
          "covers_prevention": True, "covers_reporting": True, "validity_months": 12}


# --- courses ---------------------------------------------------------------------------------

def test_company_sees_catalogue_and_own_courses_not_another_companys(api_as, viewer, a, b):
    catalogue = CourseFactory(signatory=None)
    assert ids(api_as(viewer).get(f"{API}/courses/")) == {catalogue.pk, a.course.pk}


def test_staff_see_all_courses_and_local_rep_only_their_countries(api_as, staff_reviewer,
                                                                  local_rep_other_country, a, b):
    catalogue = CourseFactory(signatory=None)
    assert ids(api_as(staff_reviewer).get(f"{API}/courses/")) == {catalogue.pk, a.course.pk,
                                                                 b.course.pk}
    assert ids(api_as(local_rep_other_country).get(f"{API}/courses/")) == {catalogue.pk}


def test_courses_filter_by_signatory_and_catalogue(api_as, staff_reviewer, a, b):
    catalogue = CourseFactory(signatory=None)
    client = api_as(staff_reviewer)
    assert ids(client.get(f"{API}/courses/", {"signatory": a.signatory.pk})) == {a.course.pk}
    assert ids(client.get(f"{API}/courses/", {"catalogue": "true"})) == {catalogue.pk}


def test_reporter_creates_updates_and_deletes_an_own_course(api_as, reporter, company_a):
    client = api_as(reporter)
    response = client.post(f"{API}/courses/", {**COURSE, "signatory": company_a.pk},
                           format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["signatory"] == company_a.pk and body["is_catalogue"] is False
    course_id = body["id"]

    response = client.patch(f"{API}/courses/{course_id}/", {"validity_months": None},
                            format="json")
    assert response.status_code == 200
    assert Course.objects.get(pk=course_id).validity_months is None

    assert client.delete(f"{API}/courses/{course_id}/").status_code == 204
    assert not Course.objects.filter(pk=course_id).exists()
    assert list(AuditEvent.objects.filter(object_id=str(course_id)).order_by("id")
                .values_list("action", flat=True)) == ["course.created", "course.updated",
                                                       "course.deleted"]


def test_invalid_course_input_is_a_400_with_the_field(api_as, reporter, company_a):
    response = api_as(reporter).post(f"{API}/courses/", {**COURSE, "signatory": company_a.pk,
                                                         "duration_hours": "0"}, format="json")
    assert response.status_code == 400
    assert "duration_hours" in response.json()
    assert not Course.objects.exists()


def test_viewer_cannot_create_a_course(api_as, viewer, company_a):
    response = api_as(viewer).post(f"{API}/courses/", {**COURSE, "signatory": company_a.pk},
                                   format="json")
    assert response.status_code == 403
    assert not Course.objects.exists()


def test_only_central_staff_create_and_edit_catalogue_courses(api_as, reporter, staff_reviewer,
                                                              local_rep_sweden):
    assert api_as(reporter).post(f"{API}/courses/", COURSE, format="json").status_code == 403
    assert api_as(local_rep_sweden).post(f"{API}/courses/", COURSE,
                                         format="json").status_code == 403
    response = api_as(staff_reviewer).post(f"{API}/courses/", COURSE, format="json")
    assert response.status_code == 201
    course_id = response.json()["id"]
    assert Course.objects.get(pk=course_id).is_catalogue

    response = api_as(reporter).patch(f"{API}/courses/{course_id}/", {"title": "Hijacked"},
                                      format="json")
    assert response.status_code == 403
    assert api_as(reporter).delete(f"{API}/courses/{course_id}/").status_code == 403
    assert Course.objects.get(pk=course_id).title == COURSE["title"]


def test_course_in_use_cannot_be_deleted(api_as, reporter, a):
    response = api_as(reporter).delete(f"{API}/courses/{a.course.pk}/")
    assert response.status_code == 409
    assert "cannot be deleted" in response.json()["detail"]


# --- sessions and attachments ------------------------------------------------------------------

def test_reporter_creates_a_session_and_its_list_shows_it(api_as, reporter, company_a):
    course = CourseFactory()
    client = api_as(reporter)
    response = client.post(f"{API}/sessions/", {
        "signatory": company_a.pk, "course": course.pk, "starts_on": str(today()),
        "location": "Göteborg", "trainer": "Eva"}, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["course_title"] == course.title and body["attachments"] == []
    assert ids(client.get(f"{API}/sessions/")) == {body["id"]}


def test_session_in_the_future_is_a_400_on_the_date(api_as, reporter, company_a):
    response = api_as(reporter).post(f"{API}/sessions/", {
        "signatory": company_a.pk, "course": CourseFactory().pk,
        "starts_on": str(today() + timedelta(days=3))}, format="json")
    assert response.status_code == 400
    assert "starts_on" in response.json()
    assert not TrainingSession.objects.exists()


def test_session_with_another_companys_course_looks_like_an_unknown_course(api_as, reporter,
                                                                          company_a, b):
    response = api_as(reporter).post(f"{API}/sessions/", {
        "signatory": company_a.pk, "course": b.course.pk, "starts_on": str(today())},
        format="json")
    assert response.status_code == 400
    assert "course" in response.json()


def test_session_for_another_company_is_a_404(api_as, reporter, company_b):
    response = api_as(reporter).post(f"{API}/sessions/", {
        "signatory": company_b.pk, "course": CourseFactory().pk, "starts_on": str(today())},
        format="json")
    assert response.status_code == 404


def test_reporter_edits_and_deletes_a_session(api_as, reporter, a):
    client = api_as(reporter)
    response = client.patch(f"{API}/sessions/{a.session.pk}/", {"trainer": "Maria"},
                            format="json")
    assert response.status_code == 200 and response.json()["trainer"] == "Maria"
    assert client.delete(f"{API}/sessions/{a.session.pk}/").status_code == 204
    # the completion recorded at that session stays
    assert TrainingRecord.objects.filter(pk=a.record.pk, session=None).exists()


def test_viewer_reads_sessions_but_cannot_change_them(api_as, viewer, a):
    client = api_as(viewer)
    assert client.get(f"{API}/sessions/{a.session.pk}/").status_code == 200
    assert client.patch(f"{API}/sessions/{a.session.pk}/", {"trainer": "x"},
                        format="json").status_code == 403
    assert client.delete(f"{API}/sessions/{a.session.pk}/").status_code == 403


def test_attachment_upload_and_authorised_download(api_as, reporter, viewer, a):
    response = api_as(reporter).post(
        f"{API}/sessions/{a.session.pk}/attachments/",
        {"file": SimpleUploadedFile("attendance.png", PNG, content_type="image/png")},
        format="multipart")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["original_name"] == "attendance.png" and body["size"] == len(PNG)

    download = api_as(viewer).get(body["download_url"])
    assert download.status_code == 200
    assert download["Content-Disposition"].startswith("attachment;")
    assert "attendance.png" in download["Content-Disposition"]
    assert b"".join(download.streaming_content) == PNG

    listed = api_as(viewer).get(f"{API}/sessions/{a.session.pk}/").json()
    assert [f["id"] for f in listed["attachments"]] == [body["id"]]


def test_attachment_with_a_lying_extension_is_refused(api_as, reporter, a):
    response = api_as(reporter).post(
        f"{API}/sessions/{a.session.pk}/attachments/",
        {"file": SimpleUploadedFile("sheet.pdf", b"MZ\x90\x00" + b"\x00" * 64)},
        format="multipart")
    assert response.status_code == 400
    assert "file" in response.json()
    assert not SessionAttachment.objects.exists()


def test_viewer_cannot_upload_or_delete_attachments(api_as, reporter, viewer, a):
    url = f"{API}/sessions/{a.session.pk}/attachments/"
    response = api_as(viewer).post(url, {"file": SimpleUploadedFile("a.png", PNG)},
                                   format="multipart")
    assert response.status_code == 403
    attachment_id = api_as(reporter).post(url, {"file": SimpleUploadedFile("a.png", PNG)},
                                          format="multipart").json()["id"]
    assert api_as(viewer).delete(f"{url}{attachment_id}/").status_code == 403
    assert api_as(reporter).delete(f"{url}{attachment_id}/").status_code == 204
    assert not SessionAttachment.objects.exists()


def test_attachment_of_another_session_is_not_served_under_this_session(api_as, reporter,
                                                                       company_a, a):
    other = SessionFactory(signatory=company_a)
    attachment_id = api_as(reporter).post(
        f"{API}/sessions/{other.pk}/attachments/",
        {"file": SimpleUploadedFile("a.png", PNG)}, format="multipart").json()["id"]
    response = api_as(reporter).get(f"{API}/sessions/{a.session.pk}/attachments/{attachment_id}/")
    assert response.status_code == 404


# --- records ---------------------------------------------------------------------------------------

def test_reporter_records_a_completion(api_as, reporter, company_a):
    course = CourseFactory(validity_months=12)
    response = api_as(reporter).post(f"{API}/records/", {
        "signatory": company_a.pk, "course": course.pk, "completed_on": "2024-01-31",
        "staff_reference": "EMP-9", "department": "Sales", "is_customer_facing": True},
        format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["expires_on"] == "2025-01-31"
    assert body["person"]["staff_reference"] == "EMP-9"
    assert body["person"]["is_customer_facing"] is True
    assert body["course_title"] == course.title


@pytest.mark.parametrize(("change", "field"), [
    ({"completed_on": "2999-01-01"}, "completed_on"),
    ({"staff_reference": "", "name": ""}, "name"),
    ({"course": 999999}, "course"),
])
def test_invalid_completion_is_a_400_on_the_field(api_as, reporter, company_a, change, field):
    data = {"signatory": company_a.pk, "course": CourseFactory().pk, "completed_on": "2024-01-01",
            "staff_reference": "EMP-1"} | change
    response = api_as(reporter).post(f"{API}/records/", data, format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert not TrainingRecord.objects.exists()


def test_duplicate_completion_is_a_409(api_as, reporter, a):
    response = api_as(reporter).post(f"{API}/records/", {
        "signatory": a.signatory.pk, "course": a.course.pk,
        "completed_on": str(a.record.completed_on), "staff_reference": a.person.staff_reference},
        format="json")
    assert response.status_code == 409
    assert TrainingRecord.objects.count() == 1


@pytest.mark.parametrize("persona", ["viewer", "staff_reviewer", "local_rep_sweden"])
def test_readers_cannot_record_completions(api_as, request, persona, company_a):
    response = api_as(request.getfixturevalue(persona)).post(f"{API}/records/", {
        "signatory": company_a.pk, "course": CourseFactory().pk, "completed_on": "2024-01-01",
        "staff_reference": "EMP-1"}, format="json")
    assert response.status_code == 403
    assert not TrainingRecord.objects.exists()


def test_record_list_filters(api_as, viewer, company_a):
    t = today()
    yearly = CourseFactory(validity_months=12)
    other = CourseFactory(validity_months=None)
    valid = RecordFactory(trainee__signatory=company_a, trainee__department="Sales",
                          course=yearly, completed_on=t - timedelta(days=30))
    expiring = RecordFactory(trainee__signatory=company_a, trainee__department="Support",
                             course=yearly, completed_on=t - timedelta(days=330))
    expired = RecordFactory(trainee__signatory=company_a, trainee__department="Sales",
                            course=yearly, completed_on=t - timedelta(days=400))
    forever = RecordFactory(trainee__signatory=company_a, trainee__department="Finance",
                            course=other, completed_on=date(2015, 5, 5))
    url = f"{API}/records/"
    client = api_as(viewer)
    assert ids(client.get(url)) == {valid.pk, expiring.pk, expired.pk, forever.pk}
    assert ids(client.get(url, {"course": other.pk})) == {forever.pk}
    assert ids(client.get(url, {"department": "sales"})) == {valid.pk, expired.pk}
    assert ids(client.get(url, {"state": "valid"})) == {valid.pk, expiring.pk, forever.pk}
    assert ids(client.get(url, {"state": "expiring"})) == {expiring.pk}
    assert ids(client.get(url, {"state": "expired"})) == {expired.pk}
    assert ids(client.get(url, {"completed_from": str(t - timedelta(days=365)),
                                "completed_to": str(t - timedelta(days=31))})) == {expiring.pk}
    assert ids(client.get(url, {"search": valid.trainee.staff_reference})) == {valid.pk}
    assert client.get(url, {"state": "bogus"}).status_code == 400


def test_filtering_records_by_another_companys_course_is_refused(api_as, viewer, a, b):
    response = api_as(viewer).get(f"{API}/records/", {"course": b.course.pk})
    assert response.status_code == 400  # not one of the courses this user can see


def test_reporter_deletes_a_completion_with_a_reason(api_as, reporter, a):
    response = api_as(reporter).delete(f"{API}/records/{a.record.pk}/?reason=Entered+twice")
    assert response.status_code == 204
    assert not TrainingRecord.objects.filter(pk=a.record.pk).exists()
    assert AuditEvent.objects.get(action="training_record.deleted").reason == "Entered twice"


def test_viewer_cannot_delete_a_completion(api_as, viewer, a):
    assert api_as(viewer).delete(f"{API}/records/{a.record.pk}/").status_code == 403
    assert TrainingRecord.objects.filter(pk=a.record.pk).exists()


def test_records_scope_per_role(api_as, staff_admin, local_rep_sweden, local_rep_other_country,
                                outsider, a, b):
    url = f"{API}/records/"
    assert ids(api_as(staff_admin).get(url)) == {a.record.pk, b.record.pk}
    assert ids(api_as(local_rep_sweden).get(url)) == {a.record.pk}
    assert ids(api_as(local_rep_other_country).get(url)) == set()
    assert ids(api_as(outsider).get(url)) == {b.record.pk}


def test_anonymous_is_refused(api_client, a):
    assert api_client.get(f"{API}/records/").status_code in (401, 403)
    assert api_client.get(f"{API}/coverage/").status_code in (401, 403)


# --- people: GDPR erasure --------------------------------------------------------------------------

def test_company_admin_erases_a_person(api_as, company_admin, a):
    response = api_as(company_admin).post(f"{API}/people/{a.person.pk}/erase/")
    assert response.status_code == 200
    body = response.json()
    assert body["is_erased"] is True and body["name"] == "" and body["staff_reference"] == ""
    assert body["record_count"] == 1
    assert TrainingRecord.objects.filter(trainee=a.person).count() == 1


@pytest.mark.parametrize("persona", ["reporter", "viewer", "staff_admin"])
def test_only_the_company_admin_erases(api_as, request, persona, a):
    response = api_as(request.getfixturevalue(persona)).post(
        f"{API}/people/{a.person.pk}/erase/")
    assert response.status_code == 403
    assert Trainee.objects.get(pk=a.person.pk).name == "A Person"


def test_people_list_counts_records(api_as, viewer, a):
    TraineeFactory(signatory=a.signatory)
    rows = api_as(viewer).get(f"{API}/people/").json()["results"]
    assert {r["id"]: r["record_count"] for r in rows}[a.person.pk] == 1
    assert len(rows) == 2


# --- headcounts --------------------------------------------------------------------------------------

def test_reporter_states_and_replaces_a_headcount(api_as, reporter, company_a):
    client = api_as(reporter)
    data = {"signatory": company_a.pk, "year": today().year, "employees": 30,
            "customer_facing_employees": 12}
    assert client.post(f"{API}/headcounts/", data, format="json").status_code == 200
    response = client.post(f"{API}/headcounts/", data | {"employees": 31}, format="json")
    assert response.status_code == 200 and response.json()["employees"] == 31
    assert Headcount.objects.get(signatory=company_a).employees == 31
    listed = client.get(f"{API}/headcounts/", {"year": today().year}).json()["results"]
    assert [h["employees"] for h in listed] == [31]


@pytest.mark.parametrize(("change", "field"), [
    ({"customer_facing_employees": 31}, "customer_facing_employees"),
    ({"employees": -1}, "employees"),
    ({"year": 1990}, "year"),
])
def test_headcount_out_of_bounds_is_a_400(api_as, reporter, company_a, change, field):
    data = {"signatory": company_a.pk, "year": today().year, "employees": 30,
            "customer_facing_employees": 12} | change
    response = api_as(reporter).post(f"{API}/headcounts/", data, format="json")
    assert response.status_code == 400
    assert field in response.json()


def test_viewer_cannot_state_a_headcount(api_as, viewer, company_a):
    response = api_as(viewer).post(f"{API}/headcounts/", {
        "signatory": company_a.pk, "year": today().year, "employees": 3,
        "customer_facing_employees": 1}, format="json")
    assert response.status_code == 403


# --- coverage ------------------------------------------------------------------------------------------

def test_coverage_of_one_signatory_and_year(api_as, viewer, company_a):
    for department in ("Sales", "Sales", "Support"):
        RecordFactory(trainee__signatory=company_a, trainee__department=department,
                      completed_on=date(2023, 3, 1), course=CourseFactory(validity_months=24))
    HeadcountFactory(signatory=company_a, year=2023, employees=6, customer_facing_employees=3)
    response = api_as(viewer).get(f"{API}/coverage/", {"signatory": company_a.pk,
                                                       "year": 2023})
    assert response.status_code == 200
    body = response.json()
    assert body["as_of"] == "2023-12-31"
    assert (body["trained"], body["employees"], body["share"]) == (3, 6, 50.0)
    assert body["customer_facing_share"] == 100.0
    assert {d["department"]: d["people"] for d in body["departments"]} == {"Sales": 2,
                                                                          "Support": 1}
    assert {d["department"]: d["customer_facing_share"] for d in body["departments"]} == {
        "Sales": 100.0, "Support": 100.0}
    same = api_as(viewer).get(f"{API}/coverage/{company_a.pk}/", {"year": 2023}).json()
    assert same == body


def test_coverage_without_headcount_reports_an_unknown_share(api_as, viewer, a):
    Headcount.objects.all().delete()
    body = api_as(viewer).get(f"{API}/coverage/", {"signatory": a.signatory.pk}).json()
    assert body["trained"] == 1 and body["share"] is None and body["employees"] is None


@pytest.mark.parametrize("year", ["1990", "next", "3000"])
def test_coverage_for_a_bad_year_is_a_400(api_as, viewer, company_a, year):
    response = api_as(viewer).get(f"{API}/coverage/", {"signatory": company_a.pk, "year": year})
    assert response.status_code == 400
    assert "year" in response.json()


def test_staff_coverage_list_across_signatories_filtered_by_country_and_type(
        api_as, staff_reviewer, a, b):
    hotel = SignatoryFactory(active=True, country="SE", type="hotel")
    SignatoryFactory(country="SE")  # only applied: not followed yet
    client = api_as(staff_reviewer)
    rows = client.get(f"{API}/coverage/").json()["results"]
    assert {r["signatory"] for r in rows} == {a.signatory.pk, b.signatory.pk, hotel.pk}
    row_a = next(r for r in rows if r["signatory"] == a.signatory.pk)
    assert (row_a["trained"], row_a["employees"], row_a["share"]) == (1, 10, 10.0)
    assert row_a["country"]["code"] == "SE"

    assert {r["signatory"] for r in client.get(
        f"{API}/coverage/", {"country": "SE"}).json()["results"]} == {a.signatory.pk, hotel.pk}
    assert {r["signatory"] for r in client.get(
        f"{API}/coverage/", {"country": "SE", "type": "hotel"}).json()["results"]} == {hotel.pk}


def test_coverage_list_is_scoped_for_local_reps_and_companies(api_as, local_rep_sweden,
                                                              local_rep_other_country, viewer,
                                                              a, b):
    def listed(user):
        return {r["signatory"] for r in api_as(user).get(f"{API}/coverage/").json()["results"]}

    assert listed(local_rep_sweden) == {a.signatory.pk}
    assert listed(local_rep_other_country) == set()
    assert listed(viewer) == {a.signatory.pk}


def test_coverage_of_another_signatory_is_a_404(api_as, outsider, local_rep_other_country, a):
    for user in (outsider, local_rep_other_country):
        assert api_as(user).get(f"{API}/coverage/", {
            "signatory": a.signatory.pk}).status_code == 404
        assert api_as(user).get(f"{API}/coverage/{a.signatory.pk}/").status_code == 404


def test_openapi_schema_documents_the_training_endpoints(api_client):
    schema = api_client.get("/api/schema/", {"format": "json"}).json()
    for path in ("/api/v1/training/courses/", "/api/v1/training/sessions/{id}/attachments/",
                 "/api/v1/training/records/", "/api/v1/training/people/{id}/erase/",
                 "/api/v1/training/headcounts/", "/api/v1/training/coverage/"):
        assert path in schema["paths"], path
