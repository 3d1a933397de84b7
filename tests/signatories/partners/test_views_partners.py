"""Partner pages: tenant isolation (404 for the outsider on every page), roles, the public
link (confirm, used link, expired link, unknown link, rate limit), the hotel signatory's list,
staff rates and audit, bounded queries on lists."""

from datetime import timedelta

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from code_portal.models import StaffRole
from signatories.partners import services
from signatories.partners.models import ConfirmationRequest, PartnerImportJob, RequestStatus
from tests.factories import StaffFactory
from tests.signatories.partners.factories import PartnerFactory, RequestFactory, token_of

pytestmark = pytest.mark.django_db
R = RequestStatus


@pytest.fixture
def world(company_a, partner):
    req = RequestFactory(partner=partner)
    job = PartnerImportJob.objects.create(signatory=company_a, original_name="p.csv",
                                          file="partner-imports/x.csv")
    return {"a": company_a, "partner": partner, "req": req, "job": job}


def _company_urls(w) -> list[tuple[str, str]]:
    a, p, r, j = w["a"].pk, w["partner"].pk, w["req"].pk, w["job"].pk
    return [
        ("get", reverse("partner-list", args=[a])),
        ("post", reverse("partner-list", args=[a])),
        ("get", reverse("partner-create", args=[a])),
        ("get", reverse("partner-export", args=[a, "csv"])),
        ("get", reverse("partner-import", args=[a])),
        ("get", reverse("partner-import-template", args=[a, "xlsx"])),
        ("get", reverse("partner-import-detail", args=[a, j])),
        ("get", reverse("partner-import-progress", args=[a, j])),
        ("get", reverse("partner-detail", args=[a, p])),
        ("get", reverse("partner-edit", args=[a, p])),
        ("get", reverse("partner-delete", args=[a, p])),
        ("post", reverse("partner-send", args=[a, p])),
        ("post", reverse("partner-link", args=[a, p])),
        ("post", reverse("partner-request-cancel", args=[a, p, r])),
        ("get", reverse("partner-addressed-list", args=[a])),
        ("get", reverse("partner-addressed-answer", args=[a, r])),
        ("post", reverse("partner-addressed-answer", args=[a, r])),
        ("get", reverse("staff-partner-requests", args=[a])),
        ("get", reverse("staff-partner-confirmation", args=[r])),
    ]


def test_outsider_gets_404_on_every_company_page(web_as, outsider, world):
    client = web_as(outsider)
    for method, url in _company_urls(world):
        assert getattr(client, method)(url).status_code == 404, url
    world["req"].refresh_from_db()
    assert world["req"].status == R.PENDING
    assert world["partner"].__class__.objects.filter(pk=world["partner"].pk).exists()


def test_local_rep_of_another_country_gets_404(web_as, local_rep_other_country, world):
    client = web_as(local_rep_other_country)
    for method, url in _company_urls(world):
        if "/staff/" in url or "/partners/" in url and "partner-requests" not in url:
            assert getattr(client, method)(url).status_code == 404, url


def test_viewer_sees_the_list_but_cannot_change_anything(web_as, viewer, world):
    client = web_as(viewer)
    a, p = world["a"].pk, world["partner"].pk
    assert client.get(reverse("partner-list", args=[a])).status_code == 200
    assert client.get(reverse("partner-detail", args=[a, p])).status_code == 200
    assert client.get(reverse("partner-create", args=[a])).status_code == 403
    assert client.get(reverse("partner-edit", args=[a, p])).status_code == 403
    assert client.post(reverse("partner-delete", args=[a, p])).status_code == 403
    assert client.post(reverse("partner-list", args=[a]), {"scope": "all"}).status_code == 403
    assert client.post(reverse("partner-send", args=[a, p])).status_code == 403


def test_reporter_adds_a_partner_and_sends_a_request(web_as, reporter, company_a, oncommit):
    client = web_as(reporter)
    response = client.post(reverse("partner-create", args=[company_a.pk]), {
        "kind": "hotel", "name": "Lanta Sea House", "country": "TH",
        "contact_email": "owner@lanta.example", "carries_clause": "on"})
    assert response.status_code == 302
    partner = company_a.partners.get()
    with oncommit(execute=True):
        client.post(reverse("partner-send", args=[company_a.pk, partner.pk]))
    assert mail.outbox[0].to == ["owner@lanta.example"]
    page = client.get(reverse("partner-list", args=[company_a.pk])).content.decode()
    assert "Lanta Sea House" in page and "Pending" in page


def test_public_link_confirms_once_and_then_says_it_was_used(client, partner, company_admin,
                                                             web_as):
    req = RequestFactory(partner=partner, language="en")
    url = reverse("partner-confirm", args=[token_of(req)])
    page = client.get(url)
    assert page.status_code == 200
    assert "zero tolerance" in page.content.decode()
    assert page["Referrer-Policy"] == "same-origin"
    response = client.post(url, {"action": "confirm", "name": "Nok Suda",
                                 "position": "General manager",
                                 "date": timezone.localdate().isoformat(), "agree": "on"},
                           HTTP_USER_AGENT="Hotel browser 1.0", REMOTE_ADDR="198.51.100.7")
    assert response.status_code == 302
    req.refresh_from_db()
    assert req.status == R.CONFIRMED
    assert (req.ip_address, req.user_agent) == ("198.51.100.7", "Hotel browser 1.0")
    # replay: the page says it was used, and a second POST changes nothing
    again = client.get(url).content.decode()
    assert "already been used" in again and "Nok Suda" in again
    client.post(url, {"action": "decline", "name": "X", "position": "Y", "reason": "no"})
    req.refresh_from_db()
    assert req.status == R.CONFIRMED and req.responder_name == "Nok Suda"
    # the operator sees it
    page = web_as(company_admin).get(reverse("partner-list", args=[partner.signatory_id]))
    assert "Confirmed until" in page.content.decode()


def test_public_page_is_in_the_hotels_language(client, partner):
    req = RequestFactory(partner=partner, language="sv")
    page = client.get(reverse("partner-confirm", args=[token_of(req)])).content.decode()
    assert "nolltolerans" in page


def test_public_decline(client, partner):
    req = RequestFactory(partner=partner)
    url = reverse("partner-confirm", args=[token_of(req)])
    response = client.post(url, {"action": "decline", "name": "Somchai", "position": "Owner",
                                 "reason": "We do not agree to the clause."})
    assert response.status_code == 302
    req.refresh_from_db()
    assert req.status == R.DECLINED
    assert "already been used" in client.get(url).content.decode()


def test_expired_link_says_so_and_offers_a_new_one(client, partner, oncommit):
    req = RequestFactory(partner=partner, sent_at=timezone.now() - timedelta(days=40),
                         expires_at=timezone.now() - timedelta(days=10))
    url = reverse("partner-confirm", args=[token_of(req)])
    page = client.get(url).content.decode()
    assert "This link expired on" in page and "Ask for a new link" in page
    req.refresh_from_db()
    assert req.status == R.EXPIRED
    with oncommit(execute=True):
        page = client.post(reverse("partner-confirm-new-link", args=[token_of(req)]))
    assert "A new link has been sent" in page.content.decode()
    new = ConfirmationRequest.objects.get(partner=partner, status=R.PENDING)
    assert token_of(new) in mail.outbox[-1].body


def test_unknown_link_is_a_clear_404(client):
    response = client.get(reverse("partner-confirm", args=["x" * 43]))
    assert response.status_code == 404
    assert "This link does not work" in response.content.decode()


def test_public_link_is_rate_limited(client, partner, settings):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {
        **settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "partner_confirm": "3/min"}}
    from rest_framework.throttling import SimpleRateThrottle

    from signatories.partners.views import ConfirmThrottle

    ConfirmThrottle.THROTTLE_RATES = SimpleRateThrottle.THROTTLE_RATES = \
        settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]
    try:
        for _ in range(3):
            assert client.get(reverse("partner-confirm", args=["guess" * 9])).status_code == 404
        limited = client.get(reverse("partner-confirm", args=["guess" * 9]))
        assert limited.status_code == 429 and "Retry-After" in limited
        # one budget with the API
        api = client.get(reverse("api-partner-confirmation", args=["guess" * 9]))
        assert api.status_code == 429
    finally:
        from rest_framework.settings import api_settings

        ConfirmThrottle.THROTTLE_RATES = SimpleRateThrottle.THROTTLE_RATES = \
            api_settings.DEFAULT_THROTTLE_RATES


def test_hotel_signatory_sees_only_requests_addressed_to_it(web_as, company_a, company_b,
                                                            hotel_signatory, hotel_admin):
    ours = RequestFactory(partner=PartnerFactory(signatory=company_a, name="Andaman (A)",
                                                 linked_signatory=hotel_signatory))
    also = RequestFactory(partner=PartnerFactory(signatory=company_b, name="Andaman (B)",
                                                 linked_signatory=hotel_signatory))
    other = RequestFactory(partner=PartnerFactory(signatory=company_a, name="Unlinked hotel"))
    client = web_as(hotel_admin)
    page = client.get(reverse("partner-addressed-list", args=[hotel_signatory.pk]))
    text = page.content.decode()
    assert "Andaman (A)" in text and "Andaman (B)" in text and "Unlinked hotel" not in text
    # a request not addressed to the hotel is a 404 through its list
    assert client.get(reverse("partner-addressed-answer",
                              args=[hotel_signatory.pk, other.pk])).status_code == 404
    response = client.post(reverse("partner-addressed-answer", args=[hotel_signatory.pk, ours.pk]),
                           {"action": "confirm", "name": "GM", "position": "General manager",
                            "date": timezone.localdate().isoformat(), "agree": "on"})
    assert response.status_code == 302
    ours.refresh_from_db()
    also.refresh_from_db()
    assert ours.status == R.CONFIRMED and ours.responder_user == hotel_admin
    assert also.status == R.PENDING


def test_hotel_viewer_cannot_answer(web_as, company_a, hotel_signatory, hotel_viewer):
    req = RequestFactory(partner=PartnerFactory(signatory=company_a,
                                                linked_signatory=hotel_signatory))
    client = web_as(hotel_viewer)
    url = reverse("partner-addressed-answer", args=[hotel_signatory.pk, req.pk])
    assert client.get(url).status_code == 200
    assert client.post(url, {"action": "confirm", "name": "x", "position": "y",
                             "date": timezone.localdate().isoformat(),
                             "agree": "on"}).status_code == 403


def test_staff_rates_and_audit(web_as, staff_reviewer, local_rep_other_country, partner):
    req = RequestFactory(partner=partner)
    services.confirmation_confirm(request_id=req.pk, name="Nok", position="GM",
                                  ip="192.0.2.1", user_agent="UA-test")
    client = web_as(staff_reviewer)
    page = client.get(reverse("staff-partner-rates")).content.decode()
    assert partner.signatory.display_name in page and "100.0" in page
    audit = client.get(reverse("staff-partner-confirmation", args=[req.pk])).content.decode()
    assert "192.0.2.1" in audit and "UA-test" in audit and "2025-1" in audit
    rep = web_as(local_rep_other_country)
    assert partner.signatory.display_name not in rep.get(reverse("staff-partner-rates")).content.decode()
    assert rep.get(reverse("staff-partner-confirmation", args=[req.pk])).status_code == 404


def test_company_users_cannot_see_staff_pages(web_as, company_admin, partner):
    req = RequestFactory(partner=partner)
    client = web_as(company_admin)
    assert client.get(reverse("staff-partner-rates")).status_code == 404
    assert client.get(reverse("staff-partner-confirmation", args=[req.pk])).status_code == 404


def _seed(company, start, stop):
    for i in range(start, stop):
        partner = PartnerFactory(signatory=company, name=f"Hotel {i:03d}")
        if i % 2:
            RequestFactory(partner=partner)


@pytest.mark.parametrize("rows", [30, 60])
def test_partner_list_queries_do_not_grow_with_rows(web_as, company_admin, company_a, rows,
                                                    django_assert_max_num_queries):
    _seed(company_a, 0, rows)
    client = web_as(company_admin)
    with django_assert_max_num_queries(14):
        response = client.get(reverse("partner-list", args=[company_a.pk]))
    assert response.status_code == 200
    assert response.content.decode().count('name="partner"') == 25


@pytest.mark.parametrize("rows", [30, 60])
def test_staff_and_hotel_lists_queries_do_not_grow(web_as, staff_reviewer, hotel_admin,
                                                   hotel_signatory, rows,
                                                   django_assert_max_num_queries):
    from tests.factories import SignatoryFactory

    for i in range(rows):
        operator = SignatoryFactory(legal_name=f"Operator {i:03d}")
        RequestFactory(partner=PartnerFactory(signatory=operator, linked_signatory=hotel_signatory))
    client = web_as(staff_reviewer)
    # (+3: without Redis the cache of the per-country figures is a database table)
    with django_assert_max_num_queries(13):
        assert client.get(reverse("staff-partner-rates")).status_code == 200
    client = web_as(hotel_admin)
    with django_assert_max_num_queries(10):
        assert client.get(
            reverse("partner-addressed-list", args=[hotel_signatory.pk])).status_code == 200


def test_link_to_a_suggested_signatory(web_as, company_admin, partner, hotel_signatory):
    client = web_as(company_admin)
    page = client.get(reverse("partner-detail", args=[partner.signatory_id, partner.pk]))
    assert "Link to Andaman Beach Resort" in page.content.decode()
    client.post(reverse("partner-link", args=[partner.signatory_id, partner.pk]),
                {"linked_signatory": hotel_signatory.pk})
    partner.refresh_from_db()
    assert partner.linked_signatory == hotel_signatory
    # a signatory that is not a suggestion cannot be linked
    stranger = StaffFactory(staff_role=StaffRole.NONE)  # noqa: F841 (not a signatory)
    assert client.post(reverse("partner-link", args=[partner.signatory_id, partner.pk]),
                       {"linked_signatory": 999999}).status_code == 404


def test_export_lists_partners_with_their_state(web_as, company_admin, partner):
    response = web_as(company_admin).get(reverse("partner-export",
                                                 args=[partner.signatory_id, "csv"]))
    body = b"".join(response.streaming_content).decode()
    assert "Andaman Beach Resort" in body and "Never asked" in body
