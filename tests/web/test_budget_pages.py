"""A resident votes in the participatory budget from the text message alone, on a phone, by
keyboard; revotes; locks a code with five wrong tries; and every page passes axe-core in both
languages at phone and desktop width."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from core.engine import Engine
from core.plugins import make_plugin_manager
from core.web.i18n import won
from plugins.budget_vote import service
from plugins.budget_vote.demo import OPEN_CYCLE_NAME, load_demo
from plugins.budget_vote.demo import OPEN_PROJECTS as DEMO_PROJECTS
from tests.web.conftest import DESKTOP, PHONE, check_page, start_site, tab_to

ADMIN = "test:budget-office"
PROJECTS = [("필동 골목길 CCTV 설치", "필동", 60_000_000, "어두운 골목 12곳에 방범 CCTV를 설치합니다."),
            ("남산 산책로 쉼터 정비", "장충동", 50_000_000, "산책로 쉼터의 의자와 그늘막을 바꿉니다."),
            ("신당동 보도 턱 낮추기", "신당동", 30_000_000, "휠체어와 유모차가 다니기 쉽게 보도 턱을 낮춥니다."),
            ("황학동 경로당 냉난방기 교체", "황학동", 20_000_000, "오래된 냉난방기를 교체합니다.")]
PHONES = {"R001": "010-2345-6789", "R002": "010-3456-7890", "R003": "010-4567-8901", "R004": "010-5678-9012"}


def budget_store(db: Path, outbox: str, *, last_vote_counts: bool = True) -> str:
    engine = Engine(str(db), outbox=outbox)
    try:
        cycle = service.open_cycle(engine, name="2027 중구 주민참여예산", budget=100_000_000, scope="중구 전체",
                                   ballot_style={"kind": "approval", "min_projects": 1, "max_projects": 3},
                                   last_vote_counts=last_vote_counts, voting_closes="2027-05-31T09:00:00+00:00",
                                   by=ADMIN)
        for title, dong, _, description in PROJECTS:
            service.submit_proposal(engine, cycle.id, title=title, dong=dong, category="생활", proposer="주민",
                                    description=description)
        service.advance(engine, cycle.id, "screening", by=ADMIN)
        for number, (_, _, cost, _) in enumerate(PROJECTS, start=1):
            service.screen(engine, cycle.id, str(number), feasible=True, cost=cost, reason="실현 가능", by=ADMIN)
        roll = "entry_id,contact,group,language\n" + "".join(
            f"{e},{p},필동,{'en' if e == 'R004' else 'ko'}\n" for e, p in PHONES.items())
        service.import_roll(engine, cycle.id, roll)
        service.advance(engine, cycle.id, "voting", by=ADMIN)
        service.issue_codes(engine, cycle.id)
        return str(cycle.id)
    finally:
        engine.close()


def close_and_publish(db: Path, outbox: str, cycle_id: str) -> None:
    engine = Engine(str(db), outbox=outbox)
    try:
        service.advance(engine, cycle_id, "tallying", by=ADMIN)
        service.tally(engine, cycle_id, by=ADMIN)
        service.validate(engine, cycle_id, by=ADMIN)
    finally:
        engine.close()


def text_for(site, phone: str) -> str:
    digits = re.sub(r"\D", "", phone)
    return next(m["text"] for m in site.texts() if re.sub(r"\D", "", m["to"]) == digits)


@pytest.fixture
def demo_site(site_env):
    """The demo's budget (shrunk voter numbers, the same open dong cycle and its texts)."""
    db, env = site_env
    engine = Engine(str(db), plugins=make_plugin_manager(allow={"budget_vote"}), outbox=env["CIVIC_OUTBOX"])
    try:
        load_demo(engine, lambda _: None, scale=0.05)
        cycle_id = str(service.find_cycle(engine, OPEN_CYCLE_NAME).id)
    finally:
        engine.close()
    site = start_site(db, env)
    yield site, cycle_id
    site.stop()


@pytest.fixture
def voting(site_env):
    db, env = site_env
    cycle_id = budget_store(db, env["CIVIC_OUTBOX"])
    site = start_site(db, env)
    yield site, cycle_id
    site.stop()


def test_a_resident_votes_in_the_demo_from_the_text_message_by_keyboard(demo_site, browser):
    site, cycle_id = demo_site
    phone = "010-0000-0001"  # the demo's open cycle: its codes are in the outbox
    text = text_for(site, phone)
    assert text.startswith("[중구 주민참여예산]") and f"{site.url}/b/" in text
    link, code = re.search(r"(http\S+)", text).group(1), text.rsplit(" ", 1)[-1]
    assert link.endswith(f"#{code}")  # the code rides in the link, after '#': never sent to the server

    page = browser.new_page(viewport=PHONE, locale="ko-KR")
    page.goto(link)
    assert page.url.startswith(f"{site.url}/budget/{cycle_id}/vote")
    assert page.input_value("#code") == code  # filled from the link
    tab_to(page, "#phone")
    page.keyboard.type(phone)
    tab_to(page, "button[type=submit]")
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/budget/{cycle_id}/ballot")

    # two projects, chosen with Tab and Space
    for number in ("1", "3"):
        tab_to(page, f"#project-{number}")
        page.keyboard.press("Space")
    assert "2개 선택" in page.inner_text("#ballot-status")
    tab_to(page, "button[type=submit]")
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/budget/{cycle_id}/review")
    chosen = [DEMO_PROJECTS[0], DEMO_PROJECTS[2]]
    assert won(sum(p[3] for p in chosen), "ko") in page.inner_text("main")
    tab_to(page, "button[type=submit]")
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/budget/{cycle_id}/done")
    tracking = page.inner_text(".tracking-code").strip()
    assert re.fullmatch(r"[0-9a-f]{4}(-[0-9a-f]{4})+", tracking)
    page.wait_for_function("() => document.querySelector('img.qr').complete")
    assert page.locator("img.qr").evaluate("img => img.naturalWidth > 0")

    # before the close the ballot waits in the pool (it enters the box in batches); after it, counted
    page.goto(f"{site.url}/budget/{cycle_id}/receipt?code={tracking}")
    assert "아직 찾지 못했습니다" in page.inner_text("main")
    close_and_publish(site.db, str(site.outbox), cycle_id)
    page.goto(f"{site.url}/budget/{cycle_id}/receipt?code={tracking}")
    main = page.inner_text("main")
    assert "집계되었습니다" in main and chosen[0][0] in main and chosen[1][0] in main


def test_a_resident_changes_their_vote_and_only_the_last_counts(voting, browser):
    site, cycle_id = voting
    text = text_for(site, PHONES["R002"])
    page = browser.new_page(viewport=PHONE, locale="ko-KR")
    page.goto(re.search(r"(http\S+)", text).group(1))
    page.fill("#phone", PHONES["R002"])
    page.click("button[type=submit]")
    page.check("#project-2")
    page.click("button[type=submit]")
    page.click("button[type=submit]")
    first = page.inner_text(".tracking-code").strip()
    page.click("text=다시 투표하기")
    assert "마지막 투표만 인정됩니다" in page.inner_text("main")
    page.uncheck("#project-2")
    page.check("#project-4")
    page.click("button[type=submit]")
    assert "앞서 한 투표를 대신합니다" in page.inner_text("main")
    page.click("button[type=submit]")
    second = page.inner_text(".tracking-code").strip()
    assert second != first
    close_and_publish(site.db, str(site.outbox), cycle_id)
    page.goto(f"{site.url}/budget/{cycle_id}/receipt?code={first}")
    assert "나중 투표가 집계되었습니다" in page.inner_text("main")
    page.goto(f"{site.url}/budget/{cycle_id}/receipt?code={second}")
    assert "집계되었습니다" in page.inner_text("main") and PROJECTS[3][0] in page.inner_text("main")


def test_five_wrong_codes_lock_the_code_but_not_the_neighbours(voting, browser):
    site, cycle_id = voting
    page = browser.new_page(viewport=PHONE, locale="ko-KR")
    page.goto(f"{site.url}/budget/{cycle_id}/vote")
    for attempt in range(5):
        page.fill("#phone", PHONES["R003"])
        page.fill("#code", f"WRONG{attempt}")
        with page.expect_navigation():  # the form posts back to the same address
            page.click("button[type=submit]")
        assert page.locator("#error-summary").is_visible()
    assert "5번 잘못 입력해 잠겼습니다" in page.inner_text("#error-summary")
    right = text_for(site, PHONES["R003"]).rsplit(" ", 1)[-1]
    page.fill("#phone", PHONES["R003"])
    page.fill("#code", right)
    page.click("button[type=submit]")
    assert "1시간 뒤에 다시" in page.inner_text("#error-summary")  # this phone must wait
    elsewhere = browser.new_page(viewport=PHONE, locale="ko-KR")  # the same resident on another phone
    elsewhere.goto(f"{site.url}/budget/{cycle_id}/vote")
    elsewhere.fill("#phone", PHONES["R003"])
    elsewhere.fill("#code", right)
    elsewhere.click("button[type=submit]")
    assert "잠겼습니다" in elsewhere.inner_text("#error-summary")  # locked until a new code is issued
    # a neighbour behind the same address, on another phone, still signs in
    other = browser.new_page(viewport=PHONE, locale="ko-KR")
    other.goto(re.search(r"(http\S+)", text_for(site, PHONES["R001"])).group(1))
    other.fill("#phone", PHONES["R001"])
    other.click("button[type=submit]")
    other.wait_for_url(f"**/budget/{cycle_id}/ballot")


def test_the_english_roll_entry_gets_an_english_text(voting):
    site, _ = voting
    assert text_for(site, PHONES["R004"]).startswith("[Jung-gu participatory budget]")


@pytest.mark.parametrize("language", ["ko", "en"])
def test_every_budget_page_passes_axe(voting, browser, language):
    site, cycle_id = voting
    for viewport in (PHONE, DESKTOP):
        context = browser.new_context(viewport=viewport, locale="ko-KR" if language == "ko" else "en-GB")
        page = context.new_page()
        page.goto(f"{site.url}/lang/{language}?next=/")
        check_page(page, "home", language=language)
        page.goto(f"{site.url}/budget/{cycle_id}")
        check_page(page, "budget-cycle", language=language)
        page.goto(f"{site.url}/budget/{cycle_id}/vote")
        check_page(page, "budget-sign-in", language=language)
        page.click("button[type=submit]")
        check_page(page, "budget-sign-in-errors", language=language)
        phone = PHONES["R001"] if viewport is PHONE else PHONES["R002"]
        page.fill("#phone", phone)
        page.fill("#code", text_for(site, phone).rsplit(" ", 1)[-1])
        page.click("button[type=submit]")
        check_page(page, "budget-ballot", language=language)
        for number in ("1", "2", "3", "4"):
            page.check(f"#project-{number}")
        page.click("button[type=submit]")
        check_page(page, "budget-ballot-errors", language=language)
        page.uncheck("#project-4")
        page.click("button[type=submit]")
        check_page(page, "budget-review", language=language)
        page.click("button[type=submit]")
        check_page(page, "budget-done", language=language)
        page.goto(f"{site.url}/budget/{cycle_id}/receipt?code=0000-0000")
        check_page(page, "budget-receipt", language=language)
        page.goto(f"{site.url}/audit")
        check_page(page, "audit", language=language)
        page.goto(f"{site.url}/no/such/page")
        check_page(page, "not-found", language=language)
        context.close()
    close_and_publish(site.db, str(site.outbox), cycle_id)
    for viewport in (PHONE, DESKTOP):
        context = browser.new_context(viewport=viewport)
        page = context.new_page()
        page.goto(f"{site.url}/lang/{language}?next=/budget/{cycle_id}/results")
        check_page(page, "budget-results", language=language)
        context.close()


def test_voting_works_with_javascript_off(voting, browser):
    site, cycle_id = voting
    context = browser.new_context(viewport=PHONE, locale="ko-KR", java_script_enabled=False)
    page = context.new_page()
    text = text_for(site, PHONES["R004"])
    page.goto(re.search(r"(http\S+)", text).group(1))
    assert page.input_value("#code") == ""  # nothing fills it without scripts: the resident types it
    page.fill("#phone", PHONES["R004"])
    page.fill("#code", text.rsplit(" ", 1)[-1])
    page.click("button[type=submit]")
    page.check("#project-1")
    page.click("button[type=submit]")
    page.click("button[type=submit]")
    assert page.url.endswith(f"/budget/{cycle_id}/done")
    assert re.fullmatch(r"[0-9a-f]{4}(-[0-9a-f]{4})+", page.inner_text(".tracking-code").strip())
    context.close()
