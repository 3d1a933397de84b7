"""Reminders for pending confirmation requests: on the configured days after sending, once per
occasion, with the same working link as the first e-mail."""

from datetime import UTC, datetime

import pytest
import time_machine
from django.core import mail

from signatories.partners import services, tasks
from tests.signatories.partners.factories import RequestFactory, token_of

pytestmark = pytest.mark.django_db

SENT = datetime(2026, 4, 1, 22, 30, tzinfo=UTC)


def _run(day: datetime, oncommit) -> int:
    with time_machine.travel(day, tick=False), oncommit(execute=True):
        return tasks.remind_pending_confirmations.delay().get()


def test_reminders_go_on_day_7_and_21_once_each_with_the_same_link(partner, oncommit):
    with time_machine.travel(SENT, tick=False):
        req = RequestFactory(partner=partner, language="en")
    assert _run(datetime(2026, 4, 7, 8, tzinfo=UTC), oncommit) == 0
    assert _run(datetime(2026, 4, 8, 8, tzinfo=UTC), oncommit) == 1
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [partner.contact_email]
    assert f"/partners/confirm/{token_of(req)}/" in message.body
    # the same day again (a second beat run, a retried task): nothing new
    assert _run(datetime(2026, 4, 8, 18, tzinfo=UTC), oncommit) == 0
    assert len(mail.outbox) == 1
    assert _run(datetime(2026, 4, 9, 8, tzinfo=UTC), oncommit) == 0
    assert _run(datetime(2026, 4, 22, 8, tzinfo=UTC), oncommit) == 1
    assert len(mail.outbox) == 2


def test_answered_cancelled_or_expired_requests_get_no_reminder(partner, company_a, oncommit):
    from tests.signatories.partners.factories import PartnerFactory

    with time_machine.travel(SENT, tick=False):
        answered = RequestFactory(partner=partner)
        services.confirmation_confirm(request_id=answered.pk, name="A", position="B")
        RequestFactory(partner=PartnerFactory(signatory=company_a), status="cancelled")
        # a link that runs out before the 21st day
        RequestFactory(partner=PartnerFactory(signatory=company_a),
                       expires_at=datetime(2026, 4, 5, tzinfo=UTC))
    assert _run(datetime(2026, 4, 8, 8, tzinfo=UTC), oncommit) == 0
    assert mail.outbox == []


def test_one_query_finds_the_requests_whatever_their_number(company_a, oncommit,
                                                             django_assert_max_num_queries):
    from tests.signatories.partners.factories import PartnerFactory

    with time_machine.travel(SENT, tick=False):
        for _ in range(30):
            RequestFactory(partner=PartnerFactory(signatory=company_a))
    with time_machine.travel(datetime(2026, 4, 8, 8, tzinfo=UTC), tick=False), \
            django_assert_max_num_queries(8):
        claimed = services.confirmation_reminders_claim()
    assert len(claimed) == 30
