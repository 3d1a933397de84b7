"""Training coverage: the share of employees with valid training. Set-based, constant queries.

Definitions (also in the README):
- A record is *valid on a day D* when ``completed_on <= D < expires_on`` (or it never expires).
  On its ``expires_on`` day the person no longer counts as trained.
- *Trained people*: distinct people (not erased or erased — erasure keeps totals) with at least one
  valid record on D.
- Overall coverage = trained people / stated employees for D's year; customer-facing coverage =
  trained customer-facing people / stated customer-facing employees. Without a headcount for the
  year the share is unknown (``None``), never invented.
- Per department the denominator is the people on record in that department (the headcount is
  not stated per department).
- Refreshers due: valid records whose ``expires_on`` falls in the next 90 days (D < expires_on <= D+90)
  and that no later completion of the same course by the same person already replaces.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from django.db.models import Count, Exists, IntegerField, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce

from signatories.models import Signatory
from training.models import Headcount, Trainee, TrainingRecord

REFRESHER_WINDOW_DAYS = 90


def as_of_for_year(year: int, today: date) -> date:
    """The day a year's coverage is measured on: today for the current year, 31 December for a
    past year. A future year has no coverage yet (``ValueError``)."""
    if year > today.year:
        raise ValueError("future year")
    return today if year == today.year else date(year, 12, 31)


def valid_on_q(day: date, prefix: str = "") -> Q:
    return Q(**{f"{prefix}completed_on__lte": day}) & (
        Q(**{f"{prefix}expires_on__isnull": True}) | Q(**{f"{prefix}expires_on__gt": day}))


def _share(part: int, whole: int | None) -> float | None:
    if not whole:
        return None
    return round(100 * min(part, whole) / whole, 1)


@dataclass
class DepartmentCoverage:
    department: str
    people: int
    trained: int
    customer_facing: int
    customer_facing_trained: int

    @property
    def share(self) -> float | None:
        return _share(self.trained, self.people)

    @property
    def customer_facing_share(self) -> float | None:
        return _share(self.customer_facing_trained, self.customer_facing)


@dataclass
class Coverage:
    signatory_id: int
    as_of: date
    year: int
    employees: int | None
    customer_facing_employees: int | None
    people_on_record: int
    trained: int
    customer_facing_trained: int
    refreshers_due: int
    departments: list[DepartmentCoverage] = field(default_factory=list)

    @property
    def share(self) -> float | None:
        return _share(self.trained, self.employees)

    @property
    def customer_facing_share(self) -> float | None:
        return _share(self.customer_facing_trained, self.customer_facing_employees)


def refreshers_due(as_of: date, *, within_days: int = REFRESHER_WINDOW_DAYS,
                   signatory: Signatory | None = None) -> QuerySet[TrainingRecord]:
    """Valid records that expire within the window and are not already renewed. One query.

    Used by the training pages and by the refresher reminders (set-based over all signatories).
    """
    renewed = TrainingRecord.objects.filter(
        trainee=OuterRef("trainee"), course=OuterRef("course"),
        completed_on__gt=OuterRef("completed_on"))
    qs = TrainingRecord.objects.filter(
        valid_on_q(as_of), expires_on__lte=as_of + timedelta(days=within_days),
    ).exclude(Exists(renewed))
    if signatory is not None:
        qs = qs.filter(signatory=signatory)
    return qs


def coverage_for(signatory: Signatory, as_of: date) -> Coverage:
    """Coverage of one signatory on a day: three queries, whatever the number of records."""
    valid = TrainingRecord.objects.filter(valid_on_q(as_of), trainee=OuterRef("pk"))
    departments = list(
        Trainee.objects.filter(signatory=signatory)
        .annotate(is_trained=Exists(valid))
        .values("department")
        .annotate(people=Count("id"),
                  trained=Count("id", filter=Q(is_trained=True)),
                  cf=Count("id", filter=Q(is_customer_facing=True)),
                  cf_trained=Count("id", filter=Q(is_trained=True, is_customer_facing=True)))
        .order_by("department")
    )
    headcount = Headcount.objects.filter(signatory=signatory, year=as_of.year).first()
    due = refreshers_due(as_of, signatory=signatory).count()
    rows = [DepartmentCoverage(d["department"], d["people"], d["trained"], d["cf"],
                               d["cf_trained"]) for d in departments]
    return Coverage(
        signatory_id=signatory.pk, as_of=as_of, year=as_of.year,
        employees=headcount.employees if headcount else None,
        customer_facing_employees=headcount.customer_facing_employees if headcount else None,
        people_on_record=sum(r.people for r in rows),
        trained=sum(r.trained for r in rows),
        customer_facing_trained=sum(r.customer_facing_trained for r in rows),
        refreshers_due=due, departments=rows,
    )


def annotate_coverage(signatories: QuerySet[Signatory], as_of: date) -> QuerySet[Signatory]:
    """Add coverage figures to each signatory of a list, in the list's own single query."""
    valid = TrainingRecord.objects.filter(valid_on_q(as_of), trainee=OuterRef("pk"))

    def trained(**filters):
        return Coalesce(Subquery(
            Trainee.objects.filter(signatory=OuterRef("pk"), **filters)
            .annotate(is_trained=Exists(valid)).filter(is_trained=True)
            .order_by().values("signatory").annotate(n=Count("id")).values("n")[:1],
            output_field=IntegerField()), Value(0))

    headcount = Headcount.objects.filter(signatory=OuterRef("pk"), year=as_of.year)
    return signatories.annotate(
        cov_trained=trained(),
        cov_cf_trained=trained(is_customer_facing=True),
        cov_employees=Subquery(headcount.values("employees")[:1]),
        cov_cf_employees=Subquery(headcount.values("customer_facing_employees")[:1]),
    )


def share(part: int | None, whole: int | None) -> float | None:
    return _share(part or 0, whole)
