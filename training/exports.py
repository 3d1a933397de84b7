"""Training exports: a company's completions and coverage, and coverage across signatories,
as CSV or XLSX.

Rows come from one query each (``values_list(...).iterator()``), so an export costs the same
number of queries for ten records or a million; CSV is streamed as it is written, XLSX is
written by openpyxl's write-only mode to a temporary file. Text that a spreadsheet would run as
a formula (``=…``, ``+…``, ``-…``, ``@…``) is neutralised: prefixed with ``'`` in CSV, stored as
a text cell in XLSX.
"""

from __future__ import annotations

import csv
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date

from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.http import FileResponse, HttpResponse, StreamingHttpResponse
from django.utils.functional import Promise
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django_countries import countries

from code_portal.audit import audit_record
from code_portal.models import User
from signatories.models import Signatory, SignatoryStatus, SignatoryType
from training.coverage import coverage_for, share, valid_on_q
from training.models import Headcount, Trainee, TrainingRecord

FORMATS = ("csv", "xlsx")
CSV_BATCH_ROWS = 500
ITERATOR_CHUNK = 2000
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


@dataclass
class Export:
    filename: str  # without extension
    sheet: str
    header: list[str]
    rows: Iterable[list]


def records_export(signatory: Signatory, *, today: date) -> Export:
    """Every completion of the company, newest first. Erased people stay, without their data."""
    erased, yes, no = _("(erased)"), _("yes"), _("no")  # translated once, not per row
    rows = (TrainingRecord.objects.filter(signatory=signatory)
            .order_by("-completed_on", "-id")
            .values_list("trainee__staff_reference", "trainee__name", "trainee__department",
                         "trainee__is_customer_facing", "trainee__erased_at", "course__title",
                         "course_id", "completed_on", "expires_on")
            .iterator(chunk_size=ITERATOR_CHUNK))

    def generate() -> Iterator[list]:
        for ref, name, department, facing, erased_at, title, course_id, done, expires in rows:
            valid = done <= today and (expires is None or expires > today)
            yield [ref, erased if erased_at else name, department, yes if facing else no, title,
                   course_id, done, expires, yes if valid else no]

    return Export(
        filename=f"training-records-{slugify(signatory.display_name) or signatory.pk}-{today}",
        sheet=_("Completions"),
        header=[_("Staff reference"), _("Name"), _("Department / role"), _("Customer-facing"),
                _("Course"), _("Course number"), _("Completed on"), _("Expires on"),
                _("Valid today")],
        rows=generate())


def coverage_export(signatory: Signatory, *, as_of: date) -> Export:
    """The coverage summary of one company: overall against the stated headcount, then per
    department against the people on record (see ``training.coverage``)."""
    coverage = coverage_for(signatory, as_of)
    name = signatory.display_name
    rows = [[name, as_of, _("All employees (stated headcount)"), coverage.employees,
             coverage.trained, coverage.share, coverage.customer_facing_employees,
             coverage.customer_facing_trained, coverage.customer_facing_share,
             coverage.refreshers_due]]
    for d in coverage.departments:
        rows.append([name, as_of, d.department or _("(no department)"), d.people, d.trained,
                     d.share, d.customer_facing, d.customer_facing_trained,
                     d.customer_facing_share, None])
    return Export(
        filename=f"training-coverage-{slugify(name) or signatory.pk}-{as_of}",
        sheet=_("Coverage"),
        header=[_("Signatory"), _("As of"), _("Department / role"),
                _("Employees / people on record"), _("Trained"), _("Coverage (%)"),
                _("Customer-facing"), _("Customer-facing trained"),
                _("Customer-facing coverage (%)"), _("Refreshers due within 90 days")],
        rows=rows)


def staff_coverage_export(signatories: QuerySet[Signatory], *, as_of: date) -> Export:
    """Coverage per signatory, for the signatories of ``selectors.coverage_list_for`` (scoped to
    the user), filtered as the staff coverage page is.

    Same figures as ``coverage.annotate_coverage`` (the page's), computed differently: its
    correlated subqueries suit a page of 25 rows but cost ~18 s of SQL for 73,000 signatories
    (bench/README.md), so an export of every signatory counts trained people with one
    ``GROUP BY`` over all of them and reads the headcounts in one query: three queries, a few
    seconds at 100,000 signatories."""
    # labels translated once, not once per row (gettext per call costs ~0.1 ms: seconds here)
    types = {key: str(label) for key, label in SignatoryType.choices}
    statuses = {key: str(label) for key, label in SignatoryStatus.choices}
    country_names: dict[str, str] = {}
    ids = signatories.values("pk")

    def generate() -> Iterator[list]:
        valid = TrainingRecord.objects.filter(valid_on_q(as_of), trainee=OuterRef("pk"))
        trained = {sid: (n, cf) for sid, n, cf in (
            Trainee.objects.filter(Exists(valid), signatory__in=ids).order_by()
            .values("signatory_id")
            .annotate(n=Count("id"), cf=Count("id", filter=Q(is_customer_facing=True)))
            .values_list("signatory_id", "n", "cf"))}
        stated = {sid: (employees, cf) for sid, employees, cf in (
            Headcount.objects.filter(signatory__in=ids, year=as_of.year)
            .values_list("signatory_id", "employees", "customer_facing_employees"))}
        for pk, number, legal_name, country, kind, status in signatories.values_list(
                "pk", "membership_number", "legal_name", "country", "type", "status",
        ).iterator(chunk_size=ITERATOR_CHUNK):
            n, cf_n = trained.get(pk, (0, 0))
            employees, cf = stated.get(pk, (None, None))
            if country not in country_names:
                country_names[country] = str(countries.name(country) or country)
            yield [number, legal_name, country_names[country], types.get(kind, kind),
                   statuses.get(status, status), employees, n, share(n, employees), cf, cf_n,
                   share(cf_n, cf)]

    return Export(
        filename=f"training-coverage-signatories-{as_of}",
        sheet=_("Coverage"),
        header=[_("Membership number"), _("Signatory"), _("Country"), _("Type"), _("Status"),
                _("Employees"), _("Trained"), _("Coverage (%)"),
                _("Customer-facing employees"), _("Customer-facing trained"),
                _("Customer-facing coverage (%)")],
        rows=generate())


def log_personal_data_export(*, actor: User, signatory: Signatory, fmt: str) -> None:
    """Completions name people: who downloaded them, and when, goes into the audit trail."""
    audit_record(actor=actor, action="training_records.exported", obj=signatory,
                 signatory=signatory, changes={"format": {"to": fmt}})


# --- Writers --------------------------------------------------------------------------------------

def _csv_value(value) -> object:
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    if isinstance(value, date):
        return value.isoformat()
    return value


class _Line:
    """A file-like object whose ``write`` returns what it was given, for csv.writer."""

    def write(self, value: str) -> str:
        return value


def csv_chunks(export: Export) -> Iterator[bytes]:
    """UTF-8 with a BOM, so that Excel opens names in any script correctly."""
    writer = csv.writer(_Line())
    buffer = ["\ufeff" + writer.writerow(export.header)]
    for row in export.rows:
        buffer.append(writer.writerow([_csv_value(v) for v in row]))
        if len(buffer) >= CSV_BATCH_ROWS:
            yield "".join(buffer).encode()
            buffer = []
    if buffer:
        yield "".join(buffer).encode()


def xlsx_file(export: Export):
    """The workbook in a temporary file (spooled in memory up to 20 MB), rewound."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(export.sheet[:31])
    bold = Font(bold=True)
    header = []
    for title in export.header:
        cell = WriteOnlyCell(sheet, value=title)
        cell.font = bold
        header.append(cell)
    sheet.append(header)
    for row in export.rows:
        cells = []
        for value in row:
            if isinstance(value, Promise):  # a lazy translation
                value = str(value)
            if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
                cell = WriteOnlyCell(sheet, value=value)
                cell.data_type = "s"  # text, never a formula
                cells.append(cell)
            else:
                cells.append(value)
        sheet.append(cells)
    handle = tempfile.SpooledTemporaryFile(max_size=20 * 1024 * 1024)  # noqa: SIM115 (returned)
    workbook.save(handle)
    handle.seek(0)
    return handle


def export_response(export: Export, fmt: str) -> HttpResponse:
    if fmt == "csv":
        response = StreamingHttpResponse(csv_chunks(export), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{export.filename}.csv"'
        return response
    if fmt == "xlsx":
        return FileResponse(xlsx_file(export), as_attachment=True,
                            filename=f"{export.filename}.xlsx", content_type=XLSX_CONTENT_TYPE)
    raise ValueError(fmt)


# --- The import template ----------------------------------------------------------------------------

def import_template_response(signatory: Signatory, fmt: str) -> HttpResponse:
    """The file to fill in: the import's columns; the XLSX also lists the courses to choose from
    (catalogue and the company's own, with their numbers) and offers yes/no in a drop-down."""
    from training.importers import COLUMNS, CourseIndex

    filename = "training-import-template"
    if fmt == "csv":
        response = HttpResponse(("\ufeff" + ",".join(COLUMNS) + "\r\n").encode(),
                                content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{filename}.csv"'
        return response
    if fmt != "xlsx":
        raise ValueError(fmt)
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = _("Completions")[:31]
    sheet.append(list(COLUMNS))
    for index, name in enumerate(COLUMNS, start=1):
        letter = get_column_letter(index)
        sheet[f"{letter}1"].font = Font(bold=True)
        sheet.column_dimensions[letter].width = max(16, len(name) + 4)
    facing = get_column_letter(COLUMNS.index("customer_facing") + 1)
    completed = get_column_letter(COLUMNS.index("completed_on") + 1)
    choice = DataValidation(type="list", formula1='"yes,no"', allow_blank=False)
    choice.add(f"{facing}2:{facing}10001")
    sheet.add_data_validation(choice)
    # a column style, not 10,000 formatted empty cells: Excel applies it to what is typed in
    sheet.column_dimensions[completed].number_format = "yyyy-mm-dd"
    sheet.freeze_panes = "A2"
    courses = workbook.create_sheet(_("Courses")[:31])
    courses.append([_("Course number"), _("Title"), _("Provider"), _("Validity (months)")])
    for cell in courses[1]:
        cell.font = Font(bold=True)
    index = CourseIndex.for_signatory(signatory)
    for course in sorted(index.by_id.values(), key=lambda c: (c.title.casefold(), c.pk)):
        courses.append([course.pk, course.title, course.provider, course.validity_months])
    courses.column_dimensions["B"].width = 50
    courses.column_dimensions["C"].width = 30
    handle = tempfile.SpooledTemporaryFile(max_size=5 * 1024 * 1024)  # noqa: SIM115 (returned)
    workbook.save(handle)
    handle.seek(0)
    return FileResponse(handle, as_attachment=True, filename=f"{filename}.xlsx",
                        content_type=XLSX_CONTENT_TYPE)
