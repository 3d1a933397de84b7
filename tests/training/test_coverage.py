"""Coverage arithmetic: validity window, month clamping, headcount shares, departments, refreshers."""

from datetime import date, timedelta

import pytest

from signatories.models import MembershipRole, Signatory
from tests.factories import MembershipFactory, SignatoryFactory
from tests.training.factories import (
    CourseFactory,
    HeadcountFactory,
    RecordFactory,
    TraineeFactory,
)
from training import services
from training.coverage import annotate_coverage, as_of_for_year, coverage_for, refreshers_due, share
from training.services import add_months, expiry_for

pytestmark = pytest.mark.django_db


# --- month arithmetic (pure) ---------------------------------------------------------------------

@pytest.mark.parametrize(("start", "months", "expected"), [
    (date(2023, 1, 31), 1, date(2023, 2, 28)),   # clamped to the end of a short February
    (date(2024, 1, 31), 1, date(2024, 2, 29)),   # leap year
    (date(2024, 2, 29), 12, date(2025, 2, 28)),  # 29 Feb + a year: no 29 Feb in 2025
    (date(2024, 2, 29), 48, date(2028, 2, 29)),  # ...but there is one four years on
    (date(2023, 3, 31), 1, date(2023, 4, 30)),
    (date(2023, 12, 15), 1, date(2024, 1, 15)),  # year rollover
    (date(2023, 11, 30), 14, date(2025, 1, 30)),
    (date(2023, 6, 10), 0, date(2023, 6, 10)),
])
def test_add_months_keeps_the_day_and_clamps_to_the_months_end(start, months, expected):
    assert add_months(start, months) == expected


def test_a_course_without_validity_never_expires():
    assert expiry_for(CourseFactory.build(validity_months=None), date(2020, 1, 1)) is None
    assert expiry_for(CourseFactory.build(validity_months=12), date(2020, 1, 1)) == date(2021, 1, 1)


def test_as_of_is_today_for_this_year_and_31_december_for_a_past_year():
    today = date(2025, 5, 6)
    assert as_of_for_year(2025, today) == today
    assert as_of_for_year(2023, today) == date(2023, 12, 31)
    with pytest.raises(ValueError):
        as_of_for_year(2026, today)


# --- the boundary day --------------------------------------------------------------------------

@pytest.fixture
def company(db):
    return SignatoryFactory(active=True)


def test_record_is_valid_the_day_before_expiry_and_not_on_the_expiry_day(company):
    course = CourseFactory(validity_months=1)
    record = RecordFactory(trainee__signatory=company, course=course,
                           completed_on=date(2023, 1, 31))
    assert record.expires_on == date(2023, 2, 28)

    assert coverage_for(company, date(2023, 2, 27)).trained == 1
    assert coverage_for(company, date(2023, 2, 28)).trained == 0


def test_record_counts_from_its_completion_day_not_before(company):
    RecordFactory(trainee__signatory=company, completed_on=date(2023, 5, 10))
    assert coverage_for(company, date(2023, 5, 9)).trained == 0
    assert coverage_for(company, date(2023, 5, 10)).trained == 1


def test_never_expiring_course_counts_years_later(company):
    RecordFactory(trainee__signatory=company, course=CourseFactory(validity_months=None),
                  completed_on=date(2010, 1, 1))
    assert coverage_for(company, date(2030, 1, 1)).trained == 1


# --- shares ------------------------------------------------------------------------------------

def test_without_a_headcount_for_the_year_the_share_is_unknown_not_zero(company):
    RecordFactory(trainee__signatory=company, completed_on=date(2024, 3, 1))
    HeadcountFactory(signatory=company, year=2023, employees=10, customer_facing_employees=5)

    coverage = coverage_for(company, date(2024, 6, 1))
    assert coverage.trained == 1
    assert coverage.employees is None
    assert coverage.share is None
    assert coverage.customer_facing_share is None


def test_shares_use_the_headcount_of_the_measured_year(company):
    for n in range(3):
        RecordFactory(trainee__signatory=company, trainee__is_customer_facing=n < 2,
                      completed_on=date(2024, 3, 1))
    RecordFactory(trainee__signatory=company, completed_on=date(2024, 3, 1),
                  course=CourseFactory(validity_months=1))  # expired by June
    HeadcountFactory(signatory=company, year=2024, employees=8, customer_facing_employees=4)

    coverage = coverage_for(company, date(2024, 6, 1))
    assert (coverage.trained, coverage.customer_facing_trained) == (3, 2)
    assert coverage.share == 37.5
    assert coverage.customer_facing_share == 50.0
    assert coverage.people_on_record == 4


def test_a_person_with_several_valid_records_counts_once(company):
    person = TraineeFactory(signatory=company)
    RecordFactory(trainee=person, completed_on=date(2024, 1, 1))
    RecordFactory(trainee=person, completed_on=date(2024, 2, 1))
    RecordFactory(trainee=person, completed_on=date(2024, 2, 1), course=CourseFactory())
    assert coverage_for(company, date(2024, 6, 1)).trained == 1


def test_share_never_exceeds_100_percent_when_more_people_are_trained_than_stated(company):
    for _ in range(3):
        RecordFactory(trainee__signatory=company, completed_on=date(2024, 1, 1))
    HeadcountFactory(signatory=company, year=2024, employees=2, customer_facing_employees=0)
    coverage = coverage_for(company, date(2024, 6, 1))
    assert coverage.share == 100.0
    assert coverage.customer_facing_share is None  # no customer-facing staff: nothing to share
    assert share(0, 0) is None


def test_coverage_per_department(company):
    as_of = date(2024, 6, 1)
    for department, cf, completed in [("Sales", True, date(2024, 1, 1)),
                                      ("Sales", True, date(2020, 1, 1)),  # expired
                                      ("Sales", False, date(2024, 1, 1)),
                                      ("Finance", False, date(2024, 1, 1)),
                                      ("", True, date(2024, 1, 1))]:
        RecordFactory(trainee__signatory=company, trainee__department=department,
                      trainee__is_customer_facing=cf, completed_on=completed)
    rows = {d.department: d for d in coverage_for(company, as_of).departments}
    assert set(rows) == {"", "Finance", "Sales"}
    sales = rows["Sales"]
    assert (sales.people, sales.trained, sales.customer_facing,
            sales.customer_facing_trained) == (3, 2, 2, 1)
    assert sales.share == pytest.approx(66.7)
    assert sales.customer_facing_share == 50.0  # 1 of the 2 customer-facing people in Sales
    assert (rows["Finance"].people, rows["Finance"].trained) == (1, 1)
    assert rows["Finance"].customer_facing_share is None  # nobody customer-facing there
    assert rows[""].customer_facing_trained == 1
    assert rows[""].customer_facing_share == 100.0


def test_other_companies_records_do_not_count(company):
    RecordFactory(trainee__signatory=SignatoryFactory(active=True), completed_on=date(2024, 1, 1))
    coverage = coverage_for(company, date(2024, 6, 1))
    assert (coverage.people_on_record, coverage.trained) == (0, 0)


def test_erased_person_still_counts_in_the_totals(company):
    record = RecordFactory(trainee__signatory=company, completed_on=date(2024, 1, 1))
    before = coverage_for(company, date(2024, 6, 1))
    admin = MembershipFactory(signatory=company, role=MembershipRole.ADMIN).user
    services.trainee_erase(actor=admin, trainee=record.trainee)
    after = coverage_for(company, date(2024, 6, 1))
    assert (after.trained, after.people_on_record, after.departments) == (
        before.trained, before.people_on_record, before.departments)


# --- refreshers ------------------------------------------------------------------------------------

def test_refreshers_due_are_valid_records_expiring_within_90_days(company):
    as_of = date(2024, 6, 1)
    course = CourseFactory(validity_months=None)

    def record_expiring(days):
        record = RecordFactory(trainee__signatory=company, course=course,
                               completed_on=date(2023, 1, 1))
        record.expires_on = as_of + timedelta(days=days)
        record.save()
        return record

    on_the_day = record_expiring(0)       # already not valid on as_of
    tomorrow = record_expiring(1)
    last_day_of_window = record_expiring(90)
    record_expiring(91)                   # outside the window
    due = set(refreshers_due(as_of, signatory=company))
    assert due == {tomorrow, last_day_of_window}
    assert on_the_day not in due
    assert coverage_for(company, as_of).refreshers_due == 2


def test_refreshers_due_exclude_people_who_already_renewed_the_same_course(company):
    as_of = date(2024, 6, 1)
    course = CourseFactory(validity_months=12)
    renewed = RecordFactory(trainee__signatory=company, course=course,
                            completed_on=date(2023, 7, 1))
    RecordFactory(trainee=renewed.trainee, course=course, completed_on=date(2024, 5, 20))
    other_course_only = RecordFactory(trainee__signatory=company, course=course,
                                      completed_on=date(2023, 7, 1))
    RecordFactory(trainee=other_course_only.trainee, course=CourseFactory(),
                  completed_on=date(2024, 5, 20))

    assert list(refreshers_due(as_of, signatory=company)) == [other_course_only]


def test_refreshers_due_without_a_signatory_spans_all_companies(company):
    as_of = date(2024, 6, 1)
    course = CourseFactory(validity_months=12)
    mine = RecordFactory(trainee__signatory=company, course=course, completed_on=date(2023, 7, 1))
    theirs = RecordFactory(trainee__signatory=SignatoryFactory(active=True), course=course,
                           completed_on=date(2023, 8, 1))
    assert set(refreshers_due(as_of)) == {mine, theirs}


# --- the list annotation agrees with the single computation ---------------------------------------

def test_annotate_coverage_matches_coverage_for_each_signatory():
    as_of = date(2024, 6, 1)
    companies = [SignatoryFactory(active=True) for _ in range(3)]
    a, b, c = companies
    for n in range(4):
        RecordFactory(trainee__signatory=a, trainee__is_customer_facing=n % 2 == 0,
                      completed_on=date(2024, 1, 1))
    RecordFactory(trainee__signatory=b, completed_on=date(2019, 1, 1))  # expired
    HeadcountFactory(signatory=a, year=2024, employees=10, customer_facing_employees=4)
    HeadcountFactory(signatory=b, year=2024, employees=3, customer_facing_employees=1)

    rows = {s.pk: s for s in annotate_coverage(
        Signatory.objects.filter(pk__in=[s.pk for s in companies]), as_of)}
    for company in companies:
        expected = coverage_for(company, as_of)
        row = rows[company.pk]
        assert (row.cov_trained, row.cov_cf_trained, row.cov_employees, row.cov_cf_employees) == (
            expected.trained, expected.customer_facing_trained, expected.employees,
            expected.customer_facing_employees)
        assert share(row.cov_trained, row.cov_employees) == expected.share
    assert rows[a.pk].cov_trained == 4 and share(4, 10) == 40.0
    assert rows[c.pk].cov_employees is None
