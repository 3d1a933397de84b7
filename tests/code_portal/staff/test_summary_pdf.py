"""The annual summary PDF: it opens, carries the year's figures, tables by country and type and
the charts, embeds its fonts, and has its metadata set."""

from __future__ import annotations

import io

import pytest
from django.urls import reverse
from pypdf import PdfReader

from code_portal.staff.dashboard import DashboardFilters, dashboard_for
from code_portal.staff.summary_pdf import render_summary, summary_data, summary_filename
from tests.code_portal.staff.test_dashboard_figures import build_dataset

pytestmark = pytest.mark.django_db


@pytest.fixture
def dataset(db):
    return build_dataset(size=44)


def _fonts(reader: PdfReader) -> set[str]:
    names = set()
    for page in reader.pages:
        fonts = page["/Resources"].get_object().get("/Font")
        if fonts:
            names |= {str(f.get_object()["/BaseFont"]) for f in fonts.get_object().values()}
    return names


def test_summary_pdf_carries_the_figures_tables_and_charts(dataset, web_as, staff_reviewer):
    year = dataset.today.year
    response = web_as(staff_reviewer).get(
        reverse("staff-annual-summary", kwargs={"year": year}))
    assert response.status_code == 200
    assert response["Content-Disposition"] == (
        f'attachment; filename="code-annual-summary-{year}.pdf"')
    reader = PdfReader(io.BytesIO(response.content))
    text = "\n".join(page.extract_text() for page in reader.pages)
    dashboard = dashboard_for(staff_reviewer, DashboardFilters(year=year), today=dataset.today)
    assert f"The Code: annual summary {year}" in text
    for figure in dashboard.figures:
        assert figure.label in text
    lines = [line.strip() for line in text.splitlines()]
    # each key figure's cell is followed by its value's cell
    for figure in dashboard.figures:
        value = "–" if figure.value is None else f"{figure.value:g}"
        at = lines.index(figure.label)
        assert lines[at + 1] == value, figure.label
    at = lines.index(f"Members at the end of {year}")
    assert lines[at + 1] == str(dashboard.members_over_time[-1].value)
    for heading in ("By country", "By type", "By status", "Members over time",
                    "Reporting compliance rate by year", "Signatories overdue by country",
                    "Training coverage distribution"):
        assert heading in text
    for country in ("Sweden", "Thailand", "Kenya", "Germany"):
        assert country in text
    flat = " ".join(text.split())  # table cells wrap
    for b in dashboard.by_type:
        if b.count:
            assert b.label in flat

    meta = reader.metadata
    assert meta.title == f"The Code: annual summary {year}"
    assert meta.author == "The Code"
    assert meta.subject == f"Annual summary report {year}"
    fonts = _fonts(reader)
    # embedded subsets of the bundled DejaVu Sans only (no unembedded Helvetica)
    assert fonts and all(name.startswith("/AAAAAA+DejaVuSans") for name in fonts), fonts


def test_country_rows_add_up_to_the_totals(dataset, staff_reviewer):
    data = summary_data(staff_reviewer, DashboardFilters(year=dataset.today.year),
                        today=dataset.today)
    by_country = next(t for t in data.tables if t.title == "By country")
    dashboard = dashboard_for(staff_reviewer, DashboardFilters(year=dataset.today.year),
                              today=dataset.today)
    assert sum(int(row[1]) for row in by_country.rows) == dashboard.total
    assert sum(int(row[5]) for row in by_country.rows) == dashboard.figure(
        "reports_in_review").value
    assert sum(int(row[6]) for row in by_country.rows) == dashboard.figure(
        "reports_overdue").value
    assert sum(int(row[7]) for row in by_country.rows) == dashboard.figure(
        "reports_approved").value
    by_type = next(t for t in data.tables if t.title == "By type")
    assert sum(int(row[1]) for row in by_type.rows) == dashboard.total


def test_filtered_summary_is_named_after_its_filters(dataset, web_as, staff_reviewer):
    year = dataset.today.year
    response = web_as(staff_reviewer).get(
        reverse("staff-annual-summary", kwargs={"year": year}), {"country": "TH", "type": "hotel"})
    assert f"code-annual-summary-{year}-th-hotel.pdf" in response["Content-Disposition"]
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(response.content)).pages)
    assert "Country: Thailand" in text and "Type: Hotel / accommodation" in text
    assert "Sweden" not in text


def test_renderer_is_pure_and_handles_an_empty_membership(db, staff_reviewer):
    from django.utils import timezone

    today = timezone.localdate()
    filters = DashboardFilters(year=today.year)
    pdf = render_summary(summary_data(staff_reviewer, filters, today=today))
    assert pdf.startswith(b"%PDF")
    assert len(PdfReader(io.BytesIO(pdf)).pages) >= 1
    assert summary_filename(filters) == f"code-annual-summary-{today.year}.pdf"


def test_names_in_other_scripts_print_with_a_font_that_has_them(db, staff_reviewer):
    # e.g. a summary in Thai: country and type names come translated
    from django.utils import timezone

    from code_portal.staff.charts import WARN, Chart, _horizontal_bars

    today = timezone.localdate()
    data = summary_data(staff_reviewer, DashboardFilters(year=today.year), today=today)
    data.tables[0].rows = [["ประเทศไทย", "3", "1", "0", "1", "0", "0", "1", "50 %"]]
    overdue = next(c for c in data.charts if c.key == "overdue-by-country")
    data.charts = [Chart(key=overdue.key, title="ประเทศที่ค้างส่งรายงาน", description="…",
                         columns=overdue.columns, rows=[("ประเทศไทย", "2")],
                         build=lambda font, category_font: _horizontal_bars(
                             ["ประเทศไทย"], [2], colour=WARN, font=font,
                             category_font=category_font))]
    reader = PdfReader(io.BytesIO(render_summary(data)))
    text = "\n".join(p.extract_text() for p in reader.pages)
    assert "ประเทศไทย" in text.replace(" ", "")
    fonts = _fonts(reader)
    assert any("NotoSansThai" in name for name in fonts), fonts
    assert not any("Helvetica" in name for name in fonts)
