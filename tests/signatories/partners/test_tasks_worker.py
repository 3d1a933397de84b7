"""Bulk confirmation requests through a real broker and worker (the worker set-up of
tests/code_portal/test_tasks_worker.py): the request enqueues batches, the worker sends each
e-mail once, and a redelivered batch sends nothing again."""

from __future__ import annotations

import pytest
from django.core import mail

from signatories.partners import services
from signatories.partners.models import ConfirmationRequest, Partner
from tests.code_portal.test_tasks_worker import _wait_for, worker  # noqa: F401 (fixture)

pytestmark = [
    pytest.mark.celery_worker,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

SEND = "signatories.partners.tasks.send_confirmation_emails"


def test_bulk_send_is_delivered_by_the_worker_once_per_partner(worker, company_a,  # noqa: F811
                                                               company_admin):
    Partner.objects.bulk_create([Partner(signatory=company_a, name=f"Hotel {i}", country="TH",
                                         contact_email=f"h{i}@hotel.example")
                                 for i in range(250)])

    result = services.confirmation_requests_send(actor=company_admin, signatory=company_a)

    _wait_for(lambda: len(mail.outbox) >= 250, "250 request e-mails")
    assert len(result.sent) == 250
    assert worker.published == [SEND] * 3  # batches of 100, published after commit
    assert sorted(m.to[0] for m in mail.outbox) == sorted(f"h{i}@hotel.example" for i in range(250))
    assert not ConfirmationRequest.objects.filter(emailed_at__isnull=True).exists()
    # a redelivered batch (late ack after a lost worker) finds every e-mail claimed
    assert services.confirmation_emails_send(request_ids=result.sent) == 0
    assert len(mail.outbox) == 250
