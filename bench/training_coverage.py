"""Time and query count of training coverage at scale (default 1,000,000 records at 100,000
signatories).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench .venv/bin/python bench/training_coverage.py
    DATABASE_URL=postgres://… .venv/bin/python bench/training_coverage.py \\
        --signatories 10000 --records 100000                                   # a quick run

The database is topped up with ``manage.py seed_scale`` to ``--signatories`` signatories; then,
unless it already holds that many training records, every signatory gets people (five
departments, two in three customer-facing), about 1.25 completions per person over the last
four years of three catalogue courses (valid 24 months, 36 months, for ever) and a headcount
for this year, for ``--records`` completions in all. On PostgreSQL that is a few set-based
``INSERT … SELECT generate_series`` statements; on SQLite (small ``--records`` only) the ORM.

Then each scenario runs once to warm up and ``--repeat`` times measured. Printed: median and
best wall time, time spent in SQL, number of queries. The pages go through the Django test
client as a Code staff reviewer. It prints figures; it asserts nothing.

Use a database of its own: it writes millions of rows.
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import sys
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "code_portal.settings")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, reset_queries  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402

from code_portal.models import StaffRole, User  # noqa: E402
from signatories.models import Signatory  # noqa: E402
from training import selectors  # noqa: E402
from training.coverage import coverage_for, refreshers_due  # noqa: E402
from training.models import Course, Headcount, Trainee, TrainingRecord  # noqa: E402
from training.services import expiry_for  # noqa: E402

PREFIX = "BCH-"  # staff references of the people this script creates
DEPARTMENTS = ["Sales", "Front desk", "Guides", "Finance", "Management"]
COURSES = [("Bench coverage e-learning", 24), ("Bench coverage classroom", 36),
           ("Bench coverage induction", None)]


def courses() -> list[Course]:
    found = []
    for title, months in COURSES:
        course, _ = Course.objects.get_or_create(
            title=title, signatory=None,
            defaults={"provider": "Bench", "delivery_mode": "elearning", "language": "en",
                      "duration_hours": 2, "validity_months": months})
        found.append(course)
    return found


def seed_postgres(signatories: int, people: int, year: int, course_list: list[Course]) -> None:
    c1, c2, c3 = (c.pk for c in course_list)
    with connection.cursor() as cursor:
        cursor.execute("""
            INSERT INTO training_trainee (created_at, updated_at, signatory_id, staff_reference,
                                          name, email, department, is_customer_facing)
            SELECT now(), now(), s.id, %(prefix)s || s.id || '-' || g, '', '',
                   (%(departments)s::text[])[1 + (s.id + g) %% 5], (s.id + g) %% 3 <> 0
            FROM (SELECT id FROM signatories_signatory ORDER BY id LIMIT %(n)s) s
            CROSS JOIN generate_series(1, %(people)s) g
            ON CONFLICT DO NOTHING""",
                       {"prefix": PREFIX, "departments": DEPARTMENTS, "n": signatories,
                        "people": people})
        # ~1.25 completions per person, spread over four years; expiry as the service computes
        # it (PostgreSQL's month arithmetic also clamps 31 January + 1 month to February's end)
        cursor.execute("""
            INSERT INTO training_trainingrecord (created_at, updated_at, signatory_id, trainee_id,
                                                 course_id, completed_on, expires_on)
            SELECT now(), now(), t.signatory_id, t.id, c.course_id, d.day,
                   CASE WHEN c.months IS NULL THEN NULL
                        ELSE (d.day + make_interval(months => c.months))::date END
            FROM training_trainee t
            CROSS JOIN LATERAL generate_series(1, CASE WHEN t.id %% 4 = 0 THEN 2 ELSE 1 END) k
            CROSS JOIN LATERAL (SELECT current_date - ((t.id * 37 + k * 401) %% 1460)::int AS day) d
            JOIN (VALUES (0, %(c1)s, 24), (1, %(c2)s, 36), (2, %(c3)s, NULL::int))
                 AS c(slot, course_id, months) ON c.slot = (t.id + k) %% 3
            WHERE t.staff_reference LIKE %(like)s
            ON CONFLICT DO NOTHING""", {"c1": c1, "c2": c2, "c3": c3, "like": PREFIX + "%"})
        cursor.execute("""
            INSERT INTO training_headcount (created_at, updated_at, signatory_id, year, employees,
                                            customer_facing_employees)
            SELECT now(), now(), s.id, %(year)s, %(people)s * 3 / 2 + s.id %% 7,
                   (%(people)s * 3 / 2 + s.id %% 7) / 2
            FROM (SELECT id FROM signatories_signatory ORDER BY id LIMIT %(n)s) s
            ON CONFLICT DO NOTHING""", {"year": year, "people": people, "n": signatories})
        cursor.execute("ANALYZE")


def seed_orm(signatories: int, people: int, year: int, course_list: list[Course]) -> None:
    today = timezone.localdate()
    ids = list(Signatory.objects.order_by("id").values_list("id", flat=True)[:signatories])
    trainees = [Trainee(signatory_id=sid, staff_reference=f"{PREFIX}{sid}-{g}",
                        department=DEPARTMENTS[(sid + g) % 5], is_customer_facing=(sid + g) % 3 != 0)
                for sid in ids for g in range(1, people + 1)]
    Trainee.objects.bulk_create(trainees, batch_size=2000, ignore_conflicts=True)
    records = []
    for trainee in Trainee.objects.filter(staff_reference__startswith=PREFIX).iterator():
        for k in range(1, 3 if trainee.pk % 4 == 0 else 2):
            course = course_list[(trainee.pk + k) % 3]
            day = today - timedelta(days=(trainee.pk * 37 + k * 401) % 1460)
            records.append(TrainingRecord(signatory_id=trainee.signatory_id, trainee=trainee,
                                          course=course, completed_on=day,
                                          expires_on=expiry_for(course, day)))
    TrainingRecord.objects.bulk_create(records, batch_size=2000, ignore_conflicts=True)
    Headcount.objects.bulk_create(
        [Headcount(signatory_id=sid, year=year, employees=people * 3 // 2 + sid % 7,
                   customer_facing_employees=(people * 3 // 2 + sid % 7) // 2) for sid in ids],
        batch_size=2000, ignore_conflicts=True)


def top_up(signatories: int, records: int) -> None:
    have = Signatory.objects.count()
    if have < signatories:
        print(f"  seeding {signatories - have:,} signatories …", flush=True)
        call_command("seed_scale", signatories=signatories - have, seed=signatories,
                     batch_size=5000)
    if TrainingRecord.objects.count() >= records:
        return
    print("  seeding training (removing this script's earlier people first) …", flush=True)
    started = time.perf_counter()
    TrainingRecord.objects.filter(trainee__staff_reference__startswith=PREFIX).delete()
    Trainee.objects.filter(staff_reference__startswith=PREFIX).delete()
    people = max(1, math.ceil(records / signatories / 1.25))
    year = timezone.localdate().year
    seed = seed_postgres if connection.vendor == "postgresql" else seed_orm
    seed(signatories, people, year, courses())
    print(f"  … in {time.perf_counter() - started:.0f} s", flush=True)


def measure(action: Callable[[], object], repeat: int) -> dict:
    action()  # warm-up: connection, templates, query plans
    walls, sqls, counts = [], [], []
    for _ in range(repeat):
        reset_queries()  # the log is a bounded deque: a full one would hide these queries
        with CaptureQueriesContext(connection) as ctx:
            started = time.perf_counter()
            action()
            walls.append((time.perf_counter() - started) * 1000)
        counts.append(len(ctx.captured_queries))
        sqls.append(sum(float(q["time"]) for q in ctx.captured_queries) * 1000)
    return {"median": statistics.median(walls), "best": min(walls),
            "sql": statistics.median(sqls), "queries": max(counts)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--signatories", type=int, default=100_000)
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--xlsx", action="store_true",
                        help="Also time the XLSX export of every signatory (slow: openpyxl).")
    args = parser.parse_args()
    if not os.environ.get("DATABASE_URL"):
        sys.exit("Set DATABASE_URL to a database of its own: this writes millions of rows.")

    settings.DEBUG = False  # as in production: no query log outside the measurements
    print(f"database: {connection.vendor} {connection.settings_dict['NAME']}")
    call_command("migrate", verbosity=0)
    top_up(args.signatories, args.records)
    staff, _ = User.objects.get_or_create(
        email="bench-staff@example.org",
        defaults={"staff_role": StaffRole.REVIEWER, "is_staff": True, "full_name": "Bench Staff"})
    client = Client()
    client.force_login(staff)
    today = timezone.localdate()
    # a typical company of the seeded ones: the one in the middle
    company = Signatory.objects.order_by("id")[args.signatories // 2]

    def consume(response) -> int:
        body = (b"".join(response.streaming_content) if response.streaming
                else response.content)
        assert response.status_code == 200, response.status_code
        return len(body)

    scenarios = [
        (f"coverage_for: one signatory ({company.trainees.count()} people)",
         lambda: coverage_for(company, today)),
        ("refreshers due, all signatories (count)", lambda: refreshers_due(today).count()),
        ("staff coverage page (25 rows + count)",
         lambda: consume(client.get("/staff/training/"))),
        ("staff coverage page, country + type",
         lambda: consume(client.get("/staff/training/?country=SE&type=tour_operator"))),
        ("staff coverage page 1000", lambda: consume(client.get("/staff/training/?page=1000"))),
        ("coverage API, first page", lambda: consume(client.get("/api/v1/training/coverage/"))),
        ("company training page (coverage)",
         lambda: consume(client.get(f"/company/{company.pk}/training/"))),
        ("export: coverage of every signatory, CSV",
         lambda: consume(client.get("/staff/training/export/coverage.csv"))),
        ("export: one company's records, CSV",
         lambda: consume(client.get(f"/company/{company.pk}/training/export/records.csv"))),
    ]
    if args.xlsx:
        scenarios.append(("export: coverage of every signatory, XLSX",
                          lambda: consume(client.get("/staff/training/export/coverage.xlsx"))))

    counts = {"signatories": Signatory.objects.count(), "people": Trainee.objects.count(),
              "records": TrainingRecord.objects.count(),
              "followed": selectors.coverage_list_for(staff, today).count()}
    print(f"\n{counts['records']:,} training records, {counts['people']:,} people, "
          f"{counts['signatories']:,} signatories ({counts['followed']:,} followed for coverage)")
    header = f"{'scenario':<44} {'median ms':>10} {'best ms':>9} {'SQL ms':>9} {'queries':>7}"
    print(header)
    print("-" * len(header))
    for label, action in scenarios:
        r = measure(action, args.repeat)
        print(f"{label:<44} {r['median']:>10.1f} {r['best']:>9.1f} {r['sql']:>9.1f} "
              f"{r['queries']:>7}", flush=True)


if __name__ == "__main__":
    main()
