"""Accessibility: axe-core finds no serious or critical violation on the main pages.

Each page is loaded in the system Chromium from the live server as the person who would use
it, with enough data that tables, status badges, pagination and messages are on screen, and
axe-core (shipped inside ``axe-playwright-python``, injected through the DevTools protocol, so
the page's CSP does not block it) checks the rendered page, CSS included.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.conf import settings
from django.test import Client
from playwright.sync_api import Browser, BrowserContext, sync_playwright

from signatories.models import SignatoryStatus, SignatoryType
from tests.factories import MembershipFactory, SignatoryFactory

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
BLOCKING_IMPACTS = {"serious", "critical"}

pytestmark = [
    pytest.mark.browser,
    # serialized_rollback keeps the migration-installed Code text for the tests that follow.
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.skipif(not CHROMIUM.exists(),
                       reason="needs the system Chromium (apt-get install chromium)"),
]


@pytest.fixture(scope="module")
def chromium() -> Iterator[Browser]:
    # Module-scoped: the browser holds no database state, and starting it dominates run time.
    # Playwright's sync API runs an event loop in this thread; the ORM calls made by fixtures
    # between browser steps are plain synchronous code.
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                                 args=CHROMIUM_ARGS)
            yield browser
            browser.close()


@pytest.fixture
def browser_as(chromium, live_server, monkeypatch) -> Iterator:
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    contexts: list[BrowserContext] = []

    def _open(user=None):
        context = chromium.new_context(locale="en-GB", base_url=live_server.url)
        context.set_default_timeout(10_000)
        if user is not None:
            client = Client()
            client.force_login(user)
            context.add_cookies([{"name": settings.SESSION_COOKIE_NAME,
                                  "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                                  "url": live_server.url}])
        contexts.append(context)
        return context.new_page()

    yield _open
    for context in contexts:
        context.close()


@pytest.fixture
def many_signatories(db):
    """More rows than a page, in every status and several types: badges, pagination, flags."""
    statuses = [SignatoryStatus.ACTIVE, SignatoryStatus.APPLIED, SignatoryStatus.APPROVED,
                SignatoryStatus.REPORTING_OVERDUE, SignatoryStatus.SUSPENDED,
                SignatoryStatus.REJECTED, SignatoryStatus.WITHDRAWN, SignatoryStatus.EXPELLED]
    types = list(SignatoryType.values)
    for i in range(30):
        status = statuses[i % len(statuses)]
        SignatoryFactory(legal_name=f"Accessible Travel {i:02d}", status=status,
                         type=types[i % len(types)], country=["SE", "TH", "KE", "BR"][i % 4],
                         active=status == SignatoryStatus.ACTIVE,
                         possible_duplicate=(i % 7 == 0))


def serious_violations(page) -> list[str]:
    results = Axe().run(page)
    return [
        f"{v['impact']}: {v['id']} — {v['help']} — "
        + "; ".join(", ".join(node["target"]) for node in v["nodes"][:5])
        for v in results.response["violations"]
        if v["impact"] in BLOCKING_IMPACTS
    ]


def assert_accessible(page, path: str) -> None:
    response = page.goto(path)
    assert response is not None and response.status == 200, f"{path}: HTTP {response and response.status}"
    problems = serious_violations(page)
    assert not problems, f"{path} ({page.title()}):\n" + "\n".join(problems)


@pytest.mark.parametrize("path", ["/", "/apply/", "/accounts/login/", "/members/",
                                  "/members/?q=Accessible"])
def test_public_pages_have_no_serious_accessibility_violations(browser_as, many_signatories,
                                                               path):
    assert_accessible(browser_as(), path)


def test_apply_form_with_errors_has_no_serious_accessibility_violations(browser_as):
    page = browser_as()
    page.goto("/apply/")
    page.get_by_role("button", name="Send application").click()
    assert page.locator(".field.has-error").count() > 0  # the errors are on screen
    problems = serious_violations(page)
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("suffix", ["", "profile/", "team/"])
def test_company_pages_have_no_serious_accessibility_violations(browser_as, company_admin,
                                                                company_a, reporter, suffix):
    assert_accessible(browser_as(company_admin), f"/company/{company_a.pk}/{suffix}")


def test_sign_page_has_no_serious_accessibility_violations(browser_as):
    approved = SignatoryFactory(approved=True)
    admin = MembershipFactory(signatory=approved).user
    assert_accessible(browser_as(admin), f"/company/{approved.pk}/sign/")


@pytest.mark.parametrize("path", ["/staff/", "/staff/signatories/",
                                  "/staff/signatories/?status=active&search=Accessible"])
def test_staff_lists_have_no_serious_accessibility_violations(browser_as, staff_reviewer,
                                                              many_signatories, path):
    assert_accessible(browser_as(staff_reviewer), path)


def test_staff_detail_has_no_serious_accessibility_violations(browser_as, staff_reviewer,
                                                              company_admin, company_a):
    assert_accessible(browser_as(staff_reviewer), f"/staff/signatories/{company_a.pk}/")


def test_pages_load_htmx_without_content_security_policy_violations(browser_as, company_admin):
    # Regression: htmx injected an inline <style> for its indicators, which our CSP (no inline
    # styles) refused on every page; the indicator styles now live in portal.css.
    page = browser_as(company_admin)
    messages: list[str] = []
    page.on("console", lambda message: messages.append(message.text))
    for path in ("/", "/members/", "/apply/"):
        assert page.goto(path).status == 200
        page.wait_for_function("() => window.htmx !== undefined")
    assert page.evaluate("() => htmx.config.includeIndicatorStyles") is False
    violations = [m for m in messages if "Content Security Policy" in m]
    assert violations == []


# --- small screens --------------------------------------------------------------------------

PHONE = {"width": 375, "height": 800}


def page_overflow(page) -> list[str]:
    """What sticks out sideways at this width (the page itself must not scroll sideways; a wide
    table may scroll inside its own box)."""
    return page.evaluate("""() => {
        const width = document.documentElement.clientWidth;
        const out = [];
        if (document.documentElement.scrollWidth <= width + 1) return out;
        out.push(`page is ${document.documentElement.scrollWidth}px wide`);
        for (const el of document.querySelectorAll("main *, header *")) {
            const box = el.getBoundingClientRect();
            // a wide table scrolls inside its own box: what is inside it does not count
            if (el.closest("table") && el.tagName !== "TABLE") continue;
            if (box.right > width + 1 && getComputedStyle(el).position !== "absolute")
                out.push(`${el.tagName.toLowerCase()}${el.id ? "#" + el.id : ""}` +
                         `${el.className ? "." + String(el.className).split(" ").join(".") : ""}` +
                         ` ends at ${Math.round(box.right)}px`);
            if (out.length > 6) break;
        }
        return out;
    }""")


@pytest.mark.parametrize(("persona", "path"), [
    (None, "/"), (None, "/apply/"), (None, "/members/"), (None, "/accounts/login/"),
    ("company_admin", "/company/{a}/"), ("company_admin", "/company/{a}/team/"),
    ("company_admin", "/company/{a}/profile/"),
    ("staff_reviewer", "/staff/"), ("staff_reviewer", "/staff/signatories/"),
    ("staff_reviewer", "/staff/signatories/{a}/"),
])
def test_pages_fit_a_phone_screen_without_sideways_scrolling(request, browser_as,
                                                             many_signatories, company_a,
                                                             persona, path):
    user = request.getfixturevalue(persona) if persona else None
    page = browser_as(user)
    page.set_viewport_size(PHONE)
    assert page.goto(path.format(a=company_a.pk)).status == 200
    assert page_overflow(page) == []


def _contrast(rgb_a: tuple[int, ...], rgb_b: tuple[int, ...]) -> float:
    def luminance(rgb):
        channels = [c / 255 for c in rgb[:3]]
        channels = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
        return 0.2126 * channels[0] + 0.7152 * channels[1] + 0.0722 * channels[2]

    light, dark = sorted([luminance(rgb_a), luminance(rgb_b)], reverse=True)
    return (light + 0.05) / (dark + 0.05)


def test_keyboard_focus_ring_stands_out_on_white_and_on_the_header(browser_as):
    """WCAG 1.4.11: the focus indicator has 3:1 against what surrounds it — the white page
    (the dark ring) and the blue header (the yellow halo)."""
    import re

    page = browser_as()
    page.goto("/members/")
    styles = {}
    for where, selector in [("content", "main a, main button, main input"),
                            ("header", ".site-header a")]:
        page.locator(selector).first.focus()
        page.keyboard.press("Shift+Tab")
        page.keyboard.press("Tab")  # focus by keyboard, so :focus-visible applies
        styles[where] = page.evaluate("""() => { const s = getComputedStyle(document.activeElement);
            return [s.outlineColor, s.outlineStyle, s.boxShadow]; }""")
    rgb = lambda text: tuple(int(n) for n in re.findall(r"\d+", text)[:3])  # noqa: E731
    outline, style, _ = styles["content"]
    assert style == "solid" and _contrast(rgb(outline), (255, 255, 255)) >= 3
    _, _, halo = styles["header"]
    assert _contrast(rgb(halo), (0x0B, 0x4F, 0x8A)) >= 3
