"""Another company's report, its answers and its files look exactly like missing ones; anonymous
callers get nothing."""

import pytest

from reporting.models import Answer, Evidence, ReportStatus
from tests.reporting.factories import ReportFactory, add_evidence, make_questionnaire

pytestmark = pytest.mark.django_db


@pytest.fixture
def questionnaire(db):
    return make_questionnaire(year=2030)


@pytest.fixture
def report_a(company_a, questionnaire):
    report = ReportFactory(signatory=company_a, questionnaire=questionnaire,
                           status=ReportStatus.DRAFT)
    add_evidence(report, "policy-file", name="Confidential policy.pdf")
    return report


@pytest.fixture
def report_b(company_b, questionnaire):
    return ReportFactory(signatory=company_b, questionnaire=questionnaire)


def endpoints(report, evidence_id):
    base = f"/api/v1/reports/{report.pk}/"
    return [
        ("get", base, None),
        ("patch", base, {"version": 1, "answers": {"activities": "hacked"}}),
        ("get", f"{base}evidence/", None),
        ("post", f"{base}evidence/", {"question": "policy-file"}),
        ("get", f"{base}evidence/{evidence_id}/download/", None),
        ("delete", f"{base}evidence/{evidence_id}/", None),
        ("get", f"{base}history/", None),
        ("post", f"{base}submit/", {}),
        ("post", f"{base}request-changes/", {"reason": "x"}),
        ("post", f"{base}approve/", {}),
        ("post", f"{base}reject/", {"reason": "x"}),
        ("post", f"{base}assign/", {"reviewer": None}),
        ("post", f"{base}review/", {"criterion": 1, "score": "met"}),
        ("post", f"{base}due-date/", {"due_on": "2031-01-01", "reason": "x"}),
    ]


@pytest.fixture(params=range(14), ids=lambda i: ["detail", "patch", "evidence list",
                                                 "evidence upload", "download",
                                                 "evidence delete", "history", "submit",
                                                 "request-changes", "approve", "reject",
                                                 "assign", "review", "due-date"][i])
def endpoint(request, report_a):
    evidence = report_a.evidence.get()
    return endpoints(report_a, evidence.pk)[request.param]


def assert_untouched(report_a):
    report_a.refresh_from_db()
    assert report_a.status == ReportStatus.DRAFT
    assert report_a.version == 1
    assert not Answer.objects.filter(report=report_a).exists()
    assert Evidence.objects.filter(report=report_a).count() == 1


@pytest.mark.parametrize("role", ["outsider", "local_rep_other_country"])
def test_another_companys_report_is_not_found_on_every_endpoint(role, request, api_as,
                                                                endpoint, report_a):
    method, path, data = endpoint
    response = getattr(api_as(request.getfixturevalue(role)), method)(path, data,
                                                                      format="json")
    assert response.status_code == 404
    assert b"Confidential" not in b"".join(getattr(response, "streaming_content", [])
                                           or [response.content])
    assert_untouched(report_a)


def test_anonymous_callers_get_nothing_on_every_endpoint(api_client, endpoint, report_a):
    method, path, data = endpoint
    response = getattr(api_client, method)(path, data, format="json")
    assert response.status_code in (401, 403)
    assert b"Confidential" not in response.content
    assert_untouched(report_a)


def test_anonymous_callers_cannot_list_or_start_reports(api_client, report_a, company_a):
    assert api_client.get("/api/v1/reports/").status_code in (401, 403)
    assert api_client.post("/api/v1/reports/", {"signatory": company_a.pk, "year": 2031},
                           format="json").status_code in (401, 403)
    assert api_client.get("/api/v1/questionnaires/2030/").status_code in (401, 403)


def test_a_missing_report_and_a_hidden_one_answer_the_same(api_as, outsider, report_a):
    client = api_as(outsider)
    hidden = client.get(f"/api/v1/reports/{report_a.pk}/")
    missing = client.get("/api/v1/reports/999999/")
    assert (hidden.status_code, hidden.json()) == (missing.status_code, missing.json())


def test_a_file_of_another_company_cannot_be_reached_through_ones_own_report(
        api_as, outsider, report_a, report_b):
    evidence = report_a.evidence.get()
    client = api_as(outsider)
    base = f"/api/v1/reports/{report_b.pk}/evidence/{evidence.pk}/"
    assert client.get(f"{base}download/").status_code == 404
    assert client.delete(base).status_code == 404
    assert Evidence.objects.filter(pk=evidence.pk).exists()


def test_a_file_cannot_be_downloaded_through_another_report_of_the_same_company(
        api_as, reporter, report_a, questionnaire, company_a):
    other = ReportFactory(signatory=company_a, questionnaire=questionnaire, year=2029)
    evidence = report_a.evidence.get()
    response = api_as(reporter).get(
        f"/api/v1/reports/{other.pk}/evidence/{evidence.pk}/download/")
    assert response.status_code == 404


def test_filtering_by_another_companys_id_shows_nothing(api_as, outsider, report_a, company_a):
    response = api_as(outsider).get("/api/v1/reports/", {"signatory": company_a.pk})
    assert response.json()["results"] == []


def test_the_evidence_file_has_no_public_url(report_a, client, settings):
    evidence = report_a.evidence.get()
    media_url = settings.MEDIA_URL.rstrip("/") + "/" + evidence.file.name
    response = client.get(media_url)
    assert response.status_code == 404 or (response.status_code in (301, 302)
                                           and "login" in response["Location"])
