"""Bulk import of partners from CSV or XLSX, the training import's way.

Reading the file (encodings, delimiters, XLSX, line numbers as the user sees them) and the cell
parsers (yes/no in six languages, dates) come from ``training.importers``; this module has the
partner columns, the row checks and the job runner. A file with row errors imports nothing
unless the uploader asked for the valid rows; a re-run of a job (a re-delivered task) skips the
partners that job already created.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.core.validators import URLValidator, validate_email
from django.db import transaction
from django.db.models.functions import Lower
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django_countries import countries

from code_portal.audit import audit_record
from signatories.partners.models import ImportStatus, Partner, PartnerImportJob, PartnerKind
from training.importers import ImportFileError, parse_bool, parse_date
from training.importers.reading import cell_text, is_blank, normalise_header, spreadsheet_rows
from training.importers.validation import chunks

COLUMNS = ("name", "kind", "country", "city", "contact_email", "website", "contract_reference",
           "contract_start", "contract_end", "carries_clause")
REQUIRED = ("name", "country")
OPTIONAL = ("language",)
MAX_ROWS = 50_000
BATCH_SIZE = 1000
MAX_LENGTHS = {"name": 200, "city": 100, "contact_email": 254, "website": 200,
               "contract_reference": 100}
KIND_WORDS = {**{k: k for k in PartnerKind.values},
              "hotel / accommodation": "hotel", "accommodation": "hotel", "ground handler": "ground_handler",
              "excursion": "excursions", "other supplier": "other"}


@dataclass
class Rows:
    columns: dict[str, int]
    rows: Any
    epoch: Any = None


@dataclass
class ParseResult:
    rows: list[dict] = field(default_factory=list)
    errors: list[dict] = field(default_factory=list)
    total_rows: int = 0
    already_imported: int = 0


def _header(line: int, cells: list) -> dict[str, int]:
    columns: dict[str, int] = {}
    unknown = []
    for index, cell in enumerate(cells):
        name = normalise_header(cell)
        if not name:
            continue
        if name not in COLUMNS and name not in OPTIONAL:
            unknown.append(cell_text(cell))
        else:
            columns.setdefault(name, index)
    missing = [c for c in REQUIRED if c not in columns]
    if missing or unknown:
        raise ImportFileError(
            _("The columns of line %(line)s do not match the template (missing: %(missing)s; "
              "unknown: %(unknown)s). The columns are: %(expected)s.")
            % {"line": line, "missing": ", ".join(missing) or "–",
               "unknown": ", ".join(unknown) or "–", "expected": ", ".join(COLUMNS + OPTIONAL)})
    return columns


def read_rows(data: bytes, *, filename: str) -> Rows:
    rows, epoch, _declared = spreadsheet_rows(data, filename=filename)
    for line, cells in rows:
        if all(is_blank(c) for c in cells):
            continue
        return Rows(columns=_header(line, cells), rows=rows, epoch=epoch)
    raise ImportFileError(_("The file is empty."))


def check_partner_file(upload: UploadedFile, *, filename: str) -> int:
    """At upload time: it opens, has the columns, and has between 1 and MAX_ROWS rows."""
    upload.seek(0)
    data = upload.read()
    upload.seek(0)
    table = read_rows(data, filename=filename)
    count = sum(1 for _line, cells in table.rows if not all(is_blank(c) for c in cells))
    if not count:
        raise ImportFileError(_("The file has a header line but no partners below it."))
    if count > MAX_ROWS:
        raise ImportFileError(_("The file has more than %(max)s rows. Split it into smaller files.")
                              % {"max": f"{MAX_ROWS:,}"})
    return count


def _country(value: str) -> str | None:
    if not value:
        return None
    if value.upper() in dict(countries):
        return value.upper()
    code = countries.by_name(value) or countries.by_name(value, language="en")
    return code or None


def _row(cells: list, table: Rows, today) -> tuple[dict, list[str]]:
    def cell(name: str) -> Any:
        index = table.columns.get(name)
        return cells[index] if index is not None and index < len(cells) else None

    problems: list[str] = []
    text = {name: cell_text(cell(name)) for name in ("name", "kind", "country", "city",
                                                     "contact_email", "website",
                                                     "contract_reference", "language")}
    if not text["name"]:
        problems.append(_("Give the partner's name."))
    for name, limit in MAX_LENGTHS.items():
        if len(text[name]) > limit:
            problems.append(_("%(column)s is longer than %(max)s characters.")
                            % {"column": name, "max": limit})
    kind = KIND_WORDS.get(text["kind"].casefold()) if text["kind"] else PartnerKind.HOTEL
    if kind is None:
        problems.append(_("Unknown kind “%(value)s”: write one of %(kinds)s.")
                        % {"value": text["kind"], "kinds": ", ".join(PartnerKind.values)})
    country = _country(text["country"])
    if country is None:
        problems.append(_("“%(value)s” is not a country we know: write its two-letter code (SE, "
                          "TH…) or its English name.") % {"value": text["country"]}
                        if text["country"] else _("Give the partner's country."))
    if text["contact_email"]:
        try:
            validate_email(text["contact_email"])
        except ValidationError:
            problems.append(_("“%(value)s” is not a valid e-mail address.")
                            % {"value": text["contact_email"]})
    website = text["website"]
    if website:
        website = website if "://" in website else f"https://{website}"
        try:
            URLValidator(schemes=["http", "https"])(website)
        except ValidationError:
            problems.append(_("“%(value)s” is not a web address.") % {"value": text["website"]})
    dates = {}
    for name in ("contract_start", "contract_end"):
        raw = cell(name)
        dates[name] = None if is_blank(raw) else parse_date(raw, table.epoch)
        if not is_blank(raw) and dates[name] is None:
            problems.append(_("“%(value)s” in %(column)s is not a date we can read: write it as "
                              "YYYY-MM-DD or DD/MM/YYYY.") % {"value": cell_text(raw), "column": name})
    if dates["contract_start"] and dates["contract_end"] and dates["contract_end"] < dates["contract_start"]:
        problems.append(_("The contract ends before it starts."))
    clause_raw = cell("carries_clause")
    clause = False if is_blank(clause_raw) else parse_bool(clause_raw)
    if clause is None:
        problems.append(_("Write yes or no in carries_clause (found “%(value)s”).")
                        % {"value": cell_text(clause_raw)})
    language = text["language"].lower()
    if language and language not in dict(settings.LANGUAGES):
        problems.append(_("Unknown language “%(value)s”: write one of %(codes)s.")
                        % {"value": text["language"],
                           "codes": ", ".join(code for code, _n in settings.LANGUAGES)})
    values = {"name": text["name"], "kind": kind, "country": country, "city": text["city"],
              "contact_email": text["contact_email"].lower(), "website": website,
              "contract_reference": text["contract_reference"], "language": language,
              "carries_clause": bool(clause), **dates}
    return values, problems


def parse(data: bytes, *, filename: str, signatory_id: int, job_id: int | None = None,
          today=None) -> ParseResult:
    """Every row checked; a partner with the same name and country as another row or as one
    already in the list is an error (except those this same job created in an earlier run)."""
    table = read_rows(data, filename=filename)
    result = ParseResult()
    seen: dict[tuple, int] = {}
    today = today or timezone.localdate()
    for line, cells in table.rows:
        if all(is_blank(c) for c in cells):
            continue
        result.total_rows += 1
        if result.total_rows > MAX_ROWS:
            raise ImportFileError(_("The file has more than %(max)s rows. Split it into smaller "
                                    "files.") % {"max": f"{MAX_ROWS:,}"})
        values, problems = _row(cells, table, today)
        key = (values["name"].casefold(), values["country"])
        if not problems:
            first = seen.setdefault(key, line)
            if first != line:
                problems.append(_("Same partner (name and country) as line %(line)s.")
                                % {"line": first})
        if problems:
            result.errors.append({"line": line, "errors": problems})
        else:
            result.rows.append({"line": line, **values})
    if not result.total_rows:
        raise ImportFileError(_("The file has a header line but no partners below it."))
    _mark_existing(result, signatory_id=signatory_id, job_id=job_id)
    return result


def _mark_existing(result: ParseResult, *, signatory_id: int, job_id: int | None) -> None:
    if not result.rows:
        return
    existing: dict[tuple, int | None] = {}
    names = sorted({row["name"].casefold() for row in result.rows})
    for chunk in chunks(names):
        for name, country, job in (Partner.objects.annotate(lname=Lower("name"))
                                   .filter(signatory_id=signatory_id, lname__in=[n.lower() for n in chunk])
                                   .values_list("lname", "country", "import_job_id")):
            existing[(name.casefold(), country)] = job
    kept = []
    for row in result.rows:
        key = (row["name"].casefold(), row["country"])
        if key not in existing:
            kept.append(row)
        elif job_id is not None and existing[key] == job_id:
            result.already_imported += 1
        else:
            result.errors.append({"line": row["line"],
                                  "errors": [_("This partner (name and country) is already in "
                                               "your list.")]})
    result.errors.sort(key=lambda e: e["line"])
    result.rows = kept


def import_run(*, job_id: int, on_progress: Callable[[int, int], None] | None = None
               ) -> PartnerImportJob | None:
    """Claim the job (pending, or running after a lost worker), validate, write in batches."""
    claimed = PartnerImportJob.objects.filter(
        pk=job_id, status__in=[ImportStatus.PENDING, ImportStatus.RUNNING],
    ).update(status=ImportStatus.RUNNING, updated_at=timezone.now())
    if not claimed:
        return None
    job = PartnerImportJob.objects.select_related("signatory", "uploaded_by").get(pk=job_id)
    language = (job.uploaded_by.language if job.uploaded_by else "") or settings.LANGUAGE_CODE
    with translation.override(language):
        try:
            with job.file.open("rb") as handle:
                data = handle.read()
            result = parse(data, filename=job.original_name, signatory_id=job.signatory_id,
                           job_id=job.pk)
        except ImportFileError as exc:
            return _finish(job, ImportStatus.INVALID, [{"line": None, "errors": [exc.message]}], 0)
        if result.errors and not job.import_valid_rows and not result.already_imported:
            return _finish(job, ImportStatus.INVALID, result.errors, result.total_rows)
        done = result.total_rows - len(result.rows)
        PartnerImportJob.objects.filter(pk=job.pk).update(total_rows=result.total_rows,
                                                          processed_rows=done)
        for batch in chunks(result.rows, BATCH_SIZE):
            with transaction.atomic():
                created = Partner.objects.bulk_create([
                    Partner(signatory_id=job.signatory_id, import_job=job,
                            **{k: v for k, v in row.items() if k != "line"})
                    for row in batch])
                for partner in created:
                    audit_record(actor=job.uploaded_by, action="partner.created", obj=partner,
                                 signatory=job.signatory,
                                 changes={"import": {"to": job.original_name}})
                done += len(batch)
                PartnerImportJob.objects.filter(pk=job.pk).update(processed_rows=done,
                                                                  updated_at=timezone.now())
            if on_progress:
                on_progress(done, result.total_rows)
        return _finish(job, ImportStatus.DONE, result.errors, result.total_rows)


@transaction.atomic
def _finish(job: PartnerImportJob, status: str, errors: list[dict], total: int) -> PartnerImportJob:
    created = Partner.objects.filter(import_job=job).count()
    updated = PartnerImportJob.objects.filter(pk=job.pk, status=ImportStatus.RUNNING).update(
        status=status, errors=errors, total_rows=total, processed_rows=total,
        created_partners=created, finished_at=timezone.now(), updated_at=timezone.now())
    job.refresh_from_db()
    if updated:
        audit_record(actor=job.uploaded_by, action="partner_import.finished", obj=job,
                     signatory=job.signatory, to_state=status,
                     changes={"created_partners": {"to": created},
                              "rows_with_errors": {"to": len(errors)}})
    return job


def import_fail(*, job_id: int, message: str) -> None:
    job = PartnerImportJob.objects.filter(pk=job_id).select_related("signatory", "uploaded_by").first()
    if job is None or job.finished:
        return
    PartnerImportJob.objects.filter(pk=job_id, status=ImportStatus.PENDING).update(
        status=ImportStatus.RUNNING)
    _finish(job, ImportStatus.FAILED, [{"line": None, "errors": [message]}], job.total_rows)


def template_rows() -> list[list]:
    return [["Hotel Example", "hotel", "TH", "Phuket", "manager@hotel.example",
             "https://hotel.example", "C-2026-001", "2026-01-01", "2027-12-31", "yes"]]
