"""In Chromium: Code staff filter the signatory list, export it and get the file; a longer list
becomes a job whose page offers the download.

Drives the system Chromium against pytest-django's live server (see
tests/signatories/test_browser_lifecycle.py for the set-up this reuses).
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from openpyxl import load_workbook
from playwright.sync_api import expect

from code_portal.staff.models import ExportJob
from signatories.models import SignatoryStatus
from tests.factories import PASSWORD, SignatoryFactory
from tests.signatories.test_browser_lifecycle import (  # noqa: F401 (fixtures)
    CHROMIUM,
    chromium,
    log_in,
    page_in_chromium,
)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.skipif(not CHROMIUM.exists(),
                       reason="needs the system Chromium (apt-get install chromium)"),
]


def test_staff_filter_the_signatory_list_export_it_and_get_the_file(
        live_server, page_in_chromium, staff_reviewer, settings, tmp_path):  # noqa: F811
    for i in range(8):
        SignatoryFactory(legal_name=f"Fjord {i} AS" if i % 2 else f"Mekong {i} Co",
                         country="NO" if i % 2 else "VN", active=True,
                         status=SignatoryStatus.ACTIVE)
    page = page_in_chromium
    base = live_server.url
    log_in(page, base, staff_reviewer.email, PASSWORD)

    page.goto(f"{base}/staff/signatories/")
    page.get_by_label("Country").select_option("NO")
    page.get_by_role("button", name="Filter").click()
    expect(page.get_by_text("4 signatories")).to_be_visible()
    shown = page.locator("tbody tr td:first-child a").all_inner_texts()
    with page.expect_download() as download_info:
        page.get_by_role("button", name="CSV").click()
    download = download_info.value
    path = Path(download.path())

    assert download.suggested_filename.startswith("signatories-")
    rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8-sig"))))
    assert [r[2] for r in rows[1:]] == shown == [f"Fjord {i} AS" for i in (1, 3, 5, 7)]

    # a list above the threshold becomes a job: its page offers the file once it is written
    settings.STAFF_EXPORT_INLINE_MAX_ROWS = 2
    page.get_by_role("button", name="Excel (XLSX)").click()
    expect(page.get_by_role("heading", name="Export of Signatories")).to_be_visible()
    link = page.get_by_role("link", name="Download signatories-")
    expect(link).to_be_visible()
    with page.expect_download() as download_info:
        link.click()
    assert download_info.value.suggested_filename.endswith(".xlsx")
    sheet = load_workbook(io.BytesIO(Path(download_info.value.path()).read_bytes())).worksheets[0]
    assert [row[2].value for row in sheet.iter_rows(min_row=2)] == shown
    assert ExportJob.objects.filter(inline=False, requested_by=staff_reviewer).count() == 1
