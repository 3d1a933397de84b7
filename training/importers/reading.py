"""Reading an import file: bytes → header and rows, or an :class:`ImportFileError` for the user.

CSV is decoded as UTF-8 (with or without BOM), or as Windows-1252 only when the bytes are not
UTF-8 at all and decode cleanly; the delimiter (``,`` ``;`` or tab) is sniffed from the header.
XLSX is opened by openpyxl in read-only mode. Line numbers are those the user sees: the CSV
line where the row starts, or the spreadsheet row; the header is line 1.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext as _

COLUMNS = ("staff_reference", "name", "department", "customer_facing", "course", "completed_on")
OPTIONAL_COLUMNS = ("email",)
COLUMN_ALIASES = {"e_mail": "email"}
MAX_ROWS = 100_000

_CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


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


def csv_rows(text: str) -> Iterator[tuple[int, list]]:
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


def xlsx_table(data: bytes) -> tuple[Iterator[tuple[int, list]], datetime | None, int | None]:
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
    # Read-only mode stops at the size the sheet declares, and some programs declare a wrong
    # one ("A1"): forget it and read every row there is.
    sheet.reset_dimensions()
    return rows(), workbook.epoch, declared


def is_blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def normalise_header(value: Any) -> str:
    name = re.sub(r"[\s\-]+", "_", cell_text(value).lower().replace("\ufeff", "")).strip("_")
    return COLUMN_ALIASES.get(name, name)


def _map_header(line: int, cells: list) -> dict[str, int]:
    columns: dict[str, int] = {}
    unknown, repeated = [], []
    for index, cell in enumerate(cells):
        name = normalise_header(cell)
        if not name:
            continue
        if name not in COLUMNS and name not in OPTIONAL_COLUMNS:
            unknown.append(cell_text(cell))
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


def spreadsheet_rows(data: bytes, *, filename: str
                     ) -> tuple[Iterator[tuple[int, list]], datetime | None, int | None]:
    """The (line, cells) of a CSV or XLSX file (by its name), with, for XLSX, the workbook's date
    epoch and the row count the sheet declares. Shared by every import (training, partners)."""
    if not data:
        raise ImportFileError(_("The file is empty."))
    if filename.lower().endswith(".xlsx"):
        return xlsx_table(data)
    return csv_rows(decode_text(data)), None, None


def read_table(data: bytes, *, filename: str) -> Table:
    """Open the file and read its header. Raises :class:`ImportFileError`."""
    rows, epoch, declared = spreadsheet_rows(data, filename=filename)
    for line, cells in rows:
        if all(is_blank(c) for c in cells):
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
        raise too_many_rows()
    count = 0
    for _line, cells in table.rows:
        if all(is_blank(c) for c in cells):
            continue
        count += 1
        if table.declared_rows is not None:
            break  # XLSX: its declared size was checked above; reading every cell is slow
        if count > MAX_ROWS:
            raise too_many_rows()
    if not count:
        raise ImportFileError(_("The file has a header line but no completions below it."))
    return count


def too_many_rows() -> ImportFileError:
    return ImportFileError(_("The file has more than %(max)s rows. Split it into smaller files.")
                           % {"max": f"{MAX_ROWS:,}"})


def cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    elif isinstance(value, datetime):
        value = value.date() if value.time() == datetime.min.time() else value
    text = _CONTROL_CHARS.sub("", str(value))
    return " ".join(text.split())
