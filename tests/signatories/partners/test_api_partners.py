"""Partner API: CRUD and filters, requests (one, bulk), import, the hotel's requests, the
public token endpoints, and 404 for the outsider on every endpoint."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from rest_framework.test import APIClient

from code_portal.models import AuditEvent
from signatories.partners.models import ConfirmationRequest, Partner, PartnerImportJob, RequestStatus
from tests.signatories.partners.factories import PartnerFactory, RequestFactory, token_of

pytestmark = pytest.mark.django_db
R = RequestStatus


def test_outsider_gets_404_on_every_endpoint(api_as, outsider, partner):
    req = RequestFactory(partner=partner)
    job = PartnerImportJob.objects.create(signatory=partner.signatory, original_name="p.csv",
                                          file="partner-imports/x.csv")
    api = api_as(outsider)
    detail = reverse("api-partner-detail", args=[partner.pk])
    assert api.get(detail).status_code == 404
    assert api.patch(detail, {"name": "Hacked"}, format="json").status_code == 404
    assert api.delete(detail).status_code == 404
    assert api.get(reverse("api-partner-confirmation-requests", args=[partner.pk])).status_code == 404
    assert api.post(reverse("api-partner-confirmation-requests", args=[partner.pk])).status_code == 404
    assert api.post(reverse("api-partner-cancel", args=[partner.pk, req.pk])).status_code == 404
    assert api.get(reverse("api-partner-link-suggestions", args=[partner.pk])).status_code == 404
    assert api.post(reverse("api-partner-link", args=[partner.pk]),
                    {"linked_signatory": None}, format="json").status_code == 404
    assert api.post(reverse("api-partner-request-confirmations"),
                    {"signatory": partner.signatory_id}, format="json").status_code == 404
    assert api.post(reverse("api-partner-list"), {
        "signatory": partner.signatory_id, "name": "X", "country": "TH"},
        format="json").status_code == 404
    assert api.get(reverse("api-partner-import-detail", args=[job.pk])).status_code == 404
    upload = SimpleUploadedFile("p.csv", b"name,country\nA,TH\n", content_type="text/csv")
    assert api.post(reverse("api-partner-import"), {"signatory": partner.signatory_id,
                                                    "file": upload}).status_code == 404
    assert api.get(reverse("api-partner-request-list"),
                   {"signatory": partner.signatory_id}).status_code == 404
    query = f"?signatory={partner.signatory_id}"
    assert api.get(reverse("api-partner-request-detail", args=[req.pk]) + query).status_code == 404
    assert api.post(reverse("api-partner-request-confirm", args=[req.pk]) + query,
                    {"name": "x", "position": "y"}, format="json").status_code == 404
    assert api.post(reverse("api-partner-request-decline", args=[req.pk]) + query,
                    {"name": "x", "position": "y", "reason": "z"}, format="json").status_code == 404
    assert api.get(reverse("api-partner-list")).json()["count"] == 0
    partner.refresh_from_db()
    req.refresh_from_db()
    assert partner.name != "Hacked" and req.status == R.PENDING


def test_crud_with_filters(api_as, company_admin, company_a):
    api = api_as(company_admin)
    created = api.post(reverse("api-partner-list"), {
        "signatory": company_a.pk, "name": "Krabi Cliff Hotel", "country": "TH",
        "kind": "hotel", "contact_email": "gm@krabi.example", "carries_clause": True},
        format="json")
    assert created.status_code == 201, created.json()
    assert created.json()["state"] == "never_asked"
    pk = created.json()["id"]
    PartnerFactory(signatory=company_a, name="Bus Co", kind="transport", country="SE")
    listing = api.get(reverse("api-partner-list"), {"kind": "hotel", "country": "TH"}).json()
    assert [p["name"] for p in listing["results"]] == ["Krabi Cliff Hotel"]
    assert api.get(reverse("api-partner-list"), {"state": "never_asked"}).json()["count"] == 2
    patched = api.patch(reverse("api-partner-detail", args=[pk]), {"city": "Krabi"}, format="json")
    assert patched.json()["city"] == "Krabi"
    assert api.delete(reverse("api-partner-detail", args=[pk])).status_code == 204
    assert list(AuditEvent.objects.filter(signatory=company_a).order_by("id")
                .values_list("action", flat=True)) == ["partner.created", "partner.edited",
                                                       "partner.deleted"]


def test_viewer_reads_but_cannot_write(api_as, viewer, partner):
    api = api_as(viewer)
    assert api.get(reverse("api-partner-detail", args=[partner.pk])).status_code == 200
    assert api.patch(reverse("api-partner-detail", args=[partner.pk]), {"name": "x"},
                     format="json").status_code == 403
    assert api.post(reverse("api-partner-confirmation-requests", args=[partner.pk])).status_code == 403
    assert api.post(reverse("api-partner-request-confirmations"),
                    {"signatory": partner.signatory_id}, format="json").status_code == 403


def test_send_one_and_bulk(api_as, reporter, company_a, partner, oncommit):
    api = api_as(reporter)
    with oncommit(execute=True):
        one = api.post(reverse("api-partner-confirmation-requests", args=[partner.pk]))
    assert one.status_code == 201 and one.json()["status"] == "pending"
    others = PartnerFactory.create_batch(3, signatory=company_a)
    with oncommit(execute=True):
        bulk = api.post(reverse("api-partner-request-confirmations"),
                        {"signatory": company_a.pk}, format="json").json()
    assert len(bulk["sent"]) == 3 and bulk["already_pending"] == 1
    listed = api.get(reverse("api-partner-confirmation-requests", args=[others[0].pk])).json()
    assert listed["count"] == 1


def test_partner_list_queries_do_not_grow(api_as, company_admin, company_a,
                                          django_assert_max_num_queries):
    for i in range(40):
        RequestFactory(partner=PartnerFactory(signatory=company_a, name=f"H{i:02d}"))
    api = api_as(company_admin)
    with django_assert_max_num_queries(6):
        body = api.get(reverse("api-partner-list")).json()
    assert body["count"] == 40 and len(body["results"]) == 25


def test_public_endpoints_confirm_once(partner):
    req = RequestFactory(partner=partner)
    api = APIClient()
    token = token_of(req)
    shown = api.get(reverse("api-partner-confirmation", args=[token])).json()
    assert shown["status"] == "pending" and shown["guidelines_version"] == "2025-1"
    done = api.post(reverse("api-partner-confirmation-confirm", args=[token]),
                    {"name": "Nok", "position": "GM"}, format="json")
    assert done.status_code == 200 and done.json()["status"] == "confirmed"
    replay = api.post(reverse("api-partner-confirmation-decline", args=[token]),
                      {"name": "X", "position": "Y", "reason": "no"}, format="json")
    assert replay.status_code == 409
    assert ConfirmationRequest.objects.get(pk=req.pk).status == R.CONFIRMED
    assert api.get(reverse("api-partner-confirmation", args=["nope"])).status_code == 404


def test_hotel_answers_from_its_account_via_api(api_as, company_a, hotel_signatory, hotel_admin,
                                                outsider):
    req = RequestFactory(partner=PartnerFactory(signatory=company_a,
                                                linked_signatory=hotel_signatory))
    other = RequestFactory(partner=PartnerFactory(signatory=company_a))
    api = api_as(hotel_admin)
    listing = api.get(reverse("api-partner-request-list"), {"signatory": hotel_signatory.pk}).json()
    assert [r["id"] for r in listing["results"]] == [req.pk]
    url = reverse("api-partner-request-confirm", args=[req.pk]) + f"?signatory={hotel_signatory.pk}"
    assert api.post(url, {"name": "GM", "position": "Manager"}, format="json").status_code == 200
    assert api.post(reverse("api-partner-request-confirm", args=[other.pk])
                    + f"?signatory={hotel_signatory.pk}",
                    {"name": "GM", "position": "Manager"}, format="json").status_code == 404
    assert api_as(outsider).get(reverse("api-partner-request-list"),
                                {"signatory": hotel_signatory.pk}).status_code == 404


def test_import_via_api(api_as, company_admin, company_a, oncommit):
    api = api_as(company_admin)
    upload = SimpleUploadedFile("p.csv", b"name,country,carries_clause\nSea Inn,TH,yes\n",
                                content_type="text/csv")
    with oncommit(execute=True):
        response = api.post(reverse("api-partner-import"),
                            {"signatory": company_a.pk, "file": upload})
    assert response.status_code == 202
    job = api.get(reverse("api-partner-import-detail", args=[response.json()["id"]])).json()
    assert job["status"] == "done" and job["created_partners"] == 1
    assert Partner.objects.get(signatory=company_a).carries_clause is True


def test_bulk_send_ignores_partners_of_another_company(api_as, outsider, company_b, partner):
    api = api_as(outsider)
    result = api.post(reverse("api-partner-request-confirmations"),
                      {"signatory": company_b.pk, "partners": [partner.pk]}, format="json").json()
    assert result == {"sent": [], "already_pending": 0, "without_email": 0}
    assert not ConfirmationRequest.objects.filter(partner=partner).exists()


def test_staff_rates_are_scoped_to_the_local_reps_countries(api_as, local_rep_sweden,
                                                            local_rep_other_country, partner,
                                                            company_b):
    PartnerFactory(signatory=company_b)
    sweden = api_as(local_rep_sweden).get(reverse("api-partner-rates")).json()
    assert [row["country"] for row in sweden] == ["SE"]
    assert api_as(local_rep_other_country).get(reverse("api-partner-rates")).json() == []


def test_company_users_get_404_on_staff_rates(api_as, company_admin):
    assert api_as(company_admin).get(reverse("api-partner-rates")).status_code == 404
