"""Administration before voting: complex, roll import, contests, rule changes, candidates.
Every refused command changes nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest

from core.errors import InvalidInput, NotFound, RuleViolation
from plugins.apartment_vote import rules, service
from plugins.apartment_vote.domain import Election
from tests.plugins.apartment_vote.support import CLOSES, OPENS, REGISTRATION, T0, make_complex, make_election, roll_text


def test_roll_import_builds_buildings_and_households(sqlite_engine):
    make_complex(sqlite_engine, {"101": 3, "102": 2})
    summary = service.complex_summary(service.get_complex(sqlite_engine, "JG-1"))
    assert summary["households"] == 5 and summary["buildings"] == {"101": 3, "102": 2}
    added = service.import_roll(sqlite_engine, "JG-1", roll_text({"103": 2}))
    assert added["households"] == 7 and added["imported"] == 2


def test_bad_roll_rows_are_listed_and_nothing_is_imported(sqlite_engine):
    make_complex(sqlite_engine, {"101": 2})
    before = sqlite_engine.position
    bad = "household,building,contact\n103-1,103,01012345678\n103-2,,01011112222\n103-1,103,0101\n103-3,103,nope\n"
    with pytest.raises(InvalidInput) as caught:
        service.import_roll(sqlite_engine, "JG-1", bad)
    assert [e["line"] for e in caught.value.extra["errors"]] == [3, 4, 5]
    with pytest.raises(InvalidInput, match="columns"):
        service.import_roll(sqlite_engine, "JG-1", "unit,dong\n1,101\n")
    with pytest.raises(InvalidInput, match="Already on the roll"):
        service.import_roll(sqlite_engine, "JG-1", roll_text({"101": 1}))
    assert sqlite_engine.position == before


def test_contests_default_to_art_11_and_rules_change_before_opening_only(sqlite_engine, manual_clock):
    make_complex(sqlite_engine, {"101": 4, "102": 4})
    eid = make_election(sqlite_engine, manual_clock)
    rep = service.add_contest(sqlite_engine, eid, "building_representative", "101 representative", "101")
    auditors = service.add_contest(sqlite_engine, eid, "auditor", "Auditors")
    agenda = service.add_contest(sqlite_engine, eid, "agenda", "Amend bylaw 12")
    assert rep["rules"] == rules.default_rules("building_representative").to_json()
    assert auditors["rules"]["seats"] == 2 and auditors["ballot"]["form"] == "none"
    assert agenda["ballot"]["options"] == ["yes", "no"]

    changed = service.change_rules(sqlite_engine, eid, agenda["contest_id"],
                                   {"approval_basis": "voters", "turnout_num": 1, "turnout_den": 3},
                                   "bylaw art. 40: majority of voters with one third turnout")
    assert changed["approval_basis"] == "voters" and changed["turnout_den"] == 3
    events = [type(e).__name__ for _, e in sqlite_engine.log_events()]
    assert events.count("RulesChanged") == 1

    before = sqlite_engine.position
    for bad in ({"turnout_num": 3, "turnout_den": 2}, {"quorum": 1}, {"seats": 2}):
        with pytest.raises(InvalidInput):
            service.change_rules(sqlite_engine, eid, agenda["contest_id"], bad, "why")
    with pytest.raises(InvalidInput, match="why"):
        service.change_rules(sqlite_engine, eid, agenda["contest_id"], {"turnout_den": 4}, " ")
    with pytest.raises(InvalidInput, match="not on the complex"):
        service.add_contest(sqlite_engine, eid, "building_representative", "109 representative", "109")
    with pytest.raises(RuleViolation):
        service.add_contest(sqlite_engine, eid, "building_representative", "again", "101")
    with pytest.raises(InvalidInput):
        service.add_contest(sqlite_engine, eid, "chair", "Chair", "101")
    assert sqlite_engine.position == before

    service.register_candidate(sqlite_engine, eid, rep["contest_id"], "Kim Minsu")
    manual_clock.set(OPENS)
    service.open_election(sqlite_engine, eid)
    before = sqlite_engine.position
    with pytest.raises(RuleViolation, match="before voting opens"):
        service.change_rules(sqlite_engine, eid, agenda["contest_id"], {"turnout_den": 4}, "late")
    with pytest.raises(RuleViolation):
        service.add_contest(sqlite_engine, eid, "chair", "Chair")
    assert sqlite_engine.position == before


def test_candidate_registration_has_a_deadline(sqlite_engine, manual_clock):
    make_complex(sqlite_engine, {"101": 4})
    eid = make_election(sqlite_engine, manual_clock)
    chair = service.add_contest(sqlite_engine, eid, "chair", "Chair")["contest_id"]
    agenda = service.add_contest(sqlite_engine, eid, "agenda", "Bylaw")["contest_id"]
    first = service.register_candidate(sqlite_engine, eid, chair, "Lee Jiyoung", "Transparent accounts")
    assert first["candidate_id"] == f"{chair}-k1"
    before = sqlite_engine.position
    with pytest.raises(RuleViolation, match="already a candidate"):
        service.register_candidate(sqlite_engine, eid, chair, "Lee Jiyoung")
    with pytest.raises(InvalidInput):
        service.register_candidate(sqlite_engine, eid, chair, "  ")
    with pytest.raises(InvalidInput, match="no candidates"):
        service.register_candidate(sqlite_engine, eid, agenda, "Park")
    manual_clock.set(REGISTRATION + timedelta(seconds=1))
    with pytest.raises(RuleViolation, match="registration closed"):
        service.register_candidate(sqlite_engine, eid, chair, "Park Jun")
    assert sqlite_engine.position == before


def test_scheduling_is_checked(sqlite_engine, manual_clock):
    make_complex(sqlite_engine, {"101": 4})
    manual_clock.set(T0)
    with pytest.raises(InvalidInput, match="close after"):
        service.schedule_election(sqlite_engine, "JG-1", "x", CLOSES, OPENS, REGISTRATION)
    with pytest.raises(InvalidInput, match="registration"):
        service.schedule_election(sqlite_engine, "JG-1", "x", OPENS, CLOSES, OPENS + timedelta(hours=1))
    with pytest.raises(InvalidInput, match="time zone"):
        service.schedule_election(sqlite_engine, "JG-1", "x", "2016-05-09T09:00", CLOSES, REGISTRATION)
    with pytest.raises(NotFound):
        service.schedule_election(sqlite_engine, "NOPE", "x", OPENS, CLOSES, REGISTRATION)
    with pytest.raises(NotFound):
        service.get_election(sqlite_engine, "not-a-uuid")


def test_opening_is_refused_early_and_without_contests(sqlite_engine, manual_clock):
    make_complex(sqlite_engine, {"101": 4})
    eid = make_election(sqlite_engine, manual_clock)
    with pytest.raises(RuleViolation, match="opens at") as early:
        service.open_election(sqlite_engine, eid)
    # in the district's time, said so (OPENS is 09:00 in Seoul)
    assert "09:00 Seoul time" in early.value.detail and "+00:00" not in early.value.detail
    manual_clock.set(OPENS)
    with pytest.raises(RuleViolation, match="without contests"):
        service.open_election(sqlite_engine, eid)
    assert sqlite_engine.get(service._uuid(eid), Election).status == "draft"


def test_a_withdrawn_candidate_leaves_the_ballot_before_opening_only(sqlite_engine, manual_clock):
    make_complex(sqlite_engine, {"101": 4})
    eid = make_election(sqlite_engine, manual_clock)
    chair = service.add_contest(sqlite_engine, eid, "chair", "Chair")["contest_id"]
    kim = service.register_candidate(sqlite_engine, eid, chair, "Kim")["candidate_id"]
    lee = service.register_candidate(sqlite_engine, eid, chair, "Lee")["candidate_id"]
    assert service.describe(service.get_election(sqlite_engine, eid))["contests"][chair]["ballot"]["form"] == "choose"
    service.withdraw_candidate(sqlite_engine, eid, chair, kim)
    contest = service.describe(service.get_election(sqlite_engine, eid))["contests"][chair]
    # one candidate left: the ballot becomes a yes/no approval of Lee
    assert contest["ballot"] == {"form": "approve", "options": [lee], "max_choices": 1,
                                 "blank": "each candidate not chosen counts as a 'no'"}
    assert [c["name"] for c in contest["candidates"]] == ["Lee"]
    before = sqlite_engine.position
    with pytest.raises(InvalidInput):
        service.withdraw_candidate(sqlite_engine, eid, chair, kim)
    manual_clock.set(OPENS)
    service.open_election(sqlite_engine, eid)
    with pytest.raises(RuleViolation):
        service.withdraw_candidate(sqlite_engine, eid, chair, lee)
    assert [type(e).__name__ for _, e in sqlite_engine.log_events(before + 1)
            if type(e).__module__.startswith("plugins.apartment_vote")] == ["Opened", "Frozen"]
