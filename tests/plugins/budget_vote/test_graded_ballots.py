"""Ballots that give points, scores or a ranking (cycles imported from Pabulib files): what the
ballot rules accept, against a small reference model, and how such ballots are counted."""

from __future__ import annotations

import pytest
from hypothesis import given, settings, strategies as st

from core.errors import InvalidInput
from plugins.budget_vote import rules

COSTS = {"1": 40, "2": 30, "3": 20, "4": 10}
BUDGET = 100


def test_choosing_ballot_settings_read_as_before():
    # a cycle's recorded settings do not grow fields it does not use
    assert rules.BallotStyle().as_dict() == {"kind": "approval", "min_projects": 1, "max_projects": None,
                                             "cost_limit": None}
    style = rules.BallotStyle("cumulative", 0, max_sum_points=10)
    assert rules.BallotStyle.from_dict(style.as_dict()) == style and style.as_dict()["max_sum_points"] == 10


@pytest.mark.parametrize("settings_, message", [
    ({"kind": "approval", "max_points": 3}, "Points per project are for cumulative and scoring"),
    ({"kind": "scoring", "max_sum_points": 3}, "A total of points is for cumulative"),
    ({"kind": "cumulative", "min_sum_points": 5, "max_sum_points": 4}, "maximum total of points must be at least the minimum"),
    ({"kind": "scoring", "min_points": -1}, "cannot be negative"),
    ({"kind": "approval", "cost_limit": 10}, "A cost limit is for knapsack"),
    ({"kind": "ranked"}, "Unknown ballot style"),
])
def test_bad_graded_settings_are_refused(settings_, message):
    with pytest.raises(InvalidInput, match=message):
        rules.BallotStyle.from_dict(settings_)


@pytest.mark.parametrize("kind, content, message", [
    ("cumulative", ["1", "2"], "gives points"),
    ("cumulative", {"points": {"1": 1}, "extra": 1}, "gives points"),
    ("cumulative", {"points": {"1": -1}}, "whole number, 0 or more"),
    ("cumulative", {"points": {"1": True}}, "whole number, 0 or more"),
    ("cumulative", {"points": {"1": 1.5}}, "whole number, 0 or more"),
    ("cumulative", {"points": {"9": 1}}, "Not on the ballot: 9"),
    ("scoring", {"points": {"1": 6}}, "at most 5 point"),
    ("scoring", {"points": {"1": 0}}, "at least 1 point"),
    ("cumulative", {"points": {"1": 5, "2": 5, "3": 1}}, "at most 10 point"),
    ("ordinal", {"ranking": ["1", "1"]}, "each project once"),
    ("ordinal", {"ranking": "12"}, "ranks projects"),
    ("ordinal", ["1", "2"], "ranks projects"),
    ("ordinal", {"ranking": ["1", "2", "3", "4"]}, "at most 3 project"),
    ("approval", {"points": {"1": 1}}, "list of the projects chosen"),
])
def test_bad_graded_ballots_are_refused_naming_why(kind, content, message):
    bounds = {"cumulative": {"max_sum_points": 10}, "scoring": {"min_points": 1, "max_points": 5},
              "ordinal": {"max_projects": 3}, "approval": {}}[kind]
    style = rules.BallotStyle(kind, 0, **bounds)
    with pytest.raises(InvalidInput, match=message):
        rules.validate_vote(style, COSTS, BUDGET, content)


def test_a_cost_limit_bounds_what_a_graded_ballot_names():
    style = rules.BallotStyle("ordinal", 0, cost_limit=50)
    assert rules.validate_vote(style, COSTS, BUDGET, {"ranking": ["4", "1"]}) == {"choice": ["1", "4"],
                                                                                  "ranking": ["4", "1"]}
    with pytest.raises(InvalidInput, match="more than the per-voter limit"):
        rules.validate_vote(style, COSTS, BUDGET, {"ranking": ["2", "1"]})


def accepted_by_reference(style, points):
    """The Pabulib META bounds of a cumulative ballot, read one by one from the format's description."""
    named = len(points)
    total = 0
    for p in points:
        total += points[p]
        if style.min_points is not None and points[p] < style.min_points:
            return False
        if style.max_points is not None and points[p] > style.max_points:
            return False
    return (named >= style.min_projects and (style.max_projects is None or named <= style.max_projects)
            and (style.min_sum_points is None or total >= style.min_sum_points)
            and (style.max_sum_points is None or total <= style.max_sum_points))


optional = st.none() | st.integers(0, 6)


@settings(max_examples=300, deadline=None)
@given(st.integers(0, 3), st.none() | st.integers(3, 4), optional, optional, optional, optional,
       st.dictionaries(st.sampled_from(sorted(COSTS)), st.integers(0, 6)))
def test_cumulative_ballots_follow_the_files_bounds(min_n, max_n, low, high, low_sum, high_sum, points):
    if (low is not None and high is not None and high < low) or \
            (low_sum is not None and high_sum is not None and high_sum < low_sum):
        return
    style = rules.BallotStyle("cumulative", min_n, max_n, None, low, high, low_sum, high_sum)
    try:
        sealed = rules.validate_vote(style, COSTS, BUDGET, {"points": points})
    except InvalidInput:
        assert not accepted_by_reference(style, points)
    else:
        assert accepted_by_reference(style, points)
        assert sealed == {"choice": sorted(points), "points": dict(sorted(points.items()))}


def test_counted_ballots_weigh_points_and_borda_places():
    ranked = rules.CountedBallot.from_content("t1", {"choice": ["1", "2", "3"], "ranking": ["3", "1", "2"]})
    assert ranked.weights() == {"3": 2, "1": 1, "2": 0}
    points = rules.CountedBallot.from_content("t2", {"choice": ["1", "2"], "points": {"1": 4, "2": 1}})
    assert points.weights() == {"1": 4, "2": 1}
    chosen = rules.CountedBallot.from_content("t3", {"choice": ["1", "2"], "channel": "paper"})
    assert chosen.weights() == {"1": 1, "2": 1}
    with pytest.raises(ValueError, match="ranking names the projects"):
        rules.CountedBallot.from_content("t4", {"choice": ["1"], "ranking": ["2"]})


def test_the_digest_names_points_and_order_but_keeps_choices_as_they_were():
    chosen = [rules.CountedBallot("a", ("1", "3"), "mobile"), rules.CountedBallot("b", ("2",), "paper")]
    # a choosing cycle's digest is the one recorded before graded ballots existed
    assert rules.ballots_digest(b.digest_items() for b in chosen) == rules.ballots_digest([("1", "3"), ("2",)])

    def digest(*ballots):
        return rules.ballots_digest(b.digest_items() for b in ballots)

    first = rules.CountedBallot("a", ("1", "2"), "mobile", ranking=("1", "2"))
    second = rules.CountedBallot("a", ("1", "2"), "mobile", ranking=("2", "1"))
    assert digest(first) != digest(second)
    assert digest(rules.CountedBallot("a", ("1",), "mobile", points={"1": 2})) != \
        digest(rules.CountedBallot("a", ("1",), "mobile", points={"1": 3}))
