"""Random samples of active signatories for in-depth audits, and the audit of each one.

The draw is reproducible: the population is every *active* signatory that matches the filters
(country, types), ordered by id — a key that never changes — and ``random.Random(seed).sample``
picks from it. The seed, the filters, the population size and a digest of the population's ids
are recorded with who drew the sample and when, so anyone can draw it again and check it
(:func:`audit_sample_verify`).
"""

from __future__ import annotations

import hashlib
import math
import random
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from code_portal.audit import audit_record, diff_fields
from code_portal.authz import require
from code_portal.errors import DomainError
from code_portal.models import StaffRole, User
from signatories.models import (
    AuditItem,
    AuditItemStatus,
    AuditOutcome,
    AuditSample,
    Signatory,
    SignatoryStatus,
    SignatoryType,
)
from signatories.permissions import may_sample_country

ITEM_FIELDS = ["status", "auditor", "findings", "outcome", "follow_up_on"]
MAX_SEED_LENGTH = 64
# In-depth audits of more companies than this are not a sample any more; the bound also keeps
# the draw (one item and one audit row per signatory) a short transaction.
MAX_SAMPLE_SIZE = 1000


def population(*, country: str = "", types: Sequence[str] = ()) -> QuerySet[Signatory]:
    """The signatories a sample is drawn from: active, of the country and types, by id."""
    qs = Signatory.objects.filter(status=SignatoryStatus.ACTIVE)
    if country:
        qs = qs.filter(country=country)
    if types:
        qs = qs.filter(type__in=list(types))
    return qs.order_by("id")


def population_digest(ids: Sequence[int]) -> str:
    return hashlib.sha256(",".join(str(i) for i in ids).encode()).hexdigest()


def sample_size_for(population_size: int, *, size: int | None,
                    percentage: Decimal | None) -> int:
    """N, or the percentage of the population rounded up (so 1 % of 50 is 1, not 0)."""
    if size is not None:
        return min(size, population_size)
    assert percentage is not None
    return min(population_size, math.ceil(population_size * Decimal(percentage) / 100))


def draw(population_ids: Sequence[int], *, seed: str, size: int) -> list[int]:
    """The sampled ids, in the order drawn. Pure: the same ids and seed give the same list."""
    # a str seed is hashed by random itself (SHA-512), independent of PYTHONHASHSEED
    return random.Random(seed).sample(list(population_ids), size)  # noqa: S311 - not security


def new_seed() -> str:
    return secrets.token_hex(8)


@transaction.atomic
def audit_sample_draw(
    *,
    actor: User,
    country: str = "",
    types: Sequence[str] = (),
    size: int | None = None,
    percentage: Decimal | None = None,
    seed: str = "",
    title: str = "",
) -> AuditSample:
    """Draw and record a sample; each sampled signatory gets a *planned* audit item."""
    require(actor, "signatories.draw_audit_sample")
    country = (country or "").upper()
    if not may_sample_country(actor, country):
        if actor.staff_role == StaffRole.LOCAL_REP and not country:
            raise DomainError(_("Choose one of your countries."), field="country")
        raise PermissionDenied(_("You may draw samples only in your own countries."))
    types = sorted(set(types))
    unknown = set(types) - set(SignatoryType.values)
    if unknown:
        raise DomainError(_("Unknown type: %(types)s.") % {"types": ", ".join(sorted(unknown))},
                          field="types")
    if (size is None) == (percentage is None):
        raise DomainError(_("Give either a number of signatories or a percentage."), field="size")
    if size is not None and size < 1:
        raise DomainError(_("The sample needs at least one signatory."), field="size")
    if percentage is not None and not (0 < percentage <= 100):
        raise DomainError(_("The percentage must be above 0 and at most 100."),
                          field="percentage")
    seed = (seed or "").strip() or new_seed()
    if len(seed) > MAX_SEED_LENGTH:
        raise DomainError(_("The seed is too long (64 characters at most)."), field="seed")

    ids = list(population(country=country, types=types).values_list("id", flat=True))
    if not ids:
        raise DomainError(_("No active signatory matches these filters."), field="country")
    n = sample_size_for(len(ids), size=size, percentage=percentage)
    if n > MAX_SAMPLE_SIZE:
        raise DomainError(_("A sample holds at most %(max)d signatories; this one would hold "
                            "%(n)d.") % {"max": MAX_SAMPLE_SIZE, "n": n},
                          field="size" if size is not None else "percentage")
    chosen = draw(ids, seed=seed, size=n)

    sample = AuditSample.objects.create(
        title=title.strip(), country=country, types=types, requested_size=size,
        requested_percentage=percentage, seed=seed, population_size=len(ids),
        population_digest=population_digest(ids), sample_size=n, drawn_by=actor,
        drawn_at=timezone.now(),
    )
    items = AuditItem.objects.bulk_create(
        AuditItem(sample=sample, signatory_id=pk, position=i) for i, pk in enumerate(chosen, 1))
    audit_record(actor=actor, action="audit_sample.drawn", obj=sample, changes={
        "country": {"from": None, "to": country or None},
        "types": {"from": None, "to": types},
        "requested_size": {"from": None, "to": size},
        "requested_percentage": {"from": None, "to": str(percentage) if percentage else None},
        "seed": {"from": None, "to": seed},
        "population_size": {"from": None, "to": len(ids)},
        "sample_size": {"from": None, "to": n},
    })
    # One row per sampled signatory too. Like every audit event of sampling, it is not linked
    # to the signatory (``signatory=None``): the company's own history page and API list the
    # events linked to it, and whether, when and why a company is audited stays internal.
    signatories = Signatory.objects.in_bulk(chosen)  # for each row's object_repr, one query
    for item in items:
        item.signatory = signatories[item.signatory_id]
        audit_record(actor=actor, action="audit_item.created", obj=item,
                     to_state=AuditItemStatus.PLANNED, reason=str(sample))
    return sample


@dataclass(frozen=True)
class Verification:
    same_population: bool
    same_sample: bool
    population_size: int


def audit_sample_verify(sample: AuditSample) -> Verification:
    """Draw again with the recorded seed and filters over today's population (read-only)."""
    ids = list(population(country=sample.country.code or "", types=sample.types)
               .values_list("id", flat=True))
    recorded = [i.signatory_id for i in sorted(sample.items.all(), key=lambda i: i.position)]
    again = draw(ids, seed=sample.seed, size=sample.sample_size) \
        if len(ids) >= sample.sample_size else []
    return Verification(same_population=population_digest(ids) == sample.population_digest,
                        same_sample=again == recorded, population_size=len(ids))


def _check_auditor(auditor: User | None, item: AuditItem) -> None:
    if auditor is None:
        return
    if not auditor.is_active or not auditor.has_perm("signatories.edit_audit_item", item):
        raise DomainError(_("The auditor must be Code staff who can see this sample."),
                          field="auditor")


@transaction.atomic
def audit_item_update(*, item: AuditItem, actor: User, data: dict[str, Any]) -> AuditItem:
    """Change the status, auditor, findings, outcome or follow-up date; audited field by field."""
    require(actor, "signatories.edit_audit_item", item)
    # of=self: PostgreSQL cannot lock the nullable side (auditor) of the outer join
    item = (AuditItem.objects.select_for_update(of=("self",))
            .select_related("sample", "signatory", "auditor").get(pk=item.pk))
    before = {name: getattr(item, name) for name in ITEM_FIELDS}
    for name, value in data.items():
        if name not in ITEM_FIELDS:
            raise DomainError(_("This field cannot be changed: %(field)s.") % {"field": name},
                              field=name)
        setattr(item, name, "" if value is None and name in ("findings", "outcome") else value)
    if item.status not in AuditItemStatus.values:
        raise DomainError(_("Unknown status."), field="status")
    if item.outcome and item.outcome not in AuditOutcome.values:
        raise DomainError(_("Unknown outcome."), field="outcome")
    if item.status == AuditItemStatus.CLOSED and not item.outcome:
        raise DomainError(_("Give the outcome before closing the audit."), field="outcome")
    if item.auditor_id != (before["auditor"].pk if before["auditor"] else None):
        _check_auditor(item.auditor, item)
    changes = diff_fields(item, before, ITEM_FIELDS)
    if not changes:
        return item
    if "status" in changes:
        item.closed_at = timezone.now() if item.status == AuditItemStatus.CLOSED else None
    item.save()
    audit_record(actor=actor, action="audit_item.updated", obj=item,
                 from_state=before["status"] if "status" in changes else "",
                 to_state=item.status if "status" in changes else "", changes=changes)
    return item


def is_overdue(item: AuditItem, today: date | None = None) -> bool:
    return item.is_overdue_on(today or timezone.localdate())
