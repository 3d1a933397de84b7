"""The interactive API docs (/api/docs/, Swagger UI) and Redoc (/api/redoc/) work under the
site's Content Security Policy and load nothing from another host.

The CSP allows scripts and styles from our own origin only (no inline ones), so the pages must
take their scripts, styles and fonts from our static files (drf-spectacular-sidecar): an inline
init script or a web font from a CDN would leave the docs blank or half-styled.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.contrib.staticfiles import finders
from django.test import Client
from playwright.sync_api import Browser, sync_playwright

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
DOCS = ["/api/docs/", "/api/redoc/"]
ASSET = re.compile(r"<(?:script|link|img)\b[^>]*?\b(?:src|href)=\"([^\"]+)\"", re.IGNORECASE)


@pytest.mark.django_db
@pytest.mark.parametrize("path", DOCS)
def test_docs_pages_take_every_asset_from_our_own_static_files(path):
    response = Client().get(path)
    assert response.status_code == 200
    html = response.content.decode()
    assets = ASSET.findall(html)
    assert assets, html
    for url in assets:
        parts = urlsplit(url)
        assert not parts.scheme and not parts.netloc, f"{path} loads {url} from another host"
        if parts.path.startswith("/static/"):
            assert finders.find(parts.path.removeprefix("/static/")), f"{url} is not installed"


@pytest.mark.django_db
@pytest.mark.parametrize("path", DOCS)
def test_docs_pages_have_no_inline_script_or_style_the_csp_would_block(path):
    html = Client().get(path).content.decode()
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), "inline <script> on " + path
    assert "<style" not in html, "inline <style> on " + path
    assert " style=" not in html


@pytest.mark.django_db
def test_swagger_init_script_is_served_as_javascript():
    html = Client().get("/api/docs/").content.decode()
    scripts = re.findall(r"<script[^>]*\bsrc=\"([^\"]+)\"", html)
    init = [s for s in scripts if "script" in urlsplit(s).query]
    assert len(init) == 1, scripts
    response = Client().get(init[0].replace("&amp;", "&"))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/javascript")
    assert "SwaggerUIBundle(" in response.content.decode()
    assert "/api/schema/" in response.content.decode()


# --- in a real browser ----------------------------------------------------------------------

@pytest.fixture
def chromium(monkeypatch) -> Iterator[Browser]:
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                             args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def open_page(chromium: Browser, live_server, path: str):
    """The page, the CSP violations it logged, and what it loaded from hosts other than ours
    (requests that completed: one the CSP refused never leaves the browser)."""
    context = chromium.new_context(locale="en-GB", base_url=live_server.url)
    context.set_default_timeout(15_000)
    page = context.new_page()
    problems: list[str] = []
    foreign: list[str] = []
    ours = urlsplit(live_server.url).netloc
    page.on("console", lambda m: problems.append(m.text)
            if "Content Security Policy" in m.text else None)
    page.on("requestfinished", lambda r: foreign.append(r.url)
            if urlsplit(r.url).netloc not in ("", ours) and not r.url.startswith("data:")
            else None)
    assert page.goto(path).status == 200
    return page, problems, foreign


@pytest.mark.browser
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.skipif(not CHROMIUM.exists(), reason="needs the system Chromium")
def test_swagger_ui_renders_the_operations_in_a_browser(chromium, live_server):
    page, problems, foreign = open_page(chromium, live_server, "/api/docs/")
    page.locator(".opblock-summary-path", has_text="/api/v1/signatories/apply/").first.wait_for()
    assert page.locator(".opblock").count() > 20
    assert problems == [] and foreign == []


@pytest.mark.browser
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.skipif(not CHROMIUM.exists(), reason="needs the system Chromium")
def test_redoc_renders_the_operations_in_a_browser(chromium, live_server):
    page, problems, foreign = open_page(chromium, live_server, "/api/redoc/")
    page.get_by_role("heading", name=re.compile("Code Portal API")).first.wait_for()
    page.get_by_text("/api/v1/signatories/apply/").first.wait_for(state="attached")
    # Redoc hard-codes a "Redocly" logo from its CDN and hides it when it fails to load: the
    # CSP blocking it is the point. Nothing else may be refused.
    assert [p for p in problems if "cdn.redoc.ly/redoc/logo-mini.svg" not in p] == []
    assert foreign == []
