"""Bounded queries: every training list and the coverage computation cost the same number of
queries with 5 rows as with 50 (more than a page of 25)."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests.factories import SignatoryFactory
from tests.training.factories import (
    CourseFactory,
    HeadcountFactory,
    RecordFactory,
    SessionFactory,
    TraineeFactory,
)
from training.coverage import coverage_for
from training.models import SessionAttachment

pytestmark = pytest.mark.django_db

API = "/api/v1/training"
FEW, MANY = 5, 50
# generous absolute ceilings: the point is that they do not grow with rows
MAX_API_QUERIES = 8
MAX_PAGE_QUERIES = 16


def count_queries(client, url) -> int:
    client.get(url)  # warm per-process caches (content types, …)
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(ctx)


def grow_records(company, n):
    yearly = CourseFactory(signatory=company, validity_months=12)
    session = SessionFactory(signatory=company, course=yearly)
    for i in range(n):
        RecordFactory(trainee__signatory=company, trainee__department=f"Dept {i % 7}",
                      course=yearly, session=session,
                      # some expire within 90 days: the refresher list fills too
                      completed_on=timezone.localdate() - timedelta(days=300 + i))


def grow_sessions(company, n):
    for _ in range(n):
        session = SessionFactory(signatory=company)
        for k in range(2):
            SessionAttachment.objects.create(session=session, file=f"x{k}.png",
                                             original_name=f"x{k}.png",
                                             content_type="image/png", size=1, sha256="0")
        RecordFactory(trainee__signatory=company, course=session.course, session=session)


def grow_courses(company, n):
    for _ in range(n):
        CourseFactory(signatory=company)
        CourseFactory(signatory=None)


def grow_people(company, n):
    for _ in range(n):
        RecordFactory(trainee=TraineeFactory(signatory=company))


def grow_headcounts(company, n):
    for _ in range(n):
        HeadcountFactory(signatory=SignatoryFactory(active=True))


def grow_signatories(company, n):
    for i in range(n):
        other = SignatoryFactory(active=True, country="SE" if i % 2 else "TH")
        HeadcountFactory(signatory=other)
        for _ in range(2):
            RecordFactory(trainee__signatory=other)


API_LISTS = [
    ("records", grow_records, "company_admin"),
    ("sessions", grow_sessions, "company_admin"),
    ("courses", grow_courses, "company_admin"),
    ("people", grow_people, "company_admin"),
    ("headcounts", grow_headcounts, "staff_reviewer"),
    ("coverage", grow_signatories, "staff_reviewer"),
    ("records?state=expiring", grow_records, "company_admin"),
]


@pytest.mark.parametrize(("endpoint", "grow", "persona"), API_LISTS,
                         ids=[case[0] for case in API_LISTS])
def test_api_list_queries_do_not_grow_with_rows(endpoint, grow, persona, request, api_as,
                                                company_a):
    client = api_as(request.getfixturevalue(persona))
    url = f"{API}/{endpoint}/" if "?" not in endpoint else f"{API}/{endpoint.replace('?', '/?')}"
    grow(company_a, FEW)
    few = count_queries(client, url)
    grow(company_a, MANY - FEW)
    many = count_queries(client, url)
    assert many == few, f"{endpoint}: {few} queries with {FEW} rows, {many} with {MANY}"
    assert many <= MAX_API_QUERIES


def test_api_coverage_of_one_signatory_is_bounded(api_as, company_admin, company_a):
    client = api_as(company_admin)
    url = f"{API}/coverage/?signatory={company_a.pk}"
    HeadcountFactory(signatory=company_a)
    grow_records(company_a, FEW)
    few = count_queries(client, url)
    grow_records(company_a, MANY - FEW)
    assert count_queries(client, url) == few <= MAX_API_QUERIES


def test_coverage_for_costs_three_queries_whatever_the_rows(company_a, django_assert_num_queries):
    grow_records(company_a, MANY)
    HeadcountFactory(signatory=company_a)
    with django_assert_num_queries(3):
        coverage = coverage_for(company_a, timezone.localdate())
    assert coverage.people_on_record == MANY and len(coverage.departments) == 7


def page_url(company, name):
    root = f"/company/{company.pk}/training/"
    return {"home": root, "records": f"{root}records/", "sessions": f"{root}sessions/",
            "courses": f"{root}courses/", "staff": "/staff/training/",
            "staff_detail": f"/staff/training/{company.pk}/",
            "dashboard": f"/company/{company.pk}/"}[name]


PAGES = [
    ("home", grow_records, "company_admin"),
    ("dashboard", grow_records, "company_admin"),
    ("records", grow_records, "company_admin"),
    ("sessions", grow_sessions, "company_admin"),
    ("courses", grow_courses, "company_admin"),
    ("staff", grow_signatories, "staff_reviewer"),
    ("staff_detail", grow_records, "staff_reviewer"),
]


@pytest.mark.parametrize(("page", "grow", "persona"), PAGES, ids=[case[0] for case in PAGES])
def test_page_queries_do_not_grow_with_rows(page, grow, persona, request, web_as, company_a):
    client = web_as(request.getfixturevalue(persona))
    url = page_url(company_a, page)
    grow(company_a, FEW)
    few = count_queries(client, url)
    grow(company_a, MANY - FEW)
    many = count_queries(client, url)
    assert many == few, f"{page}: {few} queries with {FEW} rows, {many} with {MANY}"
    assert many <= MAX_PAGE_QUERIES + (10 if page == "dashboard" else 0)


def test_person_and_session_pages_are_bounded(web_as, company_admin, company_a):
    client = web_as(company_admin)
    person = TraineeFactory(signatory=company_a)
    session = SessionFactory(signatory=company_a)

    def grow(n):
        for _ in range(n):
            RecordFactory(trainee=person, course=CourseFactory(), session=session)
            RecordFactory(trainee__signatory=company_a, course=session.course, session=session)
            SessionAttachment.objects.create(session=session, file="x.png", original_name="x.png",
                                             content_type="image/png", size=1, sha256="0")

    urls = [f"/company/{company_a.pk}/training/people/{person.pk}/",
            f"/company/{company_a.pk}/training/sessions/{session.pk}/"]
    grow(FEW)
    few = [count_queries(client, url) for url in urls]
    grow(MANY - FEW)
    assert [count_queries(client, url) for url in urls] == few
