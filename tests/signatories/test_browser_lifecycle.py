"""End to end in a real browser: apply → staff approves → company signs → listed publicly.

Drives the system Chromium (never a downloaded browser build) against pytest-django's live
server, through the pages a person would use, with labels as the way to find fields (so every
field used here must have a working label). The sign form and the public search are operated by
keyboard alone.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from code_portal.models import AuditEvent
from signatories.models import Signatory, SignatoryStatus
from tests.factories import PASSWORD

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]

pytestmark = [
    pytest.mark.browser,
    # serialized_rollback: the flush after a transactional test would otherwise also remove
    # the Code text that a data migration installs, which later tests sign.
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.skipif(not CHROMIUM.exists(),
                       reason="needs the system Chromium (apt-get install chromium)"),
]

COMPANY = "Fjord Family Adventures AS"


@pytest.fixture
def chromium(monkeypatch) -> Iterator[Browser]:
    # Playwright's sync API runs an event loop in this thread; the ORM calls the test makes
    # between browser steps are still plain synchronous code.
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


def tab_to(page: Page, selector: str, limit: int = 60) -> None:
    """Press Tab until the element matching ``selector`` has the focus (fails if never)."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("s => document.activeElement?.matches(s) ?? false", selector):
            return
    raise AssertionError(f"{selector} never received keyboard focus after {limit} Tabs")


def log_in(page: Page, base_url: str, email: str, password: str) -> None:
    page.goto(f"{base_url}/")
    page.get_by_role("link", name="Log in").first.click()
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()


def log_out(page: Page, email: str) -> None:
    page.get_by_role("button", name=f"Log out {email}").click()
    expect(page.get_by_role("link", name="Log in").first).to_be_visible()


def test_company_applies_is_approved_signs_and_is_listed_publicly(live_server, page_in_chromium,
                                                                 staff_reviewer):
    page = page_in_chromium
    base = live_server.url
    applicant_email = "ingrid@fjord-family.example"
    applicant_password = "fjords-and-glaciers-2026"

    # 1. An anonymous visitor applies through the public form.
    page.goto(f"{base}/")
    page.get_by_role("link", name="Apply to sign The Code").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Apply to sign The Code")
    page.get_by_label("Legal name").fill(COMPANY)
    page.get_by_label("Trading name").fill("Fjord Family")
    page.get_by_label("Type").select_option(label="Tour operator")
    page.get_by_label("Country").select_option(label="Norway")
    page.get_by_label("Address").fill("Bryggen 1\n5003 Bergen")
    page.get_by_label("Website").fill("https://fjord-family.example")
    page.get_by_label("Number of employees").fill("35")
    page.get_by_label("Contact person").fill("Ingrid Haugen")
    page.get_by_label("Contact e-mail").fill("contact@fjord-family.example")
    page.get_by_label("Your name").fill("Ingrid Haugen")
    page.get_by_label("Your e-mail").fill(applicant_email)
    page.get_by_label("Choose a password").fill(applicant_password)
    page.get_by_label(re.compile("do not include visits to orphanages")).check()
    page.get_by_role("button", name="Send application").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Fjord Family")
    expect(page.get_by_text("Your application has been sent to the Code staff")).to_be_visible()
    expect(page.get_by_text("Your application is waiting for review by Code staff.")).to_be_visible()
    log_out(page, applicant_email)

    # 2. A staff reviewer logs in, opens the queue and the application, and approves it.
    log_in(page, base, staff_reviewer.email, PASSWORD)
    expect(page.get_by_role("heading", level=1)).to_have_text("Applications waiting for review")
    page.get_by_role("link", name=COMPANY).click()
    # the staff page is the signatory's dossier
    expect(page.get_by_role("heading", level=1)).to_have_text(f"{COMPANY} dossier")
    page.get_by_label("Reason for approving (optional)").fill("Complete application, references checked.")
    page.get_by_role("button", name="Approve").click()
    expect(page.get_by_text("the signatory is now “Approved, awaiting signature”")).to_be_visible()
    log_out(page, staff_reviewer.email)

    # Not listed publicly before signing.
    page.goto(f"{base}/members/?q=Fjord")
    expect(page.get_by_role("cell", name="Fjord Family")).to_have_count(0)

    # 3. The company admin logs in and signs, using the keyboard only on the sign page.
    log_in(page, base, applicant_email, applicant_password)
    expect(page.get_by_text("Your application was approved.")).to_be_visible()
    page.get_by_role("link", name="Sign The Code").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign The Code for Fjord Family")
    tab_to(page, "#id_signer_name")
    page.keyboard.type("Ingrid Haugen")
    tab_to(page, "#id_signer_title")
    page.keyboard.type("Managing Director")
    tab_to(page, "#id_confirm")
    page.keyboard.press("Space")
    expect(page.locator("#id_confirm")).to_be_checked()
    tab_to(page, "main form button[type=submit]")
    # A keyboard user must see where the focus is.
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline not in ("", "none")
    page.keyboard.press("Enter")
    expect(page.get_by_text("Thank you for signing The Code. Welcome!")).to_be_visible()
    log_out(page, applicant_email)

    # 4. The public finds the company among members in good standing (keyboard only: skip
    #    link, then the search box).
    page.goto(f"{base}/members/")
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Skip to main content")).to_be_focused()
    page.keyboard.press("Enter")
    tab_to(page, "#q")
    page.keyboard.type("fjord")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/members/\?q=fjord"))
    row = page.get_by_role("row").filter(has_text="Fjord Family")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("Tour operator")
    expect(row).to_contain_text("Norway")

    signatory = Signatory.objects.get(legal_name=COMPANY)
    assert signatory.status == SignatoryStatus.ACTIVE
    assert (signatory.signer_name, signatory.signer_title) == ("Ingrid Haugen", "Managing Director")
    assert signatory.signed_code_version is not None
    actions = list(AuditEvent.objects.filter(signatory=signatory).order_by("occurred_at", "id")
                   .values_list("action", "actor__email"))
    assert actions == [("signatory.applied", applicant_email),
                       ("signatory.approve", staff_reviewer.email),
                       ("signatory.sign", applicant_email)]

