"""Bulk data for benchmarks: ``manage.py seed_scale --signatories 100000``.

Signatories of every status, type and a spread of countries, each with an admin user (and every
fourth with a reporter too), written with ``bulk_create`` in batches so 100k rows take seconds,
not hours. It bypasses the services on purpose: no audit rows, no history, no e-mails — this is
load for list pages, not a demo. Rows satisfy the database's own constraints (signed members
have ``signed_at``, approved ones a membership number). Works on SQLite and PostgreSQL.
"""

from __future__ import annotations

import random
import secrets
import time
from datetime import timedelta

from django.contrib.auth.hashers import make_password
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from code_portal.models import User
from signatories.models import (
    CodeVersion,
    Membership,
    MembershipRole,
    Signatory,
    SignatoryStatus,
    SignatoryType,
    website_domain,
)

S = SignatoryStatus

# Roughly the shape of a real membership: most members active, a tail in every other state.
STATUS_WEIGHTS = {
    S.ACTIVE: 55, S.APPLIED: 8, S.APPROVED: 4, S.REPORTING_OVERDUE: 9, S.SUSPENDED: 5,
    S.REJECTED: 7, S.WITHDRAWN: 7, S.EXPELLED: 5,
}
SIGNED = {S.ACTIVE, S.REPORTING_OVERDUE, S.SUSPENDED, S.EXPELLED}
NUMBERED = set(S) - {S.APPLIED, S.REJECTED}

COUNTRIES = ["SE", "TH", "KE", "GB", "DE", "FR", "ES", "IT", "NL", "US", "BR", "MX", "PE",
             "IN", "ID", "VN", "KH", "PH", "ZA", "TZ", "MA", "EG", "AU", "NZ", "JP", "CR",
             "GR", "PT", "TR", "AE"]
WORDS_A = ["Nordic", "Sun", "Blue", "Coral", "Andes", "Sahara", "Alpine", "Pacific", "Atlas",
           "Jade", "Lotus", "Maple", "Baltic", "Savanna", "Harbour", "Island", "Golden", "Green"]
WORDS_B = ["Tours", "Travel", "Holidays", "Journeys", "Hotels", "Resorts", "Air", "Lines",
           "Expeditions", "Adventures", "Voyages", "Trails"]
SUFFIXES = ["Ltd", "AB", "GmbH", "S.A.", "Co., Ltd.", "Inc.", "B.V.", "S.r.l."]


class Command(BaseCommand):
    help = "Bulk-create N signatories (mixed statuses, types, countries) with users and memberships."

    def add_arguments(self, parser):
        parser.add_argument("--signatories", type=int, required=True,
                            help="How many signatories to add.")
        parser.add_argument("--batch-size", type=int, default=2000)
        parser.add_argument("--seed", type=int, default=None,
                            help="Random seed, for a reproducible mix.")
        parser.add_argument("--password", default=None,
                            help="Password for the created users (default: unusable).")

    def handle(self, *args, signatories: int, batch_size: int, seed: int | None,
               password: str | None, **options):
        if signatories < 0:
            raise CommandError("--signatories must be zero or more.")
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1.")
        rng = random.Random(seed)  # noqa: S311 - benchmark data, not security
        # A tag per run keeps e-mails, websites and membership numbers unique across runs.
        tag = secrets.token_hex(3)
        # Hash once: hashing per user would dominate the run time.
        password_hash = make_password(password)
        code_version = CodeVersion.objects.filter(is_current=True).first()
        started = time.monotonic()
        done = 0
        while done < signatories:
            size = min(batch_size, signatories - done)
            self._batch(rng, tag, done, size, password_hash, code_version)
            done += size
            if options.get("verbosity", 1) > 1:
                self.stdout.write(f"  {done}/{signatories}")
        self.stdout.write(self.style.SUCCESS(
            f"Created {signatories} signatories in {time.monotonic() - started:.1f}s "
            f"(run tag {tag}); {Signatory.objects.count()} in total."))

    @transaction.atomic
    def _batch(self, rng: random.Random, tag: str, offset: int, size: int, password_hash: str,
               code_version: CodeVersion | None) -> None:
        now = timezone.now()
        statuses = rng.choices(list(STATUS_WEIGHTS), weights=list(STATUS_WEIGHTS.values()), k=size)
        types = list(SignatoryType.values)
        rows = []
        for i, status in enumerate(statuses, start=offset):
            country = rng.choice(COUNTRIES)
            applied_at = now - timedelta(days=rng.randint(30, 3650), seconds=rng.randint(0, 86399))
            legal_name = (f"{rng.choice(WORDS_A)} {rng.choice(WORDS_B)} {i} "
                          f"{rng.choice(SUFFIXES)}")
            website = f"https://s{tag}-{i}.example.com"
            signatory = Signatory(
                legal_name=legal_name,
                trading_name=legal_name.rsplit(" ", 1)[0] if i % 3 == 0 else "",
                type=rng.choice(types), country=country, address=f"{i} Scale Street\n{country}",
                website=website, website_domain=website_domain(website),
                employees=rng.randint(1, 5000), contact_name=f"Contact {i}",
                contact_email=f"contact-{tag}-{i}@example.com", applied_at=applied_at,
                status_changed_at=applied_at,
            )
            # `status` is a protected FSM field: set it before the first save, as a fixture would.
            signatory.__dict__["status"] = status
            if status in NUMBERED:
                signatory.approved_at = applied_at + timedelta(days=14)
                signatory.membership_number = f"TC-{country}-S{tag}{i:07d}"
            if status in SIGNED:
                signatory.signed_at = applied_at + timedelta(days=30)
                signatory.member_since = signatory.signed_at.date()
                signatory.signer_name = f"Signer {i}"
                signatory.signer_title = "Managing Director"
                signatory.signed_code_version = code_version
                signatory.reporting_deadline = signatory.member_since + timedelta(days=365)
            rows.append(signatory)
        # PostgreSQL and SQLite ≥ 3.35 return the new primary keys from a bulk insert.
        Signatory.objects.bulk_create(rows)

        users, roles = [], []
        for i, signatory in enumerate(rows, start=offset):
            users.append(User(email=f"scale-{tag}-{i}-admin@example.org",
                              full_name=f"Admin {i}", password=password_hash, date_joined=now))
            roles.append((signatory, MembershipRole.ADMIN))
            if i % 4 == 0:
                users.append(User(email=f"scale-{tag}-{i}-reporter@example.org",
                                  full_name=f"Reporter {i}", password=password_hash,
                                  date_joined=now))
                roles.append((signatory, MembershipRole.REPORTER))
        User.objects.bulk_create(users)
        Membership.objects.bulk_create(
            Membership(user=user, signatory=signatory, role=role)
            for user, (signatory, role) in zip(users, roles, strict=True)
        )
