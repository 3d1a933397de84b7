"""Time and query count of the signatory lists at scale.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench .venv/bin/python bench/signatory_list.py \
        --sizes 1000 100000

For each size (ascending) the database is topped up with ``manage.py seed_scale`` until it holds
that many signatories, then every scenario is requested through the Django test client: one
warm-up request, then ``--repeat`` measured ones. Printed: median and best wall time, the time
spent in SQL, the number of queries and the response status. It prints figures; it asserts
nothing. ``--fresh`` first empties the signatory and user tables (and what hangs off them).

Use a database of its own: it writes 100k rows.
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

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from code_portal.models import StaffRole, User  # noqa: E402
from signatories.models import Signatory  # noqa: E402

# (label, persona, URL). Filters and search match the mix that seed_scale writes.
SCENARIOS = [
    ("staff list page", "staff", "/staff/signatories/"),
    ("staff list page, filtered + searched", "staff",
     "/staff/signatories/?status=active&status=reporting_overdue&country=SE&country=TH"
     "&type=tour_operator&search=nordic"),
    # "4242" matches a few dozen names (a person looking for one company); "coral" matches
    # one name in eighteen (seed_scale draws the first word from 18).
    ("staff list page, search (selective)", "staff", "/staff/signatories/?search=4242"),
    ("staff list page, search (broad)", "staff", "/staff/signatories/?search=coral"),
    ("staff list page, page 200", "staff", "/staff/signatories/?page=200"),
    ("API list", "staff", "/api/v1/signatories/"),
    ("API list, filtered + searched", "staff",
     "/api/v1/signatories/?status=active&status=reporting_overdue&country=SE&country=TH"
     "&type=tour_operator&search=nordic"),
    ("API list, local representative (SE, TH)", "local_rep", "/api/v1/signatories/"),
    ("public members page, searched", None, "/members/?q=4242"),
    ("public API list", None, "/api/v1/public/signatories/"),
]


def personas() -> dict[str, User | None]:
    staff, _ = User.objects.get_or_create(
        email="bench-staff@example.org",
        defaults={"staff_role": StaffRole.REVIEWER, "is_staff": True, "full_name": "Bench Staff"})
    rep, _ = User.objects.get_or_create(
        email="bench-lcr@example.org",
        defaults={"staff_role": StaffRole.LOCAL_REP, "staff_countries": ["SE", "TH"],
                  "full_name": "Bench Local Rep"})
    return {"staff": staff, "local_rep": rep, None: None}


def empty_tables() -> None:
    """Every signatory and every user, and all that hangs off them: a bench database only."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"TRUNCATE {Signatory._meta.db_table}, {User._meta.db_table} CASCADE")
    else:
        Signatory.objects.all().delete()
        User.objects.all().delete()


def top_up(size: int) -> int:
    have = Signatory.objects.count()
    if have < size:
        print(f"  seeding {size - have} signatories …", flush=True)
        call_command("seed_scale", signatories=size - have, seed=size, batch_size=5000)
    return Signatory.objects.count()


def measure(client: Client, url: str, repeat: int) -> dict:
    client.get(url)  # warm-up: connection, template loading, query plans
    walls, sqls, counts, status = [], [], [], None
    for _ in range(repeat):
        with CaptureQueriesContext(connection) as ctx:
            started = time.perf_counter()
            response = client.get(url)
            walls.append((time.perf_counter() - started) * 1000)
        status = response.status_code
        counts.append(len(ctx.captured_queries))
        sqls.append(sum(float(q["time"]) for q in ctx.captured_queries) * 1000)
    return {"median": statistics.median(walls), "best": min(walls),
            "sql": statistics.median(sqls), "queries": max(counts), "status": status}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 100_000])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--fresh", action="store_true",
                        help="Empty the signatory and user tables first (a bench database only).")
    args = parser.parse_args()

    print(f"database: {connection.vendor} {connection.settings_dict['NAME']}; "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    call_command("migrate", verbosity=0)
    if args.fresh:
        empty_tables()
    users = personas()
    clients = {}
    for key, user in users.items():
        clients[key] = Client()
        if user is not None:
            clients[key].force_login(user)

    header = f"{'scenario':<42} {'median ms':>9} {'best ms':>8} {'SQL ms':>7} {'queries':>7} {'HTTP':>4}"
    for size in sorted(args.sizes):
        total = top_up(size)
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                # VACUUM as autovacuum would have: sets the visibility map, so COUNT(*) can use
                # an index-only scan, as it would on a database that has lived a while.
                cursor.execute("VACUUM ANALYZE")
        print(f"\n{total} signatories (load average {os.getloadavg()[0]:.1f})")
        print(header)
        print("-" * len(header))
        for label, persona, url in SCENARIOS:
            r = measure(clients[persona], url, args.repeat)
            print(f"{label:<42} {r['median']:>9.1f} {r['best']:>8.1f} {r['sql']:>7.1f} "
                  f"{r['queries']:>7} {r['status']:>4}", flush=True)


if __name__ == "__main__":
    main()
