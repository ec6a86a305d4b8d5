"""Staff sign-in in the browser: by keyboard, wrong password, the console shows only what the
roles allow, sign-out; every page axe-clean in both languages."""

from __future__ import annotations

import subprocess
import sys

import pytest

from core.actors import Role
from tests.support.staff import PASSWORD, store_with_staff
from tests.web.conftest import DESKTOP, PHONE, check_page, start_site, tab_to


@pytest.fixture
def site(site_env):
    db, env = site_env
    store_with_staff(db, env["CIVIC_OUTBOX"], [("kim.official", "김공무", [Role.PROCESS_ADMIN]),
                                               ("park.admin", "박관리", [Role.SYSTEM_ADMIN]),
                                               ("lee.auditor", "이감사", [Role.AUDITOR])],
                     prepare=lambda engine: engine.ledger.checkpoint())
    running = start_site(db, env)
    yield running
    running.stop()


def test_an_official_signs_in_and_out_by_keyboard(site, browser):
    page = browser.new_page(viewport=PHONE, locale="ko-KR")
    page.goto(f"{site.url}/staff")
    assert page.url == f"{site.url}/staff/sign-in?next=/staff"
    tab_to(page, "#username")
    page.keyboard.type("kim.official")
    page.keyboard.press("Tab")
    page.keyboard.type("not the password")
    page.keyboard.press("Enter")
    page.wait_for_selector("#error-summary")
    assert "맞지 않습니다" in page.inner_text("#error-summary")
    assert page.input_value("#username") == "kim.official" and page.input_value("#password") == ""
    tab_to(page, "#password")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(f"{site.url}/staff")
    assert "김공무" in page.inner_text("main")
    links = page.locator("main ul a").all_inner_texts()
    assert "직원 계정 (JSON)" not in links  # a process admin may not read the staff list
    tab_to(page, "form[action='/staff/sign-out'] button")
    page.keyboard.press("Enter")
    page.wait_for_url(f"{site.url}/staff/sign-in")
    page.goto(f"{site.url}/staff")
    assert page.url.startswith(f"{site.url}/staff/sign-in")


def test_the_console_shows_an_administrator_the_staff_list(site, browser):
    page = browser.new_page(viewport=DESKTOP, locale="ko-KR")
    sign_in_as(page, site, "park.admin")  # waits for the console, not only for the click
    assert "직원 계정 (JSON)" in page.locator("main ul a").all_inner_texts()


@pytest.mark.parametrize("language", ["ko", "en"])
def test_staff_pages_pass_axe(site, browser, language):
    for viewport in (PHONE, DESKTOP):
        context = browser.new_context(viewport=viewport)
        page = context.new_page()
        page.goto(f"{site.url}/lang/{language}?next=/staff/sign-in")
        check_page(page, "staff-sign-in", language=language)
        page.click("button[type=submit]")
        check_page(page, "staff-sign-in-errors", language=language)
        page.fill("#username", "kim.official")
        page.fill("#password", PASSWORD)
        page.click("button[type=submit]")
        check_page(page, "staff-home", language=language)
        context.close()


def sign_in_as(page, site, username: str) -> None:
    page.goto(f"{site.url}/staff/sign-in")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{site.url}/staff")


def test_an_auditor_sees_the_store_verified_and_verifies_the_download(site, browser, tmp_path):
    page = browser.new_page(viewport=DESKTOP, locale="ko-KR", accept_downloads=True)
    page.goto(f"{site.url}/staff/audit")  # a stranger signs in first and comes back here
    page.fill("#username", "lee.auditor")
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{site.url}/staff/audit")
    for _attempt in range(30):
        if "모두 맞습니다" in page.inner_text("main"):
            break
        page.wait_for_timeout(200)
        page.reload()
    assert "검증 결과: 모두 맞습니다" in page.inner_text("main")
    check_page(page, "staff-audit")
    tab_to(page, "form[action='/staff/audit/verify'] button")
    page.keyboard.press("Enter")
    page.wait_for_url(f"{site.url}/staff/audit")
    with page.expect_download() as download:
        page.click("a[href='/audit/export']")
    exported = tmp_path / "export.jsonl"
    download.value.save_as(exported)
    key = page.inner_text("pre.note").split("--key ")[1].strip()
    verified = subprocess.run([sys.executable, "-m", "core", "audit", "verify", "--log", str(exported), "--key", key],
                              capture_output=True, text=True, cwd=site.env.get("PYTHONPATH"))
    assert verified.returncode == 0, verified.stdout + verified.stderr
