"""Validating the rows of an import file: pure checks (:func:`validate`, no database) and the
one database check (:func:`mark_already_recorded`)."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl.utils import get_column_letter

from signatories.models import Signatory
from training.importers.reading import (
    MAX_ROWS,
    ImportFileError,
    Table,
    cell_text,
    is_blank,
    read_table,
    too_many_rows,
)
from training.models import Course, ImportJob, Trainee, TrainingRecord
from training.services import courses_available_q

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

_ISO_DATE = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ][\d:.+\-Z ]*)?")
_YMD_DATE = re.compile(r"(\d{4})[/.](\d{1,2})[/.](\d{1,2})")
_DMY_DATE = re.compile(r"(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{4})(?: \d{1,2}:\d{2}(?::\d{2})?)?")
_EXCEL_MAX_SERIAL = 2958465  # 9999-12-31


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
    rows: list[ImportRow]  # valid rows still to write
    errors: list[dict] = field(default_factory=list)
    total_rows: int = 0
    already_imported: int = 0  # valid rows that an earlier run of the same job wrote


def _fold(text: str) -> str:
    return " ".join(text.split()).casefold()


def parse_bool(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    word = cell_text(value).casefold().rstrip(".")
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
    text = cell_text(value)
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
        text = "" if isinstance(value, bool) else cell_text(value)
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
        if index not in known and not is_blank(value):
            problems.append(_("There is a value in column %(column)s, which has no heading.")
                            % {"column": get_column_letter(index + 1)})
            break
    values = {name: cell_text(cell(name)) for name in ("staff_reference", "name", "department",
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
            # The address is not repeated: row errors are kept with the import, and an erasure
            # (GDPR) of the person could not find it there.
            problems.append(_("The e-mail address is not valid."))
    facing = parse_bool(cell("customer_facing"))
    if facing is None:
        problems.append(_("Write yes or no in customer_facing (found “%(value)s”).")
                        % {"value": cell_text(cell("customer_facing"))})
    course, course_error = courses.match(cell("course"))
    if course_error:
        problems.append(course_error)
    completed_on = parse_date(cell("completed_on"), table.epoch)
    if completed_on is None:
        found = cell_text(cell("completed_on"))
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
        if all(is_blank(c) for c in cells):
            continue
        result.total_rows += 1
        if result.total_rows > max_rows:
            raise too_many_rows()
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


def chunks(items: Sequence, size: int = LOOKUP_CHUNK) -> Iterator[Sequence]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def _trainee_lookup_q(identities: Iterable[tuple[str, str]]) -> Q:
    refs = [value for kind, value in identities if kind == "ref"]
    names = [value for kind, value in identities if kind == "name"]
    return Q(staff_reference__in=refs) | Q(staff_reference="", name__in=names)


def existing_trainees(signatory_id: int, identities: Iterable[tuple[str, str]],
                       fields: Sequence[str] = ("id", "staff_reference", "name")
                       ) -> dict[tuple[str, str], Trainee]:
    """Active (not erased) people of the signatory by identity; with the same name twice, the
    oldest, as ``services.trainee_for`` picks it."""
    found: dict[tuple[str, str], Trainee] = {}
    for chunk in chunks(list(identities)):
        for trainee in (Trainee.objects.filter(_trainee_lookup_q(chunk), signatory_id=signatory_id,
                                               erased_at__isnull=True)
                        .only(*fields).order_by("id")):
            key = (("ref", trainee.staff_reference) if trainee.staff_reference
                   else ("name", trainee.name))
            found.setdefault(key, trainee)
    return found


def mark_already_recorded(result: ParseResult, *, signatory: Signatory,
                          job: ImportJob | None = None) -> ParseResult:
    """Move rows whose completion is already on record to the errors.

    Completions that this same job wrote in an earlier run (one whose worker died half way) are
    not errors: they are left out of the rows still to write and counted in
    ``already_imported``, so that the re-run finishes the job without redoing its work."""
    if not result.rows:
        return result
    trainees = existing_trainees(signatory.pk, {row.identity for row in result.rows})
    if not trainees:
        return result
    first = min(row.completed_on for row in result.rows)
    last = max(row.completed_on for row in result.rows)
    on_record: dict[tuple, int | None] = {}
    for chunk in chunks([t.pk for t in trainees.values()]):
        for trainee_id, course_id, day, job_id in TrainingRecord.objects.filter(
                trainee_id__in=chunk, completed_on__gte=first, completed_on__lte=last,
        ).values_list("trainee_id", "course_id", "completed_on", "import_job_id"):
            on_record[(trainee_id, course_id, day)] = job_id
    kept, errors, ours = [], list(result.errors), 0
    for row in result.rows:
        trainee = trainees.get(row.identity)
        key = (trainee.pk, row.course.pk, row.completed_on) if trainee else None
        if key not in on_record:
            kept.append(row)
        elif job is not None and on_record[key] == job.pk:
            ours += 1
        else:
            errors.append({"line": row.line,
                           "errors": [_("This completion is already recorded.")]})
    errors.sort(key=lambda e: e["line"])
    return ParseResult(rows=kept, errors=errors, total_rows=result.total_rows,
                       already_imported=result.already_imported + ours)


def parse_upload(data: bytes, *, filename: str, signatory: Signatory,
                 job: ImportJob | None = None, today: date | None = None) -> ParseResult:
    table = read_table(data, filename=filename)
    result = validate(table, courses=CourseIndex.for_signatory(signatory),
                      today=today or timezone.localdate())
    return mark_already_recorded(result, signatory=signatory, job=job)
