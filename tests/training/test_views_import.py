"""Import pages and the imports API: uploading, following the progress, reading the row errors;
who may do it, and that another company's imports look like missing ones."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook
from playwright.sync_api import expect

from tests.code_portal.test_accessibility import (  # noqa: F401  (fixtures)
    CHROMIUM,
    browser_as,
    chromium,
    serious_violations,
)
from training import services
from training.models import ImportJob, ImportStatus, TrainingRecord

from .completion_files import HEADER, completion_rows, csv_bytes, upload
from .factories import CourseFactory

DAY = timezone.localdate() - timedelta(days=5)


@pytest.fixture
def course(db):
    return CourseFactory(title="Code e-learning")


def _job(signatory, user, **fields) -> ImportJob:
    values = {"original_name": "staff.csv", "status": ImportStatus.PENDING, **fields}
    return ImportJob.objects.create(signatory=signatory, uploaded_by=user, file="x.csv", **values)


def _url(name: str, *args) -> str:
    return reverse(name, args=args)


# --- Upload page ---------------------------------------------------------------------------------

def test_reporter_uploads_a_file_and_sees_what_was_recorded(web_as, reporter, company_a, course,
                                                            django_capture_on_commit_callbacks):
    client = web_as(reporter)
    data = csv_bytes(completion_rows(3, course="Code e-learning", completed_on=DAY))

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(_url("training-imports", company_a.pk),
                               {"file": upload(data, "team.csv")})

    job = ImportJob.objects.get()
    assert response.status_code == 302
    assert response["Location"] == _url("training-import-detail", company_a.pk, job.pk)
    page = client.get(response["Location"]).content.decode()
    assert "Completions recorded" in page and "team.csv" in page
    assert TrainingRecord.objects.filter(signatory=company_a).count() == 3


def test_upload_page_offers_both_templates_the_valid_rows_choice_and_the_courses(
        web_as, reporter, company_a, company_b, course):
    CourseFactory(title="Nordic induction", signatory=company_a)
    CourseFactory(title="Siam secret course", signatory=company_b)

    page = web_as(reporter).get(_url("training-imports", company_a.pk)).content.decode()

    assert _url("training-import-template", company_a.pk, "csv") in page
    assert _url("training-import-template", company_a.pk, "xlsx") in page
    assert "Import the valid rows even if some rows have errors" in page
    assert 'type="file"' in page and 'enctype="multipart/form-data"' in page
    assert "Nordic induction" in page and "Code e-learning" in page
    assert "Siam secret course" not in page


def test_csv_template_has_the_columns_and_imports_once_filled_in(
        web_as, reporter, company_a, course, django_capture_on_commit_callbacks):
    client = web_as(reporter)
    template = client.get(_url("training-import-template", company_a.pk, "csv"))
    assert template["Content-Disposition"].startswith("attachment")
    filled = template.content + f"E1,Ann,Sales,yes,Code e-learning,{DAY}\r\n".encode()

    with django_capture_on_commit_callbacks(execute=True):
        client.post(_url("training-imports", company_a.pk), {"file": upload(filled)})

    assert template.content.decode("utf-8-sig").strip() == ",".join(HEADER)
    assert ImportJob.objects.get().status == ImportStatus.DONE


def test_xlsx_template_lists_the_courses_the_company_can_record(web_as, viewer, company_a,
                                                                company_b, course):
    own = CourseFactory(title="Nordic induction", signatory=company_a)
    CourseFactory(title="Siam secret course", signatory=company_b)

    response = web_as(viewer).get(_url("training-import-template", company_a.pk, "xlsx"))

    workbook = load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    completions, courses = workbook.worksheets
    assert [c.value for c in completions[1]] == HEADER
    listed = {(row[0].value, row[1].value) for row in courses.iter_rows(min_row=2)}
    assert listed == {(course.pk, "Code e-learning"), (own.pk, "Nordic induction")}
    assert completions.data_validations.dataValidation[0].formula1 == '"yes,no"'


@pytest.mark.parametrize(("content", "message"), [
    (csv_bytes([["E1", "Ann", "Sales", "yes", "Code e-learning", "2025-01-01"]],
               header=["ref", "name", "department", "customer_facing", "course", "completed_on"]),
     "missing: staff_reference"),
    (csv_bytes([]), "no completions"),
    (b"staff_reference,name\r\n\x81\x9d\r\n", "UTF-8"),
], ids=["wrong-columns", "header-only", "bad-encoding"])
def test_wrong_file_is_refused_at_upload_with_the_reason(web_as, reporter, company_a, course,
                                                        content, message):
    response = web_as(reporter).post(_url("training-imports", company_a.pk),
                                     {"file": upload(content)})

    assert response.status_code == 200
    assert message in response.context["form"].errors["file"][0]
    assert not ImportJob.objects.exists()


def test_file_over_the_size_limit_is_refused_before_it_is_read(web_as, reporter, company_a):
    huge = csv_bytes([]) + b"E1,Ann,Sales,yes,Code e-learning,2025-01-01\r\n" * 240_000
    assert len(huge) > services.IMPORT_MAX_BYTES

    response = web_as(reporter).post(_url("training-imports", company_a.pk),
                                     {"file": upload(huge)})

    assert "too large" in response.context["form"].errors["file"][0]
    assert not ImportJob.objects.exists()


def test_viewer_and_staff_see_the_imports_but_cannot_upload(web_as, viewer, staff_reviewer,
                                                            company_a, reporter):
    _job(company_a, reporter, status=ImportStatus.DONE)
    for user in (viewer, staff_reviewer):
        client = web_as(user)
        page = client.get(_url("training-imports", company_a.pk))
        assert page.status_code == 200 and "staff.csv" in page.content.decode()
        assert 'type="file"' not in page.content.decode()
        response = client.post(_url("training-imports", company_a.pk),
                               {"file": upload(csv_bytes([]))})
        assert response.status_code == 403


def test_import_list_queries_do_not_grow_with_the_number_of_imports(web_as, reporter, company_a):
    client = web_as(reporter)
    url = _url("training-imports", company_a.pk)
    for _ in range(3):
        _job(company_a, reporter)
    client.get(url)
    with CaptureQueriesContext(connection) as few:
        client.get(url)
    for _ in range(40):  # more than a page
        _job(company_a, reporter, errors=[{"line": 2, "errors": ["x"]}] * 500)

    with CaptureQueriesContext(connection) as many:
        response = client.get(url)

    assert len(response.context["page"].object_list) == 20
    assert len(many) == len(few)
    assert len(many) <= 12


# --- Job page and progress -----------------------------------------------------------------------

def test_running_job_shows_an_accessible_progress_bar_that_polls_every_second(
        web_as, reporter, company_a):
    job = _job(company_a, reporter, status=ImportStatus.RUNNING, total_rows=10_000,
               processed_rows=4_000)

    page = web_as(reporter).get(_url("training-import-detail", company_a.pk, job.pk))

    html = page.content.decode()
    assert '<label for="import-progress-bar">Import progress</label>' in html
    assert '<progress id="import-progress-bar" max="100" value="40"' in html
    assert f'hx-get="{_url("training-import-progress", company_a.pk, job.pk)}"' in html
    assert 'hx-trigger="every 1s"' in html
    assert "4,000 of 10,000 rows" in html


def test_job_still_reading_its_file_shows_an_indeterminate_bar(web_as, reporter, company_a):
    job = _job(company_a, reporter, status=ImportStatus.PENDING)

    html = web_as(reporter).get(_url("training-import-progress", company_a.pk, job.pk)
                                ).content.decode()

    assert '<progress id="import-progress-bar" aria-describedby="progress-text">' in html
    assert 'hx-trigger="every 1s"' in html


def test_finished_job_stops_polling_and_lists_the_errors_by_line(web_as, reporter, company_a):
    job = _job(company_a, reporter, status=ImportStatus.INVALID, total_rows=3, processed_rows=3,
               errors=[{"line": 3, "errors": ["The completion date 2030-01-01 is in the future."]},
                       {"line": 4, "errors": ["Unknown course “X”.", "Give the completion date."]}])

    response = web_as(reporter).get(_url("training-import-progress", company_a.pk, job.pk),
                                    headers={"HX-Request": "true"})

    html = response.content.decode()
    assert "hx-trigger" not in html
    assert response["Cache-Control"] == "no-store"
    assert "Nothing was imported" in html
    assert '<th scope="row">3</th><td>The completion date 2030-01-01 is in the future.</td>' in html
    assert "<li>Give the completion date.</li>" in html
    # the status is announced once, through the live region outside the polled part
    assert 'id="import-announce" hx-swap-oob="innerHTML">Has errors: nothing imported<' in html


def _invalid_job(user, signatory, capture) -> ImportJob:
    """A real upload whose check found one bad row among two good ones: nothing imported."""
    with capture(execute=True):
        job = services.import_create(actor=user, signatory=signatory, upload=upload(csv_bytes(
            [*completion_rows(2, course="Code e-learning", completed_on=DAY),
             ["E9", "Bad", "", "no", "Nope", DAY]])))
    job.refresh_from_db()
    assert job.status == ImportStatus.INVALID
    return job


def test_reporter_imports_the_valid_rows_from_the_page_of_a_file_with_errors(
        web_as, reporter, viewer, company_a, course, django_capture_on_commit_callbacks):
    job = _invalid_job(reporter, company_a, django_capture_on_commit_callbacks)
    action = _url("training-import-valid-rows", company_a.pk, job.pk)
    # (web_as logs the one test client in: the viewer first, then the reporter)
    viewer_page = web_as(viewer).get(_url("training-import-detail", company_a.pk, job.pk))
    assert action not in viewer_page.content.decode()
    assert web_as(viewer).post(action).status_code == 403
    client = web_as(reporter)

    page = client.get(_url("training-import-detail", company_a.pk, job.pk)).content.decode()
    assert f'action="{action}"' in page and "Import the 2 valid rows" in page

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(action)

    assert response.status_code == 302
    assert response["Location"] == _url("training-import-detail", company_a.pk, job.pk)
    job.refresh_from_db()
    assert (job.status, job.created_records) == (ImportStatus.DONE, 2)
    assert TrainingRecord.objects.filter(signatory=company_a).count() == 2
    page = client.get(response["Location"]).content.decode()
    assert "Completions recorded" in page and action not in page
    # a second click does nothing more and says why
    again = client.post(action, follow=True).content.decode()
    assert "can have its valid rows imported" in again
    assert TrainingRecord.objects.count() == 2


@pytest.mark.parametrize("persona", ["outsider", "local_rep_other_country"])
def test_another_company_cannot_import_the_valid_rows(web_as, api_as, request, persona, reporter,
                                                      company_a, course,
                                                      django_capture_on_commit_callbacks):
    job = _invalid_job(reporter, company_a, django_capture_on_commit_callbacks)
    user = request.getfixturevalue(persona)

    page = web_as(user).post(_url("training-import-valid-rows", company_a.pk, job.pk))
    api = api_as(user).post(f"{API}{job.pk}/import-valid-rows/")

    assert (page.status_code, api.status_code) == (404, 404)
    job.refresh_from_db()
    assert job.status == ImportStatus.INVALID and not TrainingRecord.objects.exists()


def test_error_list_downloads_every_error(web_as, reporter, company_a):
    errors = [{"line": n, "errors": [f"problem {n}"]} for n in range(2, 702)]
    job = _job(company_a, reporter, status=ImportStatus.INVALID, errors=errors)
    client = web_as(reporter)

    page = client.get(_url("training-import-detail", company_a.pk, job.pk)).content.decode()
    response = client.get(_url("training-import-errors", company_a.pk, job.pk))

    assert "the first 500 are shown" in page and "problem 501" in page and "problem 502" not in page
    lines = b"".join(response.streaming_content).decode("utf-8-sig").splitlines()
    assert lines[0] == "Line,Errors" and lines[-1] == "701,problem 701" and len(lines) == 701


# --- Isolation ------------------------------------------------------------------------------------

PAGES = [
    lambda a, job: _url("training-imports", a.pk),
    lambda a, job: _url("training-import-template", a.pk, "xlsx"),
    lambda a, job: _url("training-import-detail", a.pk, job.pk),
    lambda a, job: _url("training-import-progress", a.pk, job.pk),
    lambda a, job: _url("training-import-errors", a.pk, job.pk),
]


@pytest.mark.parametrize("page", PAGES, ids=["upload", "template", "job", "progress", "errors"])
@pytest.mark.parametrize("persona", ["outsider", "local_rep_other_country"])
def test_another_companys_import_pages_are_not_found(web_as, request, company_a, reporter, page,
                                                    persona):
    job = _job(company_a, reporter)

    response = web_as(request.getfixturevalue(persona)).get(page(company_a, job))

    assert response.status_code == 404


def test_a_job_of_company_a_under_company_bs_address_is_not_found(web_as, outsider, company_a,
                                                                  company_b, reporter):
    job = _job(company_a, reporter)

    response = web_as(outsider).get(_url("training-import-detail", company_b.pk, job.pk))

    assert response.status_code == 404


def test_outsider_cannot_upload_into_another_company(web_as, outsider, company_a, course):
    response = web_as(outsider).post(_url("training-imports", company_a.pk), {"file": upload(
        csv_bytes(completion_rows(1, course="Code e-learning", completed_on=DAY)))})

    assert response.status_code == 404
    assert not ImportJob.objects.exists()


def test_anonymous_visitor_is_sent_to_log_in(client, company_a):
    response = client.get(_url("training-imports", company_a.pk))

    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


# --- API ------------------------------------------------------------------------------------------

API = "/api/v1/training/imports/"


def test_api_upload_starts_an_import_and_reports_its_outcome(api_as, reporter, company_a, course,
                                                             django_capture_on_commit_callbacks):
    content = csv_bytes(completion_rows(2, course="Code e-learning", completed_on=DAY)
                        + [["E9", "Bad", "", "no", "Nope", DAY]])

    with django_capture_on_commit_callbacks(execute=True):
        response = api_as(reporter).post(API, {"signatory": company_a.pk,
                                               "file": upload(content),
                                               "import_valid_rows": "true"}, format="multipart")

    assert response.status_code == 201
    body = api_as(reporter).get(f"{API}{response.data['id']}/").json()
    assert body["status"] == "done" and body["created_records"] == 2
    assert body["progress_percent"] == 100 and body["uploaded_by"] == reporter.email
    assert body["error_count"] == 1
    assert body["errors"] == [{"line": 4, "errors": [
        "Unknown course “Nope”: write the title or number of a course from the catalogue or "
        "of your own courses."]}]


def test_api_refuses_a_file_with_wrong_columns_with_the_reason(api_as, reporter, company_a):
    response = api_as(reporter).post(API, {"signatory": company_a.pk,
                                           "file": upload(b"a,b\r\n1,2\r\n")}, format="multipart")

    assert response.status_code == 400
    assert "missing: staff_reference" in response.json()["file"][0]


def test_api_viewer_cannot_upload(api_as, viewer, company_a):
    response = api_as(viewer).post(API, {"signatory": company_a.pk, "file": upload(
        csv_bytes(completion_rows(1, course="X", completed_on=DAY)))}, format="multipart")

    assert response.status_code == 403


def test_api_outsider_cannot_upload_for_another_company(api_as, outsider, company_a):
    response = api_as(outsider).post(API, {"signatory": company_a.pk, "file": upload(
        csv_bytes(completion_rows(1, course="X", completed_on=DAY)))}, format="multipart")

    # the same answer as for a company id that does not exist
    assert response.status_code == 400 and "signatory" in response.json()
    assert not ImportJob.objects.exists()


@pytest.mark.parametrize("persona", ["outsider", "local_rep_other_country"])
def test_api_another_companys_import_is_not_found(api_as, request, company_a, reporter, persona):
    job = _job(company_a, reporter, errors=[{"line": 2, "errors": ["x"]}])
    client = api_as(request.getfixturevalue(persona))

    assert client.get(f"{API}{job.pk}/").status_code == 404
    assert client.get(f"{API}{job.pk}/errors/").status_code == 404
    assert client.get(API).json()["results"] == []


def test_api_imports_the_valid_rows_of_a_file_with_errors(api_as, reporter, viewer, company_a,
                                                          course,
                                                          django_capture_on_commit_callbacks):
    job = _invalid_job(reporter, company_a, django_capture_on_commit_callbacks)
    url = f"{API}{job.pk}/import-valid-rows/"

    assert api_as(viewer).post(url).status_code == 403
    with django_capture_on_commit_callbacks(execute=True):
        response = api_as(reporter).post(url)

    assert response.status_code == 200
    body = api_as(reporter).get(f"{API}{job.pk}/").json()
    assert (body["status"], body["import_valid_rows"], body["created_records"]) == (
        "done", True, 2)
    assert [e["line"] for e in body["errors"]] == [4]
    assert api_as(reporter).post(url).status_code == 409  # finished: not run again


def test_api_errors_are_paginated_in_line_order(api_as, reporter, company_a):
    job = _job(company_a, reporter, status=ImportStatus.INVALID,
               errors=[{"line": n, "errors": ["bad"]} for n in range(2, 252)])
    client = api_as(reporter)

    detail = client.get(f"{API}{job.pk}/").json()
    page = client.get(f"{API}{job.pk}/errors/?page=3").json()

    assert detail["error_count"] == 250 and len(detail["errors"]) == 100
    assert page["count"] == 250 and [e["line"] for e in page["results"]] == list(range(202, 252))


def test_api_import_list_is_filtered_and_its_queries_do_not_grow(api_as, staff_reviewer,
                                                                 company_a, company_b, reporter,
                                                                 outsider):
    client = api_as(staff_reviewer)
    for _ in range(3):
        _job(company_a, reporter)
    with CaptureQueriesContext(connection) as few:
        client.get(API)
    for _ in range(30):
        _job(company_b, outsider, status=ImportStatus.DONE,
             errors=[{"line": 2, "errors": ["x"]}] * 300)

    with CaptureQueriesContext(connection) as many:
        everything = client.get(API).json()
    only_a = client.get(f"{API}?signatory={company_a.pk}").json()
    done = client.get(f"{API}?status=done").json()

    assert everything["count"] == 33 and "errors" not in everything["results"][0]
    assert len(many) == len(few)
    assert only_a["count"] == 3 and done["count"] == 30


# --- In the browser -------------------------------------------------------------------------------

def in_browser(test):
    """A test that drives the system Chromium against the live server."""
    for mark in (pytest.mark.skipif(not CHROMIUM.exists(),
                                    reason="needs the system Chromium (apt-get install chromium)"),
                 pytest.mark.django_db(transaction=True, serialized_rollback=True),
                 pytest.mark.browser):
        test = mark(test)
    return test


@in_browser
def test_progress_bar_follows_the_job_and_stops_when_it_is_done(browser_as, reporter,  # noqa: F811
                                                                 company_a):
    job = _job(company_a, reporter, status=ImportStatus.RUNNING, total_rows=10,
               processed_rows=4)
    page = browser_as(reporter)
    page.goto(_url("training-import-detail", company_a.pk, job.pk))
    bar = page.get_by_label("Import progress")
    assert bar.get_attribute("value") == "40"

    ImportJob.objects.filter(pk=job.pk).update(processed_rows=8)
    expect(bar).to_have_attribute("value", "80")  # the next poll, within a second or two
    ImportJob.objects.filter(pk=job.pk).update(status=ImportStatus.DONE, processed_rows=10,
                                               created_records=10, finished_at=timezone.now())
    expect(page.get_by_text("Completions recorded")).to_be_visible()

    assert page.locator("#import-progress[hx-trigger]").count() == 0  # polling has stopped
    assert page.locator("#import-announce").inner_text() == "Imported"
    assert not serious_violations(page)


@in_browser
def test_upload_page_and_a_job_with_errors_have_no_serious_accessibility_violations(
        browser_as, reporter, company_a, course):  # noqa: F811
    job = _job(company_a, reporter, status=ImportStatus.INVALID, total_rows=3, processed_rows=3,
               errors=[{"line": 2, "errors": ["Unknown course “X”.", "Give the date."]},
                       {"line": 3, "errors": ["The completion date 2030-01-01 is in the future."]}])
    page = browser_as(reporter)

    page.goto(_url("training-imports", company_a.pk))
    page.get_by_role("button", name="Upload and import").click()  # no file: the form's error
    assert page.locator(".field.has-error").count() == 1
    upload_problems = serious_violations(page)
    page.goto(_url("training-import-detail", company_a.pk, job.pk))
    job_problems = serious_violations(page)

    assert not upload_problems, "\n".join(upload_problems)
    assert not job_problems, "\n".join(job_problems)
