"""The cycle: phases, proposals, screening, ballots, result, embargo, overrides, audit."""

from __future__ import annotations

import pytest

from core import topic_of
from core.errors import InvalidInput, RuleViolation
from plugins.budget_vote import civic_audit_retally, service
from plugins.budget_vote.domain import Cycle
from plugins.budget_vote.views import public_result
from core.voting import VotingKit
from tests.plugins.budget_vote.support import ADMIN, credential, prepared_cycle, voting_cycle, vote


def test_a_cycle_from_proposal_to_published(engine):
    cycle = voting_cycle(engine)
    assert cycle.phase == "voting" and set(cycle.ballot_costs) == {"1", "2", "3", "4"}
    for i in range(3):
        vote(engine, cycle.id, f"v{i}", ["1", "3"])
    vote(engine, cycle.id, "v3", ["2"])
    service.enter_paper_ballot(engine, cycle.id, entry_id="paper-1", choice=["2", "4"], by=ADMIN)
    service.advance(engine, cycle.id, "tallying", by=ADMIN)
    result = service.tally(engine, cycle.id, by=ADMIN)
    assert result["votes"] == {"1": 3, "2": 2, "3": 3, "4": 1}
    # greedy by votes: 1 (60M) and 3 (30M) fund 90M; 2 (50M) does not fit; 4 (20M) does not fit
    assert sorted(result["winners"]) == ["1", "3"] and result["funded_total"] == 90_000_000
    assert result["inputs"]["ballots_by_channel"] == {"mobile": 4, "paper": 1}
    assert result["rule"]["name"] == "greedy" and result["inputs"]["budget"] == 100_000_000
    with pytest.raises(RuleViolation, match="embargoed"):
        public_result(service.get_cycle(engine, cycle.id))
    service.validate(engine, cycle.id, by=ADMIN)
    published = public_result(service.get_cycle(engine, cycle.id))
    assert sorted(published["winners"]) == ["1", "3"] and published["validated_by"] == ADMIN
    report = civic_audit_retally(list(engine.records()))
    assert report.ok and report.checked == 1


def test_phases_are_refused_out_of_order(sqlite_engine):
    engine = sqlite_engine
    cycle = service.open_cycle(engine, name="c", budget=10, by=ADMIN)
    with pytest.raises(RuleViolation, match="next phase is screening, not voting"):
        service.advance(engine, cycle.id, "voting", by=ADMIN)
    with pytest.raises(RuleViolation, match="no proposals"):
        service.advance(engine, cycle.id, "screening", by=ADMIN)
    with pytest.raises(InvalidInput, match="not a dong of Jung-gu") as wrong:
        service.submit_proposal(engine, cycle.id, title="t", dong="없는동", category="c", proposer="p")
    assert wrong.value.extra["field"] == "dong"
    assert service.get_cycle(engine, cycle.id).proposals == {}  # refused: nothing recorded
    service.submit_proposal(engine, cycle.id, title="w", dong=" 중구 전체 ", category="c", proposer="p")
    pid = service.submit_proposal(engine, cycle.id, title="t", dong="필동", category="c", proposer="p")
    service.advance(engine, cycle.id, "screening", by=ADMIN)
    with pytest.raises(RuleViolation, match="not screened"):
        service.advance(engine, cycle.id, "voting", by=ADMIN)
    with pytest.raises(RuleViolation, match="in the screening phase"):
        service.submit_proposal(engine, cycle.id, title="late", dong="필동", category="c", proposer="p")
    with pytest.raises(RuleViolation, match="validating"):
        service.advance(engine, cycle.id, "published", by=ADMIN)
    with pytest.raises(InvalidInput, match="whole budget"):
        service.screen(engine, cycle.id, pid, feasible=True, cost=11, reason="too dear", by=ADMIN)
    with pytest.raises(InvalidInput, match="reason"):
        service.screen(engine, cycle.id, pid, feasible=True, cost=5, reason="  ", by=ADMIN)
    assert service.get_cycle(engine, cycle.id).phase == "screening"


@pytest.mark.parametrize(("style", "choice", "rule"), [
    ({"kind": "approval", "min_projects": 2}, ["1"], "min-projects"),
    ({"kind": "approval", "max_projects": 2}, ["1", "2", "3"], "max-projects"),
    ({"kind": "knapsack"}, ["1", "2"], "knapsack-limit"),  # 110M > 100M budget
    ({"kind": "knapsack", "cost_limit": 70_000_000}, ["2", "4", "3"], "knapsack-limit"),
    ({"kind": "approval"}, ["1", "1"], "no-duplicates"),
    ({"kind": "approval"}, ["X"], "projects-on-ballot"),  # screened infeasible: not on the ballot
])
def test_a_ballot_breaking_the_rule_is_refused_naming_it(sqlite_engine, style, choice, rule):
    cycle = voting_cycle(sqlite_engine, ballot_style=style)
    credential(sqlite_engine, cycle.id, "v0")
    before = sqlite_engine.position
    with pytest.raises(InvalidInput) as refused:
        vote(sqlite_engine, cycle.id, "v0", choice)
    assert refused.value.extra["rule"] == rule
    assert sqlite_engine.position == before


def test_knapsack_within_the_per_voter_limit_is_accepted(sqlite_engine):
    cycle = voting_cycle(sqlite_engine, ballot_style={"kind": "knapsack", "cost_limit": 70_000_000})
    assert vote(sqlite_engine, cycle.id, "v0", ["2", "4"])["tracking_code"]


def test_last_vote_counts_until_close(sqlite_engine):
    engine = sqlite_engine
    cycle = voting_cycle(engine)
    first = vote(engine, cycle.id, "v0", ["1"])
    second = vote(engine, cycle.id, "v0", ["2"])
    assert first["tracking_code"] != second["tracking_code"]
    service.advance(engine, cycle.id, "tallying", by=ADMIN)
    with pytest.raises(RuleViolation, match="not open"):
        vote(engine, cycle.id, "v0", ["3"])
    result = service.tally(engine, cycle.id, by=ADMIN)
    assert result["votes"]["1"] == 0 and result["votes"]["2"] == 1
    assert service.track(engine, cycle.id, first["tracking_code"])["state"] == "replaced"
    assert service.track(engine, cycle.id, second["tracking_code"])["state"] == "counted"
    assert "content" not in service.track(engine, cycle.id, second["tracking_code"])  # embargoed
    service.validate(engine, cycle.id, by=ADMIN)
    assert service.track(engine, cycle.id, second["tracking_code"])["content"] == {"choice": ["2"], "channel": "mobile"}


def test_a_vote_cannot_be_replaced_when_the_cycle_says_so(sqlite_engine):
    cycle = voting_cycle(sqlite_engine, last_vote_counts=False)
    vote(sqlite_engine, cycle.id, "v0", ["1"])
    with pytest.raises(RuleViolation, match="does not allow voting again"):
        vote(sqlite_engine, cycle.id, "v0", ["2"])


def test_paper_ballots_need_the_official_and_are_marked(sqlite_engine):
    engine = sqlite_engine
    cycle = voting_cycle(engine)
    with pytest.raises(InvalidInput, match="official"):
        service.enter_paper_ballot(engine, cycle.id, entry_id="paper-0", choice=["1"], by=" ")
    with pytest.raises(InvalidInput, match="at least 1"):  # a bad paper ballot does not use up the credential
        service.enter_paper_ballot(engine, cycle.id, entry_id="paper-0", choice=[], by=ADMIN)
    receipt = service.enter_paper_ballot(engine, cycle.id, entry_id="paper-0", choice=["1"], by=ADMIN)
    assert receipt["channel"] == "paper"
    vote(engine, cycle.id, "v1", ["2"])
    with pytest.raises(RuleViolation, match="already issued"):  # voted on the phone: no paper ballot too
        service.enter_paper_ballot(engine, cycle.id, entry_id="v1", choice=["1"], by=ADMIN)
    service.advance(engine, cycle.id, "tallying", by=ADMIN)
    result = service.tally(engine, cycle.id, by=ADMIN)
    assert result["inputs"]["ballots_by_channel"] == {"mobile": 1, "paper": 1}


def test_voting_needs_a_roll(sqlite_engine):
    cycle = service.open_cycle(sqlite_engine, name="no roll", budget=10, by=ADMIN)
    service.submit_proposal(sqlite_engine, cycle.id, title="t", dong="필동", category="c", proposer="p")
    service.advance(sqlite_engine, cycle.id, "screening", by=ADMIN)
    service.screen(sqlite_engine, cycle.id, "1", feasible=True, cost=5, reason="ok", by=ADMIN)
    with pytest.raises(RuleViolation, match="roll"):
        service.advance(sqlite_engine, cycle.id, "voting", by=ADMIN)
    assert service.get_cycle(sqlite_engine, cycle.id).phase == "screening"


def test_override_needs_a_reason_and_keeps_the_budget(sqlite_engine):
    engine = sqlite_engine
    cycle = voting_cycle(engine)
    vote(engine, cycle.id, "a", ["1", "3"])
    service.advance(engine, cycle.id, "tallying", by=ADMIN)
    service.tally(engine, cycle.id, by=ADMIN)
    with pytest.raises(InvalidInput, match="written reason"):
        service.override(engine, cycle.id, action="unfund", project_id="3", reason="no", by=ADMIN)
    with pytest.raises(InvalidInput, match="over the budget"):
        service.override(engine, cycle.id, action="fund", project_id="2", reason="the council insists on it", by=ADMIN)
    winners = service.override(engine, cycle.id, action="unfund", project_id="3",
                               reason="site unavailable after land survey", by=ADMIN)
    assert winners == ["1"]  # 3 unfunded
    assert service.override(engine, cycle.id, action="fund", project_id="4",
                            reason="replaces project 3 in the same dong", by=ADMIN) == ["1", "4"]
    service.validate(engine, cycle.id, by=ADMIN)
    published = public_result(service.get_cycle(engine, cycle.id))
    assert sorted(published["computed_winners"]) == ["1", "3"] and published["winners"] == ["1", "4"]
    assert [o["action"] for o in published["overrides"]] == ["unfund", "fund"]
    assert civic_audit_retally(list(engine.records())).ok


def test_the_audit_names_a_tampered_result(sqlite_engine):
    engine = sqlite_engine
    cycle = voting_cycle(engine)
    vote(engine, cycle.id, "a", ["1", "3"])
    vote(engine, cycle.id, "b", ["2"])
    service.advance(engine, cycle.id, "tallying", by=ADMIN)
    service.tally(engine, cycle.id, by=ADMIN)
    service.validate(engine, cycle.id, by=ADMIN)
    assert civic_audit_retally(list(engine.records())).ok
    records = list(engine.records())
    computed = next(r for r in records if r.topic == topic_of(Cycle.ResultComputed))
    computed.payload["winners"] = ["2", "3"]
    report = civic_audit_retally(records)
    assert not report.ok
    assert report.discrepancies[0].position == computed.position
    assert "winners differ" in report.discrepancies[0].reason
    # a lottery order that was not drawn from the committed seed is named too
    records = list(engine.records())
    computed = next(r for r in records if r.topic == topic_of(Cycle.ResultComputed))
    computed.payload["inputs"]["tie_order"] = list(reversed(computed.payload["inputs"]["tie_order"]))
    assert "inputs differ" in civic_audit_retally(records).discrepancies[0].reason
    # a ballot batch dropped from the export: the box's own audit and the recount disagree
    records = [r for r in engine.records() if not r.topic.endswith("BallotBatch.Recorded")]
    assert not civic_audit_retally(records).ok


def test_settings_change_only_before_voting(sqlite_engine):
    engine = sqlite_engine
    cycle = service.open_cycle(engine, name="s", budget=100, by=ADMIN)
    service.configure(engine, cycle.id, rule={"name": "equal-shares"}, ballot_style={"kind": "knapsack"}, by=ADMIN)
    with pytest.raises(InvalidInput, match="Unknown winner rule"):
        service.configure(engine, cycle.id, rule={"name": "borda"}, by=ADMIN)
    c = service.get_cycle(engine, cycle.id)
    assert c.rule["name"] == "equal-shares" and c.ballot_style["kind"] == "knapsack"
    voting = voting_cycle(engine, name="v")
    with pytest.raises(RuleViolation, match="voting phase"):
        service.configure(engine, voting.id, rule={"name": "greedy"}, by=ADMIN)
    with pytest.raises(RuleViolation, match="voting phase"):
        service.configure(engine, voting.id, last_vote_counts=False, by=ADMIN)
    assert VotingKit(engine).box(voting.id).allow_revote is True


def test_whether_the_last_vote_counts_changes_until_voting_and_the_box_follows(sqlite_engine):
    """docs/budget.md: settings change until voting; the ballot box honours the last one."""
    engine = sqlite_engine
    cycle = prepared_cycle(engine, name="screened", last_vote_counts=True)  # in screening
    service.configure(engine, cycle.id, last_vote_counts=False, by=ADMIN)
    with pytest.raises(InvalidInput, match="true or false"):
        service.configure(engine, cycle.id, last_vote_counts="no", by=ADMIN)
    assert service.get_cycle(engine, cycle.id).last_vote_counts is False
    assert VotingKit(engine).box(cycle.id).allow_revote is False
    service.advance(engine, cycle.id, "voting", by=ADMIN)
    vote(engine, cycle.id, "v0", ["1"])
    with pytest.raises(RuleViolation, match="does not allow voting again"):
        vote(engine, cycle.id, "v0", ["2"])


def test_tick_closes_voting_after_its_deadline(sqlite_engine, manual_clock):
    engine = sqlite_engine
    cycle = voting_cycle(engine, name="timed", voting_opens="2016-05-01T00:00:00+00:00",
                         voting_closes="2016-05-31T15:00:00+00:00")
    from datetime import datetime, timezone
    manual_clock.set(datetime(2016, 5, 31, 14, 0, tzinfo=timezone.utc))
    assert engine.tick() == []
    manual_clock.set(datetime(2016, 5, 31, 16, 0, tzinfo=timezone.utc))
    assert engine.tick() == ["budget: voting closed in timed"]
    assert engine.tick() == []
    assert service.get_cycle(engine, cycle.id).phase == "tallying"


def test_the_proposers_name_is_sealed_personal_data(sqlite_engine):
    import json

    from core.actors import local_operator
    from core.privacy import ERASED

    engine = sqlite_engine
    cycle = service.open_cycle(engine, name="pd", budget=100, by=ADMIN)
    service.submit_proposal(engine, cycle.id, title="놀이터", dong="필동", category="복지", proposer="홍길동")
    assert "홍길동" not in json.dumps([r.payload for r in engine.records()], ensure_ascii=False)
    sealed = service.get_cycle(engine, cycle.id).proposals["1"]["proposer"]
    assert engine.privacy.open(sealed, where=cycle.id) == "홍길동"
    engine.privacy.forget(sealed["subject"], actor=local_operator())
    assert engine.privacy.open(sealed, where=cycle.id) is ERASED


def test_advancing_to_voting_again_after_a_lost_race_is_harmless(sqlite_engine):
    from core.voting import VotingKit

    from tests.plugins.budget_vote.support import prepared_cycle

    cycle = prepared_cycle(sqlite_engine)
    VotingKit(sqlite_engine).open(cycle.id)  # the box opened, the phase event was lost
    assert service.advance(sqlite_engine, cycle.id, "voting", by=ADMIN).phase == "voting"
