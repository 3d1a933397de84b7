"""The figures of the staff overview dashboard and of the annual summary PDF (issue 8).

Every figure starts from ``signatories.selectors.signatory_scope_q(user)`` (reports from
``reporting.selectors.report_list_for``, which is built on it), so a local representative counts
only the signatories of their countries, and each is one set-based query whatever the number of
rows (``GROUP BY`` / conditional ``COUNT``), never a loop over signatories.

Definitions (also in the README):
- *Signatories by status / type / country*: the signatories' current state, filtered by country
  and type. Not by year: the status is today's.
- *Applications waiting*: status *applied*. *Signatories overdue*: status *reporting overdue*.
- *Reports in review*: every report submitted or under review (the staff review queue).
- *Reports due this month*: drafts and reports sent back for changes whose due date falls in
  the current calendar month (today included, past days included).
- *Reports overdue*: drafts and reports sent back for changes whose due date has passed.
- *Reports approved in the year*: approved reports whose decision date (UTC) falls in the
  selected calendar year.
- *Average training coverage*: the mean, over the signatories of the staff coverage list
  (approved, active, reporting overdue, suspended) that stated a headcount for the year, of
  their coverage as ``training.coverage`` defines it, measured on ``as_of_for_year``.
- *Partner confirmation rate*: ``signatories.partners.selectors.confirmation_summary`` on the
  same day as the coverage: partners with a contract in force whose adherence is confirmed on
  that day, over all partners with a contract in force.
- *Members at the end of a year*: signed on or before 31 December and not withdrawn or expelled
  by then (the date of the last status change is the date they left).
- *Reporting compliance of a reporting year*: approved reports / reports of that year whose due
  date has passed by today (or by 31 December of the selected year).
"""

from __future__ import annotations

import calendar
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from urllib.parse import urlencode

from django.core.cache import cache
from django.db.models import Case, Count, Exists, F, IntegerField, OuterRef, Q, QuerySet, When
from django.db.models.functions import ExtractYear
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django_countries import countries

from code_portal.models import StaffRole, User
from reporting.models import Report, ReportStatus
from reporting.selectors import report_list_for
from signatories.models import Signatory, SignatoryStatus, SignatoryType
from signatories.selectors import signatory_scope_q
from training.coverage import as_of_for_year, share, valid_on_q
from training.models import Headcount, Trainee, TrainingRecord
from training.selectors import COVERAGE_STATUSES

R = ReportStatus
S = SignatoryStatus
OPEN_REPORT = (R.DRAFT, R.CHANGES_REQUESTED)
IN_REVIEW = (R.SUBMITTED, R.UNDER_REVIEW)
LEFT = (S.WITHDRAWN, S.EXPELLED)
FIRST_YEAR = 1998  # The Code's first signatories
HISTORY_YEARS = 10  # members over time
COMPLIANCE_YEARS = 5
# Coverage buckets (lower bound inclusive, upper exclusive; the last includes 100 %).
COVERAGE_BUCKETS = ((0, 25), (25, 50), (50, 75), (75, 101))
# The figures are kept this long (seconds) per scope, filters, day and language: at 100k
# signatories and millions of training records a cold computation takes seconds
# (bench/dashboard.py); the page says when its figures were computed.
CACHE_SECONDS = 300


@dataclass(frozen=True)
class DashboardFilters:
    year: int
    country: str = ""
    type: str = ""

    def list_params(self) -> list[tuple[str, str]]:
        """The country/type filters as the staff lists spell them."""
        params = []
        if self.country:
            params.append(("country", self.country))
        if self.type:
            params.append(("type", self.type))
        return params

    def query(self) -> str:
        return urlencode([("year", str(self.year)), *self.list_params()])


def parse_filters(data: Mapping[str, str], *, today: date) -> DashboardFilters:
    """Year (1998 … this year; anything else means this year), country and type (ignored when
    not a known code)."""
    try:
        year = int(data.get("year") or today.year)
    except (TypeError, ValueError):
        year = today.year
    if not FIRST_YEAR <= year <= today.year:
        year = today.year
    country = (data.get("country") or "").upper()
    if country not in countries:
        country = ""
    kind = data.get("type") or ""
    if kind not in SignatoryType.values:
        kind = ""
    return DashboardFilters(year=year, country=country, type=kind)


def country_choices(user: User) -> list[tuple[str, str]]:
    """Countries offered by the country filter: a local representative's own, else all."""
    if user.staff_role == StaffRole.LOCAL_REP:
        return sorted(((c.code, str(c.name)) for c in user.staff_countries), key=lambda c: c[1])
    return [(code, str(name)) for code, name in countries]


# --- links to the filtered staff lists behind the figures ---------------------------------------

def _url(name: str, params: Iterable[tuple[str, str]]) -> str:
    query = urlencode(list(params))
    return reverse(name) + (f"?{query}" if query else "")


def signatory_list_url(filters: DashboardFilters, **overrides: str) -> str:
    """The staff signatory list (``signatories.filters.SignatoryFilter``) with the dashboard's
    country/type and the given status/type/country."""
    params = dict(filters.list_params())
    params.update(overrides)
    return _url("staff-signatory-list", sorted(params.items()))


def report_queue_url(filters: DashboardFilters) -> str:
    return _url("staff-report-queue", filters.list_params())


def report_list_url(filters: DashboardFilters, statuses: Iterable[str], **ranges: date) -> str:
    """The staff report list with the given statuses (every report in scope, not only the
    review queue) and inclusive date ranges (``due_from``/``due_to``/``decided_from``/...)."""
    params = [("status", str(s)) for s in statuses] + filters.list_params()
    params += [(key, value.isoformat()) for key, value in sorted(ranges.items())]
    return _url("staff-report-queue", params)


def coverage_list_url(filters: DashboardFilters) -> str:
    return _url("staff-training", [("year", str(filters.year)), *filters.list_params()])


def application_queue_url(filters: DashboardFilters) -> str:
    # The application queue has no country/type filter: with either, the signatory list
    # filtered on "applied" shows the same rows.
    if filters.country or filters.type:
        return signatory_list_url(filters, status=S.APPLIED)
    return reverse("staff-queue")


# --- scoped querysets -------------------------------------------------------------------------

def scoped_signatories(user: User, filters: DashboardFilters) -> QuerySet[Signatory]:
    qs = Signatory.objects.filter(signatory_scope_q(user))
    if filters.country:
        qs = qs.filter(country=filters.country)
    if filters.type:
        qs = qs.filter(type=filters.type)
    return qs.order_by()


def scoped_reports(user: User, filters: DashboardFilters) -> QuerySet[Report]:
    qs = report_list_for(user).select_related(None)
    if filters.country:
        qs = qs.filter(signatory__country=filters.country)
    if filters.type:
        qs = qs.filter(signatory__type=filters.type)
    return qs.order_by()


# --- the figures -----------------------------------------------------------------------------

@dataclass
class Figure:
    key: str
    label: str
    value: int | float | None
    url: str | None = None
    detail: str = ""

    def as_dict(self) -> dict:
        return {"key": self.key, "label": self.label, "value": self.value, "url": self.url,
                "detail": self.detail}


@dataclass
class Breakdown:
    key: str
    label: str
    count: int
    url: str

    def as_dict(self) -> dict:
        return {"key": self.key, "label": self.label, "count": self.count, "url": self.url}


@dataclass
class CoverageSummary:
    as_of: date
    listed: int  # signatories on the staff coverage list
    with_headcount: int  # of which stated a headcount (coverage known)
    average: float | None
    buckets: list[tuple[str, int]]  # label → signatories
    by_country: dict[str, float | None] = field(default_factory=dict)
    by_type: dict[str, float | None] = field(default_factory=dict)


@dataclass
class YearPoint:
    year: int
    value: float | int | None
    numerator: int = 0
    denominator: int = 0


@dataclass
class Dashboard:
    filters: DashboardFilters
    today: date
    total: int
    figures: list[Figure]
    by_status: list[Breakdown]
    by_type: list[Breakdown]
    by_country: list[Breakdown]
    overdue_by_country: list[Breakdown]
    coverage: CoverageSummary
    partners: dict
    members_over_time: list[YearPoint]
    compliance_by_year: list[YearPoint]
    # (status, type, country, n) rows of the signatories' GROUP BY, for per-country/type tables
    groups: list[dict] = field(default_factory=list)
    computed_at: datetime = field(default_factory=timezone.now)

    def figure(self, key: str) -> Figure:
        return next(f for f in self.figures if f.key == key)

    def as_dict(self) -> dict:
        return {
            "filters": {"year": self.filters.year, "country": self.filters.country,
                        "type": self.filters.type},
            "today": self.today.isoformat(),
            "computed_at": self.computed_at.isoformat(),
            "signatories": self.total,
            "figures": {f.key: f.as_dict() for f in self.figures},
            "by_status": [b.as_dict() for b in self.by_status],
            "by_type": [b.as_dict() for b in self.by_type],
            "by_country": [b.as_dict() for b in self.by_country],
            "charts": {
                "members_over_time": [{"year": p.year, "members": p.value}
                                      for p in self.members_over_time],
                "compliance_by_year": [{"year": p.year, "rate": p.value,
                                        "approved": p.numerator, "due": p.denominator}
                                       for p in self.compliance_by_year],
                "overdue_by_country": [{"country": b.key, "label": b.label, "count": b.count,
                                        "url": b.url} for b in self.overdue_by_country],
                "coverage_distribution": [{"bucket": label, "signatories": n}
                                          for label, n in self.coverage.buckets],
            },
            "coverage": {"as_of": self.coverage.as_of.isoformat(),
                         "listed": self.coverage.listed,
                         "with_headcount": self.coverage.with_headcount,
                         "average": self.coverage.average},
            "partners": self.partners,
        }


def _month_bounds(today: date) -> tuple[date, date]:
    last = calendar.monthrange(today.year, today.month)[1]
    return today.replace(day=1), today.replace(day=last)


def _year_bounds(year: int) -> tuple[datetime, datetime]:
    return datetime(year, 1, 1, tzinfo=UTC), datetime(year + 1, 1, 1, tzinfo=UTC)


def report_counts_q(today: date, year: int) -> dict[str, Q]:
    """The report figures as filters, shared by the totals and the per-country/type counts."""
    first, last = _month_bounds(today)
    start, end = _year_bounds(year)
    return {
        "in_review": Q(status__in=IN_REVIEW),
        "due_this_month": Q(status__in=OPEN_REPORT, due_on__gte=first, due_on__lte=last),
        "overdue": Q(status__in=OPEN_REPORT, due_on__lt=today),
        "approved": Q(status=R.APPROVED, decided_at__gte=start, decided_at__lt=end),
    }


def report_counts(reports: QuerySet[Report], *, today: date, year: int) -> dict[str, int]:
    """One query: the four report figures."""
    return reports.aggregate(**{key: Count("id", filter=q)
                                for key, q in report_counts_q(today, year).items()})


def report_counts_by(reports: QuerySet[Report], by: str, *, today: date,
                     year: int) -> dict[str, dict[str, int]]:
    """One query: the four report figures per signatory country or type (``by``)."""
    rows = (reports.values(value=F(f"signatory__{by}"))
            .annotate(**{key: Count("id", filter=q)
                         for key, q in report_counts_q(today, year).items()})
            .order_by())
    return {row.pop("value"): row for row in rows}


def coverage_summary(signatories: QuerySet[Signatory], *, year: int,
                     today: date) -> CoverageSummary:
    """Average coverage and its distribution over the coverage list's signatories: two
    queries (trained people per signatory in one ``GROUP BY``, as the staff coverage export
    does, and the year's headcounts); the per-signatory shares are combined here."""
    as_of = as_of_for_year(year, today)
    followed = signatories.filter(status__in=COVERAGE_STATUSES)
    ids = followed.values("pk")
    valid = TrainingRecord.objects.filter(valid_on_q(as_of), trainee=OuterRef("pk"))
    trained = dict(
        Trainee.objects.filter(Exists(valid), signatory__in=ids).order_by()
        .values("signatory_id").annotate(n=Count("id")).values_list("signatory_id", "n"))
    heads = list(Headcount.objects.filter(signatory__in=ids, year=as_of.year)
                 .values_list("signatory_id", "employees", "signatory__country",
                              "signatory__type"))
    shares: list[float] = []
    by_country: dict[str, list[float]] = defaultdict(list)
    by_type: dict[str, list[float]] = defaultdict(list)
    for sid, employees, country, kind in heads:
        value = share(trained.get(sid, 0), employees)
        if value is None:
            continue
        shares.append(value)
        by_country[country].append(value)
        by_type[kind].append(value)
    buckets = []
    for low, high in COVERAGE_BUCKETS:
        label = f"{low}–{min(high, 100)} %" if high <= 100 else f"{low}–100 %"
        buckets.append((label, sum(1 for v in shares if low <= v < high)))
    return CoverageSummary(
        as_of=as_of, listed=0, with_headcount=len(shares), average=_mean(shares),
        buckets=buckets,
        by_country={k: _mean(v) for k, v in by_country.items()},
        by_type={k: _mean(v) for k, v in by_type.items()},
    )


def _mean(values: list[float]) -> float | None:
    return round(sum(values) / len(values), 1) if values else None


def members_over_time(signatories: QuerySet[Signatory], *, year: int) -> list[YearPoint]:
    """Members at the end of each of the ``HISTORY_YEARS`` years up to ``year``: one query,
    grouped by the year they signed and the year they left."""
    rows = list(signatories.filter(signed_at__isnull=False)
            .annotate(joined=ExtractYear("signed_at"),
                      left=Case(When(status__in=LEFT, then=ExtractYear("status_changed_at")),
                                default=None, output_field=IntegerField()))
            .values("joined", "left").annotate(n=Count("id")).order_by())
    points = []
    for y in range(max(FIRST_YEAR, year - HISTORY_YEARS + 1), year + 1):
        members = sum(r["n"] for r in rows
                      if r["joined"] <= y and (r["left"] is None or r["left"] > y))
        points.append(YearPoint(year=y, value=members))
    return points


def compliance_by_year(reports: QuerySet[Report], *, year: int, today: date) -> list[YearPoint]:
    """Approved / due reports per reporting year, for the ``COMPLIANCE_YEARS`` years up to
    ``year``: one query."""
    cutoff = min(today, date(year, 12, 31))
    first = max(FIRST_YEAR, year - COMPLIANCE_YEARS + 1)
    rows = {r["year"]: r for r in (
        reports.filter(year__gte=first, year__lte=year, due_on__lte=cutoff)
        .values("year").annotate(due=Count("id"),
                                 approved=Count("id", filter=Q(status=R.APPROVED)))
        .order_by())}
    points = []
    for y in range(first, year + 1):
        row = rows.get(y, {"due": 0, "approved": 0})
        points.append(YearPoint(year=y, value=share(row["approved"], row["due"]),
                                numerator=row["approved"], denominator=row["due"]))
    return points


def partner_figures(signatories: QuerySet[Signatory], *, as_of: date) -> dict:
    """Partner confirmation rate (``signatories.partners.selectors.confirmation_summary``: one
    query) and how many signatories have partners with a contract in force (one query: the rows
    of the staff partners page)."""
    from signatories.partners.models import Partner
    from signatories.partners.selectors import confirmation_summary, in_force_q

    summary = confirmation_summary(signatories, as_of)
    summary["signatories"] = (Partner.objects.filter(in_force_q(as_of),
                                                     signatory__in=signatories.values("pk"))
                              .values("signatory").distinct().count())
    return summary


def partner_list_url(filters: DashboardFilters, today: date) -> str | None:
    # The staff partners page shows today's rates of every signatory in scope: it has no
    # country, type or date filter, so it matches only the unfiltered current-year dashboard.
    if filters.country or filters.type or filters.year != today.year:
        return None
    return reverse("staff-partner-rates")


def dashboard_for(user: User, filters: DashboardFilters, *, today: date) -> Dashboard:
    """All the dashboard's figures for a user: eight queries, whatever the number of rows."""
    signatories = scoped_signatories(user, filters)
    reports = scoped_reports(user, filters)

    # 1 query: every signatory breakdown comes from one GROUP BY status, type, country.
    groups = list(signatories.values("status", "type", "country").annotate(n=Count("id"))
                  .order_by())
    status_n: Counter[str] = Counter()
    type_n: Counter[str] = Counter()
    country_n: Counter[str] = Counter()
    overdue_country: Counter[str] = Counter()
    for g in groups:
        status_n[g["status"]] += g["n"]
        type_n[g["type"]] += g["n"]
        country_n[g["country"]] += g["n"]
        if g["status"] == S.REPORTING_OVERDUE:
            overdue_country[g["country"]] += g["n"]
    total = sum(status_n.values())

    # 1 query: the report figures
    counts = report_counts(reports, today=today, year=filters.year)
    # 2 queries: coverage
    coverage = coverage_summary(signatories, year=filters.year, today=today)
    coverage.listed = sum(status_n[s] for s in COVERAGE_STATUSES)
    # 1 query each: the charts over time
    members = members_over_time(signatories, year=filters.year)
    compliance = compliance_by_year(reports, year=filters.year, today=today)
    # 2 queries: partner confirmations on the coverage's day
    partners = partner_figures(signatories, as_of=coverage.as_of)

    names = {code: str(name) for code, name in countries}
    by_status = [Breakdown(value, str(label), status_n[value],
                           signatory_list_url(filters, status=value))
                 for value, label in S.choices]
    by_type = [Breakdown(value, str(label), type_n[value], signatory_list_url(filters, type=value))
               for value, label in SignatoryType.choices if type_n[value] or not filters.type
               or value == filters.type]
    by_country = [Breakdown(code, names.get(code, code), n,
                            signatory_list_url(filters, country=code))
                  for code, n in sorted(country_n.items(), key=lambda i: names.get(i[0], i[0]))]
    overdue_by_country = [
        Breakdown(code, names.get(code, code), n,
                  signatory_list_url(filters, country=code, status=S.REPORTING_OVERDUE))
        for code, n in sorted(overdue_country.items(), key=lambda i: (-i[1], names.get(i[0], "")))]

    month_first, month_last = _month_bounds(today)
    figures = [
        Figure("signatories", _("Signatories"), total, signatory_list_url(filters)),
        Figure("members", _("Active members"), status_n[S.ACTIVE],
               signatory_list_url(filters, status=S.ACTIVE)),
        Figure("applications_waiting", _("Applications waiting"), status_n[S.APPLIED],
               application_queue_url(filters)),
        Figure("signatories_overdue", _("Signatories flagged reporting overdue"),
               status_n[S.REPORTING_OVERDUE],
               signatory_list_url(filters, status=S.REPORTING_OVERDUE)),
        Figure("reports_in_review", _("Reports in review"), counts["in_review"],
               report_queue_url(filters), _("submitted or under review")),
        Figure("reports_due_this_month", _("Reports due this month"), counts["due_this_month"],
               report_list_url(filters, OPEN_REPORT, due_from=month_first, due_to=month_last),
               _("drafts and reports sent back, due in %(month)s")
               % {"month": date_format(today, "YEAR_MONTH_FORMAT")}),
        Figure("reports_overdue", _("Reports overdue"), counts["overdue"],
               report_list_url(filters, OPEN_REPORT, due_to=today - timedelta(days=1)),
               _("drafts and reports sent back, past their due date")),
        Figure("reports_approved", _("Reports approved in %(year)s") % {"year": filters.year},
               counts["approved"],
               report_list_url(filters, [R.APPROVED], decided_from=date(filters.year, 1, 1),
                               decided_to=date(filters.year, 12, 31)),
               _("by decision date")),
        Figure("training_coverage", _("Average training coverage (%)"), coverage.average,
               coverage_list_url(filters),
               _("over %(known)s of %(listed)s signatories with a headcount for %(year)s")
               % {"known": coverage.with_headcount, "listed": coverage.listed,
                  "year": coverage.as_of.year}),
        Figure("partner_confirmation_rate", _("Partner confirmation rate (%)"),
               partners["share"], partner_list_url(filters, today),
               _("%(confirmed)s of %(partners)s partners with a contract in force confirmed "
                 "on %(day)s, at %(signatories)s signatories")
               % {"confirmed": partners["confirmed"], "partners": partners["partners"],
                  "day": date_format(coverage.as_of, "DATE_FORMAT"),
                  "signatories": partners["signatories"]}),
    ]
    return Dashboard(
        filters=filters, today=today, total=total, figures=figures, by_status=by_status,
        by_type=by_type, by_country=by_country, overdue_by_country=overdue_by_country,
        coverage=coverage, partners=partners, members_over_time=members, compliance_by_year=compliance,
        groups=groups,
    )


def _cache_key(user: User, filters: DashboardFilters, today: date) -> str:
    # Central staff all see everything: one shared entry. Anyone else (local representatives:
    # their countries plus the companies they belong to) gets an entry of their own.
    scope = "central" if user.staff_role in (StaffRole.ADMIN, StaffRole.REVIEWER) else f"u{user.pk}"
    return (f"staff-dashboard:v1:{scope}:{filters.year}:{filters.country}:{filters.type}:"
            f"{today.isoformat()}:{get_language()}")


def cached_dashboard_for(user: User, filters: DashboardFilters, *, today: date) -> Dashboard:
    """:func:`dashboard_for`, kept ``CACHE_SECONDS`` in the cache (labels are translated, so
    the language is part of the key)."""
    key = _cache_key(user, filters, today)
    data = cache.get(key)
    if data is None:
        data = dashboard_for(user, filters, today=today)
        cache.set(key, data, CACHE_SECONDS)
    return data
