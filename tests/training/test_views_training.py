"""Training pages: what each role sees and can do, forms that keep input, downloads."""

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
    TrainingData,
)
from training import services
from training.models import (
    Course,
    Headcount,
    SessionAttachment,
    Trainee,
    TrainingRecord,
    TrainingSession,
)

pytestmark = pytest.mark.django_db

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def today():
    return timezone.localdate()


def base(company):
    return f"/company/{company.pk}/training/"


@pytest.fixture
def a(company_a):
    return TrainingData(company_a, prefix="A")


# --- overview ---------------------------------------------------------------------------------

def test_training_home_shows_coverage_departments_and_refreshers(web_as, viewer, company_a):
    yearly = CourseFactory(title="Code e-learning", validity_months=12)
    RecordFactory(trainee__signatory=company_a, trainee__department="Guides",
                  trainee__name="Due Soon", course=yearly,
                  completed_on=today() - timedelta(days=340))
    RecordFactory(trainee__signatory=company_a, trainee__department="Sales",
                  trainee__is_customer_facing=False, course=yearly,
                  completed_on=today() - timedelta(days=10))
    HeadcountFactory(signatory=company_a, year=today().year, employees=8,
                     customer_facing_employees=1)

    page = web_as(viewer).get(base(company_a))
    assert page.status_code == 200
    html = page.content.decode()
    assert "25.0 %" in html          # 2 of 8 employees
    assert "100.0 %" in html         # 1 of 1 customer-facing
    assert "Guides" in html and "Sales" in html
    assert "Customer-facing share" in html  # per department too
    assert [d.customer_facing_share for d in page.context["coverage"].departments] == [100.0, None]
    assert "Due Soon" in html        # refresher within 90 days
    assert page.context["coverage"].refreshers_due == 1
    assert "<caption>" in html
    assert 'name="employees"' not in html  # viewers do not get the headcount form


def test_training_home_without_headcount_says_the_share_is_unknown(web_as, reporter, company_a):
    html = web_as(reporter).get(base(company_a)).content.decode()
    assert "unknown" in html
    assert "No headcount has been stated" in html
    assert 'name="employees"' in html


def test_past_year_is_measured_on_31_december(web_as, viewer, company_a):
    page = web_as(viewer).get(base(company_a), {"year": today().year - 1})
    assert page.context["coverage"].as_of == date(today().year - 1, 12, 31)
    assert web_as(viewer).get(base(company_a), {"year": "abc"}).context["year"] == today().year


def test_reporter_states_the_headcount(web_as, reporter, company_a):
    response = web_as(reporter).post(base(company_a), {
        "year": today().year, "employees": 20, "customer_facing_employees": 5})
    assert response.status_code == 302
    stated = Headcount.objects.get(signatory=company_a)
    assert (stated.employees, stated.customer_facing_employees) == (20, 5)


def test_headcount_error_is_shown_on_the_field_and_keeps_the_input(web_as, reporter, company_a):
    response = web_as(reporter).post(base(company_a), {
        "year": today().year, "employees": 20, "customer_facing_employees": 25})
    assert response.status_code == 200
    form = response.context["headcount_form"]
    assert "cannot outnumber" in form.errors["customer_facing_employees"][0]
    html = response.content.decode()
    assert 'value="25"' in html and 'value="20"' in html
    assert not Headcount.objects.exists()


def test_viewer_cannot_post_a_headcount(web_as, viewer, company_a):
    response = web_as(viewer).post(base(company_a), {
        "year": today().year, "employees": 20, "customer_facing_employees": 5})
    assert response.status_code == 403
    assert not Headcount.objects.exists()


def test_dashboard_card_links_to_the_training_log_with_coverage(web_as, viewer, company_a, a):
    html = web_as(viewer).get(f"/company/{company_a.pk}/").content.decode()
    assert f'href="{base(company_a)}"' in html
    assert "10.0 %" in html  # 1 trained of the headcount of 10


# --- records ----------------------------------------------------------------------------------

def test_records_list_filters_and_paginates(web_as, viewer, company_a):
    course = CourseFactory(validity_months=12)
    for n in range(30):
        RecordFactory(trainee__signatory=company_a, trainee__department="Sales", course=course,
                      completed_on=today() - timedelta(days=n))
    RecordFactory(trainee__signatory=company_a, trainee__department="Finance",
                  trainee__name="Old Timer", course=course,
                  completed_on=today() - timedelta(days=500))
    client = web_as(viewer)
    page = client.get(f"{base(company_a)}records/")
    assert page.context["page"].paginator.count == 31
    assert len(page.context["page"].object_list) == 25
    second = client.get(f"{base(company_a)}records/", {"state": "expired", "page": 1})
    assert [r.trainee.name for r in second.context["page"]] == ["Old Timer"]
    assert client.get(f"{base(company_a)}records/", {
        "department": "finance"}).context["page"].paginator.count == 1
    html = client.get(f"{base(company_a)}records/", {"department": "Sales"}).content.decode()
    assert "department=Sales&amp;page=2" in html  # pagination keeps the filters


def test_reporter_adds_a_completion(web_as, reporter, company_a):
    course = CourseFactory(validity_months=24)
    response = web_as(reporter).post(f"{base(company_a)}records/add/", {
        "course": course.pk, "completed_on": "2024-02-29", "staff_reference": "EMP-7",
        "name": "Lena Holm", "department": "Guides", "is_customer_facing": "yes"})
    assert response.status_code == 302
    created = TrainingRecord.objects.get()
    assert created.expires_on == date(2026, 2, 28)
    assert created.trainee.is_customer_facing


def test_adding_a_completion_keeps_the_customer_facing_flag_as_recorded(web_as, reporter,
                                                                        company_a):
    bjorn = Trainee.objects.create(signatory=company_a, staff_reference="E002", name="Björn Ek",
                                   is_customer_facing=True)
    course = CourseFactory()
    form_page = web_as(reporter).get(f"{base(company_a)}records/add/")
    assert form_page.context["form"]["is_customer_facing"].value() in ("", None)
    response = web_as(reporter).post(f"{base(company_a)}records/add/", {
        "course": course.pk, "completed_on": "2024-02-29", "staff_reference": "E002"})
    assert response.status_code == 302
    bjorn.refresh_from_db()
    assert bjorn.is_customer_facing  # "as recorded" (the default) does not change it
    web_as(reporter).post(f"{base(company_a)}records/add/", {
        "course": CourseFactory().pk, "completed_on": "2024-02-29", "staff_reference": "E002",
        "is_customer_facing": "no"})
    bjorn.refresh_from_db()
    assert not bjorn.is_customer_facing  # said explicitly


def test_adding_a_completion_by_name_finds_the_person_with_a_reference(web_as, reporter,
                                                                        company_a):
    bjorn = Trainee.objects.create(signatory=company_a, staff_reference="E002", name="Björn Ek",
                                   is_customer_facing=True)
    response = web_as(reporter).post(f"{base(company_a)}records/add/", {
        "course": CourseFactory().pk, "completed_on": "2024-02-29", "name": "björn ek"})
    assert response.status_code == 302
    assert Trainee.objects.filter(signatory=company_a).count() == 1
    assert TrainingRecord.objects.get().trainee == bjorn
    Trainee.objects.create(signatory=company_a, staff_reference="E107", name="Björn Ek")
    response = web_as(reporter).post(f"{base(company_a)}records/add/", {
        "course": CourseFactory().pk, "completed_on": "2024-02-29", "name": "Björn Ek"})
    assert response.status_code == 200
    assert "staff reference" in response.context["form"].errors["staff_reference"][0]
    assert TrainingRecord.objects.count() == 1


def test_training_sub_menu_marks_the_current_section(web_as, reporter, company_a):
    html = web_as(reporter).get(f"{base(company_a)}records/").content.decode()
    nav = html[html.index('training-nav"'):]
    nav = nav[:nav.index("</nav>")]
    assert "<ul" not in nav and "<li" not in nav  # no list bullets beside the links
    assert nav.count('aria-current="page"') == 1
    assert f'href="{base(company_a)}records/" aria-current="page"' in nav
    assert 'style="' not in nav  # the CSP forbids inline styles


def test_future_completion_error_is_on_the_field_and_input_is_kept(web_as, reporter, company_a):
    course = CourseFactory()
    future = (today() + timedelta(days=5)).isoformat()
    response = web_as(reporter).post(f"{base(company_a)}records/add/", {
        "course": course.pk, "completed_on": future, "name": "Lena Holm",
        "department": "Guides"})
    assert response.status_code == 200
    form = response.context["form"]
    assert "future" in form.errors["completed_on"][0]
    html = response.content.decode()
    assert 'value="Lena Holm"' in html and f'value="{future}"' in html
    assert not TrainingRecord.objects.exists()


def test_duplicate_completion_is_reported_on_the_form(web_as, reporter, a):
    response = web_as(reporter).post(f"{base(a.signatory)}records/add/", {
        "course": a.course.pk, "completed_on": a.record.completed_on.isoformat(),
        "staff_reference": a.person.staff_reference})
    assert response.status_code == 200
    assert "already recorded" in str(response.context["form"].non_field_errors())


def test_add_form_offers_catalogue_and_own_courses_only(web_as, reporter, company_a, company_b):
    catalogue, own = CourseFactory(), CourseFactory(signatory=company_a)
    theirs = CourseFactory(signatory=company_b)
    form = web_as(reporter).get(f"{base(company_a)}records/add/").context["form"]
    offered = set(form.fields["course"].queryset)
    assert {catalogue, own} <= offered and theirs not in offered
    response = web_as(reporter).post(f"{base(company_a)}records/add/", {
        "course": theirs.pk, "completed_on": "2024-01-01", "name": "X"})
    assert "course" in response.context["form"].errors


def test_viewer_cannot_open_the_add_form(web_as, viewer, company_a):
    assert web_as(viewer).get(f"{base(company_a)}records/add/").status_code == 403


def test_reporter_deletes_a_completion_after_confirming(web_as, reporter, a):
    url = f"{base(a.signatory)}records/{a.record.pk}/delete/"
    client = web_as(reporter)
    assert client.get(url).status_code == 200
    assert client.post(url, {"reason": "wrong person"}).status_code == 302
    assert not TrainingRecord.objects.exists()
    assert AuditEvent.objects.get(action="training_record.deleted").reason == "wrong person"


def test_completion_is_deleted_without_a_reason_too(web_as, reporter, a):
    response = web_as(reporter).post(f"{base(a.signatory)}records/{a.record.pk}/delete/")
    assert response.status_code == 302
    assert not TrainingRecord.objects.exists()


# --- people -----------------------------------------------------------------------------------

def test_person_page_lists_completions_and_offers_erasure_to_the_admin_only(web_as, company_admin,
                                                                            reporter, a):
    url = f"{base(a.signatory)}people/{a.person.pk}/"
    html = web_as(company_admin).get(url).content.decode()
    assert a.course.title in html and "Erase this person" in html
    html = web_as(reporter).get(url).content.decode()
    assert a.course.title in html and "Erase this person" not in html
    assert web_as(reporter).get(f"{url}erase/").status_code == 403
    assert web_as(reporter).post(f"{url}erase/", {"confirm": "on"}).status_code == 403
    assert Trainee.objects.get(pk=a.person.pk).erased_at is None


def test_erasure_needs_confirmation(web_as, company_admin, a):
    url = f"{base(a.signatory)}people/{a.person.pk}/erase/"
    response = web_as(company_admin).post(url, {})
    assert response.status_code == 200 and "confirm" in response.context["form"].errors
    assert Trainee.objects.get(pk=a.person.pk).erased_at is None

    response = web_as(company_admin).post(url, {"confirm": "on"})
    assert response.status_code == 302
    person = Trainee.objects.get(pk=a.person.pk)
    assert person.erased_at is not None and person.name == ""
    html = web_as(company_admin).get(response.url).content.decode()
    assert "A Person" not in html and "erased" in html
    assert TrainingRecord.objects.filter(trainee=person).count() == 1


# --- sessions and attachments -----------------------------------------------------------------

def test_reporter_records_a_session_and_uploads_an_attendance_sheet(web_as, reporter, viewer,
                                                                    company_a):
    course = CourseFactory()
    client = web_as(reporter)
    response = client.post(f"{base(company_a)}sessions/add/", {
        "course": course.pk, "starts_on": today().isoformat(), "location": "Malmö",
        "trainer": "Eva"})
    assert response.status_code == 302
    session = TrainingSession.objects.get()
    assert session.created_by == reporter

    detail = f"{base(company_a)}sessions/{session.pk}/"
    response = client.post(detail, {"file": SimpleUploadedFile("sheet.png", PNG)})
    assert response.status_code == 302
    attachment = SessionAttachment.objects.get()

    download = web_as(viewer).get(f"{detail}files/{attachment.pk}/")
    assert download.status_code == 200
    assert download["Content-Disposition"].startswith("attachment;")
    assert b"".join(download.streaming_content) == PNG
    html = web_as(viewer).get(detail).content.decode()
    assert "sheet.png" in html and 'enctype="multipart/form-data"' not in html


def test_bad_upload_is_reported_on_the_file_field(web_as, reporter, a):
    response = web_as(reporter).post(f"{base(a.signatory)}sessions/{a.session.pk}/", {
        "file": SimpleUploadedFile("sheet.pdf", b"just text, not a PDF at all")})
    assert response.status_code == 200
    assert response.context["form"].errors["file"]
    assert not SessionAttachment.objects.exists()


def test_session_errors_keep_the_input(web_as, reporter, company_a):
    course = CourseFactory()
    response = web_as(reporter).post(f"{base(company_a)}sessions/add/", {
        "course": course.pk, "starts_on": today().isoformat(),
        "ends_on": (today() - timedelta(days=2)).isoformat(), "trainer": "Eva Lind"})
    assert response.status_code == 200
    assert response.context["form"].errors["ends_on"]
    assert 'value="Eva Lind"' in response.content.decode()


def test_editing_a_session_is_audited_with_the_change(web_as, reporter, a):
    url = f"{base(a.signatory)}sessions/{a.session.pk}/edit/"
    response = web_as(reporter).post(url, {
        "course": a.course.pk, "starts_on": a.session.starts_on.isoformat(),
        "location": "Uppsala", "trainer": a.session.trainer})
    assert response.status_code == 302
    event = AuditEvent.objects.get(action="training_session.updated")
    assert event.changes == {"location": {"from": "Stockholm office", "to": "Uppsala"}}


def test_reporter_deletes_a_session_and_removes_a_file(web_as, reporter, a):
    attachment = services.attachment_add(actor=reporter, session=a.session,
                                         upload=SimpleUploadedFile("a.png", PNG))
    client = web_as(reporter)
    url = f"{base(a.signatory)}sessions/{a.session.pk}/files/{attachment.pk}/delete/"
    assert client.post(url).status_code == 302
    assert not SessionAttachment.objects.exists()
    url = f"{base(a.signatory)}sessions/{a.session.pk}/delete/"
    assert client.get(url).status_code == 200
    assert client.post(url).status_code == 302
    assert not TrainingSession.objects.exists()


def test_viewer_cannot_change_sessions(web_as, viewer, reporter, a):
    attachment = services.attachment_add(actor=reporter, session=a.session,
                                         upload=SimpleUploadedFile("a.png", PNG))
    client = web_as(viewer)
    session_url = f"{base(a.signatory)}sessions/{a.session.pk}/"
    assert client.get(f"{base(a.signatory)}sessions/add/").status_code == 403
    assert client.get(f"{session_url}edit/").status_code == 403
    assert client.post(f"{session_url}delete/").status_code == 403
    assert client.post(session_url, {"file": SimpleUploadedFile("b.png", PNG)}).status_code == 403
    assert client.post(f"{session_url}files/{attachment.pk}/delete/").status_code == 403
    assert SessionAttachment.objects.count() == 1 and TrainingSession.objects.count() == 1


# --- courses ----------------------------------------------------------------------------------

def test_course_page_separates_own_courses_from_the_read_only_catalogue(web_as, reporter, a):
    catalogue = CourseFactory(title="The Code e-learning")
    page = web_as(reporter).get(f"{base(a.signatory)}courses/")
    assert page.context["own"] == [a.course] and page.context["catalogue"] == [catalogue]
    html = page.content.decode()
    assert f"courses/{a.course.pk}/edit/" in html
    assert f"courses/{catalogue.pk}/edit/" not in html


def test_reporter_adds_edits_and_deletes_an_own_course(web_as, reporter, company_a):
    client = web_as(reporter)
    data = {"title": "Induction", "provider": "HR", "delivery_mode": "classroom",
            "language": "sv", "duration_hours": "1.5", "covers_prevention": "on",
            "validity_months": "12", "is_active": "on"}
    assert client.post(f"{base(company_a)}courses/add/", data).status_code == 302
    course = Course.objects.get(signatory=company_a)
    assert course.covers_prevention and not course.covers_reporting
    response = client.post(f"{base(company_a)}courses/{course.pk}/edit/",
                           data | {"title": "Induction 2025"})
    assert response.status_code == 302
    assert Course.objects.get(pk=course.pk).title == "Induction 2025"
    assert client.post(f"{base(company_a)}courses/{course.pk}/delete/").status_code == 302
    assert not Course.objects.filter(pk=course.pk).exists()


def test_course_with_zero_hours_is_refused_on_the_field(web_as, reporter, company_a):
    response = web_as(reporter).post(f"{base(company_a)}courses/add/", {
        "title": "Induction", "provider": "HR", "delivery_mode": "classroom", "language": "sv",
        "duration_hours": "0", "is_active": "on"})
    assert response.status_code == 200
    assert response.context["form"].errors
    assert not Course.objects.exists()


def test_catalogue_courses_cannot_be_edited_from_a_company(web_as, company_admin, company_a):
    catalogue = CourseFactory()
    client = web_as(company_admin)
    assert client.get(f"{base(company_a)}courses/{catalogue.pk}/edit/").status_code == 403
    assert client.post(f"{base(company_a)}courses/{catalogue.pk}/delete/").status_code == 403
    assert Course.objects.filter(pk=catalogue.pk).exists()


def test_deleting_a_course_in_use_shows_why(web_as, reporter, a):
    response = web_as(reporter).post(f"{base(a.signatory)}courses/{a.course.pk}/delete/",
                                     follow=True)
    assert "cannot be deleted" in response.content.decode()
    assert Course.objects.filter(pk=a.course.pk).exists()


# --- Code staff ---------------------------------------------------------------------------------

def test_staff_coverage_list_filters_by_country_and_type(web_as, staff_reviewer, a, company_b):
    hotel = SignatoryFactory(active=True, country="SE", type="hotel", legal_name="Hotel Nord")
    client = web_as(staff_reviewer)
    page = client.get("/staff/training/")
    assert page.status_code == 200
    assert {row.pk for row in page.context["rows"]} == {a.signatory.pk, company_b.pk, hotel.pk}
    row_a = next(r for r in page.context["rows"] if r.pk == a.signatory.pk)
    assert row_a.share == 10.0
    page = client.get("/staff/training/", {"country": "SE", "type": "hotel"})
    assert [row.pk for row in page.context["rows"]] == [hotel.pk]
    assert "Hotel Nord" in page.content.decode()


def test_local_rep_sees_only_their_countries_in_the_staff_coverage(web_as, local_rep_sweden,
                                                                   local_rep_other_country, a,
                                                                   company_b):
    rows = web_as(local_rep_sweden).get("/staff/training/").context["rows"]
    assert [r.pk for r in rows] == [a.signatory.pk]
    assert web_as(local_rep_other_country).get("/staff/training/").context["rows"] == []
    assert web_as(local_rep_other_country).get(
        f"/staff/training/{a.signatory.pk}/").status_code == 404


def test_staff_open_a_companys_training_detail_read_only(web_as, staff_reviewer, a):
    client = web_as(staff_reviewer)
    page = client.get(f"/staff/training/{a.signatory.pk}/")
    assert page.status_code == 200
    assert page.context["coverage"].trained == 1
    assert 'name="employees"' not in page.content.decode()
    assert client.get(f"{base(a.signatory)}records/").status_code == 200
    assert client.get(f"{base(a.signatory)}records/add/").status_code == 403


def test_company_users_do_not_get_the_staff_pages(web_as, company_admin, a):
    assert web_as(company_admin).get("/staff/training/").status_code == 404
    assert web_as(company_admin).get(f"/staff/training/{a.signatory.pk}/").status_code == 404


def test_staff_nav_links_to_training_coverage(web_as, staff_reviewer):
    html = web_as(staff_reviewer).get("/staff/training/").content.decode()
    assert 'href="/staff/training/"' in html


def test_anonymous_is_sent_to_login(client, a):
    response = client.get(base(a.signatory))
    assert response.status_code == 302 and "login" in response.url


# --- admin ---------------------------------------------------------------------------------------

def test_staff_edit_catalogue_courses_in_the_admin_through_the_service(client, staff_admin, a):
    client.force_login(staff_admin)
    response = client.post("/admin/training/course/add/", {
        "title": "Code e-learning", "provider": "The Code", "delivery_mode": "elearning",
        "language": "en", "duration_hours": "2", "validity_months": "24", "is_active": "on"})
    assert response.status_code == 302, response.content.decode()[:2000]
    course = Course.objects.get(title="Code e-learning")
    assert course.is_catalogue
    assert AuditEvent.objects.filter(action="course.created", object_id=str(course.pk)).exists()
    # a company's own course is read-only here
    assert client.post(f"/admin/training/course/{a.course.pk}/change/", {
        "title": "x", "provider": "x", "delivery_mode": "elearning", "language": "en",
        "duration_hours": "2"}).status_code == 403
    assert client.get("/admin/training/trainingrecord/").status_code == 200
    assert client.get("/admin/training/trainingrecord/add/").status_code == 403


def test_pages_link_to_the_exports_and_the_import(web_as, reporter, viewer, staff_reviewer,
                                                  company_a):
    root = base(company_a)
    html = web_as(reporter).get(root, {"year": today().year - 1}).content.decode()
    assert f"{root}export/coverage.csv?year={today().year - 1}" in html
    assert f'href="{root}import/"' in html
    assert f'href="{root}import/"' not in web_as(viewer).get(root).content.decode()
    assert f"{root}export/records.xlsx" in web_as(viewer).get(f"{root}records/").content.decode()
    # the staff list exports through the staff export control, with the list's filters
    html = web_as(staff_reviewer).get("/staff/training/", {"country": "SE"}).content.decode()
    assert 'name="kind" value="training_coverage"' in html
    assert 'name="query" value="country=SE"' in html


def test_attachment_missing_from_storage_is_a_404_and_never_cached(web_as, reporter, a):
    # Regression: the training download had its own FileResponse without the missing-file check
    # (a 500) or the private cache header; it now uses the shared private_file_response.
    attachment = services.attachment_add(actor=reporter, session=a.session,
                                         upload=SimpleUploadedFile("a.png", PNG))
    url = f"{base(a.signatory)}sessions/{a.session.pk}/files/{attachment.pk}/"
    client = web_as(reporter)
    response = client.get(url)
    assert response["Cache-Control"] == "private, no-store"
    # Consume the stream through the test client (which closes it without firing
    # request_finished); calling response.close() directly would close the DB connection.
    assert b"".join(response.streaming_content) == PNG
    attachment.file.storage.delete(attachment.file.name)
    assert client.get(url).status_code == 404
