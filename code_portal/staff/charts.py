"""The dashboard's charts as reportlab drawings: the same drawing is rendered to SVG for the page
and drawn into the annual summary PDF.

Charts are pure: dashboard figures in, a :class:`Chart` out (drawing, title, description and the
data table that is the chart's text alternative). :func:`chart_svg` makes the SVG fit the
portal's pages: no inline ``style`` attributes (the Content-Security-Policy allows styles from
our own stylesheet only, so they become presentation attributes), ids unique per chart, and a
real ``<title>``/``<desc>`` referenced by ``aria-labelledby``.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from dataclasses import dataclass

from django.utils.translation import gettext as _
from reportlab.graphics import renderSVG
from reportlab.graphics.charts.barcharts import HorizontalBarChart, VerticalBarChart
from reportlab.graphics.shapes import Drawing, String
from reportlab.lib.colors import HexColor

from code_portal.staff.dashboard import Dashboard

BRAND = HexColor("#0b4f8a")
WARN = HexColor("#8a4b00")
OK = HexColor("#1e6b35")
INK = HexColor("#1b1f24")
WIDTH, HEIGHT = 600, 260
MAX_COUNTRIES = 15  # bars in "overdue by country"; the table lists every country


@dataclass
class Chart:
    key: str
    title: str
    description: str
    columns: tuple[str, str]
    rows: list[tuple[str, str]]
    build: Callable[[str, str], Drawing]  # (font, font of the category labels) → drawing

    def drawing(self, font: str = "Helvetica", category_font: str | None = None) -> Drawing:
        return self.build(font, category_font or font)

    def svg(self) -> str:
        return chart_svg(self)


def _nice_max(value: float) -> float:
    if value <= 5:
        return 5
    magnitude = 10 ** (len(str(int(value))) - 1)
    for step in (1, 2, 2.5, 5, 10):
        top = step * magnitude
        if top >= value:
            return top
    return value


def _empty(font: str, message: str) -> Drawing:
    drawing = Drawing(WIDTH, HEIGHT)
    drawing.add(String(WIDTH / 2, HEIGHT / 2, message, fontName=font, fontSize=11,
                       fillColor=INK, textAnchor="middle"))
    return drawing


def _vertical_bars(labels: list[str], values: list[float], *, colour, font: str,
                   category_font: str, value_format: str, maximum: float | None = None
                   ) -> Drawing:
    drawing = Drawing(WIDTH, HEIGHT)
    chart = VerticalBarChart()
    chart.x, chart.y, chart.width, chart.height = 50, 40, WIDTH - 70, HEIGHT - 70
    chart.data = [values]
    chart.categoryAxis.categoryNames = labels
    chart.categoryAxis.labels.fontName = category_font
    chart.categoryAxis.labels.fontSize = 9
    chart.valueAxis.labels.fontName = font
    chart.valueAxis.labels.fontSize = 9
    chart.valueAxis.valueMin = 0
    chart.valueAxis.valueMax = maximum or _nice_max(max(values, default=0))
    chart.valueAxis.valueStep = chart.valueAxis.valueMax / 5
    chart.bars[0].fillColor = colour
    chart.bars[0].strokeColor = None
    chart.barLabelFormat = value_format
    chart.barLabels.fontName = font
    chart.barLabels.fontSize = 9
    chart.barLabels.nudge = 6
    drawing.add(chart)
    return drawing


def _horizontal_bars(labels: list[str], values: list[float], *, colour, font: str,
                     category_font: str) -> Drawing:
    drawing = Drawing(WIDTH, HEIGHT)
    chart = HorizontalBarChart()
    chart.x, chart.y, chart.width, chart.height = 130, 20, WIDTH - 160, HEIGHT - 40
    # reportlab draws the first category at the bottom: reverse, so the largest is on top
    chart.data = [list(reversed(values))]
    chart.categoryAxis.categoryNames = list(reversed(labels))
    chart.categoryAxis.labels.fontName = category_font
    chart.categoryAxis.labels.fontSize = 9
    chart.valueAxis.labels.fontName = font
    chart.valueAxis.labels.fontSize = 9
    chart.valueAxis.valueMin = 0
    chart.valueAxis.valueMax = _nice_max(max(values, default=0))
    chart.valueAxis.valueStep = chart.valueAxis.valueMax / 5
    chart.bars[0].fillColor = colour
    chart.bars[0].strokeColor = None
    chart.barLabelFormat = "%d"
    chart.barLabels.fontName = font
    chart.barLabels.fontSize = 9
    chart.barLabels.nudge = 8
    drawing.add(chart)
    return drawing


def _percent(value: float | None) -> str:
    return "–" if value is None else f"{value:g} %"


def build_charts(dashboard: Dashboard) -> list[Chart]:
    """The four charts of the dashboard and of the summary PDF."""
    members = dashboard.members_over_time
    compliance = dashboard.compliance_by_year
    overdue = dashboard.overdue_by_country
    buckets = dashboard.coverage.buckets
    no_data = _("No data for these filters.")

    def members_drawing(font: str, category_font: str) -> Drawing:
        return _vertical_bars([str(p.year) for p in members], [p.value or 0 for p in members],
                              colour=BRAND, font=font, category_font=category_font,
                              value_format="%d")

    def compliance_drawing(font: str, category_font: str) -> Drawing:
        if not any(p.denominator for p in compliance):
            return _empty(font, no_data)
        return _vertical_bars([str(p.year) for p in compliance],
                              [p.value or 0 for p in compliance], colour=OK, font=font,
                              category_font=category_font, value_format="%g %%", maximum=100)

    def overdue_drawing(font: str, category_font: str) -> Drawing:
        if not overdue:
            return _empty(font, _("No signatory is flagged reporting overdue."))
        top = overdue[:MAX_COUNTRIES]
        return _horizontal_bars([b.label[:22] for b in top], [b.count for b in top],
                                colour=WARN, font=font, category_font=category_font)

    def coverage_drawing(font: str, category_font: str) -> Drawing:
        if not any(n for _label, n in buckets):
            return _empty(font, no_data)
        return _vertical_bars([label for label, _n in buckets], [n for _label, n in buckets],
                              colour=BRAND, font=font, category_font=category_font,
                              value_format="%d")

    first, last = members[0].year, members[-1].year
    return [
        Chart(
            key="members-over-time",
            title=_("Members over time"),
            description=_("Members at the end of each year from %(first)s to %(last)s: signed "
                          "and not withdrawn or expelled by 31 December.")
            % {"first": first, "last": last},
            columns=(_("Year"), _("Members")),
            rows=[(str(p.year), str(p.value)) for p in members],
            build=members_drawing,
        ),
        Chart(
            key="compliance-by-year",
            title=_("Reporting compliance rate by year"),
            description=_("Share of the reports of each reporting year, due by now, that were "
                          "approved."),
            columns=(_("Reporting year"), _("Approved / due (%)")),
            rows=[(str(p.year), f"{p.numerator} / {p.denominator} ({_percent(p.value)})")
                  for p in compliance],
            build=compliance_drawing,
        ),
        Chart(
            key="overdue-by-country",
            title=_("Signatories overdue by country"),
            description=_("Signatories flagged reporting overdue, per country, most first "
                          "(the chart shows the first %(n)s countries).") % {"n": MAX_COUNTRIES},
            columns=(_("Country"), _("Signatories overdue")),
            rows=[(b.label, str(b.count)) for b in overdue],
            build=overdue_drawing,
        ),
        Chart(
            key="coverage-distribution",
            title=_("Training coverage distribution"),
            description=_("Signatories with a headcount for %(year)s by share of employees "
                          "with valid training.") % {"year": dashboard.coverage.as_of.year},
            columns=(_("Coverage"), _("Signatories")),
            rows=[(label, str(n)) for label, n in buckets],
            build=coverage_drawing,
        ),
    ]


_STYLE = re.compile(r'style="([^"]*)"')
_PROPERTY = re.compile(r"^[a-z-]+$")


def _style_to_attributes(match: re.Match) -> str:
    attributes = []
    for declaration in match.group(1).split(";"):
        name, _sep, value = declaration.partition(":")
        name, value = name.strip(), value.strip()
        if name and value and _PROPERTY.match(name):
            attributes.append(f'{name}="{html.escape(value, quote=True)}"')
    return " ".join(attributes)


def chart_svg(chart: Chart) -> str:
    """The chart as an inline ``<svg>`` element (no XML prolog), accessible and CSP-clean."""
    svg = renderSVG.drawToString(chart.drawing())
    svg = svg[svg.index("<svg"):]
    key = chart.key
    title_id, desc_id = f"{key}-title", f"{key}-desc"
    svg = re.sub(r"<title>.*?</title>",
                 f'<title id="{title_id}">{html.escape(chart.title)}</title>', svg, count=1,
                 flags=re.S)
    svg = re.sub(r"<desc>.*?</desc>",
                 f'<desc id="{desc_id}">{html.escape(chart.description)}</desc>', svg, count=1,
                 flags=re.S)
    # scale to the page's width (the viewBox keeps the proportions), no fixed pixel size
    svg = re.sub(r'^<svg width="[^"]*" height="[^"]*"', '<svg width="100%"', svg, count=1)
    svg = svg.replace("<svg ", f'<svg role="img" aria-labelledby="{title_id} {desc_id}" ', 1)
    svg = _STYLE.sub(_style_to_attributes, svg)
    svg = svg.replace('id="clip"', f'id="{key}-clip"').replace("url(#clip)", f"url(#{key}-clip)")
    svg = svg.replace('id="group"', f'id="{key}-group"')
    return svg
