"""The charts carry their data (bars labelled with the figures, and a data table), are accessible
(role, title, description) and need no inline styles (the CSP forbids them)."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest
from django.urls import reverse

from code_portal.staff.charts import build_charts, chart_svg
from code_portal.staff.dashboard import DashboardFilters, dashboard_for
from tests.code_portal.staff.test_dashboard_figures import build_dataset

pytestmark = pytest.mark.django_db
NS = "{http://www.w3.org/2000/svg}"


def texts(svg: str) -> list[str]:
    root = ET.fromstring(svg)  # noqa: S314 (our own renderer's output)
    return [(el.text or "").strip() for el in root.iter(f"{NS}text")]


@pytest.fixture
def charts(db, staff_reviewer):
    data = build_dataset(size=44)
    dashboard = dashboard_for(staff_reviewer, DashboardFilters(year=data.today.year),
                              today=data.today)
    return dashboard, {c.key: c for c in build_charts(dashboard)}


def test_four_charts_each_accessible_and_without_inline_styles(charts):
    _dashboard, by_key = charts
    assert set(by_key) == {"members-over-time", "compliance-by-year", "overdue-by-country",
                           "coverage-distribution"}
    for chart in by_key.values():
        svg = chart_svg(chart)
        root = ET.fromstring(svg)  # noqa: S314 (our own renderer's output)
        assert root.get("role") == "img"
        title_id, desc_id = root.get("aria-labelledby").split()
        assert root.find(f"{NS}title").get("id") == title_id
        assert root.find(f"{NS}title").text == chart.title
        assert root.find(f"{NS}desc").get("id") == desc_id
        assert "style=" not in svg
        assert "<?xml" not in svg


def test_members_chart_shows_each_years_count(charts):
    dashboard, by_key = charts
    labels = texts(by_key["members-over-time"].svg())
    for point in dashboard.members_over_time:
        assert str(point.year) in labels
        if point.value:
            assert str(point.value) in labels
    assert by_key["members-over-time"].rows == [(str(p.year), str(p.value))
                                                for p in dashboard.members_over_time]


def test_overdue_and_coverage_and_compliance_charts_show_their_data(charts):
    dashboard, by_key = charts
    overdue = texts(by_key["overdue-by-country"].svg())
    for b in dashboard.overdue_by_country:
        assert b.label in overdue and str(b.count) in overdue
    coverage = texts(by_key["coverage-distribution"].svg())
    for label, n in dashboard.coverage.buckets:
        assert label in coverage
        if n:
            assert str(n) in coverage
    compliance = texts(by_key["compliance-by-year"].svg())
    for p in dashboard.compliance_by_year:
        if p.denominator:
            assert f"{p.value:g} %" in compliance


def test_charts_without_data_say_so(db, staff_reviewer):
    from django.utils import timezone

    today = timezone.localdate()
    dashboard = dashboard_for(staff_reviewer, DashboardFilters(year=today.year), today=today)
    by_key = {c.key: c for c in build_charts(dashboard)}
    assert "No signatory is flagged reporting overdue." in texts(by_key["overdue-by-country"].svg())
    assert "No data for these filters." in texts(by_key["coverage-distribution"].svg())


def test_page_inlines_charts_with_unique_ids_and_data_tables(charts, web_as, staff_reviewer):
    html = web_as(staff_reviewer).get(reverse("staff-dashboard")).content.decode()
    assert html.count('role="img"') == 4
    ids = re.findall(r'\bid="([^"]+)"', html)
    assert len(ids) == len(set(ids))
    assert html.count("Data of the chart") == 4
