"""End to end in Chromium: an operator imports partners and sends requests; the hotel opens
the e-mailed link (from the locmem outbox), reads the guidelines and confirms; the operator
sees the confirmation. Same set-up as tests/signatories/test_browser_lifecycle.py."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.core import mail
from playwright.sync_api import Browser, Page, expect, sync_playwright

from signatories.partners.models import ConfirmationRequest, RequestStatus
from tests.code_portal.test_accessibility import serious_violations
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

CSV = (b"name,kind,country,city,contact_email,carries_clause\n"
       b"Railay Cliff Hotel,hotel,TH,Krabi,gm@railay.example,yes\n"
       b"Koh Lanta Bungalows,hotel,TH,Koh Lanta,owner@lanta.example,no\n")


@pytest.fixture
def chromium(monkeypatch) -> Iterator[Browser]:
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                             args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def _page(browser: Browser) -> Page:
    context = browser.new_context(locale="en-GB", viewport={"width": 1280, "height": 900})
    context.set_default_timeout(10_000)
    return context.new_page()


def test_operator_imports_sends_and_sees_the_hotels_confirmation(live_server, chromium,
                                                                 company_admin, company_a):
    base = live_server.url
    page = _page(chromium)
    page.goto(f"{base}/accounts/login/")
    page.get_by_label("Email").fill(company_admin.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()

    # 1. Import two partners from a CSV file.
    page.goto(f"{base}/company/{company_a.pk}/partners/import/")
    page.get_by_label("File (CSV or XLSX)").set_input_files(
        files=[{"name": "partners.csv", "mimeType": "text/csv", "buffer": CSV}])
    page.get_by_role("button", name="Upload and import").click()
    expect(page.get_by_role("heading", name="Imported")).to_be_visible()
    page.get_by_role("link", name="See the partners").click()
    expect(page.get_by_role("link", name="Railay Cliff Hotel")).to_be_visible()
    expect(page.get_by_role("row").filter(has_text="Railay Cliff Hotel")).to_contain_text(
        "Never asked")

    assert not serious_violations(page), serious_violations(page)

    # 2. Send requests to all partners.
    page.get_by_role("button", name="Send requests to all partners").click()
    expect(page.get_by_text("Requests sent: 2.")).to_be_visible()
    expect(page.get_by_role("row").filter(has_text="Railay Cliff Hotel")).to_contain_text(
        "Pending")
    message = next(m for m in mail.outbox if m.to == ["gm@railay.example"])
    link = re.search(r"https?://\S+/partners/confirm/\S+/", message.body).group(0)
    path = link.split("/partners/", 1)[1]

    # 3. The hotel opens the link (no login) and confirms.
    hotel = _page(chromium)
    hotel.goto(f"{base}/partners/{path}")
    expect(hotel.get_by_role("heading", level=1)).to_contain_text("asks you to confirm")
    expect(hotel.get_by_text("zero tolerance", exact=False).first).to_be_visible()
    assert not serious_violations(hotel), serious_violations(hotel)
    confirm = hotel.locator("form").filter(has=hotel.get_by_role("button", name="Confirm adherence"))
    confirm.get_by_label("Your name").fill("Malee Srisuk")
    confirm.get_by_label("Your position").fill("General manager")
    confirm.get_by_label(re.compile("we adhere to these guidelines")).check()
    confirm.get_by_role("button", name="Confirm adherence").click()
    expect(hotel.get_by_text("Thank you: your confirmation has been recorded.")).to_be_visible()
    expect(hotel.get_by_text("This link has already been used")).to_be_visible()

    # 4. The operator sees it, and can read the import page and the partner's history.
    page.reload()
    expect(page.get_by_role("row").filter(has_text="Railay Cliff Hotel")).to_contain_text(
        "Confirmed until")
    page.get_by_role("link", name="Railay Cliff Hotel").click()
    expect(page.get_by_role("cell", name=re.compile("Malee Srisuk"))).to_be_visible()
    assert not serious_violations(page), serious_violations(page)
    req = ConfirmationRequest.objects.get(partner__name="Railay Cliff Hotel")
    assert req.status == RequestStatus.CONFIRMED and req.responder_name == "Malee Srisuk"
    assert req.ip_address == "127.0.0.1" and "Chrome" in req.user_agent
