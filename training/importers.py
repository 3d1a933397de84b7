"""Bulk import of training completions from a CSV or XLSX file.

The work is split so that each step can be tested on its own:

1. :func:`read_table` — bytes → header and rows. Decodes CSV (UTF-8 with or without BOM; cp1252
   only when the bytes are not UTF-8 at all and decode cleanly), sniffs ``,`` ``;`` or tab, opens
   XLSX with openpyxl in read-only mode, and maps the header. Problems with the file as a whole
   raise :class:`ImportFileError` with a message for the user.
2. :func:`validate` — pure, no database: checks every row and returns the valid rows and a list
   of ``{"line": n, "errors": [...]}`` where ``n`` is the line (CSV) or row (XLSX) number the
   user sees, the header being line 1.
3. :func:`mark_already_recorded` — the one database check: completions already on record.

:func:`import_execute` (called by ``training.tasks.run_import``) claims the job, runs the three
steps and writes the valid rows in batches; it is safe to run twice for the same job.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import zipfile
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from openpyxl.utils import get_column_letter

from code_portal.audit import audit_record
from signatories.models import Signatory
from training.models import Course, ImportJob, ImportStatus, Trainee, TrainingRecord
from training.services import courses_available_q, expiry_for

COLUMNS = ("staff_reference", "name", "department", "customer_facing", "course", "completed_on")
OPTIONAL_COLUMNS = ("email",)
COLUMN_ALIASES = {"e_mail": "email"}
MAX_ROWS = 100_000
# Rows written per transaction: the progress bar moves once per batch, and a batch is the unit
# that a re-run may find half done (ignore_conflicts makes that harmless).
BATCH_SIZE = 1000
# Keys per IN (...) list, well under SQLite's limit on bound parameters.
LOOKUP_CHUNK = 2000
EARLIEST_DATE = date(1970, 1, 1)
MAX_LENGTHS = {"staff_reference": 100, "name": 200, "department": 100, "email": 254}

TRUE_WORDS = {"yes", "y", "true", "t", "1",
              "oui", "vrai",            # fr
              "sí", "si", "verdadero",  # es
              "ja", "j", "sant",        # sv, de
              "wahr",                   # de
              "ใช่", "จริง"}             # th
FALSE_WORDS = {"no", "n", "false", "f", "0",
               "non", "faux",
               "falso",
               "nej", "falskt",
               "nein", "falsch",
               "ไม่", "ไม่ใช่", "เท็จ"}

_CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_ISO_DATE = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ][\d:.+\-Z ]*)?")
_YMD_DATE = re.compile(r"(\d{4})[/.](\d{1,2})[/.](\d{1,2})")
_DMY_DATE = re.compile(r"(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{4})(?: \d{1,2}:\d{2}(?::\d{2})?)?")
_EXCEL_MAX_SERIAL = 2958465  # 9999-12-31


class ImportFileError(Exception):
    """The file as a whole cannot be imported (encoding, columns, empty…)."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass
class Table:
    columns: dict[str, int]          # column name -> 0-based index in each row
    rows: Iterator[tuple[int, list]]  # (line number as the user sees it, cells)
    epoch: datetime | None = None    # XLSX date system, for date serial numbers
    declared_rows: int | None = None  # XLSX: the sheet's own idea of its size, header included


@dataclass(frozen=True)
class ImportRow:
    line: int
    staff_reference: str
    name: str
    email: str
    department: str
    is_customer_facing: bool
    course: Course
    completed_on: date

    @property
    def identity(self) -> tuple[str, str]:
        """How the person is found, as in ``services.trainee_for``: reference, else name."""
        return ("ref", self.staff_reference) if self.staff_reference else ("name", self.name)

    @property
    def completion_key(self) -> tuple:
        return (self.identity, self.course.pk, self.completed_on)


@dataclass
class ParseResult:
    rows: list[ImportRow]
    errors: list[dict] = field(default_factory=list)
    total_rows: int = 0


# --- Reading the file ---------------------------------------------------------------------------

def _save_as_utf8() -> str:
    return _("We cannot read the characters of this file. In your spreadsheet program choose "
             "“Save as” → “CSV UTF-8”, or save the file as UTF-8, and upload it again.")


def decode_text(data: bytes) -> str:
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise ImportFileError(_save_as_utf8())
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8):]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        # Valid multi-byte UTF-8 sequences next to invalid bytes: a damaged or mixed file, which
        # cp1252 would turn into "Ã©"-style garbage without complaint.
        lenient = data.decode("utf-8", errors="replace")
        if any(ord(ch) > 127 and ch != "\ufffd" for ch in lenient):
            raise ImportFileError(_save_as_utf8()) from None
        try:
            text = data.decode("cp1252")
        except UnicodeDecodeError:
            raise ImportFileError(_save_as_utf8()) from None
    if "\x00" in text:
        raise ImportFileError(_save_as_utf8())
    return text


def sniff_delimiter(text: str) -> str:
    """The delimiter of the header line: the most frequent of , ; and tab outside quotes."""
    header = next((line for line in text.splitlines() if line.strip()), "")
    unquoted = re.sub(r'"[^"]*"', "", header)
    counts = {d: unquoted.count(d) for d in (",", ";", "\t")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def _csv_rows(text: str) -> Iterator[tuple[int, list]]:
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sniff_delimiter(text))
    while True:
        start = reader.line_num + 1  # a quoted field may span lines: report where the row starts
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise ImportFileError(_("Line %(line)s cannot be read as CSV (%(error)s). Check the "
                                    "quotes on that line.") % {"line": start, "error": exc}) from exc
        yield start, row


def _unreadable_xlsx() -> ImportFileError:
    return ImportFileError(_("This XLSX file cannot be opened; it may be damaged. Open it in your "
                             "spreadsheet program, save it again as .xlsx and upload it again."))


def _xlsx_table(data: bytes) -> tuple[Iterator[tuple[int, list]], datetime | None, int | None]:
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, ValueError, TypeError,
            OSError, EOFError) as exc:
        raise _unreadable_xlsx() from exc
    if not workbook.worksheets:
        raise ImportFileError(_("This workbook has no sheet."))
    sheet = workbook.worksheets[0]

    def rows() -> Iterator[tuple[int, list]]:
        try:
            # read-only mode yields empty rows too, so the count is the spreadsheet's row number
            for number, row in enumerate(sheet.iter_rows(values_only=True), start=1):
                yield number, list(row)
        except (zipfile.BadZipFile, KeyError, ValueError, TypeError, OSError, EOFError) as exc:
            raise _unreadable_xlsx() from exc
        finally:
            workbook.close()

    declared = sheet.max_row if isinstance(sheet.max_row, int) else None
    return rows(), workbook.epoch, declared


def _is_blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def normalise_header(value: Any) -> str:
    name = re.sub(r"[\s\-]+", "_", _text(value).lower().replace("\ufeff", "")).strip("_")
    return COLUMN_ALIASES.get(name, name)


def _map_header(line: int, cells: list) -> dict[str, int]:
    columns: dict[str, int] = {}
    unknown, repeated = [], []
    for index, cell in enumerate(cells):
        name = normalise_header(cell)
        if not name:
            continue
        if name not in COLUMNS and name not in OPTIONAL_COLUMNS:
            unknown.append(_text(cell))
        elif name in columns:
            repeated.append(name)
        else:
            columns[name] = index
    missing = [c for c in COLUMNS if c not in columns]
    if missing or unknown or repeated:
        problems = []
        if missing:
            problems.append(_("missing: %(columns)s") % {"columns": ", ".join(missing)})
        if unknown:
            problems.append(_("unknown: %(columns)s") % {"columns": ", ".join(unknown)})
        if repeated:
            problems.append(_("more than once: %(columns)s") % {"columns": ", ".join(repeated)})
        raise ImportFileError(
            _("The columns of line %(line)s do not match the template (%(problems)s). The "
              "columns are: %(expected)s; “email” is optional.")
            % {"line": line, "problems": "; ".join(problems), "expected": ", ".join(COLUMNS)})
    return columns


def read_table(data: bytes, *, filename: str) -> Table:
    """Open the file and read its header. Raises :class:`ImportFileError`."""
    if not data:
        raise ImportFileError(_("The file is empty."))
    epoch = declared = None
    if filename.lower().endswith(".xlsx"):
        rows, epoch, declared = _xlsx_table(data)
    else:
        rows = _csv_rows(decode_text(data))
    for line, cells in rows:
        if all(_is_blank(c) for c in cells):
            continue
        return Table(columns=_map_header(line, cells), rows=rows, epoch=epoch,
                     declared_rows=declared)
    raise ImportFileError(_("The file is empty."))


def check_import_file(upload: UploadedFile, *, filename: str | None = None) -> int:
    """At upload time: the file opens, has the right columns, at least one row and not too many.

    Returns the number of data rows (for XLSX, as the sheet declares it). Cheap enough to run in
    the request: it reads cells, it does not validate them.
    """
    name = filename or upload.name or ""
    upload.seek(0)
    data = upload.read()
    upload.seek(0)
    table = read_table(data, filename=name)
    if table.declared_rows is not None and table.declared_rows - 1 > MAX_ROWS:
        raise _too_many_rows()
    count = 0
    for _line, cells in table.rows:
        if all(_is_blank(c) for c in cells):
            continue
        count += 1
        if table.declared_rows is not None:
            break  # XLSX: its declared size was checked above; reading every cell is slow
        if count > MAX_ROWS:
            raise _too_many_rows()
    if not count:
        raise ImportFileError(_("The file has a header line but no completions below it."))
    return count


def _too_many_rows() -> ImportFileError:
    return ImportFileError(_("The file has more than %(max)s rows. Split it into smaller files.")
                           % {"max": f"{MAX_ROWS:,}"})


# --- Validating rows ------------------------------------------------------------------------------

def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    elif isinstance(value, datetime):
        value = value.date() if value.time() == datetime.min.time() else value
    text = _CONTROL_CHARS.sub("", str(value))
    return " ".join(text.split())


def _fold(text: str) -> str:
    return " ".join(text.split()).casefold()


def parse_bool(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    word = _text(value).casefold().rstrip(".")
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    return None


def _from_serial(serial: float, epoch: datetime | None) -> date | None:
    if not 1 <= serial <= _EXCEL_MAX_SERIAL:
        return None
    from openpyxl.utils.datetime import CALENDAR_WINDOWS_1900, from_excel

    try:
        value = from_excel(serial, epoch or CALENDAR_WINDOWS_1900)
    except (ValueError, OverflowError):
        return None
    return value.date() if isinstance(value, datetime) else None


def parse_date(value: Any, epoch: datetime | None = None) -> date | None:
    """ISO (2024-03-31), DD/MM/YYYY (also with . or -), YYYY/MM/DD, YYYYMMDD, spreadsheet dates."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return _from_serial(value, epoch)
    text = _text(value)
    try:
        if text.isdigit() and len(text) <= 5:
            return _from_serial(int(text), epoch)
        if text.isdigit() and len(text) == 8:
            return date(int(text[:4]), int(text[4:6]), int(text[6:]))
        if match := _ISO_DATE.fullmatch(text) or _YMD_DATE.fullmatch(text):
            return date(int(match[1]), int(match[2]), int(match[3]))
        if match := _DMY_DATE.fullmatch(text):
            return date(int(match[3]), int(match[2]), int(match[1]))
    except ValueError:
        return None
    return None


class CourseIndex:
    """The courses a signatory may record (catalogue + own), found by title or number."""

    def __init__(self, courses: Iterable[Course]):
        self.by_id: dict[int, Course] = {}
        self.by_title: dict[str, list[Course]] = defaultdict(list)
        for course in courses:
            self.by_id[course.pk] = course
            self.by_title[_fold(course.title)].append(course)

    @classmethod
    def for_signatory(cls, signatory: Signatory) -> CourseIndex:
        return cls(Course.objects.filter(courses_available_q(signatory))
                   .only("id", "title", "provider", "validity_months", "signatory_id").order_by("id"))

    def match(self, value: Any) -> tuple[Course | None, str | None]:
        text = "" if isinstance(value, bool) else _text(value)
        if not text:
            return None, _("Give the course: its title or its number.")
        candidates = self.by_title.get(_fold(text), [])
        if len(candidates) == 1:
            return candidates[0], None
        if text.isdigit() and int(text) in self.by_id:
            return self.by_id[int(text)], None
        if candidates:
            return None, (_("Several of your courses are called “%(title)s”: write the course "
                            "number instead (%(numbers)s).")
                          % {"title": text, "numbers": ", ".join(str(c.pk) for c in candidates)})
        return None, (_("Unknown course “%(course)s”: write the title or number of a course from "
                        "the catalogue or of your own courses.") % {"course": text})


def _validate_row(cells: list, table: Table, courses: CourseIndex,
                  today: date) -> tuple[dict[str, Any], list[str]]:
    def cell(name: str) -> Any:
        index = table.columns.get(name)
        return cells[index] if index is not None and index < len(cells) else None

    problems: list[str] = []
    known = set(table.columns.values())
    for index, value in enumerate(cells):
        if index not in known and not _is_blank(value):
            problems.append(_("There is a value in column %(column)s, which has no heading.")
                            % {"column": get_column_letter(index + 1)})
            break
    values = {name: _text(cell(name)) for name in ("staff_reference", "name", "department",
                                                   "email")}
    if not values["staff_reference"] and not values["name"]:
        problems.append(_("Give the person's staff reference or name."))
    for name, limit in MAX_LENGTHS.items():
        if len(values[name]) > limit:
            problems.append(_("%(column)s is longer than %(max)s characters.")
                            % {"column": name, "max": limit})
    if values["email"] and len(values["email"]) <= MAX_LENGTHS["email"]:
        try:
            validate_email(values["email"])
        except ValidationError:
            problems.append(_("“%(value)s” is not a valid e-mail address.")
                            % {"value": values["email"]})
    facing = parse_bool(cell("customer_facing"))
    if facing is None:
        problems.append(_("Write yes or no in customer_facing (found “%(value)s”).")
                        % {"value": _text(cell("customer_facing"))})
    course, course_error = courses.match(cell("course"))
    if course_error:
        problems.append(course_error)
    completed_on = parse_date(cell("completed_on"), table.epoch)
    if completed_on is None:
        found = _text(cell("completed_on"))
        problems.append(_("“%(value)s” is not a date we can read: write it as YYYY-MM-DD (for "
                          "example 2024-03-31) or DD/MM/YYYY.") % {"value": found} if found
                        else _("Give the completion date."))
    elif completed_on > today:
        problems.append(_("The completion date %(date)s is in the future.")
                        % {"date": completed_on.isoformat()})
    elif completed_on < EARLIEST_DATE:
        problems.append(_("The completion date %(date)s is before 1970: check the year.")
                        % {"date": completed_on.isoformat()})
    return ({**values, "is_customer_facing": facing, "course": course,
             "completed_on": completed_on}, problems)


def validate(table: Table, *, courses: CourseIndex, today: date,
             max_rows: int = MAX_ROWS) -> ParseResult:
    """Check every row. Pure: no database. Duplicates inside the file are errors."""
    result = ParseResult(rows=[])
    seen: dict[tuple, int] = {}
    for line, cells in table.rows:
        if all(_is_blank(c) for c in cells):
            continue
        result.total_rows += 1
        if result.total_rows > max_rows:
            raise _too_many_rows()
        values, problems = _validate_row(cells, table, courses, today)
        row = None
        if not problems:
            row = ImportRow(line=line, **values)
            first = seen.setdefault(row.completion_key, line)
            if first != line:
                problems.append(_("Same person, course and date as line %(line)s.")
                                % {"line": first})
        if problems:
            result.errors.append({"line": line, "errors": problems})
        else:
            result.rows.append(row)
    if not result.total_rows:
        raise ImportFileError(_("The file has a header line but no completions below it."))
    return result


def _chunks(items: Sequence, size: int = LOOKUP_CHUNK) -> Iterator[Sequence]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def _trainee_lookup_q(identities: Iterable[tuple[str, str]]) -> Q:
    refs = [value for kind, value in identities if kind == "ref"]
    names = [value for kind, value in identities if kind == "name"]
    return Q(staff_reference__in=refs) | Q(staff_reference="", name__in=names)


def _existing_trainees(signatory_id: int, identities: Iterable[tuple[str, str]],
                       fields: Sequence[str] = ("id", "staff_reference", "name")
                       ) -> dict[tuple[str, str], Trainee]:
    """Active (not erased) people of the signatory by identity; with the same name twice, the
    oldest, as ``services.trainee_for`` picks it."""
    found: dict[tuple[str, str], Trainee] = {}
    for chunk in _chunks(list(identities)):
        for trainee in (Trainee.objects.filter(_trainee_lookup_q(chunk), signatory_id=signatory_id,
                                               erased_at__isnull=True)
                        .only(*fields).order_by("id")):
            key = (("ref", trainee.staff_reference) if trainee.staff_reference
                   else ("name", trainee.name))
            found.setdefault(key, trainee)
    return found


def mark_already_recorded(result: ParseResult, *, signatory: Signatory,
                          job: ImportJob | None = None) -> ParseResult:
    """Move rows whose completion is already on record to the errors. Records written by this
    same job (an earlier, interrupted run) do not count: the re-run must be able to finish."""
    if not result.rows:
        return result
    trainees = _existing_trainees(signatory.pk, {row.identity for row in result.rows})
    if not trainees:
        return result
    first = min(row.completed_on for row in result.rows)
    last = max(row.completed_on for row in result.rows)
    on_record: set[tuple] = set()
    for chunk in _chunks([t.pk for t in trainees.values()]):
        existing = TrainingRecord.objects.filter(trainee_id__in=chunk, completed_on__gte=first,
                                                 completed_on__lte=last)
        if job is not None:
            existing = existing.exclude(import_job=job)
        on_record.update(existing.values_list("trainee_id", "course_id", "completed_on"))
    kept, errors = [], list(result.errors)
    for row in result.rows:
        trainee = trainees.get(row.identity)
        if trainee and (trainee.pk, row.course.pk, row.completed_on) in on_record:
            errors.append({"line": row.line,
                           "errors": [_("This completion is already recorded.")]})
        else:
            kept.append(row)
    errors.sort(key=lambda e: e["line"])
    return ParseResult(rows=kept, errors=errors, total_rows=result.total_rows)


def parse_upload(data: bytes, *, filename: str, signatory: Signatory,
                 job: ImportJob | None = None, today: date | None = None) -> ParseResult:
    table = read_table(data, filename=filename)
    result = validate(table, courses=CourseIndex.for_signatory(signatory),
                      today=today or timezone.localdate())
    return mark_already_recorded(result, signatory=signatory, job=job)


# --- Running an import job ------------------------------------------------------------------------

ProgressCallback = Callable[[int, int], None]


def import_execute(*, job_id: int, on_progress: ProgressCallback | None = None) -> ImportJob | None:
    """Validate the job's file and import it. Returns None when there was nothing to do.

    Claim first: only a pending job, or a running one whose worker died (the task is delivered
    again after ``reject_on_worker_lost``), is taken; a finished job exits quietly. Running twice
    writes nothing twice: people are looked up before they are created and completions are
    inserted with ``ignore_conflicts`` on the unique completion constraint.
    """
    claimed = ImportJob.objects.filter(
        pk=job_id, status__in=[ImportStatus.PENDING, ImportStatus.RUNNING],
    ).update(status=ImportStatus.RUNNING, updated_at=timezone.now())
    if not claimed:
        return None
    job = ImportJob.objects.select_related("signatory", "uploaded_by").get(pk=job_id)
    language = (job.uploaded_by.language if job.uploaded_by else "") or settings.LANGUAGE_CODE
    with translation.override(language):
        try:
            with job.file.open("rb") as handle:
                data = handle.read()
            result = parse_upload(data, filename=job.original_name, signatory=job.signatory,
                                  job=job)
        except ImportFileError as exc:
            return _finish(job, ImportStatus.INVALID, errors=[{"line": None,
                                                               "errors": [exc.message]}])
        if result.errors and not job.import_valid_rows:
            return _finish(job, ImportStatus.INVALID, errors=result.errors,
                           total_rows=result.total_rows)
        processed = result.total_rows - len(result.rows)
        ImportJob.objects.filter(pk=job.pk).update(total_rows=result.total_rows,
                                                   processed_rows=processed,
                                                   updated_at=timezone.now())
        if on_progress:
            on_progress(processed, result.total_rows)
        for batch in _chunks(result.rows, BATCH_SIZE):
            processed += len(batch)
            _write_batch(job, batch, processed)
            if on_progress:
                on_progress(processed, result.total_rows)
        return _finish(job, ImportStatus.DONE, errors=result.errors,
                       total_rows=result.total_rows, valid_rows=len(result.rows))


@transaction.atomic
def _write_batch(job: ImportJob, rows: Sequence[ImportRow], processed: int) -> None:
    # One writer per company at a time: people without a staff reference have no unique key in
    # the database, so two imports (or a re-delivered task) must not create the same person twice.
    list(Signatory.objects.select_for_update().filter(pk=job.signatory_id)
         .values_list("pk", flat=True))
    trainees = _trainees_for_batch(job.signatory_id, rows)
    records = []
    for row in rows:
        trainee = trainees.get(row.identity)
        if trainee is None:  # erased between lookup and insert: nothing to attach the row to
            continue
        records.append(TrainingRecord(
            signatory_id=job.signatory_id, trainee_id=trainee.pk, course_id=row.course.pk,
            completed_on=row.completed_on, expires_on=expiry_for(row.course, row.completed_on),
            import_job_id=job.pk, created_by_id=job.uploaded_by_id))
    TrainingRecord.objects.bulk_create(records, ignore_conflicts=True)
    _history_for_new_records(job)
    ImportJob.objects.filter(pk=job.pk).update(processed_rows=processed,
                                               updated_at=timezone.now())


def _trainees_for_batch(signatory_id: int, rows: Sequence[ImportRow]) -> dict[tuple, Trainee]:
    """Find or create the people of a batch (the last row about a person has the final say about
    their department, like ``services.trainee_for`` when records are added one by one)."""
    wanted: dict[tuple, ImportRow] = {}
    for row in rows:
        wanted[row.identity] = row
    fields = ("id", "staff_reference", "name", "email", "department", "is_customer_facing")
    existing = _existing_trainees(signatory_id, wanted, fields)
    now = timezone.now()
    changed, new = [], []
    for identity, row in wanted.items():
        trainee = existing.get(identity)
        if trainee is None:
            new.append(Trainee(signatory_id=signatory_id, staff_reference=row.staff_reference,
                               name=row.name, email=row.email, department=row.department,
                               is_customer_facing=row.is_customer_facing))
            continue
        updates = {"name": row.name, "email": row.email, "department": row.department,
                   "is_customer_facing": row.is_customer_facing}
        dirty = False
        for name, value in updates.items():
            if value not in ("", None) and getattr(trainee, name) != value:
                setattr(trainee, name, value)
                dirty = True
        if dirty:
            trainee.updated_at = now
            changed.append(trainee)
    if changed:
        Trainee.objects.bulk_update(changed, [*fields[1:], "updated_at"])
    if new:
        # a person with a staff reference created meanwhile by someone else is simply found below
        Trainee.objects.bulk_create(new, ignore_conflicts=True)
        existing = _existing_trainees(signatory_id, wanted)
    return existing


def _history_for_new_records(job: ImportJob) -> None:
    """bulk_create skips simple-history's signals: write the "created" versions ourselves, for
    the records of this job that have none yet (so a re-run does not write them twice)."""
    history = TrainingRecord.history.model
    new = list(TrainingRecord.objects.filter(import_job_id=job.pk).exclude(
        pk__in=history.objects.filter(import_job_id=job.pk).values("id")))
    if new:
        TrainingRecord.history.bulk_history_create(
            new, default_user=job.uploaded_by,
            default_change_reason=f"import {job.pk}: {job.original_name}"[:100])


def _finish(job: ImportJob, status: str, *, errors: list[dict], total_rows: int = 0,
            valid_rows: int = 0, processed_rows: int | None = None) -> ImportJob | None:
    from training.tasks import notify_import_finished

    with transaction.atomic():
        # a failed job may have written some batches before it stopped: say so
        created = (TrainingRecord.objects.filter(import_job_id=job.pk).count()
                   if status != ImportStatus.INVALID else 0)
        now = timezone.now()
        won = ImportJob.objects.filter(pk=job.pk, status=ImportStatus.RUNNING).update(
            status=status, errors=errors, total_rows=total_rows,
            processed_rows=total_rows if processed_rows is None else processed_rows,
            created_records=created, skipped_duplicates=max(0, valid_rows - created),
            finished_at=now, updated_at=now)
        if not won:  # another run finished it first
            return None
        job.refresh_from_db()
        audit_record(actor=job.uploaded_by, action=f"training_import.{status}", obj=job,
                     signatory=job.signatory, to_state=status,
                     changes={"total_rows": {"to": job.total_rows},
                              "created_records": {"to": job.created_records},
                              "skipped_duplicates": {"to": job.skipped_duplicates},
                              "rows_with_errors": {"to": len(errors)}})
        transaction.on_commit(lambda: notify_import_finished.delay(job.pk))
    return job


def import_fail(*, job_id: int, message: str | None = None) -> ImportJob | None:
    """Mark a job that crashed as failed (once) and tell the uploader."""
    job = (ImportJob.objects.select_related("signatory", "uploaded_by")
           .filter(pk=job_id, status__in=[ImportStatus.PENDING, ImportStatus.RUNNING]).first())
    if job is None:
        return None
    if job.status == ImportStatus.PENDING:
        ImportJob.objects.filter(pk=job.pk, status=ImportStatus.PENDING).update(
            status=ImportStatus.RUNNING)
    language = (job.uploaded_by.language if job.uploaded_by else "") or settings.LANGUAGE_CODE
    with translation.override(language):
        text = message or _("The import stopped because of an unexpected error. Please try "
                            "again later: completions already imported will not be recorded "
                            "twice.")
        return _finish(job, ImportStatus.FAILED, errors=[{"line": None, "errors": [text]}],
                       total_rows=job.total_rows, processed_rows=job.processed_rows)
