"""The apartment pages without a browser: the Art. 11 outcome in words, how typed households and
ticked answers are read, and refusals that change nothing. (The flows themselves are walked in
real Chromium in tests/web/test_apartment_vote_pages.py.)"""

from __future__ import annotations

import re
from fractions import Fraction

import pytest
from litestar.testing import TestClient

from core.http import create_app
from core.web.setup import SIGN_INS_PER_MINUTE
from plugins.apartment_vote import rules, service
from plugins.apartment_vote.web import household_number, outcome, pct, read_answers
from tests.plugins.apartment_vote.support import CLOSES, OPENS, make_complex, make_election

HTML = {"accept": "text/html"}


def result(kind: str, households: int, ballots: list[list[str]], candidates: tuple[str, ...] = (),
           seats: int | None = None) -> dict:
    contest = rules.Contest(contest_id="c1", kind=kind, title="T", building=None,
                            rules=rules.default_rules(kind, seats), candidates=candidates, names=candidates)
    return rules.tally(contest, {"101": households}, [("101", b) for b in ballots]).to_json()


@pytest.mark.parametrize(("made", "headline"), [
    (result("building_representative", 100, [["Kim"]] * 41, ("Kim", "Lee")), "Not elected: turnout 41% < 50%"),
    (result("building_representative", 4, [["Kim"]] * 2, ("Kim", "Lee")),
     "Not elected: turnout 50%, but more than 50% is needed"),
    (result("building_representative", 4, [["Kim"], ["Kim"], ["Lee"]], ("Kim", "Lee")),
     "Elected: Kim (most votes)"),
    (result("building_representative", 4, [["Kim"], ["Kim"], []], ("Kim",)), "Elected: Kim (in favour 66.7% > 50%)"),
    (result("building_representative", 4, [["Kim"], [], []], ("Kim",)), "Not elected: in favour 33.3% < 50%"),
    (result("building_representative", 4, [], ()), "Not elected: no candidate registered"),
    (result("chair", 10, [[]], ("Choi", "Jung")), "Not elected: no candidate received a vote"),
    (result("agenda", 7, [["yes"]] * 2 + [["no"]] * 2), "Not adopted: in favour 28.6% < 50%"),
    (result("agenda", 7, [["yes"]] * 4 + [["no"]]), "Adopted: in favour 57.1% > 50%"),
    (result("auditor", 10, [["A", "B"], ["A"]], ("A", "B")), "Elected: A"),
])
def test_the_art_11_outcome_in_words(made, headline):
    assert outcome(made, {})["headline"].striptags() == headline


def test_korean_names_on_english_pages_are_marked_for_screen_readers():
    made = result("chair", 4, [["김민수"], ["김민수"], ["Lee"]], ("김민수", "Lee"))
    assert str(outcome(made, {})["headline"]) == 'Elected: <span lang="ko">김민수</span> (most votes)'


def test_a_share_just_below_its_threshold_never_reads_as_equal():
    assert pct(Fraction(4996, 10000), Fraction(1, 2)) == "49.96%"
    assert pct(Fraction(1, 3)) == "33.3%" and pct(Fraction(1, 2)) == "50%" and pct(Fraction(1, 10)) == "10%"


@pytest.mark.parametrize(("typed", "read"), [
    ("101-1203", "101-1203"), (" 101동 1203호 ", "101-1203"), ("101 1203", "101-1203"), ("101동1203호", "101-1203"),
    ("101\u20131203", "101-1203"), ("1011203", "1011203"), ("A-12", "A-12")])
def test_a_typed_household_is_read_as_the_roll_writes_it(typed, read):
    assert household_number(typed) == read


def test_every_item_is_answered_and_abstaining_is_a_blank_ballot():
    asked = [{"contest_id": "c1", "id": "contest-c1", "title": "Rep", "form": "choose", "input": "radio", "seats": 1,
              "candidates": [{"candidate_id": "c1-k1", "name": "Kim"}, {"candidate_id": "c1-k2", "name": "Lee"}]},
             {"contest_id": "c2", "id": "contest-c2", "title": "Auditors", "form": "choose", "input": "checkbox",
              "seats": 2, "candidates": [{"candidate_id": f"c2-k{n}", "name": str(n)} for n in (1, 2, 3)]},
             {"contest_id": "c3", "id": "contest-c3", "title": "Solo", "form": "approve", "input": "radio", "seats": 1,
              "candidates": [{"candidate_id": "c3-k1", "name": "Park"}]},
             {"contest_id": "c4", "id": "contest-c4", "title": "Bylaw", "form": "yes_no", "input": "radio", "seats": 1,
              "candidates": []}]
    choices, errors = read_answers(asked, {"c-c1": "abstain", "c-c2": ["c2-k3", "c2-k1"], "c-c3-c3-k1": "no",
                                           "c-c4": "yes"})
    assert errors == {} and choices == {"c1": [], "c2": ["c2-k1", "c2-k3"], "c3": [], "c4": ["yes"]}
    choices, errors = read_answers(asked, {"c-c1": "c9-k9", "c-c2": ["c2-k1", "c2-k2", "c2-k3"], "c-c4": "maybe"})
    assert sorted(errors) == ["contest-c1", "contest-c2", "contest-c3", "contest-c4"]
    assert "no more than 2" in errors["contest-c2"]


# -- through the app ---------------------------------------------------------------------------
def open_election(engine, manual_clock) -> tuple[str, dict[str, str]]:
    make_complex(engine, {"101": 3})
    eid = make_election(engine, manual_clock)
    chair = service.add_contest(engine, eid, "chair", "Chair")["contest_id"]
    for name in ("Kim", "Lee"):
        service.register_candidate(engine, eid, chair, name)
    manual_clock.set(OPENS)
    service.open_election(engine, eid)
    service.issue_codes(engine, eid)
    codes = {m["key"].split("/")[2]: m["text"].rsplit(" ", 1)[-1] for m in engine.outbox.sent()}
    return eid, codes


def csrf(html: str) -> str:
    return re.search(r'name="_csrf_token" value="([^"]+)"', html).group(1)


def test_one_address_may_post_the_sign_in_form_60_times_a_minute(sqlite_engine, manual_clock):
    eid, _ = open_election(sqlite_engine, manual_clock)
    with TestClient(create_app(sqlite_engine)) as client:
        token = csrf(client.get(f"/apartment/{eid}/vote").text)
        statuses = []
        for n in range(SIGN_INS_PER_MINUTE + 1):
            client.cookies.delete("civic_session")
            form = {"household": f"101-{n:04d}", "code": "WRONG1", "_csrf_token": token}
            statuses.append(client.post(f"/apartment/{eid}/vote", data=form, headers=HTML).status_code)
        assert statuses[:-1] == [400] * SIGN_INS_PER_MINUTE and statuses[-1] == 429


def test_bad_input_changes_nothing_and_an_unvoted_sign_in_is_never_replaced(sqlite_engine, manual_clock):
    eid, codes = open_election(sqlite_engine, manual_clock)
    with TestClient(create_app(sqlite_engine)) as client:
        token = csrf(client.get(f"/apartment/{eid}/vote").text)
        signed = client.post(f"/apartment/{eid}/vote", headers=HTML,
                             data={"household": "101동 1호", "code": codes["101-0001"], "_csrf_token": token})
        assert signed.status_code == 400  # the roll writes 101-0001: a wrong household, never a guess
        client.post(f"/apartment/{eid}/vote", headers=HTML,
                    data={"household": "101-0001", "code": codes["101-0001"].lower(), "_csrf_token": token})
        before = sqlite_engine.position
        forged = client.post(f"/apartment/{eid}/ballot", headers=HTML, data={"c-c1": "c1-k9", "_csrf_token": token})
        assert forged.status_code == 400 and "error-summary" in forged.text
        assert client.post(f"/apartment/{eid}/cast", data={"_csrf_token": token}).status_code in (200, 303)
        assert sqlite_engine.position == before  # no answers yet: back to the ballot, nothing cast
        # a second household on this browser before the first has voted: refused, nothing lost
        other = client.post(f"/apartment/{eid}/vote", headers=HTML,
                            data={"household": "101-0002", "code": codes["101-0002"], "_csrf_token": token})
        assert other.status_code == 409 and "101-0001" in other.text
        client.post(f"/apartment/{eid}/sign-out", data={"_csrf_token": token})
        assert "101-0001" in client.get(f"/apartment/{eid}/vote").text  # still signed in: it has not voted
        assert sqlite_engine.position == before
        answered = client.post(f"/apartment/{eid}/ballot", headers=HTML, data={"c-c1": "c1-k1", "_csrf_token": token})
        assert answered.status_code == 200 and "/review" in str(answered.url)
        done = client.post(f"/apartment/{eid}/cast", headers=HTML, data={"_csrf_token": token})
        assert "/done" in str(done.url)
        client.post(f"/apartment/{eid}/sign-out", data={"_csrf_token": token})
        assert 'id="household"' in client.get(f"/apartment/{eid}/vote").text  # voted: another may sign in
        manual_clock.set(CLOSES)
        closed = client.get(f"/apartment/{eid}/ballot", follow_redirects=False)
        assert closed.status_code == 303  # after the close there is no ballot to show


def test_unknown_elections_and_links_get_a_page_in_the_readers_language(sqlite_engine, manual_clock):
    open_election(sqlite_engine, manual_clock)
    with TestClient(create_app(sqlite_engine)) as client:
        for path in ("/apartment/00000000-0000-0000-0000-000000000000", "/a/zzzzzzzz"):
            page = client.get(path, headers={**HTML, "accept-language": "ko"})
            assert page.status_code == 404 and "이 주소에는 투표가 없습니다" in page.text


def test_texts_shared_with_other_catalogues_read_the_same_in_korean():
    """Catalogues are merged into one per language (a later one wins): a text this plugin shares
    with core or another plugin must not change how the other pages read."""
    from pathlib import Path

    from babel.messages.pofile import read_po

    root = Path(__file__).resolve().parents[3]

    def korean(path: Path) -> dict:
        with path.open("rb") as fh:
            return {m.id: m.string for m in read_po(fh, locale="ko") if m.id and m.string}

    mine = korean(root / "plugins/apartment_vote/locale/ko/LC_MESSAGES/messages.po")
    others = [root / "core/web/locale/ko/LC_MESSAGES/messages.po",
              *(p for p in root.glob("plugins/*/locale/ko/LC_MESSAGES/messages.po") if "apartment_vote" not in str(p))]
    differing = [(p.parts[-5], msgid) for p in others for msgid, text in korean(p).items()
                 if msgid in mine and mine[msgid] != text]
    assert differing == []
