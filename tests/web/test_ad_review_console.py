"""The ad review committee in a real browser: a member makes their Ed25519 key in the browser
(WebCrypto, kept in IndexedDB), the secretary confirms it by its fingerprint, opens the week's
session, puts a late application on the agenda and closes the session after the member has
commented, decided (by keyboard, reasons with Korean, trailing spaces and a line break) and
recused, each signed in the browser; ``civic audit verify`` re-checks every signature. Every
console page passes axe in Korean and English."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from core.actors import Role, local_operator
from core.engine import Engine
from core.passwords import use_password_hasher
from plugins.ad_review import queries, service, signing
from tests.web.conftest import DESKTOP, PHONE, check_page, start_site, tab_to

PASSWORD = "correct horse battery"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
# the session of the current week stays open all week and takes in applications only in its first
# minute, so an application sent during the test waits for the secretary to put it on the agenda
SCHEDULE = {"open_weekday": 0, "open_time": "00:00", "intake_weekday": 0, "intake_time": "00:01",
            "close_weekday": 6, "close_time": "23:59"}


def application_data(engine: Engine, n: int, sign_type: str = "wall") -> dict:
    photo = service.store_attachment(engine, PNG + bytes([n]), "image/png")
    return {"applicant": {"name": "홍길동", "phone": f"010-1234-56{n:02d}", "business": f"을지로 커피 {n}호점"},
            "sign_type": sign_type, "location": {"address": f"서울 중구 을지로 {100 + n}", "dong": "을지로동"},
            "size": {"width_m": 4, "height_m": 0.9}, "illumination": "external",
            "attachments": [{"sha256": photo["sha256"]}]}


def prepare(db: Path, outbox: str, *, applications: int = 2) -> None:
    import argon2

    previous = use_password_hasher(argon2.PasswordHasher.from_parameters(argon2.profiles.CHEAPEST))
    engine = Engine(str(db), outbox=outbox)
    try:
        operator = local_operator()
        engine.identity.add_staff(operator, "kim.secretary", "김간사", PASSWORD, [Role.PROCESS_ADMIN])
        engine.identity.add_staff(operator, "lee.member", "이위원", PASSWORD, [Role.COMMITTEE_MEMBER])
        engine.identity.add_staff(operator, "park.member", "박위원", PASSWORD, [Role.COMMITTEE_MEMBER])
        service.ensure_committee(engine, "test:secretary")
        service.set_schedule(engine, "test:secretary", SCHEDULE)
        for n in range(1, applications + 1):
            service.submit(engine, "test:applicant", application_data(engine, n))
        engine.ledger.checkpoint()
    finally:
        engine.close()
        use_password_hasher(previous)


def sign_in(page, url: str, username: str, then: str) -> None:
    page.goto(f"{url}/staff/sign-in?next={then}")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url(f"{url}{then}")


def send_late_application(url: str) -> str:
    photo = httpx.post(f"{url}/api/ad_review/attachments", content=PNG + b"late",
                       headers={"content-type": "image/png"}).json()
    answer = httpx.post(f"{url}/api/ad_review/applications", json={
        "applicant": {"name": "김늦음", "phone": "010-9876-5432", "business": "명동 안경원"},
        "sign_type": "projecting", "location": {"address": "서울 중구 명동길 7", "dong": "명동"},
        "size": {"width_m": 1, "height_m": 1.2}, "illumination": "internal",
        "attachments": [{"sha256": photo["sha256"]}]})
    assert answer.status_code in (200, 201), answer.text
    assert answer.json()["status"] == "queued"
    return answer.json()["id"]


@pytest.fixture
def site(site_env):
    db, env = site_env
    prepare(db, env["CIVIC_OUTBOX"])
    running = start_site(db, env)
    yield running
    running.stop()


def test_a_member_signs_in_the_browser_and_the_audit_rechecks_every_signature(site, browser):
    url = site.url
    member_context = browser.new_context(viewport=DESKTOP, locale="ko-KR")
    member = member_context.new_page()
    secretary = browser.new_context(viewport=DESKTOP, locale="ko-KR").new_page()

    # the member makes a key in the browser and asks to join
    sign_in(member, url, "lee.member", "/staff/ad-review/key")
    check_page(member, "adreview-key-form")
    member.wait_for_selector("form[data-make-key] button:not([disabled])")
    assert member.input_value("#member_id") == "lee-member"
    member.fill("#name", "이위원 (건축사)")
    member.click("form[data-make-key] button")
    member.wait_for_selector("text=간사의 키 확인을 기다리고 있습니다")
    member.wait_for_function("document.querySelector('[data-browser-fingerprint]').textContent.length > 20")
    in_browser = member.inner_text("[data-browser-fingerprint]")
    assert in_browser == member.inner_text("[data-registered-fingerprint]")
    check_page(member, "adreview-key-pending")

    # the secretary compares the fingerprint and confirms
    sign_in(secretary, url, "kim.secretary", "/staff/ad-review/members")
    assert in_browser in secretary.inner_text("main")
    check_page(secretary, "adreview-members")
    secretary.click("text=이위원 (건축사)님의 키 확인")
    secretary.wait_for_selector("text=확인을 기다리는 키가 없습니다")
    assert "lee.member" in secretary.inner_text("table")
    member.goto(f"{url}/staff/ad-review/key")
    assert "lee-member" in member.inner_text("main")
    check_page(member, "adreview-key-registered")

    # the secretary opens the week's session: both waiting applications go on its agenda
    secretary.goto(f"{url}/staff/ad-review")
    check_page(secretary, "adreview-sessions")
    secretary.click("form[action='/staff/ad-review/sessions'] button")
    secretary.wait_for_url(f"{url}/staff/ad-review/sessions/*")
    assert secretary.locator("table.data-table tbody tr").count() == 2
    late = send_late_application(url)
    secretary.reload()
    check_page(secretary, "adreview-session-open")
    assert secretary.is_checked(f"input[value='{late}']")
    secretary.click("form[action$='/agenda'] button")
    secretary.wait_for_selector(f"a[href$='{late}']")
    assert secretary.locator("table.data-table tbody tr").count() == 3
    session_url = secretary.url

    # the member, by keyboard: opens the first application, comments and decides
    member.goto(f"{url}/staff/ad-review/queue")
    check_page(member, "adreview-queue")
    links = member.locator("main ul.project-list a")
    assert links.count() == 3
    first = links.first.get_attribute("href")
    tab_to(member, f"main a[href='{first}']")
    member.keyboard.press("Enter")
    member.wait_for_url(f"{url}{first}")
    member.wait_for_selector("form[data-sign] button:not([disabled])")
    check_page(member, "adreview-application")
    tab_to(member, "#text")
    member.keyboard.type("현장 사진을 보니 \"돌출\" 폭이 넓습니다 \\ 확인 부탁")
    tab_to(member, "form[action$='/comment'] button")
    member.keyboard.press("Enter")
    member.wait_for_url("**done=comment**")
    assert '"돌출"' in member.inner_text("#thread + ul")
    tab_to(member, "#decision-approve")
    member.keyboard.press("Space")
    tab_to(member, "#reasons")
    member.keyboard.type("설치 기준에 적합함  ")
    member.keyboard.press("Enter")  # the browser sends this line break as \r\n
    member.keyboard.type("주변 경관과 조화됨   ")
    tab_to(member, "form[action$='/decision'] button")
    member.keyboard.press("Enter")
    member.wait_for_url("**done=decision**")
    assert "서명한 결정이 기록되었습니다" in member.inner_text("main")

    # the second with conditions, the third a recusal (by mouse)
    member.goto(f"{url}/staff/ad-review/queue")
    second = member.locator("main ul.project-list a").nth(0).get_attribute("href")
    third = member.locator("main ul.project-list a").nth(1).get_attribute("href")
    member.goto(f"{url}{second}")
    member.wait_for_selector("form[data-sign] button:not([disabled])")
    member.check("#decision-approve_with_conditions")
    member.fill("#reasons", "조건 이행 시 적합 🙂 \"조명\" \\ 밝기\u2028조정 \r\n")
    member.fill("#conditions", "야간 23시 이후 소등\n\n돌출 폭 1.0m 이내로 축소  ")
    member.click("form[action$='/decision'] button")
    member.wait_for_url("**done=decision**")
    member.goto(f"{url}{third}")
    member.wait_for_selector("form[data-sign] button:not([disabled])")
    member.fill("#reason", "신청인이 친척입니다")
    member.click("form[action$='/recusal'] button")
    member.wait_for_url("**done=recusal**")

    # the secretary closes the session
    secretary.goto(session_url)
    secretary.click("text=지금 심의회 마감")
    secretary.wait_for_selector("text=마감했습니다")
    check_page(secretary, "adreview-session-closed")
    results = secretary.inner_text("table.data-table")
    assert "원안 가결" in results and "조건부 가결" in results and "정족수 미달" in results
    secretary.goto(f"{url}/staff/ad-review/report")
    check_page(secretary, "adreview-report")
    assert secretary.inner_text("table.data-table tbody tr:first-child td.num >> nth=0") == "2"
    site.stop()

    engine = Engine(str(site.db), outbox=site.env["CIVIC_OUTBOX"])
    try:
        sid = queries.list_sessions(engine)[0]["id"]
        from uuid import UUID

        votes = {a: queries.thread(engine, UUID(sid), UUID(a)).get("votes", {})
                 for a in queries.sessions(engine)[sid]["items"]}
        reasons = sorted(v["lee-member"]["reasons"] for v in votes.values() if "lee-member" in v)
        assert reasons == ["설치 기준에 적합함\n주변 경관과 조화됨", "조건 이행 시 적합 🙂 \"조명\" \\ 밝기\u2028조정"]
        conditions = [v["lee-member"]["conditions"] for v in votes.values() if "lee-member" in v]
        assert ["야간 23시 이후 소등", "돌출 폭 1.0m 이내로 축소"] in conditions
        assert len(queries.list_applications(engine, "decided")) == 2
        key = service.describe_committee(engine)["members"][0]["public_key"]
        assert signing.fingerprint(key) == in_browser
    finally:
        engine.close()
    texts = [t["text"] for t in site.texts()]
    assert sum("가결되었습니다" in t for t in texts) == 2
    verify = subprocess.run([sys.executable, "-m", "core", "audit", "verify", "--db", str(site.db)],
                            env=site.env, capture_output=True, text=True, timeout=120)
    assert verify.returncode == 0, verify.stdout[-2000:] + verify.stderr[-2000:]


@pytest.fixture
def prepared_site(site_env):
    """A committee with one member linked (key made outside the browser), one key waiting, this
    week's session open with one application, and one application sent to the full committee."""
    db, env = site_env
    prepare(db, env["CIVIC_OUTBOX"], applications=1)
    engine = Engine(str(db), outbox=env["CIVIC_OUTBOX"])
    try:
        account = str(engine.identity.find("lee.member").id)
        service.request_key(engine, account, "lee-member", "이위원", signing.public_key_b64(signing.generate()))
        service.confirm_key(engine, "test:secretary", account)
        other = str(engine.identity.find("park.member").id)
        service.request_key(engine, other, "park-member", "박위원", signing.public_key_b64(signing.generate()))
        session = service.open_session(engine, "test:secretary")
        ids = {"session": str(session.id), "application": session.items[0],
               "referred": str(service.submit(engine, "test:applicant", {
                   **application_data(engine, 9, "rooftop"), "size": {"width_m": 10, "height_m": 3}}).id)}
    finally:
        engine.close()
    running = start_site(db, env)
    yield running, ids
    running.stop()


def signed_in_page(browser, url: str, language: str, username: str, then: str, viewport: dict):
    page = browser.new_context(viewport=viewport).new_page()
    page.goto(f"{url}/lang/{language}?next=/staff/sign-in")
    sign_in(page, url, username, then)
    return page


# Korean at phone width here; the flow test above covers Korean at desktop width
VIEWPORT = {"ko": PHONE, "en": DESKTOP}


@pytest.mark.parametrize("language", ["ko", "en"])
def test_the_secretarys_pages_pass_axe(prepared_site, browser, language):
    running, ids = prepared_site
    url = running.url
    page = signed_in_page(browser, url, language, "kim.secretary", "/staff/ad-review", VIEWPORT[language])
    for path, name in [("/staff/ad-review", "adreview-sessions"),
                       (f"/staff/ad-review/sessions/{ids['session']}", "adreview-session-open"),
                       ("/staff/ad-review/members", "adreview-members"),
                       ("/staff/ad-review/full-committee", "adreview-full-committee"),
                       (f"/staff/ad-review/full-committee/{ids['referred']}", "adreview-full-decision"),
                       ("/staff/ad-review/report", "adreview-report")]:
        page.goto(f"{url}{path}")
        check_page(page, name, language=language)
    page.goto(f"{url}/staff/ad-review/full-committee/{ids['referred']}")
    page.click("main form button[type=submit]")
    page.wait_for_selector("#error-summary")
    check_page(page, "adreview-full-decision-errors", language=language)
    page.goto(f"{url}/staff/ad-review/report?from=2026-12-31&to=2026-01-01")
    check_page(page, "adreview-report-errors", language=language)
    page.goto(f"{url}/staff/ad-review/sessions/{ids['session']}")
    page.click("form[action$='/close'] button")
    page.wait_for_selector(".status-line .tag--grey")
    check_page(page, "adreview-session-closed", language=language)


@pytest.mark.parametrize("language", ["ko", "en"])
def test_a_members_pages_pass_axe(prepared_site, browser, language):
    running, ids = prepared_site
    url = running.url
    member = signed_in_page(browser, url, language, "lee.member", "/staff/ad-review/queue", VIEWPORT[language])
    check_page(member, "adreview-queue", language=language)
    member.goto(f"{url}/staff/ad-review/sessions/{ids['session']}/applications/{ids['application']}")
    member.wait_for_selector("form[data-sign] button:not([disabled])")
    check_page(member, "adreview-application", language=language)
    member.click("form[action$='/decision'] button")  # nothing chosen: the form names what is missing
    member.wait_for_selector("#error-summary")
    check_page(member, "adreview-application-errors", language=language)
    member.goto(f"{url}/staff/ad-review/key")
    check_page(member, "adreview-key-registered", language=language)
    waiting = signed_in_page(browser, url, language, "park.member", "/staff/ad-review/key", VIEWPORT[language])
    check_page(waiting, "adreview-key-pending", language=language)
    waiting.goto(f"{url}/staff/ad-review/queue")
    check_page(waiting, "adreview-queue-pending", language=language)
    fresh = signed_in_page(browser, url, language, "kim.secretary", "/staff/ad-review/key", VIEWPORT[language])
    check_page(fresh, "adreview-key-form", language=language)
