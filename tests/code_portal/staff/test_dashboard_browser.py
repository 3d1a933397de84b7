"""In Chromium: staff open the dashboard, filter it, click a figure and land on the filtered list
with as many rows as the figure said, and export that list; the charts render without any CSP
violation and the page has no serious axe violation."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, Page, expect, sync_playwright

from signatories.models import Signatory, SignatoryStatus
from tests.code_portal.staff.test_dashboard_figures import build_dataset
from tests.factories import PASSWORD

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.skipif(not CHROMIUM.exists(),
                       reason="needs the system Chromium (apt-get install chromium)"),
]


@pytest.fixture
def chromium(monkeypatch) -> Iterator[Browser]:
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                             args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page_in_chromium(chromium: Browser) -> Iterator[Page]:
    context = chromium.new_context(locale="en-GB", viewport={"width": 1280, "height": 900})
    context.set_default_timeout(10_000)
    page = context.new_page()
    yield page
    context.close()


def log_in(page: Page, base_url: str, email: str, password: str) -> None:
    page.goto(f"{base_url}/")
    page.get_by_role("link", name="Log in").first.click()
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()


def test_staff_open_the_dashboard_click_a_figure_and_land_on_the_filtered_list(
        live_server, page_in_chromium, staff_reviewer):
    build_dataset(size=24)
    overdue_in_sweden = Signatory.objects.filter(
        country="SE", status=SignatoryStatus.REPORTING_OVERDUE).count()
    assert overdue_in_sweden > 0
    page = page_in_chromium
    console: list[str] = []
    page.on("console", lambda message: console.append(message.text))

    log_in(page, live_server.url, staff_reviewer.email, PASSWORD)
    page.goto(f"{live_server.url}/staff/dashboard/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Overview dashboard")

    # filter by country with the form
    page.get_by_label("Country", exact=True).select_option(label="Sweden")
    page.get_by_role("button", name="Show").click()
    expect(page).to_have_url(re.compile(r"country=SE"))
    # the four charts are drawn, each an image with its title as accessible name
    for title in ("Members over time", "Reporting compliance rate by year",
                  "Signatories overdue by country", "Training coverage distribution"):
        expect(page.get_by_role("img", name=re.compile(title))).to_be_visible()

    problems = [f"{v['impact']}: {v['id']} — {v['help']}"
                for v in Axe().run(page).response["violations"]
                if v["impact"] in {"serious", "critical"}]
    assert not problems, problems

    figure = page.get_by_role("link", name=re.compile("Signatories flagged reporting overdue"))
    expect(figure).to_contain_text(str(overdue_in_sweden))
    figure.click()

    expect(page.get_by_role("heading", level=1)).to_be_visible()
    expect(page).to_have_url(re.compile(r"/staff/signatories/\?.*status=reporting_overdue"))
    assert "country=SE" in page.url
    rows = page.locator("main table tbody tr")
    expect(rows).to_have_count(overdue_in_sweden)
    for i in range(overdue_in_sweden):
        expect(rows.nth(i)).to_contain_text("Sweden")
        expect(rows.nth(i)).to_contain_text("Reporting overdue")
    shown = page.locator("main table tbody tr td:first-child a").all_inner_texts()

    # ...and exports exactly that list
    with page.expect_download() as download_info:
        page.get_by_role("button", name="CSV").click()
    exported = list(csv.reader(io.StringIO(
        Path(download_info.value.path()).read_text(encoding="utf-8-sig"))))
    header, body = exported[0], exported[1:]
    assert len(body) == overdue_in_sweden
    name_column = next(i for i, cell in enumerate(body[0]) if cell == shown[0])
    assert sorted(row[name_column] for row in body) == sorted(shown)
    assert header[name_column]

    assert [m for m in console if "Content Security Policy" in m] == []
