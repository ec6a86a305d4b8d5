"""An official runs a whole participatory-budget cycle in the staff console, in a real browser:
create, settings, proposals added and screened (one by keyboard only), the roll uploaded as a
Korean-Excel CSV with a preview showing the bad row, codes sent, voting opened, residents voting
from their text messages, a paper ballot, voting closed, the tally with both winner rules side
by side, a refused and an accepted override, publication, a Pabulib export imported again; then
``civic audit verify`` on the store. Every console page passes axe-core in Korean and English,
at desktop width and some at phone width."""

from __future__ import annotations

import re
import subprocess
import sys

import argon2
import pytest

from core.actors import Role, local_operator
from core.engine import Engine
from core.passwords import use_password_hasher
from core.voting import VotingKit
from plugins.budget_vote import service
from tests.support.staff import store_with_staff
from tests.web.conftest import DESKTOP, PHONE, ROOT, check_page, start_site, tab_to

PASSWORD = "correct horse battery"
PROPOSALS = [("필동 골목길 CCTV 설치", "필동", "60000000"), ("남산 산책로 쉼터 정비", "장충동", "30,000,000"),
             ("신당동 보도 턱 낮추기", "신당동", "40000000"), ("구청 신청사 건립", "중구 전체", "")]
PHONES = {"101-1": "010-2345-6789", "101-2": "010-3456-7890", "101-3": "010-4567-8901", "101-5": "010-6789-0123"}
ROLL = ("entry_id,contact,group,name\n"
        "101-1,010-2345-6789,필동,김하나\n"
        "101-2,010-3456-7890,필동,이둘\n"
        "101-4,전화 없음,신당동,박셋\n"
        "101-3,010-4567-8901,신당동,최넷\n"
        "101-5,010-6789-0123,장충동,정다섯\n")
WORDS = {"ko": {"locale": "ko-KR", "moved_voting": "투표 기간", "compare": "균등 배분", "greedy": "다득표순",
                "embargoed": "비공개", "published": "결과 공개"},
         "en": {"locale": "en-GB", "moved_voting": "Voting", "compare": "Equal Shares", "greedy": "Greedy",
                "embargoed": "Embargoed", "published": "Published"}}


@pytest.fixture
def site(site_env):
    db, env = site_env
    store_with_staff(db, env["CIVIC_OUTBOX"], [("kim.official", "김공무", [Role.PROCESS_ADMIN])])
    running = start_site(db, env)
    yield running
    running.stop()


def sign_in(page, site, target: str) -> None:
    page.goto(f"{site.url}{target}")
    assert "/staff/sign-in" in page.url
    page.fill("#username", "kim.official")
    page.fill("#password", PASSWORD)
    page.click("main form button[type=submit]")
    page.wait_for_url(f"{site.url}{target}")


def submit(page, action_suffix: str) -> None:
    page.click(f"form[action$='{action_suffix}'] button[type=submit]")
    page.wait_for_load_state()


def text_for(site, phone: str) -> str:
    digits = re.sub(r"\D", "", phone)
    return next(m["text"] for m in site.texts() if re.sub(r"\D", "", m["to"]) == digits)


def resident_votes(browser, site, phone: str, projects: list[str], language: str) -> None:
    text = text_for(site, phone)
    link = re.search(r"(http\S+)", text).group(1)
    context = browser.new_context(viewport=PHONE, locale=WORDS[language]["locale"])
    page = context.new_page()
    page.goto(link)
    page.fill("#phone", phone)
    page.click("main form button[type=submit]")
    page.wait_for_url("**/ballot")
    for number in projects:
        page.check(f"#project-{number}")
    page.click("main form button[type=submit]")
    page.wait_for_url("**/review")
    page.click("main form button[type=submit]")
    page.wait_for_url("**/done")
    context.close()


def test_an_official_runs_a_whole_cycle_in_the_browser(site, browser):
    language = "ko"
    words = WORDS[language]
    page = browser.new_page(viewport=DESKTOP, locale=words["locale"])
    sign_in(page, site, "/staff/budget")

    # create: refused empty, then made
    page.click("a[href='/staff/budget/new']")
    page.wait_for_url("**/staff/budget/new")
    submit(page, "/staff/budget/new")
    assert page.locator("#error-summary").is_visible()
    page.fill("#name", f"2027 중구 주민참여예산 ({language})")
    page.fill("#budget", "100,000,000")
    page.fill("#scope", "중구 전체")
    page.fill("#voting_closes", "2027-06-30T18:00")
    submit(page, "/staff/budget/new")
    page.wait_for_url("**/settings?new=1")
    cycle_id = page.url.split("/")[-2]

    # settings: at most 2 projects, Method of Equal Shares
    page.fill("#max_projects", "2")
    page.check("#rule-equal-shares")
    submit(page, "/settings")
    page.wait_for_url(f"**/staff/budget/{cycle_id}?moved=settings")

    # proposals added in the console, then screening
    page.goto(f"{site.url}/staff/budget/{cycle_id}/proposals")
    for title, dong, _cost in PROPOSALS:
        page.fill("#title", title)
        page.select_option("#dong", dong)
        page.fill("#category", "안전")
        page.fill("#proposer", "홍길동")
        submit(page, "/proposals")
        page.wait_for_url("**/proposals?added=*")
    page.goto(f"{site.url}/staff/budget/{cycle_id}")
    page.click("#phase")
    page.wait_for_url("**?moved=screening")

    # the first proposal screened by keyboard only
    page.goto(f"{site.url}/staff/budget/{cycle_id}/proposals")
    tab_to(page, f"a[href='/staff/budget/{cycle_id}/proposals/1']")
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/proposals/1")
    tab_to(page, "#feasible-yes")
    page.keyboard.press("Space")
    tab_to(page, "#cost")
    page.keyboard.type(PROPOSALS[0][2])
    tab_to(page, "#reason")
    page.keyboard.type("현장을 확인했고 설치할 수 있습니다.")
    tab_to(page, "form[action$='/proposals/1'] button[type=submit]")
    page.keyboard.press("Enter")
    page.wait_for_url("**/proposals?screened=1")
    # the others with the mouse; a feasible one without a cost is refused first
    page.goto(f"{site.url}/staff/budget/{cycle_id}/proposals/2")
    page.check("#feasible-yes")
    page.fill("#reason", "가능")
    submit(page, "/proposals/2")
    assert page.locator("#error-summary").is_visible()
    for number, (_title, _dong, cost) in enumerate(PROPOSALS[1:], start=2):
        page.goto(f"{site.url}/staff/budget/{cycle_id}/proposals/{number}")
        page.check("#feasible-yes" if cost else "#feasible-no")
        page.fill("#cost", cost)
        page.fill("#reason", "심사 결과" if cost else "시 사업이라 구 예산으로 할 수 없습니다.")
        submit(page, f"/proposals/{number}")
        page.wait_for_url(f"**/proposals?screened={number}")

    # the roll: a CSV from Korean Excel (CP949) with one bad row; the preview names it
    page.goto(f"{site.url}/staff/budget/{cycle_id}/roll")
    page.set_input_files("#file", files=[{"name": "명부.csv", "mimeType": "text/csv",
                                         "buffer": ROLL.encode("cp949")}])
    submit(page, "/roll/preview")
    assert page.inner_text("#encoding") == "CP949 (EUC-KR)"
    assert page.inner_text("#good-rows") == "4" and page.inner_text("#bad-rows") == "1"
    assert re.search(r"4행: 연락처가 휴대전화 번호도", page.inner_text("#problems"))
    check_page(page, "budget-office-flow-roll-preview", language=language)
    submit(page, f"/staff/budget/{cycle_id}/roll")
    page.wait_for_url("**/roll?added=4")
    page.click("#codes")
    page.wait_for_url("**/roll?sent=4")
    assert len(site.texts()) == 4

    page.goto(f"{site.url}/staff/budget/{cycle_id}")
    page.click("#phase")
    page.wait_for_url("**?moved=voting")
    assert words["moved_voting"] in page.inner_text("[role=status]")

    # residents vote from their text messages; one votes on paper at the dong centre
    resident_votes(browser, site, PHONES["101-1"], ["1", "2"], language)
    resident_votes(browser, site, PHONES["101-2"], ["3"], language)
    resident_votes(browser, site, PHONES["101-3"], ["3"], language)
    page.goto(f"{site.url}/staff/budget/{cycle_id}/paper")
    page.fill("#entry_id", "101-5")
    page.check("#project-1")
    page.check("#project-3")
    submit(page, "/paper")
    page.wait_for_url("**/paper?entered=*")
    page.fill("#entry_id", "101-1")  # voted by phone already
    page.check("#project-1")
    submit(page, "/paper")
    assert page.locator("#error-summary").is_visible()

    # close voting; count; both rules side by side
    page.goto(f"{site.url}/staff/budget/{cycle_id}")
    page.click("#phase")
    page.wait_for_url("**?moved=tallying")
    page.goto(f"{site.url}/staff/budget/{cycle_id}/result")
    page.click("#tally")
    page.wait_for_url("**/result?done=tally")
    table = page.inner_text("table.budget-compare")
    assert words["greedy"] in table and words["compare"] in table
    # these ballots split the rules: greedy funds 1 and 3, Equal Shares (the cycle's rule) 2 and 3
    funded_by_rule = page.evaluate("""() => [...document.querySelectorAll('table.budget-compare tbody tr')]
        .map(tr => [tr.firstElementChild.textContent.split('.')[0].trim(),
                    [...tr.children].slice(3, 5).map(td => !!td.querySelector('strong'))])""")
    assert sorted(funded_by_rule) == [["1", [True, False]], ["2", [False, True]], ["3", [True, True]]]
    assert words["embargoed"] in page.inner_text("main")
    check_page(page, "budget-office-flow-result", language=language)
    funded = page.evaluate("""() => [...document.querySelectorAll('table.budget-compare tbody tr')]
        .filter(tr => tr.lastElementChild.querySelector('.tag--green'))
        .map(tr => tr.firstElementChild.textContent.split('.')[0].trim())""")
    assert funded
    page.check("#action-unfund")
    page.select_option("#project_id", funded[0])
    page.fill("#reason", "짧음")
    submit(page, "/overrides")
    assert page.locator("#error-summary").is_visible()
    page.fill("#reason", "부지 소유권 분쟁으로 올해 집행할 수 없습니다.")
    submit(page, "/overrides")
    page.wait_for_url("**/result?done=override")
    page.click("#validate")
    page.wait_for_url("**/result?done=published")
    assert words["published"] in page.inner_text("main")
    check_page(page, "budget-office-flow-published", language=language)

    # the counted ballots as a Pabulib file, imported again as a new (closed) cycle
    exported = page.request.get(f"{site.url}/staff/budget/{cycle_id}/ballots.pb")
    assert exported.ok and exported.text().startswith("META")
    csv_file = page.request.get(f"{site.url}/staff/budget/{cycle_id}/result.csv")
    assert csv_file.body().startswith(b"\xef\xbb\xbf")
    page.goto(f"{site.url}/staff/budget/import")
    page.fill("#name", f"가져온 회차 ({language})")
    page.set_input_files("#file", files=[{"name": "budget.pb", "mimeType": "text/plain", "buffer": exported.body()}])
    submit(page, "/staff/budget/import")
    page.wait_for_url(re.compile(r".*/staff/budget/[0-9a-f-]{36}/result$"))
    assert words["embargoed"] in page.inner_text("main")
    page.goto(f"{site.url}/staff/budget/screening")
    page.close()
    site.stop()

    # what the store holds, and the auditor's verification of it
    engine = Engine(str(site.db), outbox=str(site.outbox))
    try:
        cycle = service.get_cycle(engine, cycle_id)
        assert cycle.phase == "published" and cycle.rule["name"] == "equal-shares"
        assert cycle.ballot_style["max_projects"] == 2
        assert {p: cycle.proposals[p]["cost"] for p in cycle.ballot_costs} == \
            {"1": 60_000_000, "2": 30_000_000, "3": 40_000_000}
        assert cycle.result["inputs"]["ballots_by_channel"] == {"mobile": 3, "paper": 1}
        assert cycle.overrides[0]["action"] == "unfund" and funded[0] not in cycle.winners
        assert sorted(VotingKit(engine).roll(cycle.id).entries) == ["101-1", "101-2", "101-3", "101-5"]
        assert service.find_cycle(engine, f"가져온 회차 ({language})").result is not None
    finally:
        engine.close()
    verified = subprocess.run([sys.executable, "-m", "core", "audit", "verify", "--db", str(site.db)], cwd=ROOT,
                              env=site.env, capture_output=True, text=True, timeout=300)
    assert verified.returncode == 0, verified.stdout[-2000:] + verified.stderr[-2000:]


def console_store(db, outbox: str) -> dict[str, str]:
    """Cycles in every stage the console shows, made with the service (the same commands)."""
    from tests.plugins.budget_vote.support import ADMIN, prepared_cycle, vote, voting_cycle

    previous = use_password_hasher(argon2.PasswordHasher.from_parameters(argon2.profiles.CHEAPEST))
    engine = Engine(str(db), outbox=outbox)
    try:
        engine.identity.add_staff(local_operator(), "kim.official", "Kim Official", PASSWORD, [Role.PROCESS_ADMIN])
        fresh = service.open_cycle(engine, name="2028 proposals", budget=50_000_000, by=ADMIN)
        service.submit_proposal(engine, fresh.id, title="Benches on Namsan path", dong="장충동",
                                category="environment", proposer="Hong")
        screening = prepared_cycle(engine, name="2027 screening", infeasible=False)
        voting = voting_cycle(engine, name="2027 voting")
        vote(engine, voting.id, "v1", ["1"])
        counting = voting_cycle(engine, name="2027 counting")
        vote(engine, counting.id, "v1", ["1", "2"])
        service.advance(engine, counting.id, "tallying", by=ADMIN)
        counted = voting_cycle(engine, name="2027 counted", rule={"name": "equal-shares"})
        for voter, choice in (("v1", ["1", "2"]), ("v2", ["3"]), ("v3", ["3", "4"]), ("v4", ["1"])):
            vote(engine, counted.id, voter, choice)
        service.advance(engine, counted.id, "tallying", by=ADMIN)
        service.tally(engine, counted.id, by=ADMIN)
        return {"fresh": str(fresh.id), "screening": str(screening.id), "voting": str(voting.id),
                "counting": str(counting.id), "counted": str(counted.id)}
    finally:
        engine.close()
        use_password_hasher(previous)


@pytest.mark.parametrize("language", ["ko", "en"])
def test_every_console_page_passes_axe_in_both_languages_and_on_a_phone(site_env, browser, language):
    db, env = site_env
    ids = console_store(db, env["CIVIC_OUTBOX"])
    site = start_site(db, env)
    try:
        page = browser.new_page(viewport=DESKTOP, locale=WORDS[language]["locale"])
        sign_in(page, site, "/staff/budget")
        assert "2027 counted" in page.inner_text("main")
        check_page(page, "budget-office", language=language)
        for path, name in (("/staff/budget/new", "budget-office-new"), ("/staff/budget/import", "budget-office-import"),
                           ("/staff/budget/screening", "budget-office-screening"),
                           (f"/staff/budget/{ids['fresh']}", "budget-office-cycle"),
                           (f"/staff/budget/{ids['fresh']}/settings", "budget-office-settings"),
                           (f"/staff/budget/{ids['fresh']}/proposals", "budget-office-proposals"),
                           (f"/staff/budget/{ids['screening']}/proposals", "budget-office-proposals-screening"),
                           (f"/staff/budget/{ids['screening']}/proposals/1", "budget-office-screen"),
                           (f"/staff/budget/{ids['screening']}/roll", "budget-office-roll"),
                           (f"/staff/budget/{ids['voting']}/settings", "budget-office-settings-fixed"),
                           (f"/staff/budget/{ids['voting']}/paper", "budget-office-paper"),
                           (f"/staff/budget/{ids['counting']}/result", "budget-office-count"),
                           (f"/staff/budget/{ids['counted']}/result", "budget-office-result")):
            page.goto(f"{site.url}{path}")
            check_page(page, name, language=language)
        assert "Method of Equal Shares" in page.inner_text("table.budget-compare")

        # refusals on the forms
        page.goto(f"{site.url}/staff/budget/{ids['screening']}/proposals/2")
        page.fill("#cost", "")
        page.fill("#reason", "")
        submit(page, "/proposals/2")
        assert page.locator("#error-summary").is_visible()
        check_page(page, "budget-office-screen-errors", language=language)
        page.goto(f"{site.url}/staff/budget/{ids['voting']}/paper")
        page.fill("#entry_id", "v1")  # voted already
        page.check("#project-2")
        submit(page, "/paper")
        assert page.locator("#error-summary").is_visible()
        check_page(page, "budget-office-paper-errors", language=language)
        page.goto(f"{site.url}/staff/budget/new")
        submit(page, "/staff/budget/new")
        check_page(page, "budget-office-new-errors", language=language)

        # at phone width: the roll preview (UTF-8 with BOM, one row repeating the roll), the result
        page.set_viewport_size(PHONE)
        page.goto(f"{site.url}/staff/budget/{ids['fresh']}/roll")
        page.set_input_files("#file", files=[{"name": "roll.csv", "mimeType": "text/csv", "buffer": (
            "\ufeffentry_id,contact\nn1,010-1000-0001\nn1,010-1000-0002\n").encode("utf-8")}])
        submit(page, "/roll/preview")
        assert page.inner_text("#encoding") == "UTF-8 (BOM)" and {"ko": "3행: 명부 번호 n1이(가) 2행과 겹칩니다.",
                                                          "en": "Row 3: Entry id n1 repeats row 2."}[language] \
            in page.inner_text("#problems")
        check_page(page, "budget-office-roll-preview", language=language)
        page.goto(f"{site.url}/staff/budget/{ids['counted']}/result")
        page.fill("#reason", "too short")
        submit(page, "/overrides")
        check_page(page, "budget-office-result-errors", language=language)
        page.goto(f"{site.url}/staff/budget/{ids['counted']}")
        check_page(page, "budget-office-cycle", language=language)
        page.goto(f"{site.url}/staff/budget/{ids['counted']}/result")
        page.click("#validate")
        page.wait_for_url("**/result?done=published")
        check_page(page, "budget-office-published", language=language)
    finally:
        site.stop()
    engine = Engine(str(db), outbox=env["CIVIC_OUTBOX"])
    try:
        assert service.get_cycle(engine, ids["counted"]).phase == "published"
        assert not VotingKit(engine).roll(ids["fresh"]).entries  # a preview stores nothing
    finally:
        engine.close()
