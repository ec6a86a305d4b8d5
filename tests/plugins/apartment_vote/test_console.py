"""The apartment office in the staff console, without a browser: a complex and its roll (preview
first, CP949 or UTF-8, nothing imported until confirmed), an election with contests and candidates
(a household not on the roll refused), opening, codes, turnout in counts, closing and results."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import pytest

from core import SEOUL
from core.actors import Role
from plugins.apartment_vote import service
from plugins.apartment_vote.domain import OPEN
from tests.support.staff import HTML, add_staff, cheap_passwords, console_client, post_form, sign_in

T0 = datetime(2027, 3, 2, 0, 0, tzinfo=timezone.utc)
BASE = "/staff/apartment"
ROLL = ("household,building,contact,language\n101-1203,101,010-2345-6789,ko\n101-1204,101,010-3456-7890,ko\n"
        "102-0301,102,010-6789-0123,en\n102-0302,102,resident@example.com,ko\n")


@pytest.fixture
def office(sqlite_engine, manual_clock):
    manual_clock.set(T0)
    with cheap_passwords():
        add_staff(sqlite_engine, "office", [Role.PROCESS_ADMIN])
        with console_client(sqlite_engine, "office") as client:
            client.cookies.set("lang", "en")  # the texts asserted below are the English ones
            yield sqlite_engine, client, manual_clock


def seoul(when: datetime) -> tuple[str, str]:
    local = when.astimezone(SEOUL)
    return local.strftime("%Y-%m-%d"), local.strftime("%H:%M")


def upload(client, code: str, content: bytes, replace: bool = False):
    page = client.get(f"{BASE}/complexes/{code}/roll", headers=HTML)
    token = re.search(r'name="_csrf_token" value="([^"]+)"', page.text).group(1)
    return client.post(f"{BASE}/complexes/{code}/roll", headers=HTML, follow_redirects=False,
                       data={"_csrf_token": token, **({"replace": "yes"} if replace else {})},
                       files={"roll": ("roll.csv", content, "text/csv")})


def test_the_console_links_to_the_office_for_process_administrators(office):
    engine, client, _clock = office
    home = client.get("/staff", headers=HTML).text
    assert f'href="{BASE}"' in home
    assert client.get(BASE, headers=HTML).status_code == 200


def test_a_roll_is_previewed_with_every_bad_row_and_imported_only_when_confirmed(office):
    engine, client, _clock = office
    assert post_form(client, f"{BASE}/complexes", {"code": "", "name": ""}).status_code == 400
    made = post_form(client, f"{BASE}/complexes", {"code": "JG-NAMSAN", "name": "신당 남산힐 아파트"})
    assert made.status_code == 303 and made.headers["location"] == f"{BASE}/complexes/JG-NAMSAN"
    again = post_form(client, f"{BASE}/complexes", {"code": "JG-NAMSAN", "name": "다른 이름"})
    assert again.status_code == 400 and "already registered" in again.text

    before = engine.position
    bad = ("household,building,contact\n101-1203,101,010-2345-6789\n,101,010-1111-2222\n"
           "101-1203,101,010-3333-4444\n101-1205,101,전화없음\n").encode("cp949")
    preview = upload(client, "JG-NAMSAN", bad)
    assert preview.status_code == 200
    assert "Nothing can be imported. Rows with a problem: 3" in preview.text
    for line in ("<tr><td>3</td>", "<tr><td>4</td>", "<tr><td>5</td>"):
        assert line in preview.text
    assert "household 101-1203 appears twice" in preview.text and "전화없음" not in preview.text
    assert 'name="token"' not in preview.text
    assert upload(client, "JG-NAMSAN", b"unit,dong\n1,101\n").status_code == 400
    assert engine.position == before

    # as Excel on Korean Windows saves a sheet with Korean column names: CP949
    korean = upload(client, "JG-NAMSAN", "세대,동,연락처\n103-0101,103,010-5555-6666\n".encode("cp949"))
    assert korean.status_code == 200 and "Import the households: 1" in korean.text and "103-0101" in korean.text
    assert engine.position == before
    good = upload(client, "JG-NAMSAN", "\ufeff".encode() + ROLL.encode("utf-8"))
    assert good.status_code == 200 and "Import the households: 4" in good.text
    assert "010-****-6789" in good.text and "2345" not in good.text  # contacts masked
    assert engine.position == before  # nothing imported by the preview
    token = re.search(r'name="token" value="([^"]+)"', good.text).group(1)
    done = post_form(client, f"{BASE}/complexes/JG-NAMSAN/roll/confirm", {"token": token})
    assert done.status_code == 303 and done.headers["location"].endswith("?imported=4")
    assert service.get_complex(engine, "JG-NAMSAN").buildings == {"101": 2, "102": 2}
    # the same preview cannot be imported twice; the same file again is refused row by row
    assert post_form(client, f"{BASE}/complexes/JG-NAMSAN/roll/confirm", {"token": token}).status_code == 400
    assert "already on the roll" in upload(client, "JG-NAMSAN", ROLL.encode()).text
    page = client.get(f"{BASE}/complexes/JG-NAMSAN", headers=HTML).text
    assert "신당 남산힐 아파트" in page and "<td>101</td><td class=\"num\">2</td>" in page
    assert "JG-NAMSAN" in client.get(BASE, headers=HTML).text


def test_an_election_from_contests_to_results(office):
    engine, client, clock = office
    service.register_complex(engine, "JG-1", "남산 아파트")
    service.import_roll(engine, "JG-1", ROLL)
    deadline, opens, closes = T0 + timedelta(hours=1), T0 + timedelta(hours=2), T0 + timedelta(hours=4)
    form = {"complex": "JG-1", "title": "2027 동대표 선거"}
    for name, when in (("deadline", deadline), ("opens", opens), ("closes", closes)):
        form[f"{name}_date"], form[f"{name}_time"] = seoul(when)
    wrong = post_form(client, f"{BASE}/elections", {**form, "closes_time": seoul(opens - timedelta(hours=1))[1]})
    assert wrong.status_code == 400 and "Voting must close after it opens" in wrong.text
    made = post_form(client, f"{BASE}/elections", form)
    assert made.status_code == 303
    page_path = made.headers["location"]
    eid = page_path.rsplit("/", 1)[-1]
    election = service.get_election(engine, eid)
    assert (election.opens_at, election.closes_at) == (opens.isoformat(), closes.isoformat())

    contests = f"{page_path}/contests"
    assert post_form(client, contests, {"kind": "building_representative", "title": "101동 동대표"}).status_code == 400
    assert post_form(client, contests, {"kind": "building_representative", "title": "101동 동대표",
                                        "building": "101"}).status_code == 303
    assert post_form(client, contests, {"kind": "chair", "title": "회장"}).status_code == 303
    assert post_form(client, contests, {"kind": "agenda", "title": "관리규약 개정"}).status_code == 303
    dup = post_form(client, contests, {"kind": "building_representative", "title": "또", "building": "101"})
    assert dup.status_code == 400 and "already has a representative contest" in dup.text
    page = client.get(page_path, headers=HTML).text
    assert page.count("Art. 11 default") == 3
    assert "Enforcement Decree Art. 11(1): building representative" in page
    assert "more than 50% of the households of building 101" in page
    assert "Two or more candidates: Choose 1 candidate. The candidate with the most votes is elected." in page
    assert "One candidate: vote in favour or against." in page

    # the chair's rules changed by the bylaws: the page keeps the Art. 11 default beside them
    rules_page = client.get(f"{contests}/c2/rules", headers=HTML).text
    assert 'id="turnout-1-10-least" name="turnout" value="1-10-least" checked' in rules_page
    before = engine.position
    same = post_form(client, f"{contests}/c2/rules", {"turnout": "1-10-least", "approval": "1-2", "basis": "voters",
                                                      "note": "bylaws art. 23"})
    assert same.status_code == 400 and "already the contest&#39;s rules" in same.text
    assert post_form(client, f"{contests}/c2/rules", {"turnout": "1-3-least", "approval": "1-2",
                                                      "basis": "voters"}).status_code == 400  # no reason given
    assert engine.position == before
    changed = post_form(client, f"{contests}/c2/rules", {"turnout": "1-3-least", "approval": "1-2", "basis": "voters",
                                                         "note": "bylaws art. 23"})
    assert changed.status_code == 303
    rule = service.get_election(engine, eid).contests["c2"]["rules"]
    assert (rule["turnout_num"], rule["turnout_den"], rule["turnout_strict"]) == (1, 3, False)
    events = [e for _, e in engine.log_events() if type(e).__name__ == "RulesChanged"]
    assert [(e.note, e.by) for e in events] == [("bylaws art. 23", str(engine.identity.find("office").id))]
    page = client.get(page_path, headers=HTML).text
    assert page.count("tag--green\">Art. 11 default") == 2 and "Changed from the default" in page
    assert "at least 33.3% of all households of the complex" in page and "The Art. 11 default was:" in page

    before = engine.position
    refused = post_form(client, f"{contests}/c2/candidates", {"name": "외부인", "household": "999-9999"})
    assert refused.status_code == 400 and "Household 999-9999 is not on this complex" in refused.text
    elsewhere = post_form(client, f"{contests}/c1/candidates", {"name": "이웃", "household": "102-0301"})
    assert elsewhere.status_code == 400 and "is in building 102" in elsewhere.text
    assert engine.position == before
    for contest, name, household in (("c1", "김민수", "101-1203"), ("c2", "최하나", "102-0302"),
                                     ("c2", "정우", "101-1204")):
        assert post_form(client, f"{contests}/{contest}/candidates",
                         {"name": name, "household": household}).status_code == 303
    assert post_form(client, f"{contests}/c2/candidates", {"name": "박준", "household": "102-0302"}).status_code == 303
    assert post_form(client, f"{contests}/c2/candidates/c2-k3/withdraw").status_code == 303
    assert service.get_election(engine, eid).contests["c2"]["candidates"]["c2-k3"]["withdrawn"]
    page = client.get(page_path, headers=HTML).text
    assert "김민수" in page and "household 101-1203" in page and "박준" not in page

    early = post_form(client, f"{page_path}/open")
    assert early.status_code == 400 and "Voting opens at" in early.text
    clock.set(opens + timedelta(minutes=1))
    sign_in(client, "office")
    assert post_form(client, f"{page_path}/open").status_code == 303
    assert service.get_election(engine, eid).status == OPEN
    opened_at = engine.position
    assert post_form(client, f"{page_path}/open").status_code == 303  # a second click changes nothing
    assert engine.position == opened_at
    sent = post_form(client, f"{page_path}/codes")
    assert sent.status_code == 303 and sent.headers["location"].endswith("?sent=4")
    assert "Voting codes sent: 4" in client.get(sent.headers["location"], headers=HTML).text

    codes = {m["key"].split("/")[2]: m["text"].rsplit(" ", 1)[-1] for m in engine.outbox.sent()}
    assert sorted(codes) == ["101-1203", "101-1204", "102-0301", "102-0302"]
    for household, choice in (("101-1203", {"c1": ["c1-k1"], "c2": ["c2-k1"], "c3": ["yes"]}),
                              ("101-1204", {"c1": ["c1-k1"], "c2": ["c2-k2"], "c3": ["yes"]}),
                              ("102-0301", {"c2": ["c2-k2"], "c3": ["no"]})):
        credential = service.authenticate(engine, eid, household, codes[household], "test")["credential"]
        service.cast(engine, eid, credential, choice)
    # a lost code replaced; a household that signed in keeps its ballot, its code is not replaced
    reissued = post_form(client, f"{page_path}/codes/reissue", {"household": "102동 0302호"})
    assert reissued.headers["location"] == f"{page_path}?reissued=102-0302"
    assert len(engine.outbox.sent()) == 5
    for household, message in (("101-1203", "has already signed in to vote"), ("999-9999", "is not on this election"),
                               ("", "Enter the household")):
        refused = post_form(client, f"{page_path}/codes/reissue", {"household": household})
        assert refused.status_code == 400 and message in refused.text
    assert len(engine.outbox.sent()) == 5
    turnout = client.get(f"{page_path}/turnout", headers=HTML).text
    assert "<strong>3</strong> / 4 (75%)" in turnout
    assert "김민수" not in turnout and "최하나" not in turnout  # counts only

    assert post_form(client, f"{page_path}/close").status_code == 400
    clock.set(closes + timedelta(minutes=1))
    sign_in(client, "office")
    closed = post_form(client, f"{page_path}/close")
    assert closed.status_code == 303 and closed.headers["location"] == f"{page_path}/results"
    results = client.get(f"{page_path}/results", headers=HTML).text
    assert "김민수" in results and f"/apartment/{eid}/contests/c1/certificate" in results
    assert service.get_election(engine, eid).results["c1"]["elected"] == ["c1-k1"]

