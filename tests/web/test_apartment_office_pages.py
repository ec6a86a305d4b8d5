"""An apartment election from the roll to the certificate, run by an official in a real browser:
a complex, its household roll (a CP949 file with bad rows previewed and refused, a UTF-8 file
with a BOM previewed and imported), an election with contests and candidates (one not on the
roll refused on the form), the Art. 11 rules, opening, codes, turnout in counts, households
voting on their own pages, closing, results and a certificate; then ``civic audit verify``.
Every console page passes axe-core in Korean and English; one part is walked by keyboard.

The server runs on a clock the test moves forward (``tests.web.shifted_serve``), so the voting
window passes in seconds."""

from __future__ import annotations

import re
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import argon2
import pytest

from core import SEOUL, ManualClock, use_clock
from core.actors import Role, local_operator
from core.engine import Engine
from core.passwords import use_password_hasher
from plugins.apartment_vote import service
from tests.support.staff import store_with_staff
from tests.web.conftest import DESKTOP, PHONE, ROOT, Site, check_page, start_site, tab_to

PASSWORD = "correct horse battery"
PHONES = {"101-1203": "010-2345-6789", "101-1204": "010-3456-7890", "102-0301": "010-6789-0123",
          "102-0302": "010-7890-1234"}
GOOD_ROLL = "household,building,contact\n" + "".join(f"{h},{h[:3]},{p}\n" for h, p in PHONES.items())
# as Excel on Korean Windows saves it: CP949, with a Korean contact where a number belongs
BAD_ROLL = ("household,building,contact\n101-1203,101,010-2345-6789\n,101,010-1111-2222\n"
            "101-1204,101,전화 없음\n").encode("cp949")


class ShiftedSite(Site):
    """``civic serve`` whose clock is the real one plus the offset the test writes."""

    module = "tests.web.shifted_serve"

    def __init__(self, db: Path, port: int, env: dict[str, str]) -> None:
        super().__init__(db, port, env)
        self.clock_file = db.with_suffix(".clock")
        self.clock_file.write_text("0", encoding="utf-8")
        self.env = {**env, "CIVIC_TEST_CLOCK_FILE": str(self.clock_file)}

    def move_to(self, when: datetime) -> None:
        """The server's clock reads ``when`` now (and runs on from there)."""
        offset = (when - datetime.now(timezone.utc)).total_seconds()
        self.clock_file.write_text(f"{offset:.3f}", encoding="utf-8")


@pytest.fixture
def site(site_env):
    db, env = site_env
    store_with_staff(db, env["CIVIC_OUTBOX"], [("kim.official", "김공무", [Role.PROCESS_ADMIN])])
    running = ShiftedSite(db, int(env["CIVIC_PORT"]), env)
    running.start()
    yield running
    running.stop()


def seoul(when: datetime) -> tuple[str, str]:
    local = when.astimezone(SEOUL)
    return local.strftime("%Y-%m-%d"), local.strftime("%H:%M")


def submit(page) -> None:
    page.click("main button[type=submit]")


def text_for(site, household: str) -> str:
    digits = re.sub(r"\D", "", PHONES[household])
    return [m["text"] for m in site.texts() if re.sub(r"\D", "", m["to"]) == digits][-1]


def vote(browser, site, eid: str, household: str, ticks: list[str]) -> None:
    """A household votes on its own pages, from the link in its text message."""
    context = browser.new_context(viewport=PHONE, locale="ko-KR")
    page = context.new_page()
    page.goto(re.search(r"(http\S+)", text_for(site, household)).group(1))
    page.fill("#household", household)
    page.click("button[type=submit]")
    page.wait_for_url(f"**/apartment/{eid}/ballot")
    for tick in ticks:
        page.check(tick)
    page.click("main button[type=submit]")
    page.wait_for_url(f"**/apartment/{eid}/review")
    page.click("main button[type=submit]")
    page.wait_for_url(f"**/apartment/{eid}/done")
    context.close()


def test_an_election_from_roll_to_certificate(site, browser):
    page = browser.new_page(viewport=DESKTOP, locale="ko-KR")

    def look(name: str) -> None:
        check_page(page, f"apartment-office-{name}")

    page.goto(f"{site.url}/staff/sign-in")
    page.fill("#username", "kim.official")
    page.fill("#password", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url(f"{site.url}/staff")
    page.click("a[href='/staff/apartment']")

    # the complex
    page.click("a[href='/staff/apartment/complexes/new']")
    page.fill("#name", "신당 남산힐 아파트")
    page.fill("#code", "JG-NAMSAN")
    submit(page)
    page.wait_for_url(f"{site.url}/staff/apartment/complexes/JG-NAMSAN")

    # the roll: a bad file is previewed row by row and nothing is imported
    page.click("main a[href$='/roll']")
    page.set_input_files("#roll", files=[{"name": "명부.csv", "mimeType": "text/csv", "buffer": BAD_ROLL}])
    submit(page)
    page.wait_for_selector("#problems-title")
    look("roll-preview-problems")
    problems = page.inner_text("main")
    assert "문제가 있는 줄: 2개" in problems and "세대와 동은 반드시" in problems and "휴대전화 번호도" in problems
    assert page.locator("form[action$='/roll/confirm']").count() == 0
    page.click("main a.button[href$='/roll']")
    page.set_input_files("#roll", files=[{"name": "roll.csv", "mimeType": "text/csv",
                                          "buffer": "\ufeff".encode() + GOOD_ROLL.encode()}])
    submit(page)
    page.wait_for_selector("form[action$='/roll/confirm']")
    look("roll-preview")
    assert "010-****-6789" in page.inner_text("main") and "2345-6789" not in page.content()
    page.click("form[action$='/roll/confirm'] button")
    page.wait_for_url("**/complexes/JG-NAMSAN?imported=4")
    assert "가져온 세대: 4" in page.inner_text("main")

    # the election, its window in Seoul time
    now = datetime.now(timezone.utc).replace(second=0, microsecond=0)
    deadline, opens, closes = now + timedelta(minutes=20), now + timedelta(minutes=30), now + timedelta(hours=2)
    page.click("main a[href^='/staff/apartment/elections/new']")
    assert page.input_value("#complex") == "JG-NAMSAN"
    page.fill("#title", "2027 동대표 선출과 관리규약 개정")
    for name, when in (("deadline", deadline), ("opens", opens), ("closes", closes)):
        day, clock = seoul(when)
        page.fill(f"#{name}_date", day)
        page.fill(f"#{name}_time", clock)
    submit(page)
    page.wait_for_url(re.compile(r".*/staff/apartment/elections/[0-9a-f-]{36}$"))
    election_url = page.url
    eid = election_url.rsplit("/", 1)[-1]

    # a contest added by keyboard only
    tab_to(page, "main a[href$='/contests/new']")
    page.keyboard.press("Enter")
    page.wait_for_url("**/contests/new")
    tab_to(page, "#kind-building_representative")
    page.keyboard.press("Space")
    tab_to(page, "#title")
    page.keyboard.type("101동 동대표")
    tab_to(page, "#building")
    page.keyboard.press("ArrowDown")
    assert page.input_value("#building") == "101"
    tab_to(page, "main button[type=submit]")
    page.keyboard.press("Enter")
    page.wait_for_url(election_url)
    for kind, title in (("chair", "입주자대표회의 회장"), ("agenda", "전기차 충전기 설치")):
        page.goto(f"{election_url}/contests/new")
        page.check(f"#kind-{kind}")
        page.fill("#title", title)
        submit(page)
        page.wait_for_url(election_url)

    # candidates: one not on the roll is refused on the form
    page.click("main a[href$='/contests/c1/candidates/new']")
    page.fill("#name", "외부인")
    page.fill("#household", "999-9999")
    submit(page)
    page.wait_for_selector("#error-summary")
    assert "999-9999 세대는 이 단지의 명부에 없습니다" in page.inner_text("#error-summary")
    look("candidate-refused")
    page.fill("#name", "김민수")
    page.fill("#household", "101-1203")
    submit(page)
    page.wait_for_url(election_url)
    for name, household in (("최하나", "102-0301"), ("정우", "101-1204")):
        page.goto(f"{election_url}/contests/c2/candidates/new")
        page.fill("#name", name)
        page.fill("#household", household)
        submit(page)
        page.wait_for_url(election_url)
    main = page.inner_text("main")
    assert main.count("제11조 기본값") == 3 and "외부인" not in main
    assert "101동 세대의 투표율이 50% 초과일 때만 결과가 인정됩니다." in main
    assert "김민수" in main and "101-1203 세대" in main

    # voting opens; codes go out; turnout in counts
    site.move_to(opens + timedelta(minutes=1))
    page.reload()
    page.click("#open")
    page.wait_for_selector("#codes")
    page.click("#codes")
    page.wait_for_url("**?sent=4")
    assert "보낸 투표 인증번호: 4건" in page.inner_text("main")
    assert len(site.texts()) == 4
    look("election-open")
    page.click(f"main a[href='/staff/apartment/elections/{eid}/turnout']")
    assert "0 / 4" in page.inner_text("main")

    vote(browser, site, eid, "101-1203", ["#c-c1-c1-k1-yes", "#c-c2-c2-k1", "#c-c3-yes"])
    vote(browser, site, eid, "101-1204", ["#c-c1-c1-k1-yes", "#c-c2-c2-k2", "#c-c3-yes"])
    vote(browser, site, eid, "102-0301", ["#c-c2-c2-k1", "#c-c3-no"])
    page.reload()
    turnout = page.inner_text("main")
    assert "3 / 4 (75%)" in turnout
    assert not any(name in turnout for name in ("김민수", "최하나", "정우", "찬성", "반대"))  # counts, never choices

    # closing, results, a certificate
    page.goto(election_url)
    page.click("#close")
    page.wait_for_selector("#error-summary")  # not before the closing time
    assert "마감할 수 있습니다" in page.inner_text("#error-summary")
    site.move_to(closes + timedelta(minutes=1))
    page.click("#close")
    page.wait_for_url(f"{election_url}/results")
    look("results")
    results = page.inner_text("main")
    assert "선출" in results and "김민수" in results and "최하나" in results
    page.click(f"main a[href='/apartment/{eid}/contests/c1/certificate']")
    page.wait_for_url(f"**/apartment/{eid}/contests/c1/certificate")
    assert "김민수" in page.inner_text("main")

    site.stop()
    verified = subprocess.run([sys.executable, "-m", "core", "audit", "verify", "--db", str(site.db)], cwd=ROOT,
                              env=site.env, capture_output=True, text=True, timeout=120)
    assert verified.returncode == 0, verified.stdout + verified.stderr


@pytest.fixture
def three_elections(site_env):
    """A complex with its roll and three elections prepared in the test process: one being
    prepared (voting tomorrow), one open now with its codes sent and two ballots, one closed with
    its results recorded."""
    db, env = site_env
    previous_hasher = use_password_hasher(argon2.PasswordHasher.from_parameters(argon2.profiles.CHEAPEST))
    now = datetime.now(timezone.utc).replace(microsecond=0)
    previous_clock = use_clock(ManualClock(now - timedelta(hours=5)))
    engine = Engine(str(db), outbox=env["CIVIC_OUTBOX"])
    try:
        engine.identity.add_staff(local_operator(), "kim.official", "김공무", PASSWORD, [Role.PROCESS_ADMIN])
        service.register_complex(engine, "JG-NAMSAN", "신당 남산힐 아파트")
        service.import_roll(engine, "JG-NAMSAN", GOOD_ROLL)
        ids = {}
        for name, opens, closes in (("draft", now + timedelta(days=1), now + timedelta(days=2)),
                                    ("open", now - timedelta(hours=1), now + timedelta(days=1)),
                                    ("closed", now - timedelta(hours=4), now - timedelta(hours=2))):
            use_clock(ManualClock(now - timedelta(hours=5)))
            eid = service.schedule_election(engine, "JG-NAMSAN", f"2027 {name}", opens, closes,
                                            opens - timedelta(minutes=30))["id"]
            service.add_contest(engine, eid, "building_representative", "101동 동대표", "101")
            service.add_contest(engine, eid, "chair", "입주자대표회의 회장")
            service.add_contest(engine, eid, "agenda", "전기차 충전기 설치")
            service.register_candidate(engine, eid, "c1", "김민수", household="101-1203")
            service.register_candidate(engine, eid, "c2", "최하나", household="102-0301")
            service.register_candidate(engine, eid, "c2", "정우", household="101-1204")
            if name != "draft":
                use_clock(ManualClock(opens + timedelta(minutes=1)))
                service.open_election(engine, eid)
                service.issue_codes(engine, eid)
                codes = {m["key"].split("/")[2]: m["text"].rsplit(" ", 1)[-1] for m in engine.outbox.sent()}
                for household in ("101-1203", "102-0301"):
                    credential = service.authenticate(engine, eid, household, codes[household], "test")["credential"]
                    ballot = {"c2": ["c2-k1"], "c3": ["yes"]}
                    service.cast(engine, eid, credential, {**ballot, "c1": ["c1-k1"]} if household < "102" else ballot)
            if name == "closed":
                use_clock(ManualClock(closes + timedelta(minutes=1)))
                service.close_election(engine, eid)
            ids[name] = eid
    finally:
        engine.close()
        use_clock(previous_clock)
        use_password_hasher(previous_hasher)
    running = start_site(db, env)
    yield running, ids
    running.stop()


@pytest.mark.parametrize("language", ["ko", "en"])
def test_every_office_page_passes_axe(three_elections, browser, language):
    site, ids = three_elections
    english = language == "en"
    page = browser.new_page(viewport=DESKTOP, locale="en-GB" if english else "ko-KR")
    page.goto(f"{site.url}/lang/{language}?next=/staff/sign-in")
    page.fill("#username", "kim.official")
    page.fill("#password", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url(f"{site.url}/staff")
    base = f"{site.url}/staff/apartment"
    pages = {"home": base, "complex-new": f"{base}/complexes/new", "complex": f"{base}/complexes/JG-NAMSAN",
             "roll": f"{base}/complexes/JG-NAMSAN/roll", "election-new": f"{base}/elections/new?complex=JG-NAMSAN",
             "election-draft": f"{base}/elections/{ids['draft']}",
             "contest-new": f"{base}/elections/{ids['draft']}/contests/new",
             "candidate-new": f"{base}/elections/{ids['draft']}/contests/c1/candidates/new",
             "rules": f"{base}/elections/{ids['draft']}/contests/c2/rules",
             "election-open": f"{base}/elections/{ids['open']}", "turnout": f"{base}/elections/{ids['open']}/turnout",
             "results": f"{base}/elections/{ids['closed']}/results"}
    for name, url in pages.items():
        page.goto(url)
        check_page(page, f"apartment-office-{name}", language=language)
        if name == "turnout":
            assert "2 / 4 (50%)" in page.inner_text("main")

    # the forms' errors and the roll's previews
    page.goto(pages["candidate-new"])
    page.fill("#name", "Outsider")
    page.fill("#household", "999-9999")
    submit(page)
    page.wait_for_selector("#error-summary")
    assert ("Household 999-9999 is not on this complex's roll" if english else "999-9999 세대는 이 단지의 명부에 없습니다") \
        in page.inner_text("#error-summary")
    check_page(page, "apartment-office-candidate-refused", language=language)
    page.goto(pages["election-open"])
    page.fill("#household", "999-9999")
    page.click("form[action$='/codes/reissue'] button")
    page.wait_for_selector("#error-summary")
    check_page(page, "apartment-office-reissue-refused", language=language)
    for name in ("election-new", "contest-new", "rules"):
        page.goto(pages[name])
        submit(page)
        page.wait_for_selector("#error-summary")
        check_page(page, f"apartment-office-{name}-errors", language=language)
    new_building = "\ufeffhousehold,building,contact\n103-0101,103,010-1234-5678\n".encode()
    for name, content in (("roll-preview-problems", BAD_ROLL), ("roll-preview", new_building)):
        page.goto(pages["roll"])
        page.set_input_files("#roll", files=[{"name": "roll.csv", "mimeType": "text/csv", "buffer": content}])
        submit(page)
        page.wait_for_selector("main h1")
        check_page(page, f"apartment-office-{name}", language=language)
    assert ("Import the households: 1" if english else "세대 가져오기: 1세대") in page.inner_text("main")

    if not english:  # at phone width
        page.set_viewport_size(PHONE)
        for name in ("election-draft", "turnout", "roll"):
            page.goto(pages[name])
            check_page(page, f"apartment-office-{name}", language=language)
