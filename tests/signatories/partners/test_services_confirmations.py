"""Confirmation requests: sending (one, bulk, idempotent), answering from the link, replay and
expiry of links, validity of confirmations on the boundary day, and the audit trail."""

from datetime import UTC, date, datetime, timedelta
from unittest import mock

import pytest
import time_machine
from django.core import mail
from django.utils import timezone

from code_portal.errors import DomainError
from code_portal.models import AuditEvent
from signatories.partners import selectors, services, tokens
from signatories.partners.models import (
    LINK_VALID_DAYS,
    ConfirmationRequest,
    Partner,
    PartnerState,
    RequestStatus,
    valid_until_for,
)
from tests.signatories.partners.factories import PartnerFactory, RequestFactory, token_of

pytestmark = pytest.mark.django_db
R = RequestStatus


def _state(partner: Partner, today: date | None = None) -> str:
    return selectors.with_state(Partner.objects.filter(pk=partner.pk), today=today).get().state


def test_send_emails_an_unguessable_link_and_stores_only_its_hash(partner, company_admin, oncommit):
    with oncommit(execute=True):
        req = services.confirmation_request_send(actor=company_admin, partner=partner)
    assert req.status == R.PENDING
    assert len(mail.outbox) == 1
    body = mail.outbox[0].body
    token = tokens.token_for(req.token_salt)
    assert f"/partners/confirm/{token}/" in body
    assert len(token) >= 43  # 32 bytes, base64
    assert token not in req.token_hash and req.token_hash == tokens.token_hash(token)
    assert selectors.request_by_token(token) == req
    assert mail.outbox[0].to == ["gm@andaman.example"]
    assert AuditEvent.objects.filter(action="partner_confirmation.requested",
                                     signatory=partner.signatory).count() == 1


def test_sending_again_while_pending_creates_nothing(partner, company_admin, oncommit):
    with oncommit(execute=True):
        first = services.confirmation_request_send(actor=company_admin, partner=partner)
    with oncommit(execute=True):
        again = services.confirmation_request_send(actor=company_admin, partner=partner)
    assert again == first
    assert ConfirmationRequest.objects.filter(partner=partner).count() == 1
    assert len(mail.outbox) == 1


def test_bulk_send_of_1000_enqueues_batched_tasks_and_is_idempotent(company_a, company_admin,
                                                                    oncommit):
    Partner.objects.bulk_create([Partner(signatory=company_a, name=f"Hotel {i}", country="TH",
                                         contact_email=f"h{i}@hotel.example")
                                 for i in range(1000)])
    with mock.patch("signatories.partners.tasks.send_confirmation_emails.delay") as delay, \
            oncommit(execute=True):
        result = services.confirmation_requests_send(actor=company_admin, signatory=company_a)
    assert len(result.sent) == 1000
    # 10 tasks of 100 ids, scheduled on commit; no e-mail was sent in the request
    assert delay.call_count == 1000 // services.EMAIL_BATCH
    assert sorted(i for call in delay.call_args_list for i in call.args[0]) == sorted(result.sent)
    assert mail.outbox == []
    with mock.patch("signatories.partners.tasks.send_confirmation_emails.delay") as delay, \
            oncommit(execute=True):
        again = services.confirmation_requests_send(actor=company_admin, signatory=company_a)
    assert again.sent == [] and again.already_pending == 1000
    assert delay.call_count == 0
    assert ConfirmationRequest.objects.filter(signatory=company_a).count() == 1000


def test_email_task_sends_each_request_once(company_a, company_admin, oncommit):
    PartnerFactory.create_batch(3, signatory=company_a)
    with oncommit(execute=True):
        result = services.confirmation_requests_send(actor=company_admin, signatory=company_a)
    assert len(mail.outbox) == 3
    assert services.confirmation_emails_send(request_ids=result.sent) == 0  # re-delivered task
    assert len(mail.outbox) == 3


def test_partner_without_email_is_counted_not_sent(company_a, company_admin):
    PartnerFactory(signatory=company_a, contact_email="")
    result = services.confirmation_requests_send(actor=company_admin, signatory=company_a)
    assert result.without_email == 1 and result.sent == []


def test_confirm_records_the_answer_and_a_replay_cannot_change_it(partner):
    req = RequestFactory(partner=partner)
    services.confirmation_confirm(request_id=req.pk, name="Nok Suda", position="General manager",
                                  ip="203.0.113.9", user_agent="Mozilla/5.0 test")
    req.refresh_from_db()
    assert req.status == R.CONFIRMED
    assert (req.responder_name, req.ip_address, req.user_agent) == (
        "Nok Suda", "203.0.113.9", "Mozilla/5.0 test")
    assert req.guidelines_version.version == "2025-1"
    assert req.valid_until == valid_until_for(timezone.localdate())
    with pytest.raises(DomainError, match="already been answered"):
        services.confirmation_decline(request_id=req.pk, name="Someone", position="x",
                                      reason="changed my mind")
    with pytest.raises(DomainError, match="already been answered"):
        services.confirmation_confirm(request_id=req.pk, name="Other", position="Owner")
    req.refresh_from_db()
    assert req.status == R.CONFIRMED and req.responder_name == "Nok Suda"
    event = AuditEvent.objects.get(action="partner_confirmation.confirmed")
    assert event.signatory == partner.signatory and event.changes["ip"]["to"] == "203.0.113.9"


def test_decline_needs_a_reason_and_shows_as_declined(partner):
    req = RequestFactory(partner=partner)
    with pytest.raises(DomainError) as exc:
        services.confirmation_decline(request_id=req.pk, name="A", position="B", reason="  ")
    assert exc.value.field == "reason"
    services.confirmation_decline(request_id=req.pk, name="A", position="Owner",
                                  reason="We have no such policy yet.")
    req.refresh_from_db()
    assert req.status == R.DECLINED and req.decline_reason == "We have no such policy yet."
    assert _state(partner) == PartnerState.DECLINED


def test_expired_link_cannot_confirm_and_is_marked_expired(partner):
    with time_machine.travel(datetime(2026, 1, 10, 9, tzinfo=UTC), tick=False):
        req = RequestFactory(partner=partner)
    with time_machine.travel(datetime(2026, 1, 10, 9, tzinfo=UTC)
                             + timedelta(days=LINK_VALID_DAYS, seconds=1), tick=False):
        assert _state(partner) == PartnerState.EXPIRED
        with pytest.raises(DomainError, match="expired"):
            services.confirmation_confirm(request_id=req.pk, name="A", position="B")
        assert services.confirmation_requests_expire() == 1  # the daily job
        assert services.confirmation_requests_expire() == 0
    req.refresh_from_db()
    assert req.status == R.EXPIRED
    assert AuditEvent.objects.filter(action="partner_confirmation.expired").count() == 1


def test_link_works_until_the_last_second(partner):
    with time_machine.travel(datetime(2026, 1, 10, 9, tzinfo=UTC), tick=False):
        req = RequestFactory(partner=partner)
    with time_machine.travel(req.expires_at - timedelta(seconds=1), tick=False):
        services.confirmation_confirm(request_id=req.pk, name="A", position="B")


def test_confirmation_counts_until_the_day_before_the_anniversary(partner):
    with time_machine.travel(datetime(2026, 3, 10, 12, tzinfo=UTC), tick=False):
        req = RequestFactory(partner=partner)
        services.confirmation_confirm(request_id=req.pk, name="A", position="B")
    req.refresh_from_db()
    assert req.confirmed_on == date(2026, 3, 10) and req.valid_until == date(2027, 3, 9)
    qs = partner.signatory.__class__.objects.filter(pk=partner.signatory_id)
    assert selectors.confirmation_summary(qs, date(2027, 3, 9))["confirmed"] == 1
    assert selectors.confirmation_summary(qs, date(2027, 3, 10))["confirmed"] == 0
    assert selectors.confirmation_summary(qs, date(2026, 3, 9))["confirmed"] == 0
    assert _state(partner, today=date(2027, 3, 9)) == PartnerState.CONFIRMED
    assert _state(partner, today=date(2027, 3, 10)) == PartnerState.EXPIRED


@pytest.mark.parametrize(("given", "until"), [
    (date(2024, 2, 29), date(2025, 2, 28)),
    (date(2026, 1, 31), date(2027, 1, 30)),
    (date(2026, 12, 31), date(2027, 12, 30)),
])
def test_valid_until_edge_dates(given, until):
    assert valid_until_for(given) == until


def test_states_of_partners(company_a, company_admin):
    never = PartnerFactory(signatory=company_a)
    pending = PartnerFactory(signatory=company_a)
    RequestFactory(partner=pending)
    assert _state(never) == PartnerState.NEVER_ASKED
    assert _state(pending) == PartnerState.PENDING
    counts = selectors.partner_status_counts(Partner.objects.filter(signatory=company_a))
    assert counts[PartnerState.NEVER_ASKED] == 1 and counts[PartnerState.PENDING] == 1


def test_cancelled_link_no_longer_works(partner, company_admin):
    req = services.confirmation_request_send(actor=company_admin, partner=partner)
    services.confirmation_request_cancel(actor=company_admin, request=req)
    with pytest.raises(DomainError, match="withdrawn"):
        services.confirmation_confirm(request_id=req.pk, name="A", position="B")
    assert AuditEvent.objects.filter(action="partner_confirmation.cancelled").count() == 1


def test_viewer_cannot_send_or_edit(partner, viewer):
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        services.confirmation_request_send(actor=viewer, partner=partner)
    with pytest.raises(PermissionDenied):
        services.partner_update(actor=viewer, partner=partner, data={"name": "x"})


def test_new_link_from_an_expired_link_sends_a_fresh_request_to_the_address_on_file(partner,
                                                                                   oncommit):
    with time_machine.travel(datetime(2026, 1, 10, 9, tzinfo=UTC), tick=False):
        old = RequestFactory(partner=partner)
    with time_machine.travel(datetime(2026, 3, 1, 9, tzinfo=UTC), tick=False):
        with oncommit(execute=True):
            assert services.confirmation_new_link(request_id=old.pk) == "sent"
        assert services.confirmation_new_link(request_id=old.pk) == "pending"
    new = ConfirmationRequest.objects.filter(partner=partner, status=R.PENDING).get()
    assert new.pk != old.pk
    assert mail.outbox[-1].to == [partner.contact_email]
    assert token_of(new) in mail.outbox[-1].body


def test_new_link_from_a_used_link_tells_the_operator_once(partner, company_admin, oncommit):
    req = RequestFactory(partner=partner)
    services.confirmation_confirm(request_id=req.pk, name="A", position="B")
    mail.outbox.clear()
    with oncommit(execute=True):
        assert services.confirmation_new_link(request_id=req.pk) == "operator"
    with oncommit(execute=True):
        assert services.confirmation_new_link(request_id=req.pk) == "operator"
    assert [m.to for m in mail.outbox] == [[company_admin.email]]


def test_partner_crud_is_audited(company_a, company_admin, hotel_signatory):
    partner = services.partner_create(actor=company_admin, signatory=company_a,
                                      data={"name": "Beach Inn", "country": "TH"})
    services.partner_update(actor=company_admin, partner=partner, data={"city": "Krabi"})
    services.partner_link(actor=company_admin, partner=partner, linked=hotel_signatory)
    services.partner_delete(actor=company_admin, partner=partner)
    actions = list(AuditEvent.objects.filter(signatory=company_a).order_by("id")
                   .values_list("action", flat=True))
    assert actions == ["partner.created", "partner.edited", "partner.linked", "partner.deleted"]


def test_link_suggestions_by_name_and_country_or_website(partner, hotel_signatory, company_b):
    assert selectors.link_suggestions(partner) == [hotel_signatory]
    partner.name, partner.website = "Other name", ""
    partner.save()
    assert selectors.link_suggestions(partner) == []
