"""Approval → certificate, through the broker and a real Celery worker (Redis in CI).

Reuses the worker fixture of tests/code_portal/test_tasks_worker.py: a worker thread consuming a
private queue, real transactions so the worker's connection sees the committed approval.
"""

from __future__ import annotations

import threading

import pytest
from django.core import mail

from reporting import services
from reporting.models import Certificate
from tests.code_portal.test_tasks_worker import _wait_for, worker  # noqa: F401 (fixture)
from tests.reporting.certificate_helpers import submitted_report

pytestmark = [
    pytest.mark.celery_worker,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_approval_issues_the_certificate_and_mails_it_through_the_worker(
        worker, company_a, company_admin, staff_reviewer):  # noqa: F811
    report = submitted_report(company_a)

    services.report_approve(actor=staff_reviewer, report=report, overall_score="met")

    _wait_for(lambda: any(m.attachments for m in mail.outbox), "the certificate e-mail", 60)
    certificate = Certificate.objects.get(report=report)
    [message] = [m for m in mail.outbox if m.to == [company_admin.email]]
    assert certificate.number in message.subject
    assert message.attachments[0][0] == f"{certificate.number}.pdf"
    assert certificate.emailed_at is not None and certificate.pdf_size > 0
    assert worker.published == ["reporting.tasks.report_approved"]
    assert [name for name, _ in worker.ran] == ["reporting.tasks.report_approved"]
    assert worker.ran[0][1] != threading.get_ident()
