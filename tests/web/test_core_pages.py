"""Core's pages in the browser: the API page works with no internet (every file served by civic,
the page's own inline script allowed by its hash), and the language switch sticks."""

from __future__ import annotations

import pytest

from core.engine import Engine
from tests.web.conftest import PHONE, start_site


@pytest.fixture
def site(site_env):
    db, env = site_env
    Engine(str(db), outbox=env["CIVIC_OUTBOX"]).close()
    running = start_site(db, env)
    yield running
    running.stop()


def test_the_api_page_renders_from_civic_alone(site, browser):
    page = browser.new_page()
    outside, blocked = [], []
    page.on("request", lambda r: r.url.startswith(site.url) or outside.append(r.url))
    page.on("console", lambda m: "Content Security Policy" in m.text and blocked.append(m.text))
    page.goto(f"{site.url}/schema")
    page.wait_for_selector(".opblock", timeout=20_000)  # Swagger UI drew the operations
    assert page.locator(".opblock").count() > 50
    assert outside == [] and blocked == []


def test_the_language_switch_sticks_and_returns_to_the_page(site, browser):
    page = browser.new_page(viewport=PHONE, locale="ko-KR")
    page.goto(f"{site.url}/audit")
    assert page.locator("html").get_attribute("lang") == "ko"
    page.click("a[hreflang=en]")
    page.wait_for_url(f"{site.url}/audit")
    assert page.locator("html").get_attribute("lang") == "en" and "Check the records" in page.inner_text("h1")
    page.goto(f"{site.url}/")
    assert page.locator("html").get_attribute("lang") == "en"
    page.goto(f"{site.url}/lang/ko?next=https://example.org/")  # never sends anyone off the site
    assert page.url == f"{site.url}/"
