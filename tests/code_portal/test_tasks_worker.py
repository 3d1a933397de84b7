"""Task delivery through a real broker and a real Celery worker.

Every other test runs tasks eagerly. These start a real worker (celery's ``start_worker``: a
WorkController with its consumer, solo pool and broker connection, in a thread of this process)
on the broker the settings choose: Redis when ``REDIS_URL`` is set (CI), otherwise the embedded
filesystem broker. Services enqueue with ``transaction.on_commit``, so the tests use real
transactions (``transaction=True``): the worker reads the rows through its own database
connection, which only sees committed data.

E-mail: the worker runs in this process, so Django's locmem outbox is the one the worker thread
appends to; each test also records, through Celery's signals, that the task was published to
the broker and executed in the worker's thread, not eagerly in the test's.

Each test gets a queue of its own, so parallel test processes (pytest-xdist, each with its own
test database) and stale messages from an interrupted run never reach this worker; and the test
cache clears only its own keys (tests/conftest.py), never the Redis database the broker uses.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable

import pytest
from celery.contrib.testing.worker import start_worker
from celery.signals import before_task_publish, task_postrun, task_prerun
from django.core import mail
from django.core.mail.backends.locmem import EmailBackend as LocmemBackend
from django.db import connections, transaction

from code_portal.celery import app
from signatories import services

pytestmark = [
    pytest.mark.celery_worker,
    # serialized_rollback: the flush after each test must not leave the next transactional test
    # in this process without the rows data migrations install (or with clashing content types).
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

NEW_APPLICATION = "signatories.tasks.notify_staff_new_application"


def _application(name: str, email: str) -> dict:
    return {
        "data": {"legal_name": name, "type": "tour_operator", "country": "IE", "address": "Dublin",
                 "employees": 12, "contact_name": "Aoife", "contact_email": email},
        "applicant_email": email, "applicant_name": "Aoife", "password": "a-long-password-123",
    }


def _wait_for(condition: Callable[[], bool], what: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")


def _subjects() -> list[str]:
    return [message.subject for message in mail.outbox]


class Recorder:
    """What went to the broker (in this thread) and what ran, in which thread."""

    def __init__(self) -> None:
        self.published: list[str] = []
        self.ran: list[tuple[str, int]] = []

    def on_publish(self, sender=None, **kwargs):
        self.published.append(sender)

    def on_prerun(self, sender=None, **kwargs):
        self.ran.append((sender.name, threading.get_ident()))

    @staticmethod
    def on_postrun(**kwargs):
        # The worker thread's own database connection: close it after each task, or it would
        # outlive the test and keep the test database from being dropped.
        connections.close_all()


@pytest.fixture
def worker(settings, staff_reviewer):
    """A real worker consuming a private queue; yields the signal recorder."""
    queue = f"test-worker-{uuid.uuid4().hex}"
    settings.CELERY_TASK_ALWAYS_EAGER = False
    saved = app.conf.task_always_eager, app.conf.task_default_queue
    app.conf.task_always_eager = False
    app.conf.task_default_queue = queue  # read at every publish by celery's router
    recorder = Recorder()
    before_task_publish.connect(recorder.on_publish, weak=False)
    task_prerun.connect(recorder.on_prerun, weak=False)
    task_postrun.connect(recorder.on_postrun, weak=False)
    try:
        with start_worker(app, pool="solo", concurrency=1, queues=[queue],
                          perform_ping_check=False, loglevel="WARNING", shutdown_timeout=30):
            yield recorder
    finally:
        before_task_publish.disconnect(recorder.on_publish)
        task_prerun.disconnect(recorder.on_prerun)
        task_postrun.disconnect(recorder.on_postrun)
        app.conf.task_always_eager, app.conf.task_default_queue = saved
        with app.connection_for_write() as conn:
            conn.default_channel.queue_delete(queue)


def test_application_mail_to_staff_is_sent_by_the_worker_after_commit(worker, staff_reviewer):
    signatory = services.signatory_apply(**_application("Liffey Tours Ltd", "aoife@liffey.example"))

    _wait_for(lambda: "New application: Liffey Tours Ltd" in _subjects(), "the staff e-mail")
    message = next(m for m in mail.outbox if m.subject == "New application: Liffey Tours Ltd")
    assert staff_reviewer.email in message.to
    assert f"/staff/signatories/{signatory.pk}/" in message.body
    # Published to the broker by this thread, executed by the worker's thread.
    assert worker.published == [NEW_APPLICATION]
    assert [name for name, _thread in worker.ran] == [NEW_APPLICATION]
    assert worker.ran[0][1] != threading.get_ident()


def test_no_task_is_enqueued_when_the_transaction_rolls_back(worker):
    with pytest.raises(RuntimeError), transaction.atomic():
        services.signatory_apply(**_application("Ghost Travel Ltd", "ghost@ghost.example"))
        raise RuntimeError("something later in the same request failed")

    # A committed application afterwards goes through the same queue; once its mail is out,
    # the worker has drained everything that was sent before it.
    services.signatory_apply(**_application("Real Travel Ltd", "real@real.example"))
    _wait_for(lambda: "New application: Real Travel Ltd" in _subjects(), "the committed e-mail")

    assert not any("Ghost Travel" in subject for subject in _subjects())
    assert worker.published == [NEW_APPLICATION]  # only the committed application's task


class FlakyMailBackend(LocmemBackend):
    """Fails the first send with a connection error, like an SMTP server that is restarting."""

    failures_left = 1

    def send_messages(self, messages):
        if FlakyMailBackend.failures_left > 0:
            FlakyMailBackend.failures_left -= 1
            raise ConnectionRefusedError("SMTP server not answering")
        return super().send_messages(messages)


def test_worker_retries_a_mail_that_failed_for_a_transient_error(worker, settings):
    settings.EMAIL_BACKEND = f"{__name__}.FlakyMailBackend"
    FlakyMailBackend.failures_left = 1

    services.signatory_apply(**_application("Retry Rail Ltd", "ciara@retry.example"))

    _wait_for(lambda: "New application: Retry Rail Ltd" in _subjects(), "the retried e-mail")
    assert FlakyMailBackend.failures_left == 0
    assert _subjects().count("New application: Retry Rail Ltd") == 1
    # The first attempt failed, the retry went back through the broker and succeeded.
    assert [name for name, _thread in worker.ran] == [NEW_APPLICATION, NEW_APPLICATION]
