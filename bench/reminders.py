"""Reminder scans at scale (time, queries) and e-mails sent per second with the locmem backend.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench .venv/bin/python bench/reminders.py
    .venv/bin/python bench/reminders.py --signatories 2000       # SQLite, a quick run

Tops the database up to ``--signatories`` signatories with ``manage.py seed_scale`` (mixed
statuses, signing dates over ten years, an admin each and a reporter for every fourth), then
runs each daily scan once, as beat would, on today's UTC date: the due-soon scan, the overdue
scan (escalation switched off: at this scale thousands of seeded members have no report and
would be suspended one by one, which is not what is measured), the training refresher scan and
the application digest. For each: wall time, number of SQL queries, occasions claimed.

Then the sending side: ``--mails`` notifications delivered one after the other by the send
task's body (claim → render subject/text/HTML → locmem send → mark sent), as one solo worker
would, and printed as e-mails per second.

Everything runs inside a transaction that is rolled back at the end: no row is kept, no task is
published (the fan-out waits for a commit that never comes), and the bench can be re-run.
It prints figures and asserts nothing. Use a database of its own.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "code_portal.settings")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.core import mail  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.test.utils import CaptureQueriesContext, override_settings  # noqa: E402

from code_portal.models import User  # noqa: E402
from code_portal.reminders import scans, services  # noqa: E402
from code_portal.reminders.models import Notification, ReminderConfig  # noqa: E402
from signatories.models import Signatory  # noqa: E402


class Rollback(Exception):
    pass


def measure(label: str, scan) -> None:
    with CaptureQueriesContext(connection) as queries:
        started = time.perf_counter()
        result = scan()
        elapsed = time.perf_counter() - started
    claimed = len(result.claimed) if hasattr(result, "claimed") else len(result)
    print(f"  {label:<34} {elapsed:8.2f} s  {len(queries.captured_queries):4d} queries  "
          f"{claimed:6d} claimed")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--signatories", type=int, default=100_000)
    parser.add_argument("--mails", type=int, default=2000)
    args = parser.parse_args()

    missing = args.signatories - Signatory.objects.count()
    if missing > 0:
        print(f"Seeding {missing} signatories …")
        call_command("seed_scale", signatories=missing, seed=6, batch_size=5000)
    total = Signatory.objects.count()
    print(f"Database: {connection.vendor}, {total} signatories; scan date "
          f"{scans.scan_date()} (UTC)")

    connection.force_debug_cursor = False
    try:
        with transaction.atomic():
            ReminderConfig.objects.filter(kind="report-escalation").update(enabled=False)
            # three Code staff to receive the digests (two central, one local representative)
            for i, (role, countries) in enumerate([("admin", []), ("reviewer", []),
                                                   ("local_rep", ["SE", "TH"])]):
                User.objects.create(email=f"bench-staff-{i}@thecode.example", staff_role=role,
                                    staff_countries=countries)
            print("Scans (one run each, empty notification log):")
            measure("report due soon (60/30/7)", scans.scan_reports_due)
            measure("report overdue (+1, every 14 days)", scans.scan_reports_overdue)
            measure("training refreshers (30 days)", scans.scan_training_refreshers)
            measure("applications waiting (> 5 days)", scans.scan_applications_waiting)
            print("Re-run (everything already claimed):")
            measure("report due soon", scans.scan_reports_due)
            measure("report overdue", scans.scan_reports_overdue)

            context = {"company": "Nordic Fjord Adventures AB", "year": 2025,
                       "due_on": "2026-03-10", "days_left": 30, "optional": False,
                       "url": f"{settings.SITE_URL}/company/1/reports/"}
            Notification.objects.bulk_create([
                Notification(key=f"bench-mail-{i}", kind="report-due",
                             recipients=[f"admin{i}@example.org", f"reporter{i}@example.org"],
                             template="reminders/email/report_due", context=context,
                             reason="bench", language=("en", "sv", "fr")[i % 3])
                for i in range(args.mails)], batch_size=1000)
            ids = list(Notification.objects.filter(key__startswith="bench-mail-")
                       .values_list("id", flat=True))
            with override_settings(
                    EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend"):
                mail.outbox = []
                started = time.perf_counter()
                for notification_id in ids:
                    services.notification_deliver(notification_id)
                elapsed = time.perf_counter() - started
            print(f"Sending ({len(ids)} e-mails, claim + render text/HTML + locmem send + mark "
                  f"sent, one process):")
            print(f"  {len(mail.outbox)} sent in {elapsed:.2f} s = "
                  f"{len(mail.outbox) / elapsed:,.0f} e-mails/s")
            raise Rollback
    except Rollback:
        print("(rolled back: nothing kept)")


if __name__ == "__main__":
    main()
