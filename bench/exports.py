"""Time and query count of the audit trail and of staff exports at scale.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench .venv/bin/python bench/exports.py \
        --signatories 100000 --events 1000000

Tops the database up (``manage.py seed_scale`` for signatories, then audit events written in
bulk, spread over signatories, actions and two years) and prints, for the audit pages and API
(median/best wall time, SQL time, queries), and for export jobs written by
``services.export_execute`` as the Celery task would (wall time, rows, rows/s, queries).
It prints figures; it asserts nothing. Use a database of its own.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from datetime import timedelta
from pathlib import Path
from unittest import mock

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "code_portal.settings")

import django  # noqa: E402

django.setup()

from django.contrib.contenttypes.models import ContentType  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402

from bench.signatory_list import measure, personas, top_up  # noqa: E402
from code_portal.models import AuditEvent  # noqa: E402
from code_portal.staff import services  # noqa: E402
from code_portal.staff.models import ExportJob  # noqa: E402
from signatories.models import Signatory  # noqa: E402

ACTIONS = ["signatory.approve", "signatory.flag_overdue", "signatory.suspend",
           "signatory.reinstate", "report.submitted", "report.approved", "training_record.created",
           "certificate.issued", "membership.joined"]

SCENARIOS = [
    ("audit page", "staff", "/staff/audit/"),
    ("audit page, action family + country", "staff", "/staff/audit/?action=signatory&country=SE"),
    ("audit page, one signatory", "staff", "/staff/audit/?signatory={sid}"),
    ("audit page, date range", "staff", "/staff/audit/?occurred_from={d1}&occurred_to={d2}"),
    ("audit page, page 200", "staff", "/staff/audit/?page=200"),
    ("audit page, local rep (SE, TH)", "local_rep", "/staff/audit/"),
    ("audit API", "staff", "/api/v1/audit-events/"),
    ("audit API, local rep (SE, TH)", "local_rep", "/api/v1/audit-events/"),
]

EXPORTS = [
    ("signatories, all, csv", "signatories", "csv", {}),
    ("signatories, all, xlsx", "signatories", "xlsx", {}),
    ("signatories, local rep, csv", "signatories", "csv", {}),
    ("audit trail, one month, csv", "audit", "csv", None),
    ("audit trail, one month, xlsx", "audit", "xlsx", None),
]


def top_up_events(total: int) -> int:
    have = AuditEvent.objects.count()
    if have >= total:
        return have
    print(f"  writing {total - have} audit events …", flush=True)
    rng = random.Random(total)
    ids = list(Signatory.objects.values_list("pk", "legal_name"))
    type_id = ContentType.objects.get_for_model(Signatory).pk
    now = timezone.now()
    batch = []
    for _ in range(total - have):
        pk, name = rng.choice(ids)
        batch.append(AuditEvent(
            occurred_at=now - timedelta(minutes=rng.randrange(2 * 365 * 24 * 60)),
            actor_label="bench-staff@example.org", action=rng.choice(ACTIONS),
            content_type_id=type_id, object_id=str(pk), object_repr=name, signatory_id=pk,
            from_state="active", to_state="suspended", reason="bench",
            changes={"status": {"from": "active", "to": "suspended"}}))
        if len(batch) == 10_000:
            AuditEvent.objects.bulk_create(batch)
            batch = []
    AuditEvent.objects.bulk_create(batch)
    return AuditEvent.objects.count()


def run_export(user, kind: str, fmt: str, params: dict) -> dict:
    with CaptureQueriesContext(connection) as ctx:
        started = time.perf_counter()
        # the job is run right here, as the task would: nothing goes to the broker
        with mock.patch("code_portal.staff.tasks.run_export.delay",
                        return_value=mock.Mock(id="bench")):
            job, _ = services.export_request(actor=user, kind=kind, fmt=fmt, params=params,
                                             allow_inline=False)
        with mock.patch("code_portal.staff.tasks.notify_export_finished.delay"):
            job = services.export_execute(job_id=job.pk)
        wall = time.perf_counter() - started
    size = job.file.size if job.file else 0
    job.file.delete(save=False)
    ExportJob.objects.filter(pk=job.pk).update(file="")
    return {"wall": wall, "rows": job.total_rows, "queries": len(ctx.captured_queries),
            "mb": size / 1e6}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--signatories", type=int, default=20_000)
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    print(f"database: {connection.vendor} {connection.settings_dict['NAME']}; "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    top_up(args.signatories)
    events = top_up_events(args.events)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
    users = personas()
    clients = {}
    for key, user in users.items():
        if user is not None:
            clients[key] = Client()
            clients[key].force_login(user)
    today = timezone.localdate()
    values = {"sid": Signatory.objects.order_by("pk").values_list("pk", flat=True).first(),
              "d1": today - timedelta(days=30), "d2": today}

    print(f"\n{Signatory.objects.count()} signatories, {events} audit events")
    header = f"{'scenario':<40} {'median ms':>9} {'best ms':>8} {'SQL ms':>7} {'queries':>7} {'HTTP':>4}"
    print(header + "\n" + "-" * len(header))
    for label, persona, url in SCENARIOS:
        r = measure(clients[persona], url.format(**values), args.repeat)
        print(f"{label:<40} {r['median']:>9.1f} {r['best']:>8.1f} {r['sql']:>7.1f} "
              f"{r['queries']:>7} {r['status']:>4}", flush=True)

    header = f"{'export job':<40} {'rows':>8} {'s':>7} {'rows/s':>8} {'MB':>6} {'queries':>7}"
    print("\n" + header + "\n" + "-" * len(header))
    for label, kind, fmt, params in EXPORTS:
        user = users["local_rep" if "local rep" in label else "staff"]
        if params is None:
            params = {"occurred_from": [str(values["d1"])], "occurred_to": [str(values["d2"])]}
        r = run_export(user, kind, fmt, params)
        print(f"{label:<40} {r['rows']:>8} {r['wall']:>7.1f} {r['rows'] / r['wall']:>8.0f} "
              f"{r['mb']:>6.1f} {r['queries']:>7}", flush=True)


if __name__ == "__main__":
    main()
