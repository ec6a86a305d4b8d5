"""The participatory budget office in the staff console, without a browser: a whole cycle from
creation to publication through the console's forms, refusals shown on the form with nothing
changed, the roll upload's preview (encodings, per-row errors, nothing stored before
confirmation) and the downloads."""

from __future__ import annotations

import re

import pytest

from core.actors import Role
from core.voting import VotingKit
from plugins.budget_vote import service
from plugins.budget_vote.console import decode_csv, preview_roll
from tests.support.staff import HTML, add_staff, cheap_passwords, console_client, post_form

ROLL = ("entry_id,contact,group,name\n"
        "101-1,010-1111-0001,명동,김하나\n"
        "101-2,010-1111-0002,명동,이둘\n"
        "101-3,전화없음,필동,박셋\n"
        "101-4,010-1111-0004,필동,최넷\n"
        "101-5,010-1111-0005,필동,정다섯\n")


@pytest.fixture
def office(sqlite_engine):
    with cheap_passwords():
        add_staff(sqlite_engine, "kim.official", [Role.PROCESS_ADMIN], name="김공무")
        add_staff(sqlite_engine, "lee.committee", [Role.COMMITTEE_MEMBER], name="이위원")
        with console_client(sqlite_engine, "kim.official") as client:
            yield sqlite_engine, client


def location(answer) -> str:
    assert answer.status_code == 303, answer.text[-1500:]
    return answer.headers["location"]


def refused(answer, words: str) -> None:
    assert answer.status_code == 400, answer.text[-1500:]
    assert 'id="error-summary"' in answer.text
    assert words in answer.text, answer.text[-3000:]


def test_an_official_runs_a_whole_cycle_in_the_console(office):
    engine, client = office
    before = engine.position
    refused(post_form(client, "/staff/budget/new", {"name": "", "budget": "많이", "scope": "중구"}), "예산을 원 단위")
    assert engine.position == before
    cycle_path = location(post_form(client, "/staff/budget/new", {
        "name": "2027 중구 주민참여예산", "budget": "100,000,000", "scope": "중구 전체",
        "voting_closes": "2027-06-30T18:00", "last_vote_counts": "yes"}))
    cid = cycle_path.split("/")[3]
    cycle = service.get_cycle(engine, cid)
    assert (cycle.budget, cycle.voting_closes) == (100_000_000, "2027-06-30T09:00:00+00:00")  # Seoul 18:00

    # settings: a bad maximum is refused on the form; a good one is saved
    refused(post_form(client, f"/staff/budget/{cid}/settings", {"kind": "approval", "min_projects": "3",
                                                                "max_projects": "2", "rule": "greedy"}),
            "maximum number of projects")
    location(post_form(client, f"/staff/budget/{cid}/settings", {
        "kind": "approval", "min_projects": "1", "max_projects": "2", "rule": "equal-shares",
        "completion": "add1-greedy", "satisfaction": "cost"}))
    cycle = service.get_cycle(engine, cid)
    assert cycle.ballot_style["max_projects"] == 2 and cycle.rule["name"] == "equal-shares"

    # proposals, then screening
    refused(post_form(client, f"/staff/budget/{cid}/proposals", {"title": "", "dong": "명동", "category": "안전",
                                                                 "proposer": "홍길동"}), "사업 이름을")
    refused(post_form(client, f"/staff/budget/{cid}/proposals", {"title": "t", "dong": "중구", "category": "안전",
                                                                 "proposer": "홍길동"}), "not a dong of Jung-gu")
    for title, dong in (("골목길 방범 CCTV", "명동"), ("어린이 놀이터 그늘막", "필동"), ("경로당 냉난방기", "필동"),
                        ("구청 신청사", "중구 전체")):
        location(post_form(client, f"/staff/budget/{cid}/proposals", {
            "title": title, "dong": dong, "category": "안전", "proposer": "홍길동", "proposer_role": "resident"}))
    assert len(service.get_cycle(engine, cid).proposals) == 4
    location(post_form(client, f"/staff/budget/{cid}/phase", {"to": "screening"}))
    refused(post_form(client, f"/staff/budget/{cid}/proposals/1", {"feasible": "yes", "cost": "", "reason": "ok"}),
            "사업비를 원 단위")
    for pid, cost in (("1", "60,000,000"), ("2", "30000000"), ("3", "40000000")):
        location(post_form(client, f"/staff/budget/{cid}/proposals/{pid}",
                           {"feasible": "yes", "cost": cost, "reason": "현장 확인 결과 가능"}))
    # opening voting with a proposal unscreened is refused on the cycle's page
    refused(post_form(client, f"/staff/budget/{cid}/phase", {"to": "voting"}), "아직 심사하지 않은 제안: 4")
    location(post_form(client, f"/staff/budget/{cid}/proposals/4", {"feasible": "no", "reason": "시 사업입니다"}))
    assert service.get_cycle(engine, cid).ballot_costs == {"1": 60_000_000, "2": 30_000_000, "3": 40_000_000}

    # the roll: a CP949 file from Korean Excel, one bad row; nothing is stored before confirming
    before = engine.position
    preview = client.post(f"/staff/budget/{cid}/roll/preview", headers=HTML,
                          data={"_csrf_token": re.search(r'name="_csrf_token" value="([^"]+)"',
                                                         client.get(f"/staff/budget/{cid}/roll", headers=HTML).text)[1]},
                          files={"file": ("명부.csv", ROLL.encode("cp949"), "text/csv")})
    assert preview.status_code == 200, preview.text[-2000:]
    assert "CP949 (EUC-KR)" in preview.text
    assert re.search(r"4행|Row 4", preview.text) and "휴대전화 번호도 이메일 주소도 아닙니다" in preview.text
    assert engine.position == before and not VotingKit(engine).roll(cid).entries
    assert "010-1111-0001" not in preview.text  # contacts are masked, and kept on the server
    kept = re.search(r'name="preview" value="([^"]*)"', preview.text)[1]
    location(post_form(client, f"/staff/budget/{cid}/roll", {"preview": kept}))
    refused(post_form(client, f"/staff/budget/{cid}/roll", {"preview": kept}), "다시 올려")  # once only
    assert sorted(VotingKit(engine).roll(cid).entries) == ["101-1", "101-2", "101-4", "101-5"]
    location(post_form(client, f"/staff/budget/{cid}/codes"))
    texts = engine.outbox.sent()
    assert len(texts) == 4 and all("인증번호" in t["text"] for t in texts)

    # voting: residents vote (through the service), a paper ballot in the console
    location(post_form(client, f"/staff/budget/{cid}/phase", {"to": "voting"}))
    kit = VotingKit(engine)
    for entry, choice in (("101-1", ["1"]), ("101-2", ["1", "2"]), ("101-4", ["2", "3"])):
        token = kit.issue_credential_in_person(cid, entry, by="test:booth").token
        service.cast_ballot(engine, cid, credential=token, choice=choice)
    refused(post_form(client, f"/staff/budget/{cid}/paper", {"entry_id": "101-5", "project": ["1", "2", "3"]}),
            "2개까지만")
    location(post_form(client, f"/staff/budget/{cid}/paper", {"entry_id": "101-5", "project": ["3"]}))
    refused(post_form(client, f"/staff/budget/{cid}/paper", {"entry_id": "101-5", "project": ["2"]}), "이미 투표했습니다")
    location(post_form(client, f"/staff/budget/{cid}/phase", {"to": "tallying"}))

    # the tally, both rules side by side, an override with its reason, validation
    location(post_form(client, f"/staff/budget/{cid}/tally"))
    page = client.get(f"/staff/budget/{cid}/result", headers=HTML).text
    compared = service.compare_rules(engine, cid)
    assert [c["rule"]["name"] for c in compared] == ["greedy", "equal-shares"]
    assert [c["recorded"] for c in compared] == [False, True]
    assert compared[1]["winners"] == service.get_cycle(engine, cid).result["winners"]
    assert "Greedy" in page or "탐욕" in page or "득표순" in page
    refused(post_form(client, f"/staff/budget/{cid}/overrides", {"action": "unfund", "project_id": "1",
                                                                 "reason": "짧음"}), "10")
    winners = service.get_cycle(engine, cid).winners
    target = winners[-1]
    location(post_form(client, f"/staff/budget/{cid}/overrides", {
        "action": "unfund", "project_id": target, "reason": "부지 소유권 분쟁으로 집행이 불가능함"}))
    cycle = service.get_cycle(engine, cid)
    assert target not in cycle.winners and cycle.overrides[0]["reason"].startswith("부지")
    location(post_form(client, f"/staff/budget/{cid}/validation"))
    assert service.get_cycle(engine, cid).phase == "published"

    # downloads: the result as CSV with a BOM, the ballots as a Pabulib file
    csv_answer = client.get(f"/staff/budget/{cid}/result.csv", headers=HTML)
    assert csv_answer.content.startswith(b"\xef\xbb\xbf") and "골목길" in csv_answer.content.decode("utf-8-sig")
    pb = client.get(f"/staff/budget/{cid}/ballots.pb", headers=HTML).text
    assert pb.startswith("META") and "PROJECTS" in pb and "VOTES" in pb


def test_a_committee_member_screens_but_does_not_run_the_office(office):
    engine, _client = office
    cycle = service.open_cycle(engine, name="심사용", budget=10_000_000, by="test:admin")
    service.submit_proposal(engine, cycle.id, title="벤치", dong="명동", category="환경", proposer="주민")
    service.advance(engine, cycle.id, "screening", by="test:admin")
    with console_client(engine, "lee.committee") as member:
        assert member.get("/staff/budget", headers=HTML).status_code == 403
        assert f"/staff/budget/{cycle.id}/proposals" in member.get("/staff/budget/screening", headers=HTML).text
        location(post_form(member, f"/staff/budget/{cycle.id}/proposals/1",
                           {"feasible": "yes", "cost": "5000000", "reason": "설치 가능"}))
    assert service.get_cycle(engine, cycle.id).proposals["1"]["cost"] == 5_000_000


def test_settings_cannot_change_once_voting_opened(office):
    engine, client = office
    cycle = service.open_cycle(engine, name="잠김", budget=10_000_000, by="test:admin")
    service.submit_proposal(engine, cycle.id, title="벤치", dong="명동", category="환경", proposer="주민")
    service.advance(engine, cycle.id, "screening", by="test:admin")
    service.screen(engine, cycle.id, "1", feasible=True, cost=1_000_000, reason="ok", by="test:admin")
    service.import_roll(engine, cycle.id, "entry_id,contact\na,010-0000-0001\n")
    service.advance(engine, cycle.id, "voting", by="test:admin")
    page = client.get(f"/staff/budget/{cycle.id}/settings", headers=HTML).text
    assert "<select" not in page and 'name="kind"' not in page  # shown, no longer a form
    before = engine.position
    refused(post_form(client, f"/staff/budget/{cycle.id}/settings", {"kind": "approval", "min_projects": "1",
                                                                     "rule": "greedy"}), "투표 기간 단계에서는")
    assert engine.position == before


@pytest.mark.parametrize(("raw", "encoding"), [
    (ROLL.encode("utf-8"), "UTF-8"),
    (b"\xef\xbb\xbf" + ROLL.encode("utf-8"), "UTF-8 (BOM)"),
    (ROLL.encode("cp949"), "CP949 (EUC-KR)"),
])
def test_the_roll_file_is_read_in_each_encoding_excel_writes(raw, encoding):
    text, read_as = decode_csv(raw)
    assert read_as == encoding and text.startswith("entry_id") and "정다섯" in text
    preview = preview_roll(text, existing=["101-5"])
    assert [r.entry_id for r in preview["rows"]] == ["101-1", "101-2", "101-4"]
    assert preview["lines"] == [2, 3, 5]  # each row's number in the file, as the official sees it
    assert {p["line"] for p in preview["problems"]} == {4, 6}  # the bad contact; already on the roll


def test_a_bad_header_imports_nothing():
    preview = preview_roll("번호,전화\n1,010-0000-0000\n", existing=[])
    assert preview["rows"] == [] and preview["csv"] == "" and preview["problems"][0]["line"] == 1


def test_a_bad_header_is_explained_in_korean(office):
    engine, client = office
    cycle = service.open_cycle(engine, name="머리글", budget=10_000_000, by="test:admin")
    roll_page = client.get(f"/staff/budget/{cycle.id}/roll", headers=HTML).text
    token = re.search(r'name="_csrf_token" value="([^"]+)"', roll_page)[1]
    page = client.post(f"/staff/budget/{cycle.id}/roll/preview", headers=HTML, data={"_csrf_token": token},
                       files={"file": ("roll.csv", "번호,전화\n1,010-0000-0000\n".encode("utf-8-sig"), "text/csv")})
    assert page.status_code == 200 and "UTF-8 (BOM)" in page.text
    assert "첫 줄에는 열 이름" in page.text and 'name="preview"' not in page.text  # nothing to confirm


def test_an_imported_cumulative_cycle_shows_its_ballots_and_points_in_the_console(office):
    from plugins.budget_vote import pabulib_exchange
    from tests.plugins.budget_vote.test_pabulib_real import DATA, GRADED

    engine, client = office
    cycle = pabulib_exchange.import_pb(engine, (DATA / GRADED["cumulative"]).read_text(encoding="utf-8"),
                                       by="test:operator")
    overview = client.get(f"/staff/budget/{cycle.id}", headers=HTML)
    assert overview.status_code == 200 and "누적 투표: 사업들에 점수를 나누어 줌(가져온 투표)" in overview.text
    result = client.get(f"/staff/budget/{cycle.id}/result", headers=HTML)
    assert result.status_code == 200
    assert '<th scope="col" class="num">점수</th>' in result.text and ">득표<" not in result.text
    assert "149,000 PLN" in result.text and "149,000원" not in result.text
