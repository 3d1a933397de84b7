"""A large staff export through the broker and a real Celery worker (Redis in CI).

Reuses the worker fixture of tests/code_portal/test_tasks_worker.py: a worker thread consuming a
private queue; real transactions, so the worker's connection sees the committed job.
"""

from __future__ import annotations

import csv
import io
import threading

import pytest
from django.core import mail
from django.urls import reverse

from code_portal.staff.models import ExportJob, ExportStatus
from signatories.models import SignatoryStatus
from tests.code_portal.test_tasks_worker import _wait_for, worker  # noqa: F401 (fixture)
from tests.factories import SignatoryFactory

pytestmark = [
    pytest.mark.celery_worker,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_large_export_is_written_by_the_worker_and_mailed_with_its_link(
        worker, client, staff_reviewer, settings):  # noqa: F811
    settings.STAFF_EXPORT_INLINE_MAX_ROWS = 10
    for i in range(40):
        SignatoryFactory(legal_name=f"Worker Co {i:02d}", country="SE" if i % 2 else "TH",
                         active=True, status=SignatoryStatus.ACTIVE)
    client.force_login(staff_reviewer)

    response = client.post(reverse("staff-export-create"),
                           {"kind": "signatories", "format": "csv", "query": "country=SE"})

    job = ExportJob.objects.get()
    assert response.status_code == 302 and job.status in (ExportStatus.PENDING,
                                                          ExportStatus.RUNNING,
                                                          ExportStatus.DONE)
    _wait_for(lambda: ExportJob.objects.get(pk=job.pk).status == ExportStatus.DONE,
              "the export job", 60)
    _wait_for(lambda: any(staff_reviewer.email in m.to for m in mail.outbox), "the e-mail", 30)
    job.refresh_from_db()
    assert job.total_rows == job.processed_rows == 20
    assert job.task_id
    download = client.get(reverse("staff-export-download", args=[job.pk]))
    rows = list(csv.reader(io.StringIO(b"".join(download.streaming_content).decode()[1:])))
    assert [r[2] for r in rows[1:]] == [f"Worker Co {i:02d}" for i in range(1, 40, 2)]
    [message] = [m for m in mail.outbox if staff_reviewer.email in m.to]
    assert reverse("staff-export-detail", args=[job.pk]) in message.body
    ran = [name for name, _ in worker.ran]
    assert ran == ["code_portal.staff.tasks.run_export",
                   "code_portal.staff.tasks.notify_export_finished"]
    assert all(ident != threading.get_ident() for _, ident in worker.ran)
