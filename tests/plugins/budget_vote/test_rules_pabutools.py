"""The winner rules against pabutools (an independent implementation) on random instances."""

from __future__ import annotations

from fractions import Fraction

from hypothesis import given, strategies as st
from pabutools.election import (
    AdditiveSatisfaction,
    ApprovalBallot,
    ApprovalProfile,
    Cardinality_Sat,
    Cost_Sat,
    CumulativeBallot,
    CumulativeProfile,
    Instance as PbInstance,
    Project,
)
from pabutools.rules import completion_by_rule_combination, greedy_utilitarian_welfare, method_of_equal_shares
from pabutools.tiebreaking import TieBreakingRule

from plugins.budget_vote import rules


@st.composite
def elections(draw, cumulative=False):
    n_projects = draw(st.integers(1, 7))
    names = [f"p{i}" for i in range(n_projects)]
    costs = {p: draw(st.integers(1, 60)) * 1_000_000 // draw(st.sampled_from([1, 2, 4])) for p in names}
    budget = draw(st.integers(0, sum(costs.values()) + 10_000_000))
    weight = st.integers(1, 5) if cumulative else st.just(1)
    ballot = st.dictionaries(st.sampled_from(names), weight, max_size=n_projects)
    ballots = draw(st.lists(ballot, max_size=25))
    tie_order = draw(st.permutations(names))
    return costs, budget, ballots, list(tie_order)


def pabutools_instance(costs, budget, ballots, cumulative=False):
    projects = {p: Project(p, c) for p, c in costs.items()}
    instance = PbInstance(projects.values(), budget_limit=budget)
    if cumulative:
        profile = CumulativeProfile([CumulativeBallot({projects[p]: w for p, w in b.items()}) for b in ballots])
    else:
        profile = ApprovalProfile([ApprovalBallot(projects[p] for p in b) for b in ballots])
    return instance, profile


def tie_rule(order):
    return TieBreakingRule(lambda inst, prof, proj: order.index(proj.name))


def points_times_cost(instance, profile, ballot):
    """Cumulative ballots with cost satisfaction: points x cost (no pabutools class for it)."""

    def sat(inst, prof, ballot_, project, precomputed):
        return ballot_.get(project, 0) * project.cost

    return AdditiveSatisfaction(instance, profile, ballot, sat)


class PointsCostSat(AdditiveSatisfaction):
    def __init__(self, instance, profile, ballot):
        super().__init__(instance, profile, ballot, lambda i, p, b, proj, pre: b.get(proj, 0) * proj.cost)


def sat_class(satisfaction, cumulative):
    if cumulative:
        from pabutools.election import Additive_Cardinal_Sat
        return PointsCostSat if satisfaction == "cost" else Additive_Cardinal_Sat
    return Cost_Sat if satisfaction == "cost" else Cardinality_Sat


def names(allocation):
    return sorted(p.name for p in allocation)


@given(elections(), st.sampled_from(rules.SATISFACTIONS))
def test_greedy_equals_pabutools_greedy_utilitarian_welfare(election, satisfaction):
    costs, budget, ballots, order = election
    instance, profile = pabutools_instance(costs, budget, ballots)
    expected = greedy_utilitarian_welfare(instance, profile, sat_class=sat_class(satisfaction, False),
                                          tie_breaking=tie_rule(order))
    mine = rules.compute_winners(rules.WinnerRule("greedy", satisfaction), costs, budget, ballots, order)
    assert sorted(mine.winners) == names(expected)
    assert mine.funded_total <= budget


@given(elections(cumulative=True), st.sampled_from(rules.SATISFACTIONS))
def test_greedy_equals_pabutools_on_cumulative_ballots(election, satisfaction):
    costs, budget, ballots, order = election
    instance, profile = pabutools_instance(costs, budget, ballots, cumulative=True)
    expected = greedy_utilitarian_welfare(instance, profile, sat_class=sat_class(satisfaction, True),
                                          tie_breaking=tie_rule(order))
    mine = rules.greedy(rules.Instance.build(costs, budget, ballots), order, satisfaction)
    assert sorted(mine) == names(expected)


def pabutools_mes(costs, budget, ballots, order, satisfaction, completion, increment_percent, cumulative=False):
    instance, profile = pabutools_instance(costs, budget, ballots, cumulative)
    sat = sat_class(satisfaction, cumulative)
    mes_params = {"sat_class": sat, "tie_breaking": tie_rule(order)}
    if completion in ("add1", "add1-greedy") and ballots:
        mes_params["voter_budget_increment"] = Fraction(budget, len(ballots)) * Fraction(increment_percent, 100)
    if completion in ("none", "add1"):
        return method_of_equal_shares(instance, profile, **mes_params)
    greedy_params = {"sat_class": sat_class("cost", cumulative), "tie_breaking": tie_rule(order)}
    return completion_by_rule_combination(instance, profile, [method_of_equal_shares, greedy_utilitarian_welfare],
                                          [mes_params, greedy_params])


@given(elections(), st.sampled_from(rules.SATISFACTIONS), st.sampled_from(rules.COMPLETIONS), st.sampled_from([1, 10, 50]))
def test_equal_shares_equals_pabutools_method_of_equal_shares(election, satisfaction, completion, increment):
    costs, budget, ballots, order = election
    expected = pabutools_mes(costs, budget, ballots, order, satisfaction, completion, increment)
    rule = rules.WinnerRule("equal-shares", satisfaction, completion, increment)
    mine = rules.compute_winners(rule, costs, budget, ballots, order)
    assert sorted(mine.winners) == names(expected)
    assert mine.funded_total <= budget


@given(elections(cumulative=True), st.sampled_from(rules.SATISFACTIONS), st.sampled_from(rules.COMPLETIONS))
def test_equal_shares_equals_pabutools_on_cumulative_ballots(election, satisfaction, completion):
    costs, budget, ballots, order = election
    expected = pabutools_mes(costs, budget, ballots, order, satisfaction, completion, 10, cumulative=True)
    mine = rules.equal_shares(rules.Instance.build(costs, budget, ballots), order, satisfaction, completion, 10)
    assert sorted(mine) == names(expected)


@given(elections(), st.sampled_from(rules.RULE_NAMES), st.randoms())
def test_arrival_order_never_changes_the_result(election, rule_name, rnd):
    costs, budget, ballots, order = election
    rule = rules.WinnerRule(rule_name)
    shuffled = list(ballots)
    rnd.shuffle(shuffled)
    assert rules.compute_winners(rule, costs, budget, ballots, order) == rules.compute_winners(rule, costs, budget, shuffled, order)


def test_greedy_skips_the_project_that_does_not_fit():
    # CONSUL: sorted by votes, a project that does not fit is skipped and cheaper ones still funded
    costs = {"a": 100, "b": 80, "c": 30}
    ballots = [{"a": 1, "b": 1, "c": 1}, {"a": 1, "b": 1}, {"a": 1}]
    out = rules.compute_winners(rules.WinnerRule("greedy"), costs, 130, ballots, ["a", "b", "c"])
    assert out.winners == ("a", "c") and out.funded_total == 130
    assert out.votes == {"a": 3, "b": 2, "c": 1}


def test_ties_follow_the_tie_order():
    costs = {"a": 50, "b": 50}
    ballots = [{"a": 1}, {"b": 1}]
    assert rules.compute_winners(rules.WinnerRule("greedy"), costs, 50, ballots, ["b", "a"]).winners == ("b",)
    assert rules.compute_winners(rules.WinnerRule("greedy"), costs, 50, ballots, ["a", "b"]).winners == ("a",)
    mes = rules.WinnerRule("equal-shares", completion="none")
    tied = [{"a": 1, "b": 1}, {"a": 1, "b": 1}]
    assert rules.compute_winners(mes, {"a": 60, "b": 60}, 100, tied, ["b", "a"]).winners == ("b",)
    assert rules.compute_winners(mes, {"a": 60, "b": 60}, 100, tied, ["a", "b"]).winners == ("a",)
