"""Certificates per second on one worker process, and the size of each PDF.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench .venv/bin/python bench/certificates.py
    .venv/bin/python bench/certificates.py --count 50          # SQLite, a quick run

Creates ``--count`` active signatories (bench-cert-… names cycling through Latin, Greek,
Cyrillic, Arabic, Thai and CJK), each with an approved report for ``--year``, and issues their
certificates twice over (two sets of ``--count`` reports):

1. **through one real worker process**: a ``celery worker --pool=solo`` subprocess on the
   configured broker (Redis with ``REDIS_URL``, else the filesystem broker), consuming a queue of
   its own; the reports' ``reporting.tasks.report_approved`` tasks are published to it and timed
   from the first publish until the last certificate's e-mail is marked sent (``--no-worker``
   skips this);
2. **the same task body in this process**, one after the other, without the broker.

The task locks the report, takes the year's number, renders the PDF with reportlab, stores it
and e-mails the admins (in-memory mail backend in both processes, so no mail leaves). Printed:
both rates, the rate of rendering alone (pure ``render_certificate``), and the PDF size per
script (min / median / max). Then a bulk regeneration of the year, timed.

It prints figures (and stops only if a report got no certificate). Earlier bench rows are
deleted first (certificates, reports and signatories whose names start with ``bench-cert-``).
Use a database of its own.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "code_portal.settings")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.utils import timezone  # noqa: E402

from code_portal.models import StaffRole, User  # noqa: E402
from reporting import certificates as svc  # noqa: E402
from reporting import tasks  # noqa: E402
from reporting.models import (  # noqa: E402
    Certificate,
    CertificateRegeneration,
    Questionnaire,
    Report,
    ReportStatus,
)
from reporting.pdf import render_certificate  # noqa: E402
from signatories.models import Membership, MembershipRole, Signatory, SignatoryStatus  # noqa: E402

NAMES = {
    "latin": "Nordic Fjord Adventures & Travel AB",
    "greek": "Ελληνικές Κρουαζιέρες Αιγαίου Α.Ε.",
    "cyrillic": "ООО «Байкальские Путешествия»",
    "arabic": "شركة السفر العربية للسياحة",
    "thai": "บริษัท สยาม ทัวร์ แอนด์ ทราเวล จำกัด",
    "cjk": "東京国際旅行株式会社",
}
SCRIPTS = list(NAMES)
PREFIX = "bench-cert-"


def clean() -> None:
    signatories = Signatory.objects.filter(contact_email__startswith=PREFIX)
    certificates = Certificate.objects.filter(signatory__in=signatories)
    for certificate in certificates:
        certificate.pdf.delete(save=False)
    Certificate.history.filter(signatory_id__in=signatories.values("pk")).delete()
    # re-issues point at their predecessors (PROTECT): newest first
    for certificate in certificates.order_by("-pk"):
        certificate.delete()
    Report.objects.filter(signatory__in=signatories).delete()
    User.objects.filter(email__startswith=PREFIX).delete()
    signatories.delete()
    CertificateRegeneration.objects.filter(requested_by__isnull=True).delete()


def seed(count: int, year: int, start: int = 0) -> list[tuple[int, str]]:
    questionnaire = Questionnaire.objects.order_by("-year", "-version").first()
    if questionnaire is None:
        raise SystemExit("no questionnaire: run manage.py migrate first")
    now = timezone.now()
    rows = []
    for i in range(start, start + count):
        script = SCRIPTS[i % len(SCRIPTS)]
        signatory = Signatory.objects.create(
            legal_name=f"{NAMES[script]} {i}", type="tour_operator", country="SE",
            address="Bench street 1", employees=10, contact_name="Bench",
            contact_email=f"{PREFIX}{i}@bench.example", status=SignatoryStatus.ACTIVE,
            approved_at=now, signed_at=now, member_since=timezone.localdate(),
            membership_number=f"BENCH-{i:06d}")
        admin = User.objects.create_user(email=f"{PREFIX}admin{i}@bench.example",
                                         password=None)
        Membership.objects.create(signatory=signatory, user=admin, role=MembershipRole.ADMIN)
        report = Report(signatory=signatory, year=year, questionnaire=questionnaire,
                        due_on=timezone.localdate(), submission_count=1, submitted_at=now,
                        decided_at=now)
        report.__dict__["status"] = ReportStatus.APPROVED  # protected FSM field, set before save
        report.save()
        rows.append((report.pk, script))
    return rows


QUEUE = "bench-certificates"


def issue_through_worker(report_ids: list[int]) -> float:
    """Seconds for one solo worker process to run the approval task of every report."""
    from code_portal.celery import app

    env = {**os.environ, "EMAIL_URL": "memorymail://", "CELERY_TASK_ALWAYS_EAGER": "false"}
    hostname = f"bench-certificates-{os.getpid()}@localhost"
    worker = subprocess.Popen(  # noqa: S603 (our own celery, fixed arguments)
        [sys.executable, "-m", "celery", "-A", "code_portal", "worker", "--pool=solo",
         "--concurrency=1", "-Q", QUEUE, "-n", hostname, "--without-gossip",
         "--without-mingle", "--loglevel=WARNING"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while not app.control.ping(destination=[hostname], timeout=1):
            if worker.poll() is not None or time.monotonic() > deadline:
                raise SystemExit("the bench worker did not start")
        started = time.perf_counter()
        for report_id in report_ids:
            tasks.report_approved.apply_async((report_id,), queue=QUEUE)
        pending = Certificate.objects.filter(report_id__in=report_ids, emailed_at__isnull=False)
        deadline = time.monotonic() + 60 + 2 * len(report_ids)
        while pending.count() < len(report_ids):
            if worker.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"the bench worker stopped after {pending.count()} certificates")
            time.sleep(0.05)
        return time.perf_counter() - started
    finally:
        worker.terminate()
        worker.wait(30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--count", type=int, default=300)
    parser.add_argument("--year", type=int, default=2099)
    parser.add_argument("--no-worker", action="store_true",
                        help="skip the run through a real worker process")
    args = parser.parse_args()
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    call_command("migrate", verbosity=0)
    clean()
    rows = seed(args.count, args.year)
    worker_rows = [] if args.no_worker else seed(args.count, args.year, start=args.count)
    print(f"database: {settings.DATABASES['default']['ENGINE'].rsplit('.', 1)[-1]}, "
          f"broker: {settings.CELERY_BROKER_URL.split(':', 1)[0]}, "
          f"{len(rows) + len(worker_rows)} approved reports for {args.year}")

    if worker_rows:
        elapsed = issue_through_worker([report_id for report_id, _script in worker_rows])
        print(f"one worker process (--pool=solo), published through the broker: "
              f"{args.count / elapsed:.1f} certificates/s ({1000 * elapsed / args.count:.1f} ms "
              f"each, {args.count} tasks)")

    started = time.perf_counter()
    for report_id, _script in rows:
        tasks.report_approved(report_id)
    elapsed = time.perf_counter() - started
    print(f"task body in this process (lock, number, render, store, e-mail): "
          f"{args.count / elapsed:.1f} certificates/s ({1000 * elapsed / args.count:.1f} ms each)")

    by_report = dict(rows + worker_rows)
    certificates = list(Certificate.objects.filter(report_id__in=by_report)
                        .select_related("signatory"))
    assert len(certificates) == len(by_report), "a report got no certificate"
    sizes: dict[str, list[int]] = {script: [] for script in SCRIPTS}
    for certificate in certificates:
        sizes[by_report[certificate.report_id]].append(certificate.pdf_size)

    data = [svc.certificate_data(c) for c in certificates]
    started = time.perf_counter()
    for item in data:
        render_certificate(item)
    render_elapsed = time.perf_counter() - started
    print(f"render only (reportlab): {len(data) / render_elapsed:.1f} PDFs/s "
          f"({1000 * render_elapsed / len(data):.1f} ms each)")

    print("\nPDF size by script of the company name (bytes):")
    print(f"{'script':<10} {'n':>4} {'min':>8} {'median':>8} {'max':>8}")
    for script, values in sizes.items():
        if values:
            print(f"{script:<10} {len(values):>4} {min(values):>8} "
                  f"{int(statistics.median(values)):>8} {max(values):>8}")
    every = [size for values in sizes.values() for size in values]
    print(f"{'all':<10} {len(every):>4} {min(every):>8} {int(statistics.median(every)):>8} "
          f"{max(every):>8}   (target: under 100,000)")

    staff = User.objects.filter(staff_role=StaffRole.ADMIN).first()
    job = CertificateRegeneration.objects.create(year=args.year, requested_by=staff,
                                                 total=len(certificates))
    started = time.perf_counter()
    svc.regeneration_run(job_id=job.pk)
    elapsed = time.perf_counter() - started
    print(f"\nbulk regeneration of {args.year}: {len(certificates) / elapsed:.1f} "
          f"certificates/s ({elapsed:.1f} s for {len(certificates)})")
    job.delete()


if __name__ == "__main__":
    main()
