"""Certificates per second on one worker process, and the size of each PDF.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench .venv/bin/python bench/certificates.py
    .venv/bin/python bench/certificates.py --count 50          # SQLite, a quick run

Creates ``--count`` active signatories (bench-cert-… names cycling through Latin, Greek,
Cyrillic, Arabic, Thai and CJK), each with an approved report for ``--year``, then runs the
approval task body (``reporting.tasks.report_approved``: lock the report, take the year's
number, render the PDF with reportlab, store it, e-mail the admins — locmem backend, so no mail
leaves) one after the other in this process, as one solo worker process would. Printed: the
rate of the whole task, the rate of rendering alone (pure ``render_certificate``), and the PDF
size per script (min / median / max). Then a bulk regeneration of the year, timed.

It prints figures and asserts nothing. Earlier bench rows are deleted first (certificates,
reports and signatories whose names start with ``bench-cert-``). Use a database of its own.
"""

from __future__ import annotations

import argparse
import os
import statistics
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


def seed(count: int, year: int) -> list[tuple[int, str]]:
    questionnaire = Questionnaire.objects.order_by("-year", "-version").first()
    if questionnaire is None:
        raise SystemExit("no questionnaire: run manage.py migrate first")
    now = timezone.now()
    rows = []
    for i in range(count):
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--count", type=int, default=300)
    parser.add_argument("--year", type=int, default=2099)
    args = parser.parse_args()
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    call_command("migrate", verbosity=0)
    clean()
    rows = seed(args.count, args.year)
    print(f"database: {settings.DATABASES['default']['ENGINE'].rsplit('.', 1)[-1]}, "
          f"{args.count} approved reports for {args.year}")

    sizes: dict[str, list[int]] = {script: [] for script in SCRIPTS}
    started = time.perf_counter()
    for report_id, _script in rows:
        tasks.report_approved(report_id)
    elapsed = time.perf_counter() - started
    print(f"issue task (lock, number, render, store, e-mail): {args.count / elapsed:.1f} "
          f"certificates/s ({1000 * elapsed / args.count:.1f} ms each)")

    by_report = dict(rows)
    certificates = list(Certificate.objects.filter(report_id__in=by_report)
                        .select_related("signatory"))
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
