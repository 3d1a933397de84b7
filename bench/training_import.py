"""Time and query count of a training import (default 10,000 rows).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench .venv/bin/python bench/training_import.py
    DATABASE_URL=sqlite:////tmp/bench.sqlite3 .venv/bin/python bench/training_import.py \
        --rows 2000 --format xlsx

A file of ``--rows`` completions (one person each, two courses, a tenth of the rows for people
without a staff reference) is written, checked as at upload (``check_import_file``) and imported
by the body of ``training.tasks.run_import`` (``importers.import_execute``) in this process.
Printed: the time of the upload check, of reading + validating, of writing the rows, and the
queries; then the same job is run again as if its worker had died (nothing may be created) and
once more when it is finished (it must exit at once). Every run starts from a company with no
training records. It prints figures; it asserts only that nothing was recorded twice.

Use a database of its own: it writes ``--rows`` people and completions (and deletes them at the
next run).
"""

from __future__ import annotations

import argparse
import csv
import io
import os
import sys
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "code_portal.settings")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.core.files.uploadedfile import SimpleUploadedFile  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, reset_queries  # noqa: E402
from django.template.loader import get_template  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.urls import reverse  # noqa: E402
from django.utils import timezone  # noqa: E402

from code_portal.celery import app  # noqa: E402
from code_portal.models import User  # noqa: E402
from signatories.models import Membership, MembershipRole, Signatory, SignatoryStatus  # noqa: E402
from training import importers  # noqa: E402
from training.importers import check_import_file  # noqa: E402
from training.models import Course, ImportJob, ImportStatus, Trainee, TrainingRecord  # noqa: E402

BENCH_NAME = "Bench Import Travel AB"
HEADER = ["staff_reference", "name", "department", "customer_facing", "course", "completed_on"]


def company() -> tuple[Signatory, User, list[Course]]:
    signatory = Signatory.objects.filter(legal_name=BENCH_NAME).first()
    if signatory is None:
        signatory = Signatory(legal_name=BENCH_NAME, type="tour_operator", country="SE",
                              address="Bench street 1", employees=20_000, contact_name="Bench",
                              contact_email="bench-import@example.org",
                              membership_number="TC-BENCH-IMPORT")
        signatory.__dict__["status"] = SignatoryStatus.ACTIVE  # protected FSM field
        signatory.signed_at = timezone.now()
        signatory.save()
    user, _ = User.objects.get_or_create(email="bench-importer@example.org",
                                         defaults={"full_name": "Bench Importer"})
    Membership.objects.get_or_create(user=user, signatory=signatory,
                                     defaults={"role": MembershipRole.REPORTER})
    courses = []
    for title, months in (("Bench e-learning", 24), ("Bench classroom", None)):
        course, _ = Course.objects.get_or_create(
            title=title, signatory=None,
            defaults={"provider": "Bench", "delivery_mode": "elearning", "language": "en",
                      "duration_hours": 2, "validity_months": months})
        courses.append(course)
    return signatory, user, courses


def build_file(rows: int, fmt: str, courses: list[Course]) -> bytes:
    today = timezone.localdate()
    data = []
    for i in range(rows):
        reference = "" if i % 10 == 9 else f"B{i:07d}"
        data.append([reference, f"Person {i}", ["Sales", "Front desk", "Guides", "Finance"][i % 4],
                     "yes" if i % 3 else "no", courses[i % 2].title,
                     (today - timedelta(days=1 + i % 700)).isoformat()])
    if fmt == "csv":
        out = io.StringIO(newline="")
        writer = csv.writer(out)
        writer.writerow(HEADER)
        writer.writerows(data)
        return out.getvalue().encode()
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Completions")
    sheet.append(HEADER)
    for row in data:
        sheet.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def run(job: ImportJob) -> dict:
    """One run of the task's body; the progress callback marks the end of reading."""
    marks: list[float] = []
    reset_queries()  # the log is a bounded deque: a full one would hide these queries
    started = time.perf_counter()
    with CaptureQueriesContext(connection) as queries:
        importers.import_execute(job_id=job.pk,
                                 on_progress=lambda *_: marks.append(time.perf_counter()))
    total = time.perf_counter() - started
    return {"total": total, "read": (marks[0] - started) if marks else total,
            "write": (marks[-1] - marks[0]) if marks else 0.0,
            "queries": len(queries.captured_queries)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--format", choices=["csv", "xlsx"], default="csv")
    args = parser.parse_args()
    if not os.environ.get("DATABASE_URL"):
        sys.exit("Set DATABASE_URL to a database of its own: this writes and deletes rows.")

    settings.DEBUG = False  # as in production: no query log outside the measurements
    print(f"database: {connection.vendor} {connection.settings_dict['NAME']}")
    call_command("migrate", verbosity=0)
    # the "import finished" e-mail task runs here, into a memory outbox, not to the broker
    app.conf.task_always_eager = True
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    signatory, user, courses = company()
    TrainingRecord.objects.filter(signatory=signatory).delete()
    Trainee.objects.filter(signatory=signatory).delete()
    ImportJob.objects.filter(signatory=signatory).delete()

    # one-off costs that are not the import's: loading the URLconf and the e-mail templates
    reverse("training-import-detail", args=[signatory.pk, 1])
    for suffix in ("_subject.txt", ".txt", ".html"):
        get_template(f"training/email/import_done{suffix}")

    content = build_file(args.rows, args.format, courses)
    name = f"bench.{args.format}"
    upload = SimpleUploadedFile(name, content)
    started = time.perf_counter()
    check_import_file(upload, filename=name)
    checked = time.perf_counter() - started
    job = ImportJob.objects.create(signatory=signatory, uploaded_by=user, original_name=name,
                                   file=SimpleUploadedFile(name, content))

    first = run(job)
    job.refresh_from_db()
    records = TrainingRecord.objects.filter(signatory=signatory).count()

    ImportJob.objects.filter(pk=job.pk).update(status=ImportStatus.RUNNING, finished_at=None)
    again = run(job)
    finished = run(job)
    after = TrainingRecord.objects.filter(signatory=signatory).count()

    print(f"\n{args.rows:,} rows, {args.format.upper()} of {len(content) / 1024:,.0f} KiB")
    print(f"{'run':<38} {'total s':>8} {'read s':>7} {'write s':>8} {'queries':>8} {'rows/s':>8}")
    print("-" * 82)
    print(f"{'check at upload':<38} {checked:>8.2f} {'':>7} {'':>8} {'':>8} "
          f"{args.rows / checked:>8,.0f}")
    for label, r in (("import", first), ("same job again (worker lost)", again),
                     ("same job again (finished)", finished)):
        rate = f"{args.rows / r['total']:>8,.0f}" if r["total"] else ""
        print(f"{label:<38} {r['total']:>8.2f} {r['read']:>7.2f} {r['write']:>8.2f} "
              f"{r['queries']:>8} {rate}")
    print(f"\nstatus {job.status}, {job.created_records:,} records created, "
          f"{job.skipped_duplicates} skipped, {len(job.errors)} rows with errors; "
          f"records after the re-runs: {after:,}", flush=True)
    assert records == after == args.rows, "an import recorded something twice"


if __name__ == "__main__":
    main()
