"""Reading and validating import files (training.importers): what a user who uploads a
spreadsheet of completions is told, line by line."""

from __future__ import annotations

import codecs
import io
import re
import string
import zipfile
from datetime import date, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from training.importers import (
    MAX_ROWS,
    CourseIndex,
    ImportFileError,
    parse_date,
    parse_upload,
    read_table,
    validate,
)
from training.models import Course

from .completion_files import HEADER, csv_bytes, xlsx_bytes
from .factories import CourseFactory, RecordFactory, TraineeFactory

TODAY = date(2025, 6, 15)
COURSES = CourseIndex([
    Course(id=1, title="Code e-learning", validity_months=24),
    Course(id=2, title="Classroom: reporting suspected cases", validity_months=None),
])


def parse(data: bytes, filename: str = "file.csv", courses: CourseIndex = COURSES):
    return validate(read_table(data, filename=filename), courses=courses, today=TODAY)


def errors_by_line(result) -> dict[int, list[str]]:
    return {e["line"]: e["errors"] for e in result.errors}


GOOD = ["E1", "Åsa Öberg", "Sales", "yes", "Code e-learning", "2025-01-31"]


# --- Encodings and delimiters -----------------------------------------------------------------

@pytest.mark.parametrize("bom", [False, True], ids=["utf8", "utf8-bom"])
def test_utf8_file_with_or_without_bom_keeps_accented_names(bom):
    result = parse(csv_bytes([GOOD], bom=bom))

    assert result.errors == []
    assert [r.name for r in result.rows] == ["Åsa Öberg"]
    assert result.rows[0].staff_reference == "E1"  # the BOM is not glued to the first header


def test_semicolon_separated_file_from_a_european_excel_is_read():
    result = parse(csv_bytes([GOOD, ["E2", "Bo", "Desk", "no", "Code e-learning", "01/02/2025"]],
                             delimiter=";"))

    assert result.errors == []
    assert [(r.staff_reference, r.completed_on) for r in result.rows] == [
        ("E1", date(2025, 1, 31)), ("E2", date(2025, 2, 1))]


def test_windows_1252_file_is_read_when_it_is_not_utf8():
    result = parse(csv_bytes([GOOD], encoding="cp1252"))

    assert result.errors == []
    assert result.rows[0].name == "Åsa Öberg"


def test_file_in_an_unreadable_encoding_asks_to_save_as_utf8():
    # 0x81 and 0x9d are undefined in Windows-1252 and invalid in UTF-8
    data = csv_bytes([]) + b"E1,\x81\x9d,Sales,yes,Code e-learning,2025-01-31\r\n"

    with pytest.raises(ImportFileError, match="UTF-8"):
        parse(data)


def test_file_mixing_utf8_and_another_encoding_is_refused_not_garbled():
    data = csv_bytes([["E1", "Åsa", "Sales", "yes", "Code e-learning", "2025-01-31"]])
    data += "E2,Jörg,Sales,yes,Code e-learning,2025-01-31\r\n".encode("cp1252")

    with pytest.raises(ImportFileError, match="UTF-8"):
        parse(data)


def test_utf16_file_asks_to_save_as_utf8():
    data = codecs.BOM_UTF16_LE + csv_bytes([GOOD]).decode().encode("utf-16-le")

    with pytest.raises(ImportFileError, match="UTF-8"):
        parse(data)


# --- Columns, empty files ------------------------------------------------------------------------

def test_missing_and_unknown_columns_are_named_in_one_message():
    header = ["staff_reference", "name", "dept", "customer_facing", "completed_on"]

    with pytest.raises(ImportFileError) as exc:
        parse(csv_bytes([["E1", "Ann", "Sales", "yes", "2025-01-01"]], header=header))

    assert "missing: department, course" in exc.value.message
    assert "unknown: dept" in exc.value.message


def test_header_names_ignore_case_spaces_and_hyphens():
    header = [" Staff Reference", "NAME", "Department", "Customer-Facing", "Course",
              "Completed on ", "E-mail"]

    result = parse(csv_bytes([[*GOOD, "asa@example.org"]], header=header))

    assert result.errors == []
    assert result.rows[0].email == "asa@example.org"


def test_a_column_given_twice_is_refused():
    with pytest.raises(ImportFileError, match="more than once: name"):
        parse(csv_bytes([[*GOOD, "Ann"]], header=[*HEADER, "Name"]))


@pytest.mark.parametrize("data", [b"", b"\r\n\r\n  \r\n", codecs.BOM_UTF8],
                         ids=["zero-bytes", "blank-lines", "bom-only"])
def test_empty_file_is_refused(data):
    with pytest.raises(ImportFileError, match="empty"):
        parse(data)


@pytest.mark.parametrize("filename", ["file.csv", "file.xlsx"])
def test_header_without_rows_is_refused(filename):
    data = xlsx_bytes([]) if filename.endswith(".xlsx") else csv_bytes([])

    with pytest.raises(ImportFileError, match="no completions"):
        parse(data, filename)


def test_xlsx_that_declares_a_wrong_size_is_read_to_its_last_row():
    # some programs write <dimension ref="A1"/> whatever the sheet holds
    source = io.BytesIO(xlsx_bytes([GOOD, ["E2", "Bo", "", "no", "Code e-learning",
                                           "2025-01-01"]]))
    patched = io.BytesIO()
    with zipfile.ZipFile(source) as zin, zipfile.ZipFile(patched, "w") as zout:
        for item in zin.infolist():
            content = zin.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                content = re.sub(rb'<dimension ref="[^"]+"', b'<dimension ref="A1"', content)
            zout.writestr(item, content)

    result = parse(patched.getvalue(), "file.xlsx")

    assert [r.staff_reference for r in result.rows] == ["E1", "E2"]


def test_damaged_xlsx_is_refused_with_a_clear_message():
    data = xlsx_bytes([GOOD])[:-200]

    with pytest.raises(ImportFileError, match="cannot be opened"):
        parse(data, "file.xlsx")


def test_more_rows_than_the_limit_are_refused():
    table = read_table(csv_bytes([GOOD] * 6), filename="f.csv")

    with pytest.raises(ImportFileError, match="more than"):
        validate(table, courses=COURSES, today=TODAY, max_rows=5)
    assert MAX_ROWS >= 10_000


# --- Row checks --------------------------------------------------------------------------------

def test_line_numbers_are_those_of_the_file_with_the_header_as_line_1():
    data = (csv_bytes([GOOD])
            + b"\r\n"  # line 3: blank, skipped but counted
            + b'E2,"Multi\r\nline",Sales,yes,Unknown course,2025-01-01\r\n'  # lines 4-5
            + b"E3,Cy,Sales,maybe,Code e-learning,2025-01-01\r\n")  # line 6

    result = parse(data)

    assert sorted(errors_by_line(result)) == [4, 6]
    assert result.total_rows == 3


def test_completion_date_in_the_future_is_an_error():
    tomorrow = (TODAY + timedelta(days=1)).isoformat()

    result = parse(csv_bytes([["E1", "Ann", "", "no", "Code e-learning", tomorrow],
                              ["E2", "Bo", "", "no", "Code e-learning", TODAY.isoformat()]]))

    assert errors_by_line(result) == {2: [f"The completion date {tomorrow} is in the future."]}
    assert [r.staff_reference for r in result.rows] == ["E2"]


@pytest.mark.parametrize(("value", "expected"), [
    ("2025-03-01", date(2025, 3, 1)),
    ("2025-03-01T10:30:00", date(2025, 3, 1)),
    ("01/03/2025", date(2025, 3, 1)),
    ("1.3.2025", date(2025, 3, 1)),
    ("01-03-2025", date(2025, 3, 1)),
    ("2025/03/01", date(2025, 3, 1)),
    ("20250301", date(2025, 3, 1)),
    ("45717", date(2025, 3, 1)),  # a date typed in Excel and saved as a number
    (45717, date(2025, 3, 1)),
    (datetime(2025, 3, 1, 0, 0), date(2025, 3, 1)),
    ("31/02/2025", None),
    ("03/31/2025", None),  # month/day/year is not guessed
    ("March 2025", None),
    ("", None),
])
def test_completion_dates_are_read_in_iso_day_first_and_excel_forms(value, expected):
    assert parse_date(value) == expected


def test_unreadable_and_missing_dates_are_reported():
    result = parse(csv_bytes([["E1", "Ann", "", "no", "Code e-learning", "03/31/2025"],
                              ["E2", "Bo", "", "no", "Code e-learning", ""]]))

    assert "“03/31/2025” is not a date we can read" in errors_by_line(result)[2][0]
    assert errors_by_line(result)[3] == ["Give the completion date."]


def test_course_is_found_by_title_in_any_case_or_by_number():
    result = parse(csv_bytes([
        ["E1", "Ann", "", "no", "  CODE   e-learning ", "2025-01-01"],
        ["E2", "Bo", "", "no", "2", "2025-01-01"],
        ["E3", "Cy", "", "no", "Ethics 101", "2025-01-01"],
    ]))

    assert [r.course.pk for r in result.rows] == [1, 2]
    assert errors_by_line(result)[4][0].startswith("Unknown course “Ethics 101”")


def test_two_courses_with_the_same_title_ask_for_the_number():
    courses = CourseIndex([Course(id=1, title="Basics"), Course(id=7, title="basics")])

    result = parse(csv_bytes([["E1", "Ann", "", "no", "Basics", "2025-01-01"]]), courses=courses)

    assert "write the course number instead (1, 7)" in errors_by_line(result)[2][0]


@pytest.mark.parametrize(("word", "expected"), [
    ("yes", True), ("Y", True), ("TRUE", True), ("1", True), ("oui", True), ("sí", True),
    ("ja", True), ("ใช่", True), ("no", False), ("False", False), ("0", False), ("non", False),
    ("nej", False), ("nein", False), ("ไม่", False)])
def test_customer_facing_accepts_yes_no_in_several_languages(word, expected):
    result = parse(csv_bytes([["E1", "Ann", "", word, "Code e-learning", "2025-01-01"]]))

    assert result.errors == []
    assert result.rows[0].is_customer_facing is expected


def test_customer_facing_other_than_yes_or_no_is_an_error():
    result = parse(csv_bytes([["E1", "Ann", "", "sometimes", "Code e-learning", "2025-01-01"]]))

    assert errors_by_line(result) == {
        2: ["Write yes or no in customer_facing (found “sometimes”)."]}


def test_a_row_needs_a_staff_reference_or_a_name_and_all_its_errors_are_listed():
    result = parse(csv_bytes([["", "  ", "Sales", "perhaps", "Nope", "2999-01-01"]]))

    assert len(errors_by_line(result)[2]) == 4


def test_same_completion_twice_in_the_file_points_to_the_first_line():
    result = parse(csv_bytes([GOOD, ["E2", "Bo", "", "no", "Code e-learning", "2025-01-01"],
                              ["E1", "Åsa Öberg", "Sales", "yes", "code e-learning",
                               "31/01/2025"]]))

    assert errors_by_line(result) == {4: ["Same person, course and date as line 2."]}
    assert len(result.rows) == 2


def test_a_value_under_no_heading_is_an_error_not_silently_dropped():
    result = parse(csv_bytes([[*GOOD, "stray"]]))

    assert errors_by_line(result) == {
        2: ["There is a value in column G, which has no heading."]}


def test_overlong_values_and_bad_email_are_errors():
    header = [*HEADER, "email"]
    result = parse(csv_bytes([["R" * 101, "Ann", "", "no", "Code e-learning", "2025-01-01",
                               "not-an-address"]], header=header))

    assert errors_by_line(result)[2] == ["staff_reference is longer than 100 characters.",
                                         "The e-mail address is not valid."]


def test_row_errors_do_not_repeat_personal_data():
    """Row errors stay with the import after a person's erasure: the address is not in them."""
    header = [*HEADER, "email"]
    result = parse(csv_bytes([["R1", "Ann", "", "no", "Code e-learning", "2025-01-01",
                               "ann.private@example"]], header=header))

    assert "ann.private" not in " ".join(errors_by_line(result)[2])


def test_xlsx_with_date_cells_numbers_and_booleans_is_read_with_row_numbers():
    rows = [[12345, "Ann", "Front desk", True, 1, datetime(2025, 2, 3)],
            [None, None, None, None, None, None],  # row 3: empty
            ["E2", "Bo", "Sales", "no", "Code e-learning", 45717.0],
            ["E3", "Cy", "Sales", 1, "Code e-learning", datetime(2030, 1, 1)]]

    result = parse(xlsx_bytes(rows), "file.xlsx")

    assert [(r.line, r.staff_reference, r.is_customer_facing, r.completed_on)
            for r in result.rows] == [(2, "12345", True, date(2025, 2, 3)),
                                      (4, "E2", False, date(2025, 3, 1))]
    assert errors_by_line(result) == {5: ["The completion date 2030-01-01 is in the future."]}


# --- Against the database ------------------------------------------------------------------------

def test_completion_already_on_record_is_reported(company_a):
    course = CourseFactory(title="Code e-learning")
    person = TraineeFactory(signatory=company_a, staff_reference="E1")
    RecordFactory(trainee=person, course=course, completed_on=date(2025, 1, 31))

    result = parse_upload(
        csv_bytes([GOOD, ["E1", "Åsa Öberg", "Sales", "yes", "Code e-learning", "2025-02-01"]]),
        filename="f.csv", signatory=company_a, today=TODAY)

    assert errors_by_line(result) == {2: ["This completion is already recorded."]}
    assert [r.completed_on for r in result.rows] == [date(2025, 2, 1)]


def test_another_companys_course_is_an_unknown_course(company_a, company_b):
    CourseFactory(title="Siam hotel induction", signatory=company_b)
    CourseFactory(title="Nordic in-house course", signatory=company_a)

    result = parse_upload(csv_bytes([
        ["E1", "Ann", "", "no", "Siam hotel induction", "2025-01-01"],
        ["E2", "Bo", "", "no", "Nordic in-house course", "2025-01-01"],
    ]), filename="f.csv", signatory=company_a, today=TODAY)

    assert list(errors_by_line(result)) == [2]
    assert [r.staff_reference for r in result.rows] == ["E2"]


# --- Properties ----------------------------------------------------------------------------------

@settings(max_examples=150, deadline=None)
@given(st.text(max_size=400))
def test_parser_never_crashes_on_arbitrary_text(text):
    for data in (text.encode("utf-8"), ",".join(HEADER).encode() + b"\n" + text.encode("utf-8")):
        try:
            result = parse(data)
        except ImportFileError:
            continue
        assert result.total_rows == len(result.rows) + len(result.errors)
        assert all(isinstance(e["line"], int) and e["errors"] for e in result.errors)


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=300))
def test_parser_never_crashes_on_arbitrary_bytes(data):
    for filename in ("f.csv", "f.xlsx"):
        try:
            result = parse(data, filename)
        except ImportFileError:
            continue
        assert result.total_rows == len(result.rows) + len(result.errors)


# Names as people write them: any letters, marks, punctuation, spaces inside.
NAME_CHARS = st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp"),
                           blacklist_characters="\x85\u200b\ufeff")
# (a cell starting with "=" is a formula in a spreadsheet, not a name)
names = st.text(NAME_CHARS, max_size=40).map(lambda s: " ".join(s.split()).lstrip("="))
references = st.text(string.ascii_letters + string.digits + "-_/.", max_size=12)
rows = st.lists(st.tuples(references, names, names, st.booleans(), st.sampled_from([1, 2]),
                          st.dates(min_value=date(1970, 1, 1), max_value=TODAY)),
                min_size=1, max_size=15)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows, st.sampled_from([",", ";"]), st.booleans(), st.sampled_from(["csv", "xlsx"]))
def test_valid_rows_round_trip_through_a_file(data, delimiter, bom, kind):
    wanted, seen = [], set()
    for ref, name, department, facing, course_id, day in data:
        if not ref and not name:
            name = "Anonymous"
        if (ref or name, ref == "", course_id, day) in seen:
            continue
        seen.add((ref or name, ref == "", course_id, day))
        title = COURSES.by_id[course_id].title
        wanted.append([ref, name, department, "yes" if facing else "no", title, day])
    if kind == "csv":
        content = csv_bytes(wanted, delimiter=delimiter, bom=bom)
    else:
        content = xlsx_bytes([[*row[:5], datetime.combine(row[5], datetime.min.time())]
                              for row in wanted])

    result = parse(content, f"f.{kind}")

    assert result.errors == []
    assert [[r.staff_reference, r.name, r.department, "yes" if r.is_customer_facing else "no",
             r.course.title, r.completed_on] for r in result.rows] == wanted

