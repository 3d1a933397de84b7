"""The annual summary report for the board: a PDF (reportlab) of the year's figures and charts,
by country and type.

Two steps, as for certificates: :func:`summary_data` gathers the figures (scoped to the user,
so a local representative's summary covers their countries only) and translates the labels in
the request's language; :func:`render_summary` is a pure renderer (data in, bytes out). The PDF
is generated on request and not stored: with the dashboard's bounded queries it takes well under
a second, and a stored copy would go stale as soon as a report is decided.

Fonts are the bundled DejaVu Sans of ``reporting/fonts`` (embedded as subsets), so the labels of
every language the portal offers print with their letters.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import date
from xml.sax.saxutils import escape

from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django_countries import countries
from reportlab.graphics.shapes import Drawing
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import (
    CondPageBreak,
    KeepTogether,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from code_portal.models import StaffRole, User
from code_portal.staff.charts import Chart, build_charts
from code_portal.staff.dashboard import (
    Dashboard,
    DashboardFilters,
    cached_dashboard_for,
    report_counts_by,
    scoped_reports,
)
from reporting.pdf import BOLD_FONTS, REGULAR_FONTS, font_runs
from signatories.models import SignatoryStatus, SignatoryType

# The certificate's fonts: DejaVu Sans first, then Noto Sans Thai, Noto Sans Arabic and Droid
# Sans Fallback for the characters DejaVu lacks (see reporting/pdf.py).
FONT, FONT_BOLD = REGULAR_FONTS[0][0], BOLD_FONTS[0][0]
INK = colors.HexColor("#1b1f24")
BRAND = colors.HexColor("#0b4f8a")
LINE = colors.HexColor("#d0d7de")
SOFT = colors.HexColor("#f4f6f8")
S = SignatoryStatus


def _fonts() -> None:
    font_runs("x")  # registers the regular and bold families of reporting/pdf.py
    font_runs("x", bold=True)


def _text(text: str, *, bold: bool = False) -> str:
    """Paragraph markup that draws each character with the first bundled font that has it
    (Thai, Arabic, CJK country or type names in a translated summary), right-to-left text in
    display order."""
    return "".join(f'<font name="{name}">{escape(part)}</font>'
                   for name, part in font_runs(text, bold=bold))


def _category_font(chart: Chart) -> str:
    """A chart draws all its category labels (countries, years…) in one font: the first bundled
    font that has every letter of them (e.g. Noto Sans Thai for Thai country names); numbers and
    mixed scripts stay in DejaVu Sans."""
    names = {name for label, _value in chart.rows for name, part in font_runs(label)
             if part.strip()}
    return names.pop() if len(names) == 1 else FONT


@dataclass
class SummaryTable:
    title: str
    header: list[str]
    rows: list[list[str]]


@dataclass
class SummaryData:
    """Everything printed; every label already translated."""

    title: str
    subtitle: str
    scope: str
    generated: str
    figures_title: str
    figures: list[tuple[str, str]]
    tables: list[SummaryTable]
    charts_title: str
    charts: list[Chart]
    author: str
    subject: str
    keywords: list[str] = field(default_factory=list)


def _value(value) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{value:g} %"


def _breakdown_rows(keys: list[tuple[str, str]], by: str, dashboard: Dashboard,
                    reports: dict[str, dict[str, int]],
                    coverage: dict[str, float | None]) -> list[list[str]]:
    rows = []
    for key, label in keys:
        groups = [g for g in dashboard.groups if g[by] == key]
        n = {status: sum(g["n"] for g in groups if g["status"] == status) for status in S.values}
        counts = reports.get(key, {})
        rows.append([
            label, str(sum(n.values())), str(n[S.ACTIVE]), str(n[S.APPLIED]),
            str(n[S.REPORTING_OVERDUE]), str(counts.get("in_review", 0)),
            str(counts.get("overdue", 0)), str(counts.get("approved", 0)),
            _pct(coverage.get(key)),
        ])
    return rows


def summary_data(user: User, filters: DashboardFilters, *, today: date) -> SummaryData:
    """The figures of ``filters.year`` for the user's scope: the dashboard's queries plus two
    (the report figures per country and per type)."""
    dashboard = cached_dashboard_for(user, filters, today=today)
    reports = scoped_reports(user, filters)
    by_country_reports = report_counts_by(reports, "country", today=today, year=filters.year)
    by_type_reports = report_counts_by(reports, "type", today=today, year=filters.year)
    names = {code: str(name) for code, name in countries}

    if user.staff_role == StaffRole.LOCAL_REP:
        scope = _("Countries: %(countries)s") % {
            "countries": ", ".join(sorted(str(c.name) for c in user.staff_countries))}
    else:
        scope = _("All countries")
    if filters.country:
        scope += " · " + _("Country: %(country)s") % {"country": names.get(filters.country)}
    if filters.type:
        scope += " · " + _("Type: %(type)s") % {"type": SignatoryType(filters.type).label}

    header = [_("Signatories"), _("Active"), _("Applications waiting"),
              _("Flagged overdue"), _("Reports in review"), _("Reports overdue"),
              _("Reports approved in %(year)s") % {"year": filters.year},
              _("Average training coverage")]
    country_keys = sorted({g["country"] for g in dashboard.groups},
                          key=lambda c: names.get(c, c))
    type_keys = [v for v in SignatoryType.values if any(g["type"] == v for g in dashboard.groups)]
    tables = [
        SummaryTable(_("By country"), [_("Country"), *header], _breakdown_rows(
            [(c, names.get(c, c)) for c in country_keys], "country", dashboard,
            by_country_reports, dashboard.coverage.by_country)),
        SummaryTable(_("By type"), [_("Type"), *header], _breakdown_rows(
            [(t, str(SignatoryType(t).label)) for t in type_keys], "type", dashboard,
            by_type_reports, dashboard.coverage.by_type)),
        SummaryTable(_("By status"), [_("Status"), _("Signatories")],
                     [[b.label, str(b.count)] for b in dashboard.by_status]),
    ]
    figures = [(f.label, _value(f.value)) for f in dashboard.figures]
    # statuses are today's; this one is the selected year's (signed and not gone by 31 December)
    figures.insert(2, (_("Members at the end of %(year)s") % {"year": filters.year},
                       _value(dashboard.members_over_time[-1].value)))
    return SummaryData(
        title=_("The Code: annual summary %(year)s") % {"year": filters.year},
        subtitle=_("Figures and charts for the board, by country and type"),
        scope=scope,
        generated=_("Generated on %(date)s; figures as of %(as_of)s.") % {
            "date": date_format(today, "DATE_FORMAT"),
            "as_of": date_format(dashboard.coverage.as_of, "DATE_FORMAT")},
        figures_title=_("Key figures"),
        figures=figures,
        tables=tables,
        charts_title=_("Charts"),
        charts=build_charts(dashboard),
        author=_("The Code"),
        subject=_("Annual summary report %(year)s") % {"year": filters.year},
        keywords=[_("The Code"), _("annual summary"), str(filters.year)],
    )


def _styles() -> dict[str, ParagraphStyle]:
    return {
        "title": ParagraphStyle("title", fontName=FONT_BOLD, fontSize=20, leading=24,
                                textColor=BRAND, spaceAfter=4),
        "subtitle": ParagraphStyle("subtitle", fontName=FONT, fontSize=12, leading=15,
                                   textColor=INK, spaceAfter=2),
        "small": ParagraphStyle("small", fontName=FONT, fontSize=8.5, leading=11,
                                textColor=INK),
        "h2": ParagraphStyle("h2", fontName=FONT_BOLD, fontSize=14, leading=18, textColor=BRAND,
                             spaceBefore=10, spaceAfter=6),
        "h3": ParagraphStyle("h3", fontName=FONT_BOLD, fontSize=11, leading=14, textColor=INK,
                             spaceBefore=6, spaceAfter=4),
        "cell": ParagraphStyle("cell", fontName=FONT, fontSize=7.5, leading=9),
        "head": ParagraphStyle("head", fontName=FONT_BOLD, fontSize=7.5, leading=9),
    }


def _table(header: list[str], rows: list[list[str]], styles, widths=None) -> Table:
    data = [[Paragraph(_text(h, bold=True), styles["head"]) for h in header]]
    data += [[Paragraph(_text(c), styles["cell"]) for c in row] for row in rows]
    table = Table(data, colWidths=widths, repeatRows=1, hAlign="LEFT")
    table.setStyle(TableStyle([
        # the cells' own font (the Paragraphs set theirs); the default would reference Helvetica
        ("FONTNAME", (0, 0), (-1, -1), FONT),
        ("BACKGROUND", (0, 0), (-1, 0), SOFT),
        ("LINEBELOW", (0, 0), (-1, -1), 0.4, LINE),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LEFTPADDING", (0, 0), (-1, -1), 3),
        ("RIGHTPADDING", (0, 0), (-1, -1), 3),
    ]))
    return table


def _scaled(drawing: Drawing, width: float) -> Drawing:
    # the renderer's state starts in Helvetica unless told: it would be referenced, unembedded
    drawing.initialFontName = FONT
    if drawing.width <= width:
        return drawing
    factor = width / drawing.width
    drawing.scale(factor, factor)
    drawing.width, drawing.height = drawing.width * factor, drawing.height * factor
    return drawing


def render_summary(data: SummaryData) -> bytes:
    """The summary as PDF bytes (A4 portrait). Pure: no request, no database, writes nothing."""
    _fonts()
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer, pagesize=A4, leftMargin=16 * mm, rightMargin=16 * mm, topMargin=16 * mm,
        bottomMargin=16 * mm, title=data.title, author=data.author, subject=data.subject,
        creator=data.author, keywords=data.keywords,
        # the canvas's initial font must be one of ours, or an unembedded Helvetica is referenced
        initialFontName=FONT,
    )
    styles = _styles()
    story: list = [
        Paragraph(_text(data.title, bold=True), styles["title"]),
        Paragraph(_text(data.subtitle), styles["subtitle"]),
        Paragraph(_text(data.scope), styles["subtitle"]),
        Paragraph(_text(data.generated), styles["small"]),
        Spacer(1, 6),
        Paragraph(_text(data.figures_title, bold=True), styles["h2"]),
        _table(["", ""], [[label, value] for label, value in data.figures], styles,
               widths=[110 * mm, 40 * mm]),
    ]
    for table in data.tables:
        story += [CondPageBreak(40 * mm), Paragraph(_text(table.title, bold=True), styles["h2"]),
                  _table(table.header, table.rows, styles)]
    story += [CondPageBreak(90 * mm), Paragraph(_text(data.charts_title, bold=True), styles["h2"])]
    for chart in data.charts:
        story.append(KeepTogether([
            Paragraph(_text(chart.title, bold=True), styles["h3"]),
            Paragraph(_text(chart.description), styles["small"]),
            _scaled(chart.drawing(FONT, _category_font(chart)), doc.width),
            _table(list(chart.columns), [list(r) for r in chart.rows], styles,
                   widths=[60 * mm, 60 * mm]),
        ]))
    doc.build(story)
    return buffer.getvalue()


def summary_filename(filters: DashboardFilters) -> str:
    parts = ["code-annual-summary", str(filters.year)]
    if filters.country:
        parts.append(filters.country.lower())
    if filters.type:
        parts.append(filters.type)
    return "-".join(parts) + ".pdf"
