"""Properties of the whole plugin on a real store: the recount from records equals the live
result, arrival order does not matter, a refused ballot changes nothing, the budget holds."""

from __future__ import annotations

import itertools
import json

import pytest
from hypothesis import given, settings, strategies as st

from core.engine import Engine
from core.voting import audit_process
from core.errors import InvalidInput
from plugins.budget_vote import civic_audit_retally, rules, service
from plugins.budget_vote.domain import Cycle
from plugins.budget_vote.fold import fold
from tests.plugins.budget_vote.support import ADMIN, credential, voting_cycle, vote

_names = itertools.count()


@pytest.fixture(scope="module")
def engines(tmp_path_factory):
    """Two stores of one instance (the same secrets file): the same cycle name gives the same
    cycle id and the same committed lottery seed in both."""
    base = tmp_path_factory.mktemp("budget-props")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("CIVIC_SECRETS", str(base / "instance.secrets"))
        pair = [Engine(str(base / f"{n}.db"), outbox=base / f"{n}.outbox") for n in ("a", "b")]
    yield pair
    for e in pair:
        e.close()


@st.composite
def elections(draw):
    n = draw(st.integers(1, 6))
    costs = {str(i): draw(st.integers(1, 50)) * 1_000_000 for i in range(1, n + 1)}
    budget = draw(st.integers(max(costs.values()), sum(costs.values()) + 1_000_000))
    voters = [f"v{i}" for i in range(draw(st.integers(0, 12)))]  # on the test roll
    casts = draw(st.lists(st.tuples(st.sampled_from(voters), st.sets(st.sampled_from(sorted(costs)), min_size=1)),
                          max_size=20)) if voters else []
    rule = draw(st.sampled_from([{"name": "greedy"}, {"name": "equal-shares"},
                                 {"name": "equal-shares", "completion": "none"}]))
    return costs, budget, casts, rule


def run_cycle(engine, name, costs, budget, casts, rule):
    cycle = voting_cycle(engine, name=name, budget=budget, costs=costs, rule=rule, infeasible=False)
    for voter, choice in casts:
        vote(engine, cycle.id, voter, sorted(choice))
    service.advance(engine, cycle.id, "tallying", by=ADMIN)
    return service.tally(engine, cycle.id, by=ADMIN)


@settings(max_examples=25)
@given(elections())
def test_the_recount_from_exported_records_equals_the_live_result(engines, election):
    engine = engines[0]
    costs, budget, casts, rule = election
    name = f"live-{next(_names)}"
    live = run_cycle(engine, name, costs, budget, casts, rule)
    assert live["funded_total"] <= budget
    # an export is JSON: round-trip every record's payload through it
    exported = [type(r)(r.position, r.originator_id, r.originator_version, r.topic, json.loads(json.dumps(r.payload)))
                for r in engine.records()]
    cycle_id = str(Cycle.create_id(name))
    box = audit_process(exported, cycle_id)
    assert box.ok
    counted = [rules.CountedBallot.from_content(b.tracking_code, b.content) for b in box.opened.counted]
    recount = rules.compute_result(fold(exported)[cycle_id], counted, box.seed)
    assert recount == {k: live[k] for k in rules.RESULT_FIELDS}
    # and the reference: the last ballot of each voter, counted by a plain loop
    last = {}
    for voter, choice in casts:
        last[voter] = choice
    expected_votes = {p: sum(p in c for c in last.values()) for p in costs}
    assert live["votes"] == expected_votes
    assert civic_audit_retally(exported).ok


@settings(max_examples=15)
@given(elections(), st.randoms())
def test_arrival_order_never_changes_the_result(engines, election, rnd):
    costs, budget, casts, rule = election
    # last vote counts: keep each voter's casts in their own order, shuffle across voters
    by_voter = {}
    for voter, choice in casts:
        by_voter.setdefault(voter, []).append(choice)
    queue = [v for v, cs in by_voter.items() for _ in cs]
    rnd.shuffle(queue)
    cursor = {v: iter(cs) for v, cs in by_voter.items()}
    reordered = [(v, next(cursor[v])) for v in queue]
    name = f"order-{next(_names)}"  # same name, same cycle id, same lottery seed in both stores
    first = run_cycle(engines[0], name, costs, budget, casts, rule)
    second = run_cycle(engines[1], name, costs, budget, reordered, rule)
    for field in ("winners", "funded_total", "votes"):
        assert first[field] == second[field]
    assert first["inputs"]["ballots_digest"] == second["inputs"]["ballots_digest"]


@settings(max_examples=25)
@given(st.sampled_from([
    ({"kind": "approval", "min_projects": 2}, ["1"], ["3", "4"]),
    ({"kind": "approval", "max_projects": 1}, ["1", "2"], ["3"]),
    ({"kind": "knapsack"}, ["1", "2"], ["3", "4"]),
    ({"kind": "approval"}, ["nope"], ["4"]),
    ({"kind": "approval"}, [], ["3"]),
]), st.integers(1, 3))
def test_a_refused_ballot_changes_nothing(engines, case, voters):
    engine = engines[0]
    style, choice, valid = case
    good = [valid] * voters
    cycle = voting_cycle(engine, name=f"refuse-{next(_names)}", ballot_style=style)
    for i, c in enumerate(good):
        vote(engine, cycle.id, f"g{i}", c)
    credential(engine, cycle.id, "g5")
    before_position = engine.position
    before_log = service.cycle_state(engine, cycle.id)
    with pytest.raises(InvalidInput):
        vote(engine, cycle.id, "g5", choice)
    assert engine.position == before_position
    assert service.cycle_state(engine, cycle.id) == before_log
    service.advance(engine, cycle.id, "tallying", by=ADMIN)
    result = service.tally(engine, cycle.id, by=ADMIN)
    assert result["inputs"]["ballots_counted"] == len(good)


def test_the_greedy_result_matches_a_hand_count(sqlite_engine):
    """Reference written out: 345M proposed, 190M budget, sorted by votes, skip what does not fit."""
    costs = {"1": 50_000_000, "2": 45_000_000, "3": 40_000_000, "4": 35_000_000, "5": 35_000_000,
             "6": 30_000_000, "7": 30_000_000, "8": 25_000_000, "9": 20_000_000, "10": 20_000_000, "11": 15_000_000}
    assert sum(costs.values()) == 345_000_000
    support = {"1": 9, "2": 8, "3": 7, "4": 6, "5": 5, "6": 4, "7": 3, "8": 2, "9": 1, "10": 1, "11": 1}
    casts, n = [], 0
    for pid, k in support.items():
        for _ in range(k):
            casts.append((f"v{n}" if n < 40 else "abcdefgh"[n - 40], {pid}))
            n += 1
    result = run_cycle(sqlite_engine, "hand", costs, 190_000_000, casts, {"name": "greedy"})
    # 1 (50) 2 (45) 3 (40) 4 (35) = 170; 5 (35), 6 and 7 (30), 8 (25) do not fit and are skipped;
    # 9, 10, 11 tie on one vote each: the lottery's first of them fits, then nothing else does
    assert result["winners"][:4] == ["1", "2", "3", "4"]
    assert len(result["winners"]) == 5 and result["winners"][4] in {"9", "10", "11"}
    tied = [p for p in result["inputs"]["tie_order"] if p in {"9", "10", "11"}]
    assert result["winners"][4] == tied[0]
    assert result["funded_total"] == 170_000_000 + costs[tied[0]]
    assert rules.vote_counts(costs, [{p: 1 for p in c} for _, c in casts]) == result["votes"]
