"""Certificate pages and API: public verification (public fields only, not found, rate limit,
expiry on the boundary day), company downloads, staff revoke/re-issue/regenerate, isolation and
bounded queries."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from code_portal.models import AuditEvent
from reporting import certificates as svc
from reporting.certificate_views import VerifyThrottle
from reporting.models import Certificate, CertificateRegeneration, RegenerationStatus
from signatories.models import SignatoryStatus
from tests.factories import SignatoryFactory
from tests.reporting.certificate_helpers import approve, submitted_report

pytestmark = pytest.mark.django_db

APPROVED_AT = datetime(2031, 3, 15, 10, tzinfo=UTC)


@pytest.fixture
def certificate(company_a, company_admin, staff_reviewer, django_capture_on_commit_callbacks):
    with time_machine.travel(APPROVED_AT, tick=False):
        return approve(submitted_report(company_a), staff_reviewer,
                       django_capture_on_commit_callbacks)


def _verify(client, code):
    return client.get(reverse("certificate-verify", args=[code]))


# --- public verification -------------------------------------------------------------------------

def test_verification_page_shows_a_valid_certificate_to_anyone(client, certificate):
    with time_machine.travel(APPROVED_AT + timedelta(days=30)):
        response = _verify(client, certificate.code)
    html = response.content.decode()
    assert response.status_code == 200
    assert "This certificate is valid." in html
    assert "Nordic Tours AB" in html and "Sweden" in html and certificate.number in html


def test_typed_code_in_lower_case_with_dashes_is_found(client, certificate):
    messy = f"{certificate.code[:4].lower()}-{certificate.code[4:]}"
    response = client.get(reverse("certificate-verify-lookup"), {"code": messy}, follow=True)
    assert response.status_code == 200 and certificate.number in response.content.decode()


def test_verification_is_valid_on_the_last_day_and_expired_from_the_next(
        client, api_client, certificate):
    last_day = datetime.combine(certificate.valid_until, datetime.min.time(),
                                tzinfo=UTC) + timedelta(hours=23, minutes=59)
    api_url = reverse("api-certificate-verify", args=[certificate.code])
    with time_machine.travel(last_day, tick=False):
        assert "This certificate is valid." in _verify(client, certificate.code).content.decode()
        assert api_client.get(api_url).json()["status"] == "valid"
    with time_machine.travel(last_day + timedelta(minutes=2), tick=False):
        html = _verify(client, certificate.code).content.decode()
        assert "This certificate expired after" in html
        assert api_client.get(api_url).json()["status"] == "expired"


def test_revoked_certificate_page_says_revoked_with_the_date_but_not_the_reason(
        client, api_client, certificate, staff_admin):
    with time_machine.travel(datetime(2031, 6, 2, 9, tzinfo=UTC), tick=False):
        svc.certificate_revoke(certificate=certificate, actor=staff_admin,
                               reason="Internal: fraud investigation 42")
        html = _verify(client, certificate.code).content.decode()
        data = api_client.get(reverse("api-certificate-verify", args=[certificate.code])).json()
    assert "This certificate was revoked on" in html
    assert "fraud" not in html and staff_admin.email not in html
    assert data["status"] == "revoked" and data["revoked_on"] == "2031-06-02"


def test_verification_api_returns_only_public_fields(api_client, certificate):
    data = api_client.get(reverse("api-certificate-verify", args=[certificate.code])).json()
    assert set(data) == {"number", "company", "country", "year", "valid_from", "valid_until",
                         "status", "revoked_on"}
    assert data["company"] == "Nordic Tours AB" and data["country"] == "SE"


def test_verification_page_leaks_no_private_data(client, certificate, company_admin):
    html = _verify(client, certificate.code).content.decode()
    for private in (company_admin.email, "certificates/", str(certificate.report_id) + "/",
                    certificate.company_name.lower() + "@"):
        assert private not in html


def test_unknown_code_is_a_clear_not_found(client, api_client, db):
    response = _verify(client, "ABCDEFGHJK23")
    assert response.status_code == 404
    assert "No certificate has the verification code" in response.content.decode()
    api = api_client.get(reverse("api-certificate-verify", args=["ABCDEFGHJK23"]))
    assert api.status_code == 404
    assert "No certificate has this verification code." in str(api.json())


def test_verification_is_rate_limited_per_client(client, api_client, certificate, monkeypatch):
    monkeypatch.setattr(VerifyThrottle, "rate", "3/min", raising=False)
    codes = ["ABCDEFGHJK23", certificate.code, "ZZZZZZZZZZZZ"]
    statuses = [_verify(client, code).status_code for code in codes]
    assert statuses == [404, 200, 404]
    blocked = _verify(client, certificate.code)
    assert blocked.status_code == 429 and "Retry-After" in blocked
    # a forged X-Forwarded-For does not give a fresh budget
    assert client.get(reverse("certificate-verify", args=[certificate.code]),
                      headers={"X-Forwarded-For": "203.0.113.9"}).status_code == 429
    # the API shares the page's budget: guessing cannot be spread over both
    api = api_client.get(reverse("api-certificate-verify", args=[certificate.code]))
    assert api.status_code == 429


# --- company pages and API -------------------------------------------------------------------------

@pytest.mark.parametrize("persona", ["company_admin", "reporter", "viewer", "staff_reviewer",
                                     "local_rep_sweden"])
def test_members_and_staff_download_the_pdf(persona, request, web_as, api_as, certificate):
    user = request.getfixturevalue(persona)
    response = web_as(user).get(reverse("certificate-pdf", args=[certificate.pk]))
    assert response.status_code == 200
    assert b"".join(response.streaming_content)[:5] == b"%PDF-"
    assert response["Content-Disposition"].endswith(f'"{certificate.number}.pdf"')
    api = api_as(user).get(reverse("api-certificate-pdf", args=[certificate.pk]))
    assert api.status_code == 200


def test_company_certificate_list_page(web_as, company_admin, certificate):
    response = web_as(company_admin).get(reverse("company-certificates",
                                                 args=[certificate.signatory_id]))
    html = response.content.decode()
    assert response.status_code == 200
    assert certificate.number in html and reverse("certificate-pdf", args=[certificate.pk]) in html
    dashboard = web_as(company_admin).get(reverse("company-dashboard",
                                                  args=[certificate.signatory_id]))
    assert reverse("company-certificates", args=[certificate.signatory_id]) in \
        dashboard.content.decode()


def test_verification_form_is_linked_from_every_page(client, db):
    page = client.get(reverse("certificate-verify-lookup"))
    assert page.status_code == 200
    assert f'href="{reverse("certificate-verify-lookup")}"' in page.content.decode()
    assert 'name="code"' in page.content.decode()


@pytest.mark.parametrize("persona", ["outsider", "local_rep_other_country"])
def test_others_get_404_on_every_certificate_page_and_endpoint(persona, request, web_as, api_as,
                                                               certificate):
    user = request.getfixturevalue(persona)
    web = web_as(user)
    assert web.get(reverse("certificate-pdf", args=[certificate.pk])).status_code == 404
    assert web.get(reverse("company-certificates",
                           args=[certificate.signatory_id])).status_code == 404
    assert web.get(reverse("staff-certificate", args=[certificate.pk])).status_code == 404
    api = api_as(user)
    assert api.get(reverse("api-certificate-detail", args=[certificate.pk])).status_code == 404
    assert api.get(reverse("api-certificate-pdf", args=[certificate.pk])).status_code == 404
    assert api.get(reverse("api-certificate-list")).json()["results"] == []


def test_anonymous_gets_nothing_but_verification(client, api_client, certificate):
    assert client.get(reverse("certificate-pdf", args=[certificate.pk])).status_code == 302
    assert api_client.get(reverse("api-certificate-list")).status_code in (401, 403)
    assert api_client.get(reverse("api-certificate-pdf", args=[certificate.pk])).status_code \
        in (401, 403)


def test_api_list_shows_own_certificates_with_status_and_pdf_link(api_as, company_admin,
                                                                   certificate):
    with time_machine.travel(APPROVED_AT + timedelta(days=1)):
        data = api_as(company_admin).get(reverse("api-certificate-list")).json()
    [row] = data["results"]
    assert row["number"] == certificate.number and row["status"] == "valid"
    assert row["pdf_url"].endswith(reverse("api-certificate-pdf", args=[certificate.pk]))


def _many_certificates(n: int) -> None:
    for _ in range(n):
        signatory = SignatoryFactory(active=True, status=SignatoryStatus.ACTIVE, country="SE")
        from tests.reporting.factories import ReportFactory

        report = ReportFactory(signatory=signatory, status="approved")
        svc.certificate_issue(report=report)


def _own_certificates(signatory, n: int) -> None:
    from tests.reporting.factories import ReportFactory

    start = 2040 + signatory.certificates.count()
    for year in range(start, start + n):
        svc.certificate_issue(report=ReportFactory(signatory=signatory, year=year,
                                                   status="approved"))


def _count(callable_) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = callable_()
        assert response.status_code == 200
    return len(ctx.captured_queries)


def test_certificate_lists_cost_the_same_with_more_rows(web_as, api_as, staff_admin):
    _many_certificates(3)
    page = lambda: web_as(staff_admin).get(reverse("staff-certificates"))  # noqa: E731
    # all bench certificates belong to companies in Sweden: one company's page with many rows
    company = SignatoryFactory(active=True, status=SignatoryStatus.ACTIVE)
    mine = lambda: web_as(staff_admin).get(reverse("company-certificates",  # noqa: E731
                                                   args=[company.pk]))
    _own_certificates(company, 2)
    own_few = (mine(), _count(mine))[1]
    _own_certificates(company, 8)
    assert _count(mine) == own_few
    api = lambda: api_as(staff_admin).get(reverse("api-certificate-list"))  # noqa: E731
    page(), api()  # warm-up: per-process caches (content types, session) are not per row
    few = (_count(page), _count(api))
    _many_certificates(27)  # more than the API's page size (25)
    assert (_count(page), _count(api)) == few


# --- staff -------------------------------------------------------------------------------------

def test_staff_revoke_and_reissue_from_the_page(web_as, staff_admin, certificate):
    web = web_as(staff_admin)
    url = reverse("staff-certificate", args=[certificate.pk])
    response = web.post(url, {"action": "revoke", "revoke-reason": "Withdrawn evidence"})
    assert response.status_code == 302
    certificate.refresh_from_db()
    assert certificate.revocation_reason == "Withdrawn evidence"

    response = web.post(url, {"action": "reissue", "reissue-reason": "Corrected"})
    new = Certificate.objects.get(replaces=certificate)
    assert response["Location"] == reverse("staff-certificate", args=[new.pk])
    assert new.number != certificate.number


def test_staff_revoke_and_reissue_through_the_api(api_as, staff_admin, certificate):
    api = api_as(staff_admin)
    response = api.post(reverse("api-certificate-revoke", args=[certificate.pk]),
                        {"reason": "Withdrawn evidence"}, format="json")
    assert response.status_code == 200
    assert response.json()["status"] == "revoked"
    assert response.json()["revocation_reason"] == "Withdrawn evidence"
    again = api.post(reverse("api-certificate-revoke", args=[certificate.pk]),
                     {"reason": "Twice"}, format="json")
    assert again.status_code in (400, 409)

    response = api.post(reverse("api-certificate-reissue", args=[certificate.pk]),
                        {"reason": "Corrected"}, format="json")
    assert response.status_code == 201
    new = Certificate.objects.get(replaces=certificate)
    assert response.json()["number"] == new.number != certificate.number
    assert response.json()["replaces"] == certificate.number
    actions = set(AuditEvent.objects.filter(actor=staff_admin).values_list("action", "object_id"))
    assert ("certificate.revoked", str(certificate.pk)) in actions
    assert ("certificate.reissued", str(new.pk)) in actions


def test_api_revoke_needs_a_reason_and_changes_nothing_without_one(api_as, staff_admin,
                                                                   certificate):
    response = api_as(staff_admin).post(reverse("api-certificate-revoke", args=[certificate.pk]),
                                        {"reason": ""}, format="json")
    assert response.status_code == 400
    assert "reason" in response.json()
    certificate.refresh_from_db()
    assert certificate.revoked_at is None


@pytest.mark.parametrize("persona, status", [("company_admin", 403), ("local_rep_sweden", 403),
                                             ("outsider", 404), ("local_rep_other_country", 404)])
def test_only_central_staff_revoke_or_reissue_through_the_api(persona, status, request, api_as,
                                                             certificate):
    api = api_as(request.getfixturevalue(persona))
    for name in ("api-certificate-revoke", "api-certificate-reissue"):
        response = api.post(reverse(name, args=[certificate.pk]), {"reason": "x"}, format="json")
        assert response.status_code == status
    certificate.refresh_from_db()
    assert certificate.revoked_at is None
    assert not Certificate.objects.filter(replaces=certificate).exists()


def test_revoke_needs_a_reason(web_as, staff_admin, certificate):
    response = web_as(staff_admin).post(reverse("staff-certificate", args=[certificate.pk]),
                                        {"action": "revoke", "revoke-reason": ""})
    assert response.status_code == 200
    certificate.refresh_from_db()
    assert certificate.revoked_at is None


def test_company_users_get_404_on_staff_certificate_pages(web_as, company_admin, certificate):
    web = web_as(company_admin)
    assert web.get(reverse("staff-certificates")).status_code == 404
    assert web.get(reverse("staff-certificate", args=[certificate.pk])).status_code == 404
    assert web.post(reverse("staff-certificate", args=[certificate.pk]),
                    {"action": "revoke", "revoke-reason": "x"}).status_code == 404
    assert web.post(reverse("staff-certificates-regenerate"), {"year": 2030}).status_code == 404
    certificate.refresh_from_db()
    assert certificate.revoked_at is None


def test_local_rep_reads_own_countries_certificates_but_cannot_revoke_or_regenerate(
        web_as, local_rep_sweden, certificate):
    web = web_as(local_rep_sweden)
    listing = web.get(reverse("staff-certificates")).content.decode()
    assert certificate.number in listing and "Regenerate" not in listing
    detail = web.get(reverse("staff-certificate", args=[certificate.pk])).content.decode()
    assert "Revoke the certificate" not in detail
    assert web.post(reverse("staff-certificate", args=[certificate.pk]),
                    {"action": "revoke", "revoke-reason": "x"}).status_code == 403
    assert web.post(reverse("staff-certificates-regenerate"), {"year": 2030}).status_code == 404
    certificate.refresh_from_db()
    assert certificate.revoked_at is None


def test_bulk_regeneration_rerenders_without_changing_numbers_or_codes(
        web_as, staff_admin, certificate, django_capture_on_commit_callbacks):
    _many_certificates(2)
    before = {c.pk: (c.number, c.code, c.rendered_at) for c in Certificate.objects.all()}
    web = web_as(staff_admin)
    with django_capture_on_commit_callbacks(execute=True):
        response = web.post(reverse("staff-certificates-regenerate"), {"year": 2030})
    job = CertificateRegeneration.objects.get()
    assert response["Location"] == reverse("staff-certificate-regeneration", args=[job.pk])
    assert (job.status, job.done, job.total, job.percent) == (RegenerationStatus.DONE, 3, 3, 100)
    after = {c.pk: (c.number, c.code, c.rendered_at) for c in Certificate.objects.all()}
    assert {k: v[:2] for k, v in after.items()} == {k: v[:2] for k, v in before.items()}
    assert all(after[k][2] != before[k][2] for k in before)  # each PDF re-rendered
    assert AuditEvent.objects.filter(action="certificate.regenerated").count() == 3
    progress = web.get(reverse("staff-certificate-regeneration", args=[job.pk]),
                       headers={"HX-Request": "true"})
    html = progress.content.decode()
    assert "3 of 3 certificates" in html and "hx-trigger" not in html  # finished: polling stops


def test_running_regeneration_page_polls_for_progress(web_as, staff_admin, certificate):
    job = CertificateRegeneration.objects.create(year=2030, requested_by=staff_admin, total=4,
                                                 done=1, status=RegenerationStatus.RUNNING)
    html = web_as(staff_admin).get(reverse("staff-certificate-regeneration",
                                           args=[job.pk])).content.decode()
    assert 'hx-trigger="every 1s"' in html and 'value="25"' in html


def test_regeneration_of_a_year_without_certificates_is_refused(web_as, staff_admin, db):
    response = web_as(staff_admin).post(reverse("staff-certificates-regenerate"), {"year": 2011},
                                        follow=True)
    assert "There are no certificates for 2011." in response.content.decode()
    assert not CertificateRegeneration.objects.exists()


def test_a_finished_regeneration_job_is_not_run_again(staff_admin, certificate):
    job = CertificateRegeneration.objects.create(year=2030, requested_by=staff_admin, total=1,
                                                 done=1, status=RegenerationStatus.DONE)
    rendered = Certificate.objects.get().rendered_at
    svc.regeneration_run(job_id=job.pk)
    assert Certificate.objects.get().rendered_at == rendered
