"""Bulk import of training completions from a CSV or XLSX file.

Three steps, each testable on its own:

1. :mod:`.reading` — bytes → header and rows (encodings, delimiters, XLSX, the header's
   columns). Problems with the file as a whole raise :class:`ImportFileError`.
2. :mod:`.validation` — every row checked; pure except :func:`mark_already_recorded`, the one
   database check. The result is the valid rows and ``{"line": n, "errors": [...]}`` entries
   with the line (CSV) or row (XLSX) number the user sees, the header being line 1.
3. :mod:`.running` — :func:`import_execute` (called by ``training.tasks.run_import``) claims the
   job, runs the two steps above and writes the valid rows in batches; running it twice for the
   same job records nothing twice.
"""

from training.importers.reading import (
    COLUMNS,
    MAX_ROWS,
    OPTIONAL_COLUMNS,
    ImportFileError,
    Table,
    check_import_file,
    decode_text,
    read_table,
    sniff_delimiter,
)
from training.importers.running import import_execute, import_fail
from training.importers.validation import (
    CourseIndex,
    ImportRow,
    ParseResult,
    mark_already_recorded,
    parse_bool,
    parse_date,
    parse_upload,
    validate,
)

__all__ = [
    "COLUMNS", "MAX_ROWS", "OPTIONAL_COLUMNS", "CourseIndex", "ImportFileError",
    "ImportRow", "ParseResult", "Table", "check_import_file", "decode_text", "import_execute",
    "import_fail", "mark_already_recorded", "parse_bool", "parse_date", "parse_upload",
    "read_table", "sniff_delimiter", "validate",
]
