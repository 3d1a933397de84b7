"""Building import files (CSV/XLSX) for the import tests."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from datetime import date

from django.core.files.uploadedfile import SimpleUploadedFile

HEADER = ["staff_reference", "name", "department", "customer_facing", "course", "completed_on"]


def csv_bytes(rows: Sequence[Sequence], *, header: Sequence[str] = HEADER, delimiter: str = ",",
              bom: bool = False, encoding: str = "utf-8") -> bytes:
    out = io.StringIO(newline="")
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\r\n")
    if header:
        writer.writerow(header)
    for row in rows:
        writer.writerow([v.isoformat() if isinstance(v, date) else v for v in row])
    data = out.getvalue().encode(encoding)
    return (b"\xef\xbb\xbf" + data) if bom else data


def xlsx_bytes(rows: Sequence[Sequence], *, header: Sequence[str] = HEADER) -> bytes:
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    if header:
        sheet.append(list(header))
    for row in rows:
        sheet.append(list(row))
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def upload(data: bytes, name: str = "completions.csv") -> SimpleUploadedFile:
    content_type = ("text/csv" if name.endswith(".csv") else
                    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    return SimpleUploadedFile(name, data, content_type=content_type)


def completion_rows(count: int, *, course: str, completed_on: date, start: int = 0,
                    department: str = "Sales") -> list[list]:
    return [[f"E{start + i:06d}", f"Person {start + i}", department,
             "yes" if i % 2 else "no", course, completed_on] for i in range(count)]
