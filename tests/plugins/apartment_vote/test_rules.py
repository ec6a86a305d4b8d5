"""The tally of apartment contests against a reference model of Enforcement Decree Art. 11
written here independently (Fractions, a different ranking), plus the worked examples."""

from __future__ import annotations

from collections import Counter
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.errors import InvalidInput
from plugins.apartment_vote import rules
from plugins.apartment_vote.rules import Contest, RuleSet, default_rules, tally, validate_ballot


def reverse_draw(tied, context):
    """A stand-in lottery both the model and the code use: reverse alphabetical."""
    return sorted(tied, reverse=True)


# -- the reference model ---------------------------------------------------------------------

def reference(contest: Contest, households: dict[str, int], ballots: list[tuple[str, list[str]]]):
    r = contest.rules
    n, v = sum(households.values()), len(ballots)
    threshold = Fraction(r.turnout_num, r.turnout_den)
    if n == 0:
        quorum = threshold == 0 and not r.turnout_strict
    else:
        quorum = Fraction(v, n) > threshold if r.turnout_strict else Fraction(v, n) >= threshold
    votes = Counter(choice for _, choices in ballots for choice in choices)
    approval = Fraction(r.approval_num, r.approval_den)
    base = v if r.approval_basis == "voters" else n

    def approved(count):
        return base > 0 and Fraction(count, base) > approval

    tie_needed = False
    if contest.kind == "agenda":
        status = "adopted" if quorum and approved(votes["yes"]) else "not_adopted"
        return status, set(), quorum, tie_needed
    if not contest.candidates:
        return "no_candidate", set(), quorum, tie_needed
    if not quorum:
        return "not_elected", set(), quorum, tie_needed
    if len(contest.candidates) > r.seats:
        ranked = sorted((votes[c] for c in contest.candidates if votes[c] > 0), reverse=True)
        if len(ranked) <= r.seats:
            winners = {c for c in contest.candidates if votes[c] > 0}
        else:
            cutoff = ranked[r.seats - 1]
            sure = {c for c in contest.candidates if votes[c] > cutoff}
            tied = sorted(c for c in contest.candidates if votes[c] == cutoff)
            need = r.seats - len(sure)
            tie_needed = len(tied) > need
            winners = sure | set(reverse_draw(tied, "")[:need])
    else:
        winners = {c for c in contest.candidates if approved(votes[c])}
    return ("elected" if winners else "not_elected"), winners, quorum, tie_needed


def reference_percent(part: int, whole: int) -> str:
    if whole == 0:
        return "0.0%"
    value = (Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
    return f"{value}%"


# -- generators ------------------------------------------------------------------------------

@st.composite
def rule_sets(draw, kind):
    base = default_rules(kind)
    if draw(st.booleans()):
        return base  # the decree's defaults, half of the time
    den = draw(st.integers(1, 10))
    aden = draw(st.integers(1, 5))
    seats = draw(st.integers(1, 3)) if kind == "auditor" else 1
    return RuleSet(turnout_num=draw(st.integers(0, den)), turnout_den=den, turnout_strict=draw(st.booleans()),
                   approval_num=draw(st.integers(0, aden)), approval_den=aden,
                   approval_basis=draw(st.sampled_from(["voters", "households"])), seats=seats)


@st.composite
def scenarios(draw):
    kind = draw(st.sampled_from(rules.KINDS))
    buildings = {f"{101 + i}": draw(st.integers(0, 25)) for i in range(draw(st.integers(1, 4)))}
    building = None
    if kind == "building_representative":
        building = draw(st.sampled_from(sorted(buildings)))
        households = {building: buildings[building]}
    else:
        households = buildings
    ruleset = draw(rule_sets(kind))
    candidates = () if kind == "agenda" else tuple(f"k{i}" for i in range(draw(st.integers(0, 5))))
    contest = Contest("c1", kind, "t", building, ruleset, candidates)
    form = rules.ballot_form(contest)
    ballots = []
    if form["form"] != "none":
        for b, size in households.items():
            for _ in range(draw(st.integers(0, size))):
                choices = draw(st.lists(st.sampled_from(form["options"]), unique=True,
                                        max_size=form["max_choices"]))
                ballots.append((b, choices))
    return contest, households, ballots


@settings(max_examples=500)
@given(scenarios())
def test_tally_matches_the_reference_model(scenario):
    contest, households, ballots = scenario
    result = tally(contest, households, ballots, draw=reverse_draw)
    status, winners, quorum, tie_needed = reference(contest, households, ballots)
    assert result.status == status, result.reason
    assert set(result.elected) == winners
    assert len(result.elected) == len(winners) <= contest.rules.seats
    assert result.quorum_met == quorum
    assert (result.tie is not None) == tie_needed
    # turnout = households that voted / roll size, per building too
    assert result.households == sum(households.values())
    assert result.voted == len(ballots)
    assert result.turnout == reference_percent(len(ballots), sum(households.values()))
    assert result.by_building == {b: {"households": n, "voted": sum(1 for x, _ in ballots if x == b)}
                                  for b, n in households.items()}
    expected_counts = Counter(c for _, choices in ballots for c in choices)
    assert all(result.counts[o] == expected_counts[o] for o in result.counts)
    assert result.blank == sum(1 for _, c in ballots if not c)


@settings(max_examples=500)
@given(scenarios())
def test_every_generated_ballot_validates_and_others_are_refused(scenario):
    contest, _, ballots = scenario
    for _, choices in ballots:
        assert validate_ballot(contest, choices) == choices
    form = rules.ballot_form(contest)
    with pytest.raises(InvalidInput):
        validate_ballot(contest, ["not-an-option"])
    if form["options"]:
        with pytest.raises(InvalidInput):
            validate_ballot(contest, [form["options"][0]] * 2)
    if len(form["options"]) > form["max_choices"]:
        with pytest.raises(InvalidInput):
            validate_ballot(contest, form["options"][: form["max_choices"] + 1])


@settings(max_examples=500)
@given(st.integers(0, 10_000), st.integers(1, 10_000))
def test_percent_rounds_half_up_exactly(part, whole):
    part = min(part, whole)
    assert rules.percent(part, whole) == reference_percent(part, whole)


# -- worked examples -------------------------------------------------------------------------

def representative(candidates=("k1", "k2"), names=()):
    return Contest("c1", "building_representative", "Building 101 representative", "101",
                   default_rules("building_representative"), tuple(candidates), tuple(names))


def test_failed_quorum_is_a_result_with_its_reason():
    result = tally(representative(), {"101": 100}, [("101", ["k1"])] * 41)
    assert result.status == "not_elected"
    assert result.elected == ()
    assert result.reason == ("not elected: turnout 41.0% (41 of 100 households) below the required "
                             "more than 1/2 (50.0%)")


def test_exactly_half_is_not_more_than_half():
    result = tally(representative(), {"101": 10}, [("101", ["k1"])] * 5)
    assert not result.quorum_met and result.status == "not_elected"
    assert tally(representative(), {"101": 10}, [("101", ["k1"])] * 6).status == "elected"


def test_single_candidate_needs_more_than_half_yes():
    contest = representative(("k1",), ("Kim Minsu",))
    ballots = [("101", ["k1"])] * 12 + [("101", [])] * 13
    result = tally(contest, {"101": 40}, ballots)
    assert result.status == "not_elected"
    assert "single candidate Kim Minsu received 48.0% yes (12 of 25 voters)" in result.reason
    assert tally(contest, {"101": 40}, [("101", ["k1"])] * 13 + [("101", [])] * 12).elected == ("k1",)


def test_chair_needs_one_tenth_and_most_votes():
    chair = Contest("c2", "chair", "Chair", None, default_rules("chair"), ("a", "b", "c"))
    homes = {"101": 50, "102": 50}
    ballots = [("101", ["a"])] * 4 + [("102", ["b"])] * 5 + [("102", ["c"])]
    result = tally(chair, homes, ballots)
    assert result.quorum_met and result.elected == ("b",)
    assert result.by_building == {"101": {"households": 50, "voted": 4}, "102": {"households": 50, "voted": 6}}
    assert tally(chair, homes, ballots[:9]).status == "not_elected"  # 9 < 10


def test_auditors_fill_seats_top_n_and_a_tie_for_the_last_seat_is_drawn():
    auditors = Contest("c3", "auditor", "Auditors", None, default_rules("auditor", 2), ("a", "b", "c", "d"))
    ballots = [("101", ["a", "b"])] * 3 + [("101", ["c"])] * 2 + [("101", ["b", "d"])] * 2
    result = tally(auditors, {"101": 20}, ballots, draw=reverse_draw)
    # a 3, b 5, c 2, d 2 → b then a
    assert result.elected == ("b", "a") and result.tie is None
    tied = [("101", ["a"])] * 2 + [("101", ["b"])] * 2 + [("101", ["c"])] * 2 + [("101", ["d"])]
    result = tally(auditors, {"101": 20}, tied, draw=reverse_draw)
    assert result.elected == ("c", "b")
    assert result.tie == {"votes": 2, "tied": ["a", "b", "c"], "seats": 2, "context": "c3/tie/2",
                          "order": ["c", "b", "a"]}
    assert "broken by lottery" in result.reason


def test_agenda_majority_of_all_households_or_of_voters():
    agenda = Contest("c4", "agenda", "Amend the bylaws", None, default_rules("agenda"))
    ballots = [("101", ["yes"])] * 40 + [("101", ["no"])] * 20
    assert tally(agenda, {"101": 100}, ballots).status == "not_adopted"  # 40 of 100 households
    voters_rule = RuleSet(1, 2, True, 1, 2, "voters")
    agenda_voters = Contest("c4", "agenda", "Amend the bylaws", None, voters_rule)
    result = tally(agenda_voters, {"101": 100}, ballots)
    assert result.status == "adopted" and "40 yes of 60 voters (66.7%)" in result.reason


def test_no_candidate_is_reported_as_such():
    result = tally(representative(()), {"101": 10}, [])
    assert result.status == "no_candidate" and result.reason == "not elected: no candidate registered"


def test_rule_sets_refuse_nonsense():
    with pytest.raises(InvalidInput):
        RuleSet(3, 2, True)
    with pytest.raises(InvalidInput):
        RuleSet(1, 0, True)
    with pytest.raises(InvalidInput):
        RuleSet.from_json({**default_rules("chair").to_json(), "quorum": 3})
    with pytest.raises(InvalidInput):
        RuleSet(1, 2, True, approval_basis="everyone")
    with pytest.raises(InvalidInput):
        default_rules("mayor")
