"""Every dashboard figure equals a direct count over factory data, for central staff and for a
local representative (their country only), and every figure's link lands on a staff list with
exactly that many rows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from code_portal.staff.dashboard import DashboardFilters, dashboard_for
from reporting.models import Report, ReportStatus
from signatories.models import Signatory, SignatoryStatus
from tests.factories import SignatoryFactory
from tests.reporting.factories import ReportFactory, make_questionnaire
from tests.training.factories import CourseFactory, HeadcountFactory, RecordFactory, TraineeFactory
from training.models import Headcount, Trainee, TrainingRecord
from training.selectors import COVERAGE_STATUSES

S = SignatoryStatus
R = ReportStatus
COUNTRIES = ["SE", "TH", "KE", "DE"]
TYPES = ["tour_operator", "hotel", "airline"]
STATUSES = [S.APPLIED, S.APPROVED, S.ACTIVE, S.ACTIVE, S.REPORTING_OVERDUE, S.SUSPENDED,
            S.REJECTED, S.WITHDRAWN, S.EXPELLED, S.ACTIVE, S.REPORTING_OVERDUE]
# (status, due in days from today, decided how many days ago or None, year offset)
REPORTS = [(R.DRAFT, 10, None, 0), (R.DRAFT, -20, None, 0), (R.CHANGES_REQUESTED, -3, None, 0),
           (R.SUBMITTED, -30, None, 0), (R.UNDER_REVIEW, -40, None, 0),
           (R.APPROVED, -200, 5, -1), (R.APPROVED, -500, 400, -2), (R.REJECTED, -100, 20, -1),
           (R.DRAFT, 0, None, 0)]


def aware(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 12, tzinfo=UTC)


@dataclass
class Dataset:
    today: date
    signatories: list[Signatory]


def build_dataset(today: date | None = None, *, size: int = 44) -> Dataset:
    """Signatories in every status, three types and four countries, signed over several years;
    reports in every state with due dates around today; people with valid and expired training
    and headcounts for part of the membership."""
    today = today or timezone.localdate()
    questionnaire = make_questionnaire(year=2031)
    course = CourseFactory(validity_months=12)
    made = []
    for i in range(size):
        status = STATUSES[i % len(STATUSES)]
        extra = {}
        if status not in (S.APPLIED, S.REJECTED, S.WITHDRAWN, S.APPROVED):
            extra["signed_at"] = aware(date(today.year - (i % 6), 1 + i % 12, 1 + i % 27))
        if status == S.WITHDRAWN and i % 2:
            extra["signed_at"] = aware(date(today.year - 4, 3, 3))
        sig = SignatoryFactory(country=COUNTRIES[i % 4], type=TYPES[(i // 4) % 3], status=status,
                               status_changed_at=aware(date(today.year - (i % 3), 6, 1)),
                               **extra)
        made.append(sig)
        if status in (S.ACTIVE, S.REPORTING_OVERDUE, S.SUSPENDED) or i % 5 == 0:
            spec = REPORTS[i % len(REPORTS)]
            for offset, (rstatus, due, decided, year_offset) in enumerate([spec, REPORTS[(i + 3) % 9]]):
                kwargs = {}
                if decided is not None:
                    kwargs["decided_at"] = aware(today - timedelta(days=decided))
                ReportFactory(signatory=sig, questionnaire=questionnaire,
                              year=today.year + year_offset - offset * 3, status=rstatus,
                              due_on=today + timedelta(days=due), **kwargs)
        if i % 3 != 2:
            people = [TraineeFactory(signatory=sig, department="Sales") for _ in range(1 + i % 4)]
            for n, person in enumerate(people):
                # valid, expired, or valid but completed long ago with no expiry
                completed = today - timedelta(days=(30 if n % 2 == 0 else 500))
                RecordFactory(trainee=person, course=course, completed_on=completed)
            if i % 4 != 3:
                HeadcountFactory(signatory=sig, year=today.year, employees=2 + i % 5,
                                 customer_facing_employees=1)
        if status in (S.ACTIVE, S.REPORTING_OVERDUE) and i % 3 != 1:
            add_partners(sig, today, i)
    return Dataset(today=today, signatories=made)


def add_partners(signatory: Signatory, today: date, i: int) -> None:
    """Partners in force and not, confirmed (valid or run out), declined and never asked."""
    from tests.signatories.partners.factories import PartnerFactory
    from tests.signatories.partners.factories import RequestFactory as BaseRequest

    def RequestFactory(**kwargs):  # noqa: N802
        return BaseRequest(responded_at=timezone.now(), responder_name="Hotel manager", **kwargs)

    ended = PartnerFactory(signatory=signatory, contract_end=today - timedelta(days=10))
    RequestFactory(partner=ended, status="confirmed", confirmed_on=today - timedelta(days=40),
                   valid_until=today + timedelta(days=300))
    for n in range(1 + i % 3):
        partner = PartnerFactory(signatory=signatory, contract_start=today - timedelta(days=90))
        if n == 0:
            RequestFactory(partner=partner, status="confirmed",
                           confirmed_on=today - timedelta(days=30),
                           valid_until=today + timedelta(days=330))
        elif n == 1:
            RequestFactory(partner=partner, status="confirmed",
                           confirmed_on=today - timedelta(days=400),
                           valid_until=today - timedelta(days=35))
        # n == 2: never asked


# --- the expected figures, counted directly over the rows ---------------------------------------

def visible(countries: set[str] | None) -> list[Signatory]:
    return [s for s in Signatory.objects.all() if countries is None or s.country.code in countries]


def expected(countries: set[str] | None, today: date, year: int) -> dict:
    sigs = visible(countries)
    ids = {s.pk for s in sigs}
    reports = [r for r in Report.objects.all() if r.signatory_id in ids]
    month = (today.year, today.month)
    open_ = (R.DRAFT, R.CHANGES_REQUESTED)
    trained = {}
    for t in Trainee.objects.filter(signatory_id__in=ids):
        valid = [r for r in TrainingRecord.objects.filter(trainee=t)
                 if r.completed_on <= today and (r.expires_on is None or r.expires_on > today)]
        if valid:
            trained[t.signatory_id] = trained.get(t.signatory_id, 0) + 1
    shares = []
    followed = [s for s in sigs if s.status in COVERAGE_STATUSES]
    for s in followed:
        head = Headcount.objects.filter(signatory=s, year=today.year).first()
        if head and head.employees:
            shares.append(round(100 * min(trained.get(s.pk, 0), head.employees) / head.employees, 1))
    from signatories.partners.models import ConfirmationRequest, Partner

    in_force = [p for p in Partner.objects.filter(signatory_id__in=ids)
                if (p.contract_start is None or p.contract_start <= today)
                and (p.contract_end is None or p.contract_end >= today)]
    confirmed = [p for p in in_force if any(
        r.status == "confirmed" and r.confirmed_on <= today <= r.valid_until
        for r in ConfirmationRequest.objects.filter(partner=p))]
    return {
        "partner_confirmation_rate": (round(100 * len(confirmed) / len(in_force), 1)
                                      if in_force else None),
        "partner_signatories": len({p.signatory_id for p in in_force}),
        "signatories": len(sigs),
        "members": sum(s.status == S.ACTIVE for s in sigs),
        "applications_waiting": sum(s.status == S.APPLIED for s in sigs),
        "signatories_overdue": sum(s.status == S.REPORTING_OVERDUE for s in sigs),
        "reports_in_review": sum(r.status in (R.SUBMITTED, R.UNDER_REVIEW) for r in reports),
        "reports_due_this_month": sum(r.status in open_ and (r.due_on.year, r.due_on.month) == month
                                      for r in reports),
        "reports_overdue": sum(r.status in open_ and r.due_on < today for r in reports),
        "reports_approved": sum(r.status == R.APPROVED and r.decided_at.year == year
                                for r in reports),
        "training_coverage": round(sum(shares) / len(shares), 1) if shares else None,
        "coverage_listed": len(followed),
        "coverage_known": len(shares),
        "by_status": {st: sum(s.status == st for s in sigs) for st in S.values},
        "by_country": {c: sum(s.country.code == c for s in sigs)
                       for c in {s.country.code for s in sigs}},
        "members_over_time": {
            y: sum(1 for s in sigs if s.signed_at and s.signed_at.year <= y
                   and not (s.status in (S.WITHDRAWN, S.EXPELLED)
                            and s.status_changed_at.year <= y))
            for y in range(year - 9, year + 1)},
    }


@pytest.fixture
def dataset(db):
    return build_dataset()


@pytest.mark.parametrize("persona, countries", [
    ("staff_reviewer", None), ("staff_admin", None), ("local_rep_sweden", {"SE"}),
    ("local_rep_other_country", {"KE"}),
])
def test_every_figure_equals_a_direct_count(request, dataset, persona, countries):
    user = request.getfixturevalue(persona)
    today = dataset.today
    data = dashboard_for(user, DashboardFilters(year=today.year), today=today)
    want = expected(countries, today, today.year)
    for key in ("signatories", "members", "applications_waiting", "signatories_overdue",
                "reports_in_review", "reports_due_this_month", "reports_overdue",
                "reports_approved", "training_coverage", "partner_confirmation_rate"):
        assert data.figure(key).value == want[key], key
    assert data.partners["signatories"] == want["partner_signatories"]
    assert data.coverage.listed == want["coverage_listed"]
    assert data.coverage.with_headcount == want["coverage_known"]
    assert {b.key: b.count for b in data.by_status} == want["by_status"]
    assert {b.key: b.count for b in data.by_country} == want["by_country"]
    assert {p.year: p.value for p in data.members_over_time} == want["members_over_time"]
    # the dataset is varied enough for these to mean something
    if countries is None:
        assert all(want[k] for k in ("reports_in_review", "reports_due_this_month",
                                     "reports_overdue", "reports_approved", "members",
                                     "applications_waiting", "signatories_overdue"))
        assert 0 < want["coverage_known"] < want["coverage_listed"]
        assert 0 < want["partner_confirmation_rate"] < 100


def test_filters_by_country_and_type_and_year(dataset, staff_reviewer):
    today = dataset.today
    data = dashboard_for(staff_reviewer, DashboardFilters(year=today.year, country="TH",
                                                          type="hotel"), today=today)
    sigs = [s for s in Signatory.objects.all() if s.country.code == "TH" and s.type == "hotel"]
    assert data.total == len(sigs) > 0
    ids = {s.pk for s in sigs}
    reports = [r for r in Report.objects.all() if r.signatory_id in ids]
    assert data.figure("reports_in_review").value == sum(
        r.status in (R.SUBMITTED, R.UNDER_REVIEW) for r in reports)
    last_year = dashboard_for(staff_reviewer, DashboardFilters(year=today.year - 1), today=today)
    assert last_year.figure("reports_approved").value == sum(
        r.status == R.APPROVED and r.decided_at.year == today.year - 1
        for r in Report.objects.all())
    # a past year's coverage is measured on 31 December of that year
    assert last_year.coverage.as_of == date(today.year - 1, 12, 31)


def test_compliance_by_year_counts_approved_over_due(dataset, staff_reviewer):
    today = dataset.today
    data = dashboard_for(staff_reviewer, DashboardFilters(year=today.year), today=today)
    for point in data.compliance_by_year:
        due = [r for r in Report.objects.filter(year=point.year) if r.due_on <= today]
        assert point.denominator == len(due)
        assert point.numerator == sum(r.status == R.APPROVED for r in due)
    assert any(p.numerator for p in data.compliance_by_year)


def test_overdue_by_country_matches_flagged_signatories(dataset, staff_reviewer):
    today = dataset.today
    data = dashboard_for(staff_reviewer, DashboardFilters(year=today.year), today=today)
    flagged = {}
    for s in Signatory.objects.filter(status=S.REPORTING_OVERDUE):
        flagged[s.country.code] = flagged.get(s.country.code, 0) + 1
    assert {b.key: b.count for b in data.overdue_by_country} == flagged
    counts = [b.count for b in data.overdue_by_country]
    assert counts == sorted(counts, reverse=True)


def _list_count(client, url: str) -> int:
    response = client.get(url)
    assert response.status_code == 200, url
    return response.context["page"].paginator.count


@pytest.mark.parametrize("persona", ["staff_reviewer", "local_rep_sweden"])
@pytest.mark.parametrize("filters", [{}, {"country": "SE"}, {"type": "hotel"},
                                     {"country": "TH", "type": "tour_operator"}])
def test_every_link_lands_on_a_list_with_as_many_rows(request, dataset, web_as, persona, filters):
    client = web_as(request.getfixturevalue(persona))
    today = dataset.today
    data = dashboard_for(request.getfixturevalue(persona),
                         DashboardFilters(year=today.year, **filters), today=today)
    linked = [f for f in data.figures if f.url]
    assert {f.key for f in linked} >= {"signatories", "members", "applications_waiting",
                                        "signatories_overdue", "reports_in_review",
                                        "reports_due_this_month", "reports_overdue",
                                        "reports_approved", "training_coverage"}
    # the partners page has no country/type filter: linked only from the unfiltered dashboard
    assert (data.figure("partner_confirmation_rate").url is not None) == (not filters)
    rows_behind = {"training_coverage": data.coverage.listed,
                   "partner_confirmation_rate": data.partners["signatories"]}
    for figure in linked:
        want = rows_behind.get(figure.key, figure.value)
        assert _list_count(client, figure.url) == want, figure.key
    for breakdown in [*data.by_status, *data.by_type, *data.by_country, *data.overdue_by_country]:
        assert _list_count(client, breakdown.url) == breakdown.count, breakdown.url


def test_dashboard_page_shows_the_figures_and_links(dataset, web_as, staff_reviewer):
    today = dataset.today
    response = web_as(staff_reviewer).get(reverse("staff-dashboard"))
    assert response.status_code == 200
    data = response.context["dashboard"]
    html = response.content.decode()
    for figure in data.figures:
        assert figure.label in html
        if figure.url:
            assert f'href="{figure.url.replace("&", "&amp;")}"' in html
    assert f"{reverse('staff-annual-summary', kwargs={'year': today.year})}" in html


def test_bad_filter_values_fall_back_instead_of_failing(dataset, web_as, staff_reviewer):
    response = web_as(staff_reviewer).get(reverse("staff-dashboard"),
                                          {"year": "abc", "country": "ZZ", "type": "spaceship"})
    assert response.status_code == 200
    assert response.context["filters"] == DashboardFilters(year=dataset.today.year)
    response = web_as(staff_reviewer).get(reverse("staff-dashboard"), {"year": "2999"})
    assert response.context["filters"].year == dataset.today.year
