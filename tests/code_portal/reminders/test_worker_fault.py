"""Fault test: the worker is SIGKILLed in the middle of a fan-out, restarted, and every due
reminder is delivered exactly once.

A real worker *process* (``celery -A code_portal worker``, solo pool) runs against Redis and this
test's PostgreSQL database, with a mail backend that writes one file per delivered message after
a pause (tests/code_portal/reminders/slow_mail.py). The test publishes the daily scan as beat
does, lets the worker deliver a few of the 30 reminders, kills it with SIGKILL while a message
is in flight (claimed, not delivered), starts a new worker and waits.

What brings the rest back: the messages the dead worker held were never acknowledged (acks_late)
and Redis hands them out again after the visibility timeout (3 s here, via
``CELERY_VISIBILITY_TIMEOUT``); the notification it was sending is ``sending`` with an expired
lease (2 s here) and is claimed again; everything already ``sent`` is skipped.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone

from code_portal.celery import app
from code_portal.reminders.models import Notification, NotificationStatus
from signatories.models import MembershipRole, SignatoryStatus
from tests.code_portal.reminders.helpers import due_on
from tests.code_portal.reminders.slow_mail import delivered
from tests.factories import MembershipFactory, SignatoryFactory

pytestmark = [
    pytest.mark.skipif(
        connection.vendor != "postgresql" or not settings.REDIS_URL,
        reason="the fault test runs a worker process against PostgreSQL and Redis: set "
               "DATABASE_URL=postgres://… and REDIS_URL=redis://… (SQLite cannot be shared with "
               "a second process mid-test, the filesystem broker has no visibility timeout)"),
    pytest.mark.celery_worker,
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

ROOT = Path(__file__).resolve().parents[3]
COMPANIES = 30


def _database_url() -> str:
    db = connection.settings_dict
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return (f"postgres://{db['USER']}{password}@{db['HOST'] or '127.0.0.1'}:"
            f"{db['PORT'] or 5432}/{db['NAME']}")  # the test database (test_<name>)


def _start_worker(env: dict, log: Path) -> subprocess.Popen:
    return subprocess.Popen(  # noqa: S603 - our own venv's celery, fixed arguments
        [str(Path(sys.executable).parent / "celery"), "-A", "code_portal", "worker",
         "-P", "solo", "-c", "1", "-Q", env["REMINDERS_TEST_QUEUE"], "-l", "INFO",
         "--without-gossip", "--without-mingle", "--without-heartbeat",
         "-n", f"fault-{uuid.uuid4().hex[:8]}@%h"],
        cwd=ROOT, env=env, stdout=log.open("ab"), stderr=subprocess.STDOUT,
        start_new_session=True)


def _wait(condition, what: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.01)
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")


def test_worker_killed_mid_fan_out_then_restarted_delivers_every_reminder_once(tmp_path):
    due = timezone.localdate() + timedelta(days=30)
    names = []
    for i in range(COMPANIES):
        signatory = SignatoryFactory(legal_name=f"Fault Travel {i:02d} Ltd", active=True,
                                     status=SignatoryStatus.ACTIVE)
        due_on(signatory, due)
        MembershipFactory(signatory=signatory, role=MembershipRole.ADMIN)
        names.append(signatory.legal_name)

    mail_dir = tmp_path / "mail"
    mail_dir.mkdir()
    queue = f"test-fault-{uuid.uuid4().hex}"
    env = {**os.environ, "DATABASE_URL": _database_url(), "REDIS_URL": settings.REDIS_URL,
           "DJANGO_SETTINGS_MODULE": "tests.code_portal.reminders.worker_settings",
           "PYTHONPATH": str(ROOT), "REMINDERS_TEST_QUEUE": queue,
           "REMINDERS_TEST_MAIL_DIR": str(mail_dir), "REMINDERS_TEST_MAIL_PAUSE": "0.3",
           "CELERY_VISIBILITY_TIMEOUT": "3", "REMINDERS_SEND_LEASE_SECONDS": "2",
           "REMINDERS_SEND_BATCH_SIZE": "5", "CELERY_TASK_ALWAYS_EAGER": "false",
           "DB_CONN_MAX_AGE": "0"}
    env.pop("CELERY_BROKER_URL", None)
    log = tmp_path / "worker.log"
    first = _start_worker(env, log)
    second = None
    saved = app.conf.task_always_eager
    app.conf.task_always_eager = False
    try:
        # as beat would: the scan, by name, on the worker's queue
        app.send_task("code_portal.reminders.tasks.scan_reports_due", queue=queue)

        # kill it while a message is on the wire, with some delivered and most not yet
        in_flight = mail_dir / "in-flight"
        _wait(lambda: len(list(mail_dir.glob("*.eml"))) >= 7 and in_flight.exists(),
              "the fan-out to be under way", 90)
        os.killpg(first.pid, signal.SIGKILL)
        first.wait(10)
        before_restart = len(delivered(mail_dir))
        assert 7 <= before_restart < COMPANIES, "the kill must land mid fan-out"
        stuck = Notification.objects.filter(status=NotificationStatus.SENDING).count()

        second = _start_worker(env, log)
        _wait(lambda: Notification.objects.filter(status=NotificationStatus.SENT).count()
              == COMPANIES, "every notification to be sent after the restart", 120)
        time.sleep(4)  # anything redelivered late would still be counted below
    finally:
        app.conf.task_always_eager = saved
        for process in (first, second):
            if process is not None and process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(10)
        with app.connection_for_write() as conn:
            conn.default_channel.queue_delete(queue)

    subjects = delivered(mail_dir)
    per_company = Counter(next(n for n in names if n in s) for s in subjects)
    assert per_company == dict.fromkeys(names, 1), log.read_text()[-3000:]
    assert len(subjects) == COMPANIES
    assert stuck == 1  # the one that was in flight when the worker died
    assert Notification.objects.filter(status=NotificationStatus.SENT).count() == COMPANIES
