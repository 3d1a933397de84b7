"""Accessibility of the annual report pages: axe-core in the system Chromium finds no serious or
critical violation on the company's list and report form (also with the missing-answers summary
and a reviewer's comments on screen), and on the staff's queue and review page (answers beside
last year's, files, the scoring form and the history)."""

from __future__ import annotations

import pytest

from reporting.models import ReportStatus
from tests.code_portal.test_accessibility import (  # noqa: F401  (fixtures)
    CHROMIUM,
    assert_accessible,
    browser_as,
    chromium,
    serious_violations,
)
from tests.factories import SignatoryFactory
from tests.reporting.factories import (
    ReportFactory,
    add_evidence,
    complete_answers,
    make_questionnaire,
    review,
    set_answers,
)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.skipif(not CHROMIUM.exists(),
                       reason="needs the system Chromium (apt-get install chromium)"),
]

R = ReportStatus


@pytest.fixture
def reports(company_a, staff_reviewer):
    """Last year's approved report, this year's sent back with comments, and a queue longer than
    a page."""
    questionnaire = make_questionnaire(year=2030)
    last = ReportFactory(signatory=company_a, questionnaire=questionnaire, year=2029,
                         status=R.APPROVED, submission_count=1)
    complete_answers(last)
    add_evidence(last, "policy-file", name="policy-2029.pdf")
    current = ReportFactory(signatory=company_a, questionnaire=questionnaire, year=2030,
                            status=R.CHANGES_REQUESTED, submission_count=1,
                            reviewer=staff_reviewer)
    set_answers(current, {"policy": True, "trained": 12, "activities": "Workshops"})
    add_evidence(current, "policy-file", name="policy-2030.pdf")
    review(current, 1, comment="Please attach the signed policy.", reviewer=staff_reviewer)
    for i in range(30):
        signatory = SignatoryFactory(status="active", active=True, legal_name=f"Queue Co {i:02d}")
        ReportFactory(signatory=signatory, questionnaire=questionnaire, year=2030,
                      status=R.SUBMITTED if i % 2 else R.UNDER_REVIEW,
                      reviewer=staff_reviewer if i % 3 == 0 else None)
    under_review = ReportFactory(signatory=SignatoryFactory(status="active", active=True,
                                                            legal_name="Reviewed Tours"),
                                 questionnaire=questionnaire, year=2030,
                                 status=R.UNDER_REVIEW, submission_count=1)
    complete_answers(under_review)
    add_evidence(under_review, "policy-file", name="signed-policy.pdf")
    review(under_review, 2, comment="Training records look complete.", reviewer=staff_reviewer)
    return {"current": current, "under_review": under_review}


def test_company_report_pages_have_no_serious_accessibility_violations(
        browser_as, reporter, company_a, reports):  # noqa: F811
    page = browser_as(reporter)
    assert_accessible(page, f"/company/{company_a.pk}/reports/")
    assert_accessible(page, f"/reports/{reports['current'].pk}/")  # form, comments, history


def test_missing_answers_summary_has_no_serious_accessibility_violations(
        browser_as, reporter, reports):  # noqa: F811
    page = browser_as(reporter)
    page.goto(f"/reports/{reports['current'].pk}/")
    page.get_by_role("button", name="Submit the report").click()
    assert page.get_by_role("alert").filter(
        has_text="The report cannot be submitted yet").count() == 1
    problems = serious_violations(page)
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("path", ["/staff/reports/", "/staff/reports/?page=2",
                                  "/staff/reports/?status=changes_requested&status=approved"])
def test_staff_report_lists_have_no_serious_accessibility_violations(
        browser_as, staff_admin, reports, path):  # noqa: F811
    assert_accessible(browser_as(staff_admin), path)


def test_review_page_has_no_serious_accessibility_violations(
        browser_as, staff_admin, reports):  # noqa: F811
    assert_accessible(browser_as(staff_admin), f"/staff/reports/{reports['under_review'].pk}/")
