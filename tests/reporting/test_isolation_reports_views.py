"""Company A's reports are invisible to everyone outside A and the Code staff who cover it:
every page and every file answers 404 (exactly like a missing one), and an anonymous visitor
is sent to the login page."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from reporting.models import Answer, CriterionReview, Evidence, ReportStatus
from tests.reporting.factories import ReportFactory, add_evidence, set_answers

pytestmark = pytest.mark.django_db


@pytest.fixture
def a_report(company_a):
    report = ReportFactory(signatory=company_a, status=ReportStatus.DRAFT)
    set_answers(report, {"activities": "A's own text"})
    return report


@pytest.fixture
def a_evidence(a_report):
    return add_evidence(a_report, "policy-file", name="a-policy.pdf")


def pages(report, evidence):
    """(method, url, data) for every report page and action."""
    data = {"version": report.version, "loaded_at": timezone.now().isoformat(),
            "activities": "Overwritten", "action": "save", "reviewer": "", "decision": "save",
            "comment-1": "x", "due_on": "2040-01-01", "reason": "x"}
    return [
        ("get", reverse("company-reports", args=[report.signatory_id]), None),
        ("post", reverse("company-reports", args=[report.signatory_id]), {"year": 2030}),
        ("get", reverse("report-detail", args=[report.pk]), None),
        ("post", reverse("report-detail", args=[report.pk]), data),
        ("post", reverse("report-autosave", args=[report.pk]), data),
        ("get", reverse("evidence-download", args=[report.pk, evidence.pk]), None),
        ("post", reverse("evidence-delete", args=[report.pk, evidence.pk]), None),
        ("get", reverse("staff-report-review", args=[report.pk]), None),
        ("post", reverse("staff-report-review", args=[report.pk]), data),
        ("post", reverse("staff-report-assign", args=[report.pk]), data),
        ("post", reverse("staff-report-due-date", args=[report.pk]), data),
    ]


def assert_untouched(report, evidence):
    report.refresh_from_db()
    assert report.status == ReportStatus.DRAFT and report.reviewer is None
    assert Answer.objects.get(report=report, question__code="activities").value == "A's own text"
    assert Evidence.objects.filter(pk=evidence.pk).exists()
    assert not CriterionReview.objects.filter(report=report).exists()


@pytest.mark.parametrize("persona", ["outsider", "local_rep_other_country"])
def test_everything_of_company_a_is_404_for_people_outside_it(request, web_as, persona,
                                                              a_report, a_evidence):
    client = web_as(request.getfixturevalue(persona))
    for method, url, data in pages(a_report, a_evidence):
        response = getattr(client, method)(url, data or {})
        assert response.status_code == 404, (method, url, response.status_code)
    assert_untouched(a_report, a_evidence)


def test_an_outsider_sees_the_same_404_as_for_a_report_that_does_not_exist(web_as, outsider,
                                                                            a_report):
    client = web_as(outsider)
    theirs = client.get(reverse("report-detail", args=[a_report.pk]))
    missing = client.get(reverse("report-detail", args=[a_report.pk + 1000]))
    assert (theirs.status_code, theirs.content) == (missing.status_code, missing.content)


def test_company_b_cannot_fetch_a_file_of_a_through_its_own_report(web_as, outsider, company_b,
                                                                   a_evidence):
    b_report = ReportFactory(signatory=company_b)
    client = web_as(outsider)
    assert client.get(reverse("report-detail", args=[b_report.pk])).status_code == 200
    assert client.get(reverse("evidence-download",
                              args=[b_report.pk, a_evidence.pk])).status_code == 404
    assert client.post(reverse("evidence-delete",
                               args=[b_report.pk, a_evidence.pk])).status_code == 404
    assert Evidence.objects.filter(pk=a_evidence.pk).exists()


def test_a_file_is_only_served_under_its_own_report(web_as, reporter, company_a, a_evidence):
    other_report_of_a = ReportFactory(signatory=company_a, year=2029)
    response = web_as(reporter).get(reverse("evidence-download",
                                            args=[other_report_of_a.pk, a_evidence.pk]))
    assert response.status_code == 404


def test_anonymous_visitors_are_sent_to_log_in_everywhere(client, a_report, a_evidence):
    login = reverse(settings.LOGIN_URL)
    for method, url, data in pages(a_report, a_evidence):
        response = getattr(client, method)(url, data or {})
        assert response.status_code == 302, (method, url)
        assert response["Location"].startswith(f"{login}?next="), (method, url)
    assert client.get(reverse("staff-report-queue")).status_code == 302
    assert_untouched(a_report, a_evidence)


def test_evidence_files_have_no_public_url(client, reporter, a_evidence):
    """The stored path is not reachable from the web, logged in or not."""
    client.force_login(reporter)
    assert client.get(f"/media/{a_evidence.file.name}").status_code == 404
    assert client.get(f"/{a_evidence.file.name}").status_code == 404
