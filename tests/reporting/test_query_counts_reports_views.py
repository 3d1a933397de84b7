"""The report pages cost a fixed number of queries: the review queue with more rows than a page,
and a full report (50 questions, 30 files) on the company's page and the staff's review page."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from reporting.models import QuestionType, ReportStatus
from reporting.views import PAGE_SIZE
from tests.factories import SignatoryFactory
from tests.reporting.factories import (
    CHOICES,
    ReportFactory,
    add_evidence,
    make_questionnaire,
    review,
    set_answers,
)

pytestmark = pytest.mark.django_db

T = QuestionType
QUEUE_MAX = 12
REPORT_PAGE_MAX = 16

TYPES = [T.YES_NO, T.SINGLE, T.MULTIPLE, T.NUMBER, T.PERCENTAGE, T.SHORT_TEXT, T.LONG_TEXT,
         T.DATE, T.FILE]
VALUES = {T.YES_NO: True, T.SINGLE: "web", T.MULTIPLE: ["web", "app"], T.NUMBER: 12,
          T.PERCENTAGE: 55.5, T.SHORT_TEXT: "short", T.LONG_TEXT: "long text",
          T.DATE: "2030-05-01"}


def big_spec(n: int = 50):
    """n questions over the six criteria, of every type; every fifth one conditional."""
    spec = []
    for i in range(n):
        qtype = TYPES[i % len(TYPES)]
        extra = {"choices": CHOICES} if qtype in (T.SINGLE, T.MULTIPLE) else {}
        if qtype == T.LONG_TEXT:
            extra["allows_evidence"] = True
        show_if = ("q0", "yes") if i and i % 5 == 0 else None
        spec.append((i % 6 + 1, f"q{i}", qtype, i % 2 == 0, show_if, extra))
    return spec


def full_report(signatory, *, year: int, questions: int, files: int, status=ReportStatus.DRAFT):
    spec = big_spec(questions)
    report = ReportFactory(signatory=signatory, year=year, status=status,
                           questionnaire=make_questionnaire(year=year, spec=spec))
    set_answers(report, {code: VALUES[qtype] for _c, code, qtype, *_rest in spec
                         if qtype != T.FILE})
    takes_files = [code for _c, code, qtype, _r, _s, extra in spec
                   if qtype == T.FILE or extra.get("allows_evidence")]
    for i in range(files):
        add_evidence(report, takes_files[i % len(takes_files)], name=f"file-{i}.pdf")
    return report


def count_queries(client, url) -> int:
    client.get(url)  # warm the per-process caches (content types) that any page fills once
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries)


def test_review_queue_costs_the_same_for_a_few_reports_and_for_more_than_a_page(
        web_as, staff_admin, staff_reviewer):
    client = web_as(staff_admin)
    url = reverse("staff-report-queue")
    for i in range(3):
        ReportFactory(status=ReportStatus.SUBMITTED, reviewer=staff_reviewer if i % 2 else None)
    few = count_queries(client, url)
    questionnaire = make_questionnaire(year=2030)
    for i in range(PAGE_SIZE + 10):
        signatory = SignatoryFactory(active=True, status="active",
                                     country=["SE", "TH", "KE"][i % 3])
        ReportFactory(signatory=signatory, status=ReportStatus.UNDER_REVIEW,
                      reviewer=staff_reviewer if i % 2 else None, questionnaire=questionnaire)
    many = count_queries(client, url)
    filtered = count_queries(client, f"{url}?country=SE&type=tour_operator&page=2")
    assert few == many <= QUEUE_MAX
    assert filtered <= QUEUE_MAX


@pytest.mark.parametrize("persona", ["reporter", "viewer", "staff_reviewer"])
def test_report_page_costs_the_same_for_a_small_and_a_full_report(request, web_as, persona,
                                                                  company_a):
    client = web_as(request.getfixturevalue(persona))
    small = full_report(company_a, year=2029, questions=10, files=1)
    large = full_report(company_a, year=2030, questions=50, files=30)
    review(large, 1, comment="A comment")
    small_count = count_queries(client, reverse("report-detail", args=[small.pk]))
    large_count = count_queries(client, reverse("report-detail", args=[large.pk]))
    assert small_count == large_count <= REPORT_PAGE_MAX


def test_review_page_with_last_year_costs_the_same_for_a_small_and_a_full_report(
        web_as, staff_reviewer, company_a, company_b):
    client = web_as(staff_reviewer)
    full_report(company_b, year=2029, questions=10, files=1, status=ReportStatus.APPROVED)
    small = full_report(company_b, year=2030, questions=10, files=1,
                        status=ReportStatus.SUBMITTED)
    full_report(company_a, year=2029, questions=50, files=30, status=ReportStatus.APPROVED)
    large = full_report(company_a, year=2030, questions=50, files=30,
                        status=ReportStatus.UNDER_REVIEW)
    for criterion in range(1, 7):
        review(large, criterion, comment="Noted")
    small_count = count_queries(client, reverse("staff-report-review", args=[small.pk]))
    large_count = count_queries(client, reverse("staff-report-review", args=[large.pk]))
    html = client.get(reverse("staff-report-review", args=[large.pk])).content.decode()
    assert html.count("file-") >= 60  # this year's 30 files and last year's 30
    assert small_count == large_count <= REPORT_PAGE_MAX
