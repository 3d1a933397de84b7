"""Time and query count of the partner list and the confirmation rates at scale (default
1,000,000 partners across 100,000 signatories).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench .venv/bin/python bench/partners.py
    DATABASE_URL=postgres://… .venv/bin/python bench/partners.py --signatories 10000 \\
        --partners 100000                                                     # a quick run

The database is topped up with ``manage.py seed_scale`` to ``--signatories`` signatories; then,
unless it already holds that many partners, every signatory gets the same number of partners
(most hotels, a tenth with an ended contract, two in three carrying the clause) and one operator
(the "big" one) gets ``--big`` more. Three in five partners have a request: confirmed (at various
dates in the last 400 days, valid for a year), pending, or declined. On PostgreSQL that is a few
set-based ``INSERT … SELECT generate_series`` statements; on SQLite (small sizes only) the ORM.

Each scenario runs once to warm up and ``--repeat`` times measured; printed: median and best
wall time, time spent in SQL, number of queries. Pages go through the Django test client (the
operator's admin, or a Code staff reviewer). It prints figures; it asserts nothing.

Use a database of its own: it writes millions of rows.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
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
from django.utils import timezone  # noqa: E402

from code_portal.models import StaffRole, User  # noqa: E402
from signatories.models import Membership, MembershipRole, Signatory  # noqa: E402
from signatories.partners import selectors  # noqa: E402
from signatories.partners.models import ConfirmationRequest, Partner  # noqa: E402
from signatories.partners.services import partner_state_refresh  # noqa: E402

PREFIX = "BCH "  # names of the partners this script creates
KINDS = ["hotel", "hotel", "hotel", "hotel", "ground_handler", "transport", "excursions"]
COUNTRIES = ["TH", "SE", "GR", "KE", "PT", "ES", "MX", "KH"]

PARTNERS_SQL = """
    INSERT INTO partners_partner (created_at, updated_at, signatory_id, kind, name, country, city,
        contact_email, website, website_domain, language, contract_reference, contract_start,
        contract_end, carries_clause, last_status)
    SELECT now(), now(), s.id, (%(kinds)s::text[])[1 + (s.id + g) %% 7],
           %(prefix)s || s.id || '-' || g, (%(countries)s::text[])[1 + (s.id * 7 + g) %% 8],
           'Bench city', 'p' || s.id || '-' || g || '@bench.example', '', '', '', 'C-' || g,
           current_date - 800, CASE WHEN g %% 10 = 0 THEN current_date - 30 END,
           (s.id + g) %% 3 <> 0, ''
    FROM ({signatories}) s CROSS JOIN generate_series(1, %(per)s) g"""

REQUESTS_SQL = """
    INSERT INTO partners_confirmationrequest (created_at, updated_at, partner_id, signatory_id,
        token_salt, token_hash, email, language, status, sent_at, expires_at, responded_at,
        responder_name, responder_position, decline_reason, user_agent, confirmed_on,
        valid_until)
    SELECT now(), now(), p.id, p.signatory_id, 'bench', 'bench-' || p.id, p.contact_email, '',
           CASE p.id %% 5 WHEN 0 THEN 'confirmed' WHEN 1 THEN 'pending' ELSE 'declined' END,
           d.sent, d.sent + interval '30 days',
           CASE WHEN p.id %% 5 <> 1 THEN d.sent + interval '1 day' END,
           CASE WHEN p.id %% 5 <> 1 THEN 'Bench manager' ELSE '' END, '',
           CASE WHEN p.id %% 5 = 2 THEN 'Bench: not yet' ELSE '' END, '',
           CASE WHEN p.id %% 5 = 0 THEN (d.sent + interval '1 day')::date END,
           CASE WHEN p.id %% 5 = 0 THEN (d.sent + interval '1 day' + interval '1 year'
                                         - interval '1 day')::date END
    FROM partners_partner p
    CROSS JOIN LATERAL (SELECT CASE WHEN p.id %% 5 = 1 THEN now() - (p.id %% 20) * interval '1 day'
                                    ELSE now() - (p.id %% 400) * interval '1 day' END AS sent) d
    WHERE p.name LIKE %(like)s AND p.id %% 5 IN (0, 1, 2)
    ON CONFLICT DO NOTHING"""


def seed_postgres(signatories: int, per: int, big: Signatory, big_count: int) -> None:
    params = {"kinds": KINDS, "countries": COUNTRIES, "prefix": PREFIX}
    with connection.cursor() as cursor:
        cursor.execute(PARTNERS_SQL.format(
            signatories="SELECT id FROM signatories_signatory ORDER BY id LIMIT %(n)s"),
            {**params, "n": signatories, "per": per})
        cursor.execute(PARTNERS_SQL.format(signatories="SELECT %(big)s AS id"),
                       {**params, "big": big.pk, "per": big_count})
        cursor.execute(REQUESTS_SQL, {"like": PREFIX + "%"})
    partner_state_refresh()
    with connection.cursor() as cursor:
        # as autovacuum would soon after: statistics, and the visibility map that lets
        # index-only scans (partners_in_force_idx) skip the table
        cursor.execute("VACUUM ANALYZE partners_partner")
        cursor.execute("VACUUM ANALYZE partners_confirmationrequest")


def seed_orm(signatories: int, per: int, big: Signatory, big_count: int) -> None:
    from datetime import timedelta

    from signatories.partners.models import valid_until_for

    ids = list(Signatory.objects.order_by("id").values_list("id", flat=True)[:signatories])
    today = timezone.localdate()
    rows = [(sid, g) for sid in ids for g in range(1, per + 1)]
    rows += [(big.pk, g) for g in range(per + 1, per + big_count + 1)]
    Partner.objects.bulk_create([
        Partner(signatory_id=sid, kind=KINDS[(sid + g) % 7], name=f"{PREFIX}{sid}-{g}",
                country=COUNTRIES[(sid * 7 + g) % 8], contact_email=f"p{sid}-{g}@bench.example",
                contract_start=today - timedelta(days=800),
                contract_end=today - timedelta(days=30) if g % 10 == 0 else None,
                carries_clause=(sid + g) % 3 != 0) for sid, g in rows], batch_size=2000)
    now = timezone.now()
    requests = []
    for pk, sid, email in Partner.objects.filter(name__startswith=PREFIX).values_list(
            "id", "signatory_id", "contact_email").iterator():
        kind = pk % 5
        if kind > 2:
            continue
        sent = now - timedelta(days=pk % 20 if kind == 1 else pk % 400)
        answered = sent + timedelta(days=1)
        requests.append(ConfirmationRequest(
            partner_id=pk, signatory_id=sid, token_salt="bench", token_hash=f"bench-{pk}",  # noqa: S106 (no link)
            email=email, status=("confirmed", "pending", "declined")[kind], sent_at=sent,
            expires_at=sent + timedelta(days=30), responded_at=None if kind == 1 else answered,
            responder_name="" if kind == 1 else "Bench manager",
            decline_reason="Bench: not yet" if kind == 2 else "",
            confirmed_on=answered.date() if kind == 0 else None,
            valid_until=valid_until_for(answered.date()) if kind == 0 else None))
    ConfirmationRequest.objects.bulk_create(requests, batch_size=2000, ignore_conflicts=True)
    partner_state_refresh()


def top_up(signatories: int, partners: int, big_count: int) -> Signatory:
    have = Signatory.objects.count()
    if have < signatories:
        print(f"  seeding {signatories - have:,} signatories …", flush=True)
        call_command("seed_scale", signatories=signatories - have, seed=signatories,
                     batch_size=5000)
    big = Signatory.objects.order_by("id")[signatories // 2]
    if Partner.objects.filter(name__startswith=PREFIX).count() >= partners:
        return big
    print("  seeding partners (removing this script's earlier ones first) …", flush=True)
    started = time.perf_counter()
    ConfirmationRequest.objects.filter(partner__name__startswith=PREFIX).delete()
    Partner.objects.filter(name__startswith=PREFIX).delete()
    per = max(1, round((partners - big_count) / signatories))
    seed = seed_postgres if connection.vendor == "postgresql" else seed_orm
    seed(signatories, per, big, big_count)
    print(f"  … in {time.perf_counter() - started:.0f} s", flush=True)
    return big


def measure(action: Callable[[], object], repeat: int) -> dict:
    action()  # warm-up: connection, templates, query plans
    walls, sqls, counts = [], [], []
    for _ in range(repeat):
        reset_queries()
        with CaptureQueriesContext(connection) as ctx:
            started = time.perf_counter()
            action()
            walls.append((time.perf_counter() - started) * 1000)
        counts.append(len(ctx.captured_queries))
        sqls.append(sum(float(q["time"]) for q in ctx.captured_queries) * 1000)
    return {"median": statistics.median(walls), "best": min(walls),
            "sql": statistics.median(sqls), "queries": max(counts)}


def _admin_of(signatory: Signatory) -> User:
    user, _ = User.objects.get_or_create(email=f"bench-partners-{signatory.pk}@example.org")
    Membership.objects.get_or_create(user=user, signatory=signatory,
                                     defaults={"role": MembershipRole.ADMIN})
    return user


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--signatories", type=int, default=100_000)
    parser.add_argument("--partners", type=int, default=1_000_000)
    parser.add_argument("--big", type=int, default=20_000,
                        help="Extra partners of one operator (the big list).")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    if not os.environ.get("DATABASE_URL"):
        sys.exit("Set DATABASE_URL to a database of its own: this writes millions of rows.")

    settings.DEBUG = False
    print(f"database: {connection.vendor} {connection.settings_dict['NAME']}")
    call_command("migrate", verbosity=0)
    call_command("createcachetable", verbosity=0)  # the cache without Redis
    big = top_up(args.signatories, args.partners, args.big)
    typical = Signatory.objects.order_by("id")[args.signatories // 3]
    staff, _ = User.objects.get_or_create(
        email="bench-staff@example.org",
        defaults={"staff_role": StaffRole.REVIEWER, "is_staff": True, "full_name": "Bench Staff"})
    staff_client, big_client, typical_client = Client(), Client(), Client()
    staff_client.force_login(staff)
    big_client.force_login(_admin_of(big))
    typical_client.force_login(_admin_of(typical))
    today = timezone.localdate()

    def consume(response) -> int:
        body = (b"".join(response.streaming_content) if response.streaming
                else response.content)
        assert response.status_code == 200, response.status_code
        return len(body)

    everyone = Signatory.objects.all()
    big_partners = Partner.objects.filter(signatory=big)
    scenarios = [
        (f"partner list page, typical ({typical.partners.count()} partners)",
         lambda: consume(typical_client.get(f"/company/{typical.pk}/partners/"))),
        (f"partner list page, big ({big_partners.count():,} partners)",
         lambda: consume(big_client.get(f"/company/{big.pk}/partners/"))),
        ("partner list page, big, page 400",
         lambda: consume(big_client.get(f"/company/{big.pk}/partners/?page=400"))),
        ("partner list page, big, state=confirmed",
         lambda: consume(big_client.get(f"/company/{big.pk}/partners/?state=confirmed"))),
        ("partner API list, big, first page", lambda: consume(big_client.get(
            f"/api/v1/partners/?signatory={big.pk}"))),
        ("confirmation_summary: one signatory",
         lambda: selectors.confirmation_summary(everyone.filter(pk=typical.pk), today)),
        ("confirmation_summary: all signatories",
         lambda: selectors.confirmation_summary(everyone, today)),
        ("partner_status_counts: big operator",
         lambda: selectors.partner_status_counts(big_partners)),
        ("clause_share (report prefill): big operator",
         lambda: selectors.clause_share(big, today)),
        ("rates_by_country, uncached (all partners)",
         lambda: (cache.clear(), selectors.rates_by_country(staff, today))),
        ("staff rates page (countries cached + 25 sig.)",
         lambda: consume(staff_client.get("/staff/partners/"))),
        ("staff rates page 2000", lambda: consume(staff_client.get("/staff/partners/?page=2000"))),
    ]
    print(f"\n{Partner.objects.count():,} partners, {ConfirmationRequest.objects.count():,} "
          f"requests, {Signatory.objects.count():,} signatories")
    header = f"{'scenario':<48} {'median ms':>10} {'best ms':>9} {'SQL ms':>9} {'queries':>7}"
    print(header)
    print("-" * len(header))
    for label, action in scenarios:
        r = measure(action, args.repeat)
        print(f"{label:<48} {r['median']:>10.1f} {r['best']:>9.1f} {r['sql']:>9.1f} "
              f"{r['queries']:>7}", flush=True)


if __name__ == "__main__":
    main()
