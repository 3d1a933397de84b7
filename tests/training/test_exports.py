"""Training downloads (CSV and XLSX): a company's completions and coverage, and coverage across
signatories for Code staff; pages and API, isolation, and queries that do not grow with rows."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from code_portal.models import AuditEvent
from signatories.models import SignatoryStatus, SignatoryType
from tests.factories import SignatoryFactory
from training.coverage import as_of_for_year
from training.selectors import coverage_list_for
from training.services import trainee_erase

from .factories import CourseFactory, HeadcountFactory, RecordFactory, TraineeFactory

TODAY = timezone.localdate()


def _content(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def _csv(response) -> list[list[str]]:
    text = _content(response).decode("utf-8")
    assert text.startswith("\ufeff")  # so that Excel reads UTF-8
    return list(csv.reader(io.StringIO(text[1:])))


def _xlsx(response) -> list[list]:
    sheet = load_workbook(io.BytesIO(_content(response))).worksheets[0]
    return [[cell.value for cell in row] for row in sheet.iter_rows()]


def _records(signatory, fmt="csv"):
    return reverse("training-export", args=[signatory.pk, "records", fmt])


def _coverage(signatory, fmt="csv"):
    return reverse("training-export", args=[signatory.pk, "coverage", fmt])


@pytest.fixture
def course(db):
    return CourseFactory(title="Code e-learning", validity_months=12)


# --- A company's completions ---------------------------------------------------------------------

def test_records_csv_lists_every_completion_with_its_state(web_as, viewer, company_a, course):
    ann = TraineeFactory(signatory=company_a, staff_reference="E1", name="Åsa Öberg",
                         department="Front desk", is_customer_facing=True)
    RecordFactory(trainee=ann, course=course, completed_on=TODAY - timedelta(days=30))
    RecordFactory(trainee=ann, course=course, completed_on=TODAY - timedelta(days=400))

    response = web_as(viewer).get(_records(company_a))

    rows = _csv(response)
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert 'attachment; filename="training-records-nordic-tours-ab-' in (
        response["Content-Disposition"])
    assert rows[0] == ["Staff reference", "Name", "Department / role", "Customer-facing",
                       "Course", "Course number", "Completed on", "Expires on", "Valid today"]
    recent, old = rows[1:]
    assert recent[:6] == ["E1", "Åsa Öberg", "Front desk", "yes", "Code e-learning",
                          str(course.pk)]
    assert recent[8] == "yes" and old[8] == "no"
    assert old[6] == (TODAY - timedelta(days=400)).isoformat()


def test_records_export_keeps_erased_people_without_their_data(web_as, company_admin, company_a,
                                                              course):
    person = TraineeFactory(signatory=company_a, staff_reference="E7", name="Gone Person")
    RecordFactory(trainee=person, course=course)
    trainee_erase(actor=company_admin, trainee=person)

    rows = _csv(web_as(company_admin).get(_records(company_a)))

    assert rows[1][:2] == ["", "(erased)"]
    assert "Gone Person" not in str(rows)


def test_text_that_a_spreadsheet_would_run_as_a_formula_is_neutralised(web_as, viewer, company_a,
                                                                       course):
    person = TraineeFactory(signatory=company_a, name='=HYPERLINK("http://evil","x")',
                            department="+sales", staff_reference="@ref")
    RecordFactory(trainee=person, course=course)

    csv_row = _csv(web_as(viewer).get(_records(company_a)))[1]
    xlsx_book = load_workbook(io.BytesIO(_content(web_as(viewer).get(_records(company_a,
                                                                              "xlsx")))))

    assert csv_row[:3] == ["'@ref", "'=HYPERLINK(\"http://evil\",\"x\")", "'+sales"]
    cell = xlsx_book.worksheets[0]["B2"]
    assert cell.value == '=HYPERLINK("http://evil","x")' and cell.data_type == "s"


def test_records_xlsx_has_real_dates_and_a_header(web_as, viewer, company_a, course):
    RecordFactory(trainee=TraineeFactory(signatory=company_a, staff_reference="E1"),
                  course=course, completed_on=date(2025, 1, 31))

    response = web_as(viewer).get(_records(company_a, "xlsx"))

    rows = _xlsx(response)
    assert response["Content-Type"].startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    assert rows[0][0] == "Staff reference"
    assert rows[1][6].date() == date(2025, 1, 31) and rows[1][7].date() == date(2026, 1, 31)


def test_downloading_completions_is_written_to_the_audit_trail(web_as, viewer, company_a):
    _content(web_as(viewer).get(_records(company_a, "xlsx")))

    event = AuditEvent.objects.get(action="training_records.exported")
    assert (event.actor, event.signatory, event.changes) == (
        viewer, company_a, {"format": {"to": "xlsx"}})


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_records_export_queries_do_not_grow_with_records(web_as, viewer, company_a, course, fmt):
    client = web_as(viewer)
    RecordFactory.create_batch(3, trainee__signatory=company_a, course=course)
    _content(client.get(_records(company_a, fmt)))
    with CaptureQueriesContext(connection) as few:
        _content(client.get(_records(company_a, fmt)))
    RecordFactory.create_batch(60, trainee__signatory=company_a,
                               course=CourseFactory(signatory=company_a))

    with CaptureQueriesContext(connection) as many:
        rows = _content(client.get(_records(company_a, fmt)))

    assert len(many) == len(few) <= 10
    assert rows


# --- A company's coverage -------------------------------------------------------------------------

def test_coverage_export_gives_the_overall_share_and_each_department(web_as, viewer, company_a,
                                                                     course):
    HeadcountFactory(signatory=company_a, employees=10, customer_facing_employees=4)
    for department, facing in [("Sales", True), ("Sales", False), ("Finance", False)]:
        RecordFactory(trainee=TraineeFactory(signatory=company_a, department=department,
                                             is_customer_facing=facing), course=course)
    TraineeFactory(signatory=company_a, department="Finance")  # on record, not trained

    rows = _csv(web_as(viewer).get(_coverage(company_a)))

    assert rows[0][2:6] == ["Department / role", "Employees / people on record", "Trained",
                            "Coverage (%)"]
    overall, finance, sales = rows[1:]
    assert overall[2:] == ["All employees (stated headcount)", "10", "3", "30.0", "4", "1",
                           "25.0", "0"]
    assert finance[2:6] == ["Finance", "2", "1", "50.0"]
    assert sales[2:9] == ["Sales", "2", "2", "100.0", "1", "1", "100.0"]


def test_coverage_of_a_past_year_is_measured_on_31_december(web_as, viewer, company_a, course):
    last_year = TODAY.year - 1
    RecordFactory(trainee=TraineeFactory(signatory=company_a), course=course,
                  completed_on=date(last_year, 3, 1))

    rows = _xlsx(web_as(viewer).get(_coverage(company_a, "xlsx") + f"?year={last_year}"))

    assert rows[1][1].date() == date(last_year, 12, 31)
    assert rows[1][4] == 1


# --- Across signatories (Code staff) --------------------------------------------------------------

STAFF_EXPORT = "staff-training-export"


def _signatory_with_coverage(country: str, kind: str, trained: int, employees: int, name: str):
    signatory = SignatoryFactory(legal_name=name, country=country, type=kind, active=True,
                                 status=SignatoryStatus.ACTIVE)
    HeadcountFactory(signatory=signatory, employees=employees, customer_facing_employees=0)
    course = CourseFactory()
    for _ in range(trained):
        RecordFactory(trainee=TraineeFactory(signatory=signatory, is_customer_facing=False),
                      course=course)
    return signatory


def test_staff_export_gives_coverage_per_signatory_filtered_by_country_and_type(
        web_as, staff_reviewer):
    _signatory_with_coverage("SE", SignatoryType.TOUR_OPERATOR, 2, 8, "Alpha Tours")
    _signatory_with_coverage("SE", SignatoryType.HOTEL, 1, 1, "Beta Hotel")
    _signatory_with_coverage("TH", SignatoryType.TOUR_OPERATOR, 3, 3, "Gamma Tours")
    url = reverse(STAFF_EXPORT, args=["csv"])
    client = web_as(staff_reviewer)

    everything = _csv(client.get(url))
    swedish_operators = _csv(client.get(url + "?country=SE&type=tour_operator"))

    assert [r[1] for r in everything[1:]] == ["Alpha Tours", "Beta Hotel", "Gamma Tours"]
    assert everything[0][5:8] == ["Employees", "Trained", "Coverage (%)"]
    assert swedish_operators[1:] == [[
        swedish_operators[1][0], "Alpha Tours", "Sweden", "Tour operator", "Active", "8", "2",
        "25.0", "0", "0", ""]]


@pytest.mark.parametrize("years_back", [0, 1])
def test_staff_export_figures_are_those_of_the_coverage_page(web_as, staff_reviewer, years_back):
    """The export counts with one GROUP BY, the page with annotate_coverage: same numbers."""
    year = TODAY.year - years_back
    lasting, short = CourseFactory(validity_months=None), CourseFactory(validity_months=6)
    for n, name in enumerate(["Alpha Tours", "Beta Hotel", "Gamma Air"]):
        signatory = SignatoryFactory(legal_name=name, active=True, status=SignatoryStatus.ACTIVE)
        if n != 2:  # Gamma states no headcount
            HeadcountFactory(signatory=signatory, year=year, employees=9, customer_facing_employees=3)
        for i in range(4):
            person = TraineeFactory(signatory=signatory, is_customer_facing=i % 2 == 0)
            RecordFactory(trainee=person, course=short if (i + n) % 2 else lasting,
                          completed_on=TODAY - timedelta(days=100 * i + 30 * n))
        erased = TraineeFactory(signatory=signatory, staff_reference="", name="",
                                erased_at=timezone.now())  # erasure keeps totals
        RecordFactory(trainee=erased, course=lasting, completed_on=TODAY - timedelta(days=400))

    rows = _csv(web_as(staff_reviewer).get(reverse(STAFF_EXPORT, args=["csv"])
                                           + f"?year={year}"))

    page = {s.legal_name: [s.cov_employees, s.cov_trained, s.cov_cf_employees, s.cov_cf_trained]
            for s in coverage_list_for(staff_reviewer, as_of_for_year(year, TODAY))}
    exported = {r[1]: [int(v) if v else None for v in (r[5], r[6], r[8], r[9])] for r in rows[1:]}
    assert exported == page
    assert any(figures[1] for figures in exported.values())


def test_staff_export_of_a_local_representative_has_only_their_countries(web_as,
                                                                        local_rep_sweden):
    _signatory_with_coverage("SE", SignatoryType.TOUR_OPERATOR, 1, 2, "Alpha Tours")
    _signatory_with_coverage("TH", SignatoryType.TOUR_OPERATOR, 1, 2, "Gamma Tours")

    rows = _xlsx(web_as(local_rep_sweden).get(reverse(STAFF_EXPORT, args=["xlsx"])))

    assert [r[1] for r in rows[1:]] == ["Alpha Tours"]


def test_staff_export_queries_do_not_grow_with_signatories(web_as, staff_reviewer):
    client = web_as(staff_reviewer)
    url = reverse(STAFF_EXPORT, args=["csv"])
    _signatory_with_coverage("SE", SignatoryType.TOUR_OPERATOR, 1, 2, "First")
    _content(client.get(url))
    with CaptureQueriesContext(connection) as few:
        _content(client.get(url))
    for n in range(25):
        _signatory_with_coverage("SE", SignatoryType.HOTEL, n % 3, 5, f"Hotel {n}")

    with CaptureQueriesContext(connection) as many:
        rows = _csv(client.get(url))

    assert len(rows) == 27
    assert len(many) == len(few) <= 6


def test_company_users_cannot_use_the_staff_export(web_as, company_admin):
    assert web_as(company_admin).get(reverse(STAFF_EXPORT, args=["csv"])).status_code == 404


# --- Isolation ------------------------------------------------------------------------------------

@pytest.mark.parametrize("what", ["records", "coverage"])
@pytest.mark.parametrize("persona", ["outsider", "local_rep_other_country"])
def test_another_companys_exports_are_not_found(web_as, request, company_a, what, persona):
    url = reverse("training-export", args=[company_a.pk, what, "xlsx"])

    assert web_as(request.getfixturevalue(persona)).get(url).status_code == 404
    assert not AuditEvent.objects.filter(action="training_records.exported").exists()


def test_unknown_export_or_format_is_not_found(web_as, viewer, company_a):
    client = web_as(viewer)

    assert client.get(f"/company/{company_a.pk}/training/export/people.csv").status_code == 404
    assert client.get(f"/company/{company_a.pk}/training/export/records.pdf").status_code == 404


# --- API ------------------------------------------------------------------------------------------

API = "/api/v1/training/exports/"


def test_api_exports_csv_by_default_and_xlsx_on_request(api_as, viewer, company_a, course):
    RecordFactory(trainee=TraineeFactory(signatory=company_a, staff_reference="E1"), course=course)
    client = api_as(viewer)

    as_csv = client.get(f"{API}records/?signatory={company_a.pk}")
    as_xlsx = client.get(f"{API}records/?signatory={company_a.pk}&format=xlsx")
    by_header = client.get(f"{API}coverage/?signatory={company_a.pk}",
                           HTTP_ACCEPT="application/vnd.openxmlformats-officedocument."
                                       "spreadsheetml.sheet")

    assert _csv(as_csv)[1][0] == "E1"
    assert _xlsx(as_xlsx)[1][0] == "E1"
    assert _xlsx(by_header)[1][2] == "All employees (stated headcount)"


@pytest.mark.parametrize("what", ["records", "coverage"])
@pytest.mark.parametrize("persona", ["outsider", "local_rep_other_country"])
def test_api_another_companys_exports_are_not_found_as_json(api_as, request, company_a, what,
                                                            persona):
    response = api_as(request.getfixturevalue(persona)).get(
        f"{API}{what}/?signatory={company_a.pk}&format=xlsx")

    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"


def test_api_staff_export_across_signatories_with_filters(api_as, staff_admin, company_admin):
    _signatory_with_coverage("SE", SignatoryType.TOUR_OPERATOR, 2, 8, "Alpha Tours")
    _signatory_with_coverage("TH", SignatoryType.TOUR_OPERATOR, 3, 3, "Gamma Tours")

    rows = _csv(api_as(staff_admin).get(f"{API}coverage/?country=TH"))
    bad_filter = api_as(staff_admin).get(f"{API}coverage/?country=XX")
    company_user = api_as(company_admin).get(f"{API}coverage/")

    assert [r[1] for r in rows[1:]] == ["Gamma Tours"]
    assert bad_filter.status_code == 400 and "country" in bad_filter.json()
    assert company_user.status_code == 404
