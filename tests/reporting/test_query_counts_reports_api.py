"""The number of database queries of the report list and of a full report does not grow with
the number of reports, questions or files."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from reporting.models import Question, ReportStatus
from signatories.models import Membership, MembershipRole
from tests.factories import SignatoryFactory
from tests.reporting.factories import (
    QuestionFactory,
    ReportFactory,
    add_evidence,
    make_questionnaire,
    review,
    set_answers,
)

pytestmark = pytest.mark.django_db
S = ReportStatus
LIST_MAX_QUERIES = 4
DETAIL_MAX_QUERIES = 10


def queries(client, path, params=None) -> int:
    # each real request loads the user afresh; the test client reuses one object, so drop
    # the roles cached on it to count the queries a real request makes
    user = client.handler._force_user
    user.__dict__.pop("_membership_roles", None)
    with CaptureQueriesContext(connection) as captured:
        response = client.get(path, params or {})
    assert response.status_code == 200, response.content
    return len(captured)


def make_reports(count, questionnaire, reviewer, signatory=None, first_year=2000):
    for i in range(count):
        ReportFactory(signatory=signatory or SignatoryFactory(status="active", active=True),
                      questionnaire=questionnaire, year=first_year + i if signatory else 2030,
                      status=S.UNDER_REVIEW, reviewer=reviewer)


@pytest.mark.parametrize("path", ["/api/v1/reports/", "/api/v1/reports/queue/"])
def test_the_staff_list_and_queue_use_a_fixed_number_of_queries(path, api_as, staff_admin,
                                                                staff_reviewer):
    questionnaire = make_questionnaire(year=2030)
    client = api_as(staff_admin)
    make_reports(3, questionnaire, staff_reviewer)
    few = queries(client, path, {"country": "SE", "reviewer": staff_reviewer.pk})
    make_reports(30, questionnaire, staff_reviewer)  # more than a page (25)
    many = queries(client, path, {"country": "SE", "reviewer": staff_reviewer.pk})
    assert many == few
    assert many <= LIST_MAX_QUERIES


def test_a_companys_list_uses_a_fixed_number_of_queries(api_as, reporter, company_a,
                                                        staff_reviewer):
    questionnaire = make_questionnaire(year=2030)
    client = api_as(reporter)
    make_reports(2, questionnaire, staff_reviewer, signatory=company_a)
    few = queries(client, "/api/v1/reports/")
    make_reports(28, questionnaire, staff_reviewer, signatory=company_a, first_year=2002)
    many = queries(client, "/api/v1/reports/")
    assert many == few
    assert many <= LIST_MAX_QUERIES


def big_report(signatory, *, questions: int, files: int, reviewer):
    questionnaire = make_questionnaire(year=2030)
    extra = questionnaire.sections.get(criterion=5)
    existing = Question.objects.filter(section__questionnaire=questionnaire).count()
    for i in range(questions - existing):
        QuestionFactory(section=extra, code=f"extra-{i}", type="long_text", required=False,
                        allows_evidence=True)
    last_year = ReportFactory(signatory=signatory, questionnaire=questionnaire, year=2029,
                              status=S.APPROVED)
    report = ReportFactory(signatory=signatory, questionnaire=questionnaire, year=2030,
                           status=S.CHANGES_REQUESTED, submission_count=1, reviewer=reviewer)
    answers = {f"extra-{i}": f"Answer {i}" for i in range(questions - existing)}
    set_answers(report, {"policy": True, **answers})
    set_answers(last_year, answers)
    for i in range(files):
        add_evidence(report, "policy-file" if i % 2 else "activities", name=f"file-{i}.pdf")
        add_evidence(last_year, "policy-file", name=f"old-{i}.pdf")
    for criterion in range(1, 7):
        review(report, criterion, comment=f"Comment {criterion}", reviewer=reviewer)
    return report


@pytest.mark.parametrize("role", ["reporter", "staff_reviewer"])
def test_a_full_report_with_50_questions_and_30_files_uses_a_fixed_number_of_queries(
        role, request, api_as, company_a, staff_reviewer):
    client = api_as(request.getfixturevalue(role))
    small = big_report(company_a, questions=12, files=2, reviewer=staff_reviewer)
    few = queries(client, f"/api/v1/reports/{small.pk}/")

    other = SignatoryFactory(status="active", active=True, country="SE")
    if role == "reporter":
        Membership.objects.create(user=request.getfixturevalue(role), signatory=other,
                                  role=MembershipRole.REPORTER)
    large = big_report(other, questions=50, files=30, reviewer=staff_reviewer)
    body = client.get(f"/api/v1/reports/{large.pk}/").json()
    assert sum(len(s["questions"]) for s in body["sections"]) == 50
    assert sum(len(q["evidence"]) for s in body["sections"] for q in s["questions"]) == 30

    many = queries(client, f"/api/v1/reports/{large.pk}/")
    assert many == few
    assert many <= DETAIL_MAX_QUERIES


def test_the_evidence_list_uses_a_fixed_number_of_queries(api_as, reporter, company_a,
                                                          staff_reviewer):
    report = big_report(company_a, questions=12, files=2, reviewer=staff_reviewer)
    client = api_as(reporter)
    few = queries(client, f"/api/v1/reports/{report.pk}/evidence/")
    for i in range(30):
        add_evidence(report, "activities", name=f"more-{i}.pdf")
    assert queries(client, f"/api/v1/reports/{report.pk}/evidence/") == few
