"""A household votes in its apartment complex's election from the text message alone, on a
phone, by keyboard, to the receipt; a code is locked after five wrong tries without locking out
the neighbours; the results and the certificates after the close give the Art. 11 outcome in
words; and every page passes axe-core in both languages at phone and desktop width."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from core import ManualClock, use_clock
from core.engine import Engine
from plugins.apartment_vote import service
from tests.web.conftest import DESKTOP, PHONE, check_page, start_site, tab_to

CODE = "JG-NAMSAN"
NAME = "신당 남산힐 아파트"
TITLE = "2027 동대표 선출과 관리규약 개정"
# household (building-unit, as on the roll) -> phone; 102-0302 reads its texts in English
PHONES = {"101-1203": "010-2345-6789", "101-1204": "010-3456-7890", "101-1501": "010-4567-8901",
          "101-1502": "010-5678-9012", "102-0301": "010-6789-0123", "102-0302": "010-7890-1234",
          "102-0401": "010-8901-2345"}
ENGLISH = "102-0302"
CANDIDATES = {"rep101": ["김민수", "이지영"], "rep102": ["박준"], "chair": ["최하나", "정우"]}
AGENDA = "전기차 충전기 12대 설치"


def roll() -> str:
    return "household,building,contact,language\n" + "".join(
        f"{h},{h.split('-')[0]},{p},{'en' if h == ENGLISH else 'ko'}\n" for h, p in PHONES.items())


def apartment_store(db: Path, outbox: str) -> tuple[str, dict[str, str], datetime]:
    """An election open now (on the real clock, as the server runs) until tomorrow, its codes
    sent: (election id, contest ids by name, closing time)."""
    now = datetime.now(timezone.utc).replace(microsecond=0)
    opens, closes = now - timedelta(hours=1), now + timedelta(days=1)
    previous = use_clock(ManualClock(now - timedelta(hours=3)))
    engine = Engine(str(db), outbox=outbox)
    try:
        service.register_complex(engine, CODE, NAME)
        service.import_roll(engine, CODE, roll())
        eid = service.schedule_election(engine, CODE, TITLE, opens, closes, opens - timedelta(minutes=30))["id"]
        contests = {
            "rep101": service.add_contest(engine, eid, "building_representative", "101동 동대표", "101"),
            "rep102": service.add_contest(engine, eid, "building_representative", "102동 동대표", "102"),
            "chair": service.add_contest(engine, eid, "chair", "입주자대표회의 회장"),
            "agenda": service.add_contest(engine, eid, "agenda", AGENDA),
        }
        ids = {name: c["contest_id"] for name, c in contests.items()}
        for name, people in CANDIDATES.items():
            for person in people:
                service.register_candidate(engine, eid, ids[name], person, f"{person}입니다. 살기 좋은 단지를 만들겠습니다.")
        use_clock(ManualClock(opens + timedelta(minutes=1)))
        service.open_election(engine, eid)
        service.issue_codes(engine, eid)
        return eid, ids, closes
    finally:
        engine.close()
        use_clock(previous)


def close(db: Path, outbox: str, eid: str, closes: datetime) -> None:
    previous = use_clock(ManualClock(closes + timedelta(minutes=1)))
    engine = Engine(str(db), outbox=outbox)
    try:
        service.close_election(engine, eid)
    finally:
        engine.close()
        use_clock(previous)


def text_for(site, household: str) -> str:
    digits = re.sub(r"\D", "", PHONES[household])
    return [m["text"] for m in site.texts() if re.sub(r"\D", "", m["to"]) == digits][-1]


def code_for(site, household: str) -> str:
    return text_for(site, household).rsplit(" ", 1)[-1]


def link_for(site, household: str) -> str:
    return re.search(r"(http\S+)", text_for(site, household)).group(1)


@pytest.fixture
def election(site_env):
    db, env = site_env
    eid, contests, closes = apartment_store(db, env["CIVIC_OUTBOX"])
    site = start_site(db, env)
    yield site, eid, contests, closes
    site.stop()


def candidate(contest: str, number: int) -> str:
    return f"{contest}-k{number}"


def sign_in(page, site, eid: str, household: str) -> None:
    page.goto(link_for(site, household))
    page.fill("#household", household)
    page.click("button[type=submit]")
    page.wait_for_url(f"**/apartment/{eid}/ballot")


def test_a_household_votes_from_the_text_message_by_keyboard(election, browser):
    site, eid, c, _ = election
    text = text_for(site, "101-1203")
    assert text.startswith("[중구 공동주택 온라인투표]") and NAME in text and TITLE in text
    assert f"{site.url}/a/" in text and "까지 투표하실 수 있습니다" in text
    link, code = link_for(site, "101-1203"), code_for(site, "101-1203")
    assert link.endswith(f"#{code}")  # the code rides in the link, after '#': never sent to the server

    page = browser.new_page(viewport=PHONE, locale="ko-KR")
    page.goto(link)
    assert page.url.startswith(f"{site.url}/apartment/{eid}/vote")
    assert page.input_value("#code") == code  # filled from the link
    tab_to(page, "#household")
    page.keyboard.type("101동 1203호")  # as people say it; the page reads it as 101-1203
    tab_to(page, "button[type=submit]")
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/apartment/{eid}/ballot")
    main = page.inner_text("main")
    assert "101-1203" in main and "101동 동대표" in main and "102동 동대표" not in main  # own building only

    # building representative: the first candidate (Space); chair: the second (arrow key); agenda: no
    tab_to(page, f"#c-{c['rep101']}-{candidate(c['rep101'], 1)}")
    page.keyboard.press("Space")
    tab_to(page, f"#c-{c['chair']}-{candidate(c['chair'], 1)}")
    page.keyboard.press("ArrowDown")
    tab_to(page, f"#c-{c['agenda']}-yes")
    page.keyboard.press("ArrowDown")
    assert page.is_checked(f"#c-{c['chair']}-{candidate(c['chair'], 2)}") and page.is_checked(f"#c-{c['agenda']}-no")
    tab_to(page, "button[type=submit]")
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/apartment/{eid}/review")
    review = page.inner_text("main")
    assert "김민수" in review and "정우" in review and "반대" in review
    tab_to(page, "button[type=submit]")
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/apartment/{eid}/done")
    tracking = page.inner_text(".tracking-code").strip()
    assert re.fullmatch(r"[0-9a-f]{4}(-[0-9a-f]{4})+", tracking)
    page.wait_for_function("() => document.querySelector('img.qr').complete")
    assert page.locator("img.qr").evaluate("img => img.naturalWidth > 0")
    assert "다시 투표하기" in page.inner_text("main")  # revoting is allowed until the close

    # to the receipt, by keyboard: before the close the ballot waits in the pool (batches)
    tab_to(page, "main a[href*='receipt?code=']")
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/apartment/{eid}/receipt?code={tracking}")
    assert "아직 찾지 못했습니다" in page.inner_text("main")


def test_the_english_roll_entry_gets_an_english_text(election):
    site, _, _, _ = election
    text = text_for(site, ENGLISH)
    assert text.startswith("[Jung-gu apartment vote]") and "(Seoul time)" in text
    assert re.search(r"/a/\w+#(\w+) Household voting code: \1$", text)


def test_five_wrong_codes_lock_the_code_but_not_the_neighbours(election, browser):
    site, eid, _, _ = election
    page = browser.new_page(viewport=PHONE, locale="ko-KR")
    page.goto(f"{site.url}/apartment/{eid}/vote")
    for attempt in range(5):
        page.fill("#household", "101-1204")
        page.fill("#code", f"WRONG{attempt}")
        with page.expect_navigation():  # the form posts back to the same address
            page.click("button[type=submit]")
        assert page.locator("#error-summary").is_visible()
        assert page.input_value("#household") == "101-1204" and page.input_value("#code") == ""
    assert "5번 잘못 입력해 잠겼습니다" in page.inner_text("#error-summary")
    right = code_for(site, "101-1204")
    page.fill("#household", "101-1204")
    page.fill("#code", right)
    page.click("button[type=submit]")
    assert "1시간 뒤에 다시" in page.inner_text("#error-summary")  # this phone must wait
    elsewhere = browser.new_page(viewport=PHONE, locale="ko-KR")  # the same household on another phone
    elsewhere.goto(f"{site.url}/apartment/{eid}/vote")
    elsewhere.fill("#household", "101-1204")
    elsewhere.fill("#code", right)
    elsewhere.click("button[type=submit]")
    assert "잠겼습니다" in elsewhere.inner_text("#error-summary")  # locked until a new code is issued
    # a neighbour behind the same shared address, on their own phone, still signs in
    other = browser.new_page(viewport=PHONE, locale="ko-KR")
    sign_in(other, site, eid, "101-1501")


def test_results_and_certificates_after_the_close(election, browser):
    site, eid, c, closes = election
    page = browser.new_page(viewport=PHONE, locale="ko-KR")
    # 101: three of four households vote (75%); 102: one of three (33.3%, below "more than 50%")
    votes = {"101-1203": ({c["rep101"]: 1, c["chair"]: 1}, "yes"), "101-1204": ({c["rep101"]: 1, c["chair"]: 2}, "no"),
             "101-1501": ({c["rep101"]: 2, c["chair"]: 1}, "yes"), "102-0301": ({c["rep102"]: 1, c["chair"]: 1}, "no")}
    tracking = {}
    for household, (picks, agenda) in votes.items():
        sign_in(page, site, eid, household)
        if household == "101-1203":  # a neighbour's link on this phone before 101-1203 has voted
            page.goto(link_for(site, "101-1204"))
            assert "101-1203 세대로 로그인되어 있습니다" in page.inner_text("h1")
            assert page.locator("#household").count() == 0  # nothing may replace an unvoted sign-in
            page.click("text=101-1203 세대 투표지로 가기")
        for contest, number in picks.items():
            page.check(f"#c-{contest}-{candidate(contest, number)}" if contest != c["rep102"]
                       else f"#c-{contest}-{candidate(contest, number)}-yes")
        page.check(f"#c-{c['agenda']}-{agenda}")
        page.click("button[type=submit]")
        page.click("button[type=submit]")
        tracking[household] = page.inner_text(".tracking-code").strip()
        page.wait_for_function("() => document.querySelector('img.qr').complete")
        page.click("text=다른 세대로 로그인")  # the next household, on the same phone
        page.wait_for_url(f"**/apartment/{eid}/vote")
    page.goto(f"{site.url}/apartment/{eid}/results")
    assert "개표 결과는 투표가 끝나면" in page.inner_text("main")

    close(site.db, str(site.outbox), eid, closes)
    page.goto(f"{site.url}/apartment/{eid}")
    page.click("text=결과 보기")
    page.wait_for_url(f"**/apartment/{eid}/results")
    main = page.inner_text("main")
    assert "선출: 김민수 (최다 득표)" in main
    assert "선출되지 않음: 투표율 33.3% < 50%" in main  # building 102: quorum missed
    assert "선출: 최하나 (최다 득표)" in main
    assert "부결: 찬성 28.6% < 50%" in main  # 2 yes of all 7 households
    page.click(f"a[href$='/contests/{c['rep102']}/certificate']")
    page.wait_for_url(f"**/apartment/{eid}/contests/{c['rep102']}/certificate")
    certificate = page.inner_text("main")
    assert "선출되지 않음: 투표율 33.3% < 50%" in certificate and "3세대 중 1세대" in certificate
    assert page.locator("main a[href='/audit']").count() == 1
    signed = page.request.get(site.url + page.locator("main a[href$='/certificate']").get_attribute("href")).json()
    assert signed["certificate"]["result"]["status"] == "not_elected"
    page.goto(f"{site.url}/apartment/{eid}/receipt?code={tracking['101-1203']}")
    receipt = page.inner_text("main")
    assert "집계되었습니다" in receipt and "김민수" in receipt and "찬성" in receipt


@pytest.mark.parametrize("language", ["ko", "en"])
def test_every_apartment_page_passes_axe(election, browser, language):
    site, eid, c, closes = election
    for viewport, household in ((PHONE, "101-1203"), (DESKTOP, "102-0301")):
        context = browser.new_context(viewport=viewport, locale="ko-KR" if language == "ko" else "en-GB")
        page = context.new_page()
        page.goto(f"{site.url}/lang/{language}?next=/apartment/{eid}")
        check_page(page, "apartment-election", language=language)
        page.goto(f"{site.url}/apartment/{eid}/vote")
        check_page(page, "apartment-sign-in", language=language)
        page.click("button[type=submit]")
        check_page(page, "apartment-sign-in-errors", language=language)
        page.fill("#household", household)
        page.fill("#code", "WRONG1")
        page.click("button[type=submit]")
        check_page(page, "apartment-sign-in-wrong-code", language=language)
        page.fill("#household", household)
        page.fill("#code", code_for(site, household))
        page.click("button[type=submit]")
        check_page(page, "apartment-ballot", language=language)
        page.goto(f"{site.url}/apartment/{eid}/vote")
        check_page(page, "apartment-signed-in", language=language)
        page.click(f"main a[href='/apartment/{eid}/ballot']")
        page.click("button[type=submit]")  # nothing answered
        check_page(page, "apartment-ballot-errors", language=language)
        for radio in page.locator("form input[type=radio][value=abstain], form input[type=radio][value=no]").all():
            radio.check()
        page.click("button[type=submit]")
        check_page(page, "apartment-review", language=language)
        page.click("button[type=submit]")
        check_page(page, "apartment-done", language=language)
        page.click("main a[href*='receipt?code=']")
        check_page(page, "apartment-receipt", language=language)
        page.goto(f"{site.url}/apartment/{eid}/vote")
        check_page(page, "apartment-signed-in-voted", language=language)
        page.goto(f"{site.url}/apartment/{eid}/results")
        check_page(page, "apartment-results-before-close", language=language)
        page.goto(f"{site.url}/apartment/00000000-0000-0000-0000-000000000000")
        check_page(page, "apartment-not-found", language=language)
        context.close()
    close(site.db, str(site.outbox), eid, closes)
    for viewport in (PHONE, DESKTOP):
        context = browser.new_context(viewport=viewport)
        page = context.new_page()
        page.goto(f"{site.url}/lang/{language}?next=/apartment/{eid}/results")
        check_page(page, "apartment-results", language=language)
        for name in ("rep101", "rep102", "agenda"):
            page.goto(f"{site.url}/apartment/{eid}/contests/{c[name]}/certificate")
            check_page(page, f"apartment-certificate-{name}", language=language)
        page.goto(f"{site.url}/apartment/{eid}")
        check_page(page, "apartment-election-closed", language=language)
        page.goto(f"{site.url}/apartment/{eid}/vote")
        check_page(page, "apartment-sign-in-closed", language=language)
        context.close()
