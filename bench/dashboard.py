"""Time and query count of the staff overview dashboard, its JSON and the annual summary PDF at
scale (default 100,000 signatories, 300,000 annual reports, 10,000,000 training records).

    createdb -h 127.0.0.1 -U postgres bench_dashboard
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench_dashboard .venv/bin/python bench/dashboard.py
    DATABASE_URL=postgres://… .venv/bin/python bench/dashboard.py --records 2000000  # ~10 min here
    DATABASE_URL=postgres://… .venv/bin/python bench/dashboard.py \\
        --signatories 10000 --reports 30000 --records 100000                        # a quick run

Seeding reuses the other benches' seeders, so the data has the same shape: signatories through
``manage.py seed_scale`` (every status, type, 30 countries), reports with ``bulk_create`` as in
``bench/reporting.py`` (five reporting years, statuses as in a real cycle), and training people,
completions and this year's headcounts with ``INSERT … SELECT generate_series`` as in
``bench/training_coverage.py`` (about 1.25 completions per person, three courses). Re-runs top
up. Each scenario is requested once to warm up, then ``--repeat`` times through the Django test
client, first with the cache cleared before each request (the figures computed), then with the
figures cached; printed: median and best wall time, time in SQL, number of queries. It asserts
nothing.

Use a database of its own: it writes millions of rows.
"""

from __future__ import annotations

import argparse
import math
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
from django.core.cache import cache  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, reset_queries  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.urls import reverse  # noqa: E402
from django.utils import timezone  # noqa: E402

from bench.reporting import personas, top_up_reports  # noqa: E402
from bench.training_coverage import PREFIX, courses, seed_orm, seed_postgres  # noqa: E402
from reporting.models import Questionnaire, Report  # noqa: E402
from signatories.models import Signatory  # noqa: E402
from training.models import Trainee, TrainingRecord  # noqa: E402


def top_up(signatories: int, reports: int, records: int, reviewer_ids: list[int]) -> None:
    have = Signatory.objects.count()
    if have < signatories:
        print(f"  seeding {signatories - have:,} signatories …", flush=True)
        started = time.perf_counter()
        call_command("seed_scale", signatories=signatories - have, seed=signatories,
                     batch_size=5000)
        print(f"  … in {time.perf_counter() - started:.0f} s", flush=True)
    top_up_reports(reports, Questionnaire.objects.get(year=2025, version=1), reviewer_ids)
    if TrainingRecord.objects.count() >= records * 0.95:
        return
    print(f"  seeding ~{records:,} training records (removing this script's earlier people "
          "first) …", flush=True)
    started = time.perf_counter()
    TrainingRecord.objects.filter(trainee__staff_reference__startswith=PREFIX).delete()
    Trainee.objects.filter(staff_reference__startswith=PREFIX).delete()
    total = Signatory.objects.count()
    people = max(1, math.ceil(records / total / 1.25))
    seed = seed_postgres if connection.vendor == "postgresql" else seed_orm
    seed(total, people, timezone.localdate().year, courses())
    print(f"  … in {time.perf_counter() - started:.0f} s", flush=True)


def measure(client: Client, url: str, repeat: int, *, cold: bool) -> dict:
    response = client.get(url)  # warm-up: connection, templates, fonts, query plans
    assert response.status_code == 200, (url, response.status_code)
    walls, sqls, counts = [], [], []
    for _ in range(repeat):
        if cold:
            cache.clear()  # the figures are computed again (see CACHE_SECONDS)
        reset_queries()
        with CaptureQueriesContext(connection) as ctx:
            started = time.perf_counter()
            response = client.get(url)
            walls.append((time.perf_counter() - started) * 1000)
        counts.append(len(ctx.captured_queries))
        sqls.append(sum(float(q["time"]) for q in ctx.captured_queries) * 1000)
    return {"median": statistics.median(walls), "best": min(walls),
            "sql": statistics.median(sqls), "queries": max(counts), "bytes": len(response.content)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--signatories", type=int, default=100_000)
    parser.add_argument("--reports", type=int, default=300_000)
    parser.add_argument("--records", type=int, default=10_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed-only", action="store_true")
    args = parser.parse_args()
    if not os.environ.get("DATABASE_URL"):
        sys.exit("Set DATABASE_URL to a database of its own: this writes millions of rows.")

    settings.DEBUG = False
    print(f"database: {connection.vendor} {connection.settings_dict['NAME']}")
    call_command("migrate", verbosity=0)
    users = personas()
    top_up(args.signatories, args.reports, args.records,
           [users[f"reviewer{i}"].pk for i in range(5)])
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
    print(f"\n{Signatory.objects.count():,} signatories, {Report.objects.count():,} reports, "
          f"{Trainee.objects.count():,} people, {TrainingRecord.objects.count():,} training "
          "records", flush=True)
    if args.seed_only:
        return

    clients = {}
    for key in ("staff", "local_rep"):
        clients[key] = Client()
        clients[key].force_login(users[key])
    year = timezone.localdate().year
    page, api = reverse("staff-dashboard"), reverse("api-staff-dashboard")
    pdf = reverse("staff-annual-summary", kwargs={"year": year})
    scenarios = [
        ("dashboard page (staff)", "staff", page),
        ("dashboard page, country + type", "staff", f"{page}?country=SE&type=hotel"),
        (f"dashboard page, {year - 1}", "staff", f"{page}?year={year - 1}"),
        ("dashboard page, local rep (SE, TH)", "local_rep", page),
        ("dashboard JSON (staff)", "staff", api),
        ("dashboard JSON, local rep (SE, TH)", "local_rep", api),
        ("annual summary PDF (staff)", "staff", pdf),
        ("annual summary PDF, local rep", "local_rep", pdf),
    ]
    header = f"{'scenario':<45} {'median ms':>9} {'best ms':>8} {'SQL ms':>8} {'queries':>7}"
    print(header)
    print("-" * len(header))
    for label, persona, url in scenarios:
        for cold in (True, False):
            r = measure(clients[persona], url, args.repeat, cold=cold)
            name = f"{label}, {'computed' if cold else 'cached'}"
            print(f"{name:<45} {r['median']:>9.0f} {r['best']:>8.0f} {r['sql']:>8.0f} "
                  f"{r['queries']:>7}", flush=True)


if __name__ == "__main__":
    main()
