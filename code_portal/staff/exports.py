"""Exports of the staff lists: one mechanism, one *kind* per list.

A kind is the list's own scoped selector + the list's own FilterSet (fed the same query
string) + the columns. ``queryset(user, params)`` returns exactly the rows the list page shows
for those parameters (same filters, same order; invalid filters are ignored as the page ignores
them), so an export is what the person sees, all pages of it. ``build(queryset, params)`` gives
a ``training.exports.Export`` (header + a row generator reading one ``values_list`` query), and
the writers of ``training.exports`` write it: CSV streamed in chunks, XLSX through openpyxl's
write-only workbook, formula-like text neutralised in both.

Local representatives get their countries only because every kind starts from the scoped
selector of the list, with the requester as the user (also when a Celery task writes the file).
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime

from django.contrib.contenttypes.models import ContentType
from django.db.models import QuerySet
from django.http import QueryDict
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_countries import countries

from code_portal.models import User
from code_portal.staff.audit_changes import changes_line
from code_portal.staff.audit_filters import AuditEventFilter
from training.exports import ITERATOR_CHUNK, Export, csv_chunks, xlsx_file

FORMATS = ("csv", "xlsx")
# parameters of the list page that are not filters
IGNORED_PARAMS = ("page",)


@dataclass(frozen=True)
class ExportKind:
    name: str
    label: Promise
    list_url: str  # URL name of the list page
    queryset: Callable[[User, QueryDict], QuerySet]
    build: Callable[[QuerySet, QueryDict], Export]
    # adds to the parameters what pins the rows as they are now (called when asked for)
    freeze: Callable[[QueryDict], None] | None = None


def _filtered(filterset) -> QuerySet:
    # as the list pages do: a bound, valid filterset filters; otherwise the whole scoped list
    if filterset.is_bound and filterset.is_valid():
        return filterset.qs
    return filterset.queryset


class _Labels:
    """Choice labels and country names translated once per export, not once per row."""

    def __init__(self, *choices) -> None:
        self.choices = [{k: str(v) for k, v in c} for c in choices]
        self.countries: dict[str, str] = {}

    def country(self, code: str) -> str:
        if code not in self.countries:
            self.countries[code] = str(countries.name(code) or code)
        return self.countries[code]


def _when(value: datetime | None) -> datetime | None:
    # openpyxl refuses aware datetimes: naive, in the portal's time zone (UTC), no microseconds
    if value is None:
        return None
    return timezone.localtime(value).replace(tzinfo=None, microsecond=0)


def _stamp() -> str:
    return timezone.localdate().isoformat()


# --- Signatories (staff list /staff/signatories/) --------------------------------------------

def _signatories(user: User, params: QueryDict) -> QuerySet:
    from signatories.filters import SignatoryFilter
    from signatories.selectors import signatory_list_for

    filterset = SignatoryFilter(params or None, queryset=signatory_list_for(user))
    return _filtered(filterset).order_by("legal_name", "id")


def _signatory_rows(qs: QuerySet, params: QueryDict) -> Export:
    from signatories.models import SignatoryStatus, SignatoryType

    labels = _Labels(SignatoryType.choices, SignatoryStatus.choices)
    types, statuses = labels.choices
    yes, no = _("yes"), _("no")
    rows = qs.values_list(
        "pk", "membership_number", "legal_name", "trading_name", "type", "country", "status",
        "applied_at", "member_since", "reporting_deadline", "employees", "website",
        "contact_name", "contact_email", "possible_duplicate",
    ).iterator(chunk_size=ITERATOR_CHUNK)

    def generate() -> Iterator[list]:
        for (pk, number, legal, trading, kind, country, status, applied, since, deadline,
             employees, website, contact, email, duplicate) in rows:
            yield [pk, number, legal, trading, types.get(kind, kind), labels.country(country),
                   statuses.get(status, status), _when(applied), since, deadline, employees,
                   website, contact, email, yes if duplicate else no]

    return Export(
        filename=f"signatories-{_stamp()}", sheet=_("Signatories"),
        header=[_("Number (portal)"), _("Membership number"), _("Legal name"), _("Trading name"),
                _("Type"), _("Country"), _("Status"), _("Applied (UTC)"), _("Member since"),
                _("Reporting deadline"), _("Employees"), _("Website"), _("Contact person"),
                _("Contact e-mail"), _("Possible duplicate")],
        rows=generate())


# --- Reports to review (staff queue /staff/reports/) -----------------------------------------

def _reports(user: User, params: QueryDict) -> QuerySet:
    from reporting.filters import ReportFilter
    from reporting.selectors import staff_report_list_for

    filterset = ReportFilter(params or None, queryset=staff_report_list_for(user, params))
    return _filtered(filterset)  # ordered as the list: the queue, or by due date


def _report_rows(qs: QuerySet, params: QueryDict) -> Export:
    from reporting.models import ReportStatus
    from signatories.models import SignatoryType

    labels = _Labels(ReportStatus.choices, SignatoryType.choices)
    statuses, types = labels.choices
    rows = qs.values_list(
        "pk", "signatory__membership_number", "signatory__legal_name", "year",
        "signatory__country", "signatory__type", "status", "submitted_at", "submission_count",
        "due_on", "reviewer__email",
    ).iterator(chunk_size=ITERATOR_CHUNK)

    def generate() -> Iterator[list]:
        for pk, number, legal, year, country, kind, status, submitted, rounds, due, reviewer in rows:
            yield [pk, number, legal, year, labels.country(country), types.get(kind, kind),
                   statuses.get(status, status), _when(submitted), rounds, due, reviewer]

    return Export(
        filename=f"reports-to-review-{_stamp()}", sheet=_("Reports to review"),
        header=[_("Report number"), _("Membership number"), _("Company"), _("Reporting year"),
                _("Country"), _("Type"), _("Status"), _("Submitted (UTC)"), _("Round"),
                _("Due date"), _("Reviewer")],
        rows=generate())


# --- Training coverage across signatories (/staff/training/) -----------------------------------

def _coverage_as_of(params: QueryDict) -> date:
    from training.coverage import as_of_for_year

    today = timezone.localdate()
    try:  # as the page reads ?year= (training.views._year)
        year = int(params.get("year", today.year))
    except (TypeError, ValueError):
        year = today.year
    return as_of_for_year(year if 1998 <= year <= today.year else today.year, today)


def _coverage(user: User, params: QueryDict) -> QuerySet:
    from training.filters import CoverageFilter
    from training.selectors import coverage_list_for

    signatories = coverage_list_for(user, _coverage_as_of(params))
    return _filtered(CoverageFilter(params or None, queryset=signatories))


def _coverage_rows(qs: QuerySet, params: QueryDict) -> Export:
    # the training app's export, which computes the page's figures for every row at once
    from training.exports import staff_coverage_export

    return staff_coverage_export(qs, as_of=_coverage_as_of(params))


# --- Partner confirmation rates per signatory (/staff/partners/) --------------------------------

PARTNER_BATCH = 2000


def _partner_rates(user: User, params: QueryDict) -> QuerySet:
    # the page has no filters: the whole list, in the user's scope, in the page's order
    from signatories.partners.selectors import rates_signatories_for

    return rates_signatories_for(user)


def _partner_rate_rows(qs: QuerySet, params: QueryDict) -> Export:
    from signatories.models import SignatoryStatus
    from signatories.partners.selectors import rates_for_signatories

    labels = _Labels(SignatoryStatus.choices)
    (statuses,) = labels.choices
    today = timezone.localdate()
    rows = qs.values_list("pk", "membership_number", "legal_name", "country", "status"
                          ).iterator(chunk_size=ITERATOR_CHUNK)

    def generate() -> Iterator[list]:
        # the page's figures (one grouped query per batch of signatories, as the page does
        # for its 25 rows)
        batch: list[tuple] = []
        for row in rows:
            batch.append(row)
            if len(batch) == PARTNER_BATCH:
                yield from _partner_batch(batch)
                batch = []
        if batch:
            yield from _partner_batch(batch)

    def _partner_batch(batch: list[tuple]) -> Iterator[list]:
        figures = rates_for_signatories([row[0] for row in batch], today)
        for pk, number, legal, country, status in batch:
            f = figures[pk]
            yield [number, legal, labels.country(country), statuses.get(status, status),
                   f["partners"], f["confirmed"], f["share"], f["clause_contracts"],
                   f["clause_confirmed"], f["clause_share"]]

    return Export(
        filename=f"partner-confirmations-{today}", sheet=_("Partner confirmations"),
        header=[_("Membership number"), _("Signatory"), _("Country"), _("Status"),
                _("Partners (contract in force)"), _("Confirmed"), _("Confirmed (%)"),
                _("Contracts with the clause"), _("Of which confirmed"),
                _("Clause contracts confirmed (%)")],
        rows=generate())


# --- Audit trail (/staff/audit/) -----------------------------------------------------------------

def _audit(user: User, params: QueryDict) -> QuerySet:
    from code_portal.staff.selectors import audit_events_for

    return _filtered(AuditEventFilter(params or None, queryset=audit_events_for(user))
                     ).order_by("-occurred_at", "-id")


def _audit_rows(qs: QuerySet, params: QueryDict) -> Export:
    type_names: dict[int, str] = {}

    def type_name(pk: int) -> str:
        if pk not in type_names:
            model = ContentType.objects.get_for_id(pk).model_class()  # cached by Django
            type_names[pk] = str(model._meta.verbose_name) if model else str(pk)
        return type_names[pk]

    rows = qs.values_list(
        "pk", "occurred_at", "actor_label", "action", "content_type_id", "object_id",
        "object_repr", "signatory_id", "signatory__legal_name", "from_state", "to_state",
        "reason", "changes",
    ).iterator(chunk_size=ITERATOR_CHUNK)

    def generate() -> Iterator[list]:
        for (pk, when, actor, action, type_id, object_id, obj, signatory_id, signatory,
             before, after, reason, changes) in rows:
            yield [pk, _when(when), actor, action, type_name(type_id), object_id, obj,
                   signatory_id, signatory, before, after, reason, changes_line(changes)]

    return Export(
        filename=f"audit-trail-{_stamp()}", sheet=_("Audit trail"),
        header=[_("Event"), _("When (UTC)"), _("Actor"), _("Action"), _("Object type"),
                _("Object number"), _("Object"), _("Signatory number"), _("Signatory"),
                _("From"), _("To"), _("Reason"), _("Changes (before → after)")],
        rows=generate())


def _audit_freeze(params: QueryDict) -> None:
    # Without this the export's own audit event (written when it is asked for) and anything
    # recorded while a job waits would be in the file, which is not the list the person saw.
    from code_portal.models import AuditEvent

    if "until_event" not in params:
        last = AuditEvent.objects.order_by("-pk").values_list("pk", flat=True).first()
        params["until_event"] = str(last or 0)


KINDS: dict[str, ExportKind] = {kind.name: kind for kind in (
    ExportKind("signatories", gettext_lazy("Signatories"), "staff-signatory-list",
               _signatories, _signatory_rows),
    ExportKind("reports", gettext_lazy("Reports to review"), "staff-report-queue",
               _reports, _report_rows),
    ExportKind("training_coverage", gettext_lazy("Training coverage"), "staff-training",
               _coverage, _coverage_rows),
    ExportKind("partner_rates", gettext_lazy("Partner confirmations"), "staff-partner-rates",
               _partner_rates, _partner_rate_rows),
    ExportKind("audit", gettext_lazy("Audit trail"), "staff-audit-list", _audit, _audit_rows,
               _audit_freeze),
)}


def kind_choices() -> list[tuple[str, Promise]]:
    return [(k.name, k.label) for k in KINDS.values()]


def clean_params(params: QueryDict | dict) -> QueryDict:
    """The list's query string without the page number; from a request or a stored job."""
    query = QueryDict(mutable=True)
    items = params.lists() if isinstance(params, QueryDict) else params.items()
    for name, values in items:
        if name in IGNORED_PARAMS:
            continue
        query.setlist(name, [str(v) for v in (values if isinstance(values, list) else [values])])
    return query


def write_file(export: Export, fmt: str):
    """The export written to a temporary file, rewound (the task stores it)."""
    if fmt == "xlsx":
        return xlsx_file(export)
    if fmt != "csv":
        raise ValueError(fmt)
    handle = tempfile.TemporaryFile()  # noqa: SIM115 (returned to the caller, who closes it)
    for chunk in csv_chunks(export):
        handle.write(chunk)
    handle.seek(0)
    return handle
