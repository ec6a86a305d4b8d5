"""Equal shares against a plain reference model: every round recomputes every project's rho from
scratch, voter by voter, in ``fractions.Fraction`` (no bounds carried between rounds, no grouping,
no price shortcut for approval ballots). The instances are larger than pabutools' comparison can
afford (test_rules_pabutools.py), with many identical ballots and many ties."""

from __future__ import annotations

from fractions import Fraction

from hypothesis import given, settings, strategies as st

from plugins.budget_vote import rules


def reference_mes(costs, budget, voters, order, satisfaction, share):
    """MES with every voter holding ``share``; winners in selection order."""
    def sat(ballot, p):
        return ballot[p] * costs[p] if satisfaction == "cost" else ballot[p]

    money = [share] * len(voters)
    left = [p for p in order if costs[p] > 0 and any(b.get(p) for b in voters)]
    chosen = []
    while True:
        best = None
        for p in left:
            backers = [i for i, b in enumerate(voters) if b.get(p)]
            if sum(money[i] for i in backers) < costs[p]:
                continue
            # smallest rho with sum_i min(money_i, rho * sat_i) >= cost: try each voter's own
            # breaking point and the candidate beyond it
            candidates = sorted({money[i] / sat(voters[i], p) for i in backers})
            rho = None
            for r in candidates:
                if sum(min(money[i], r * sat(voters[i], p)) for i in backers) >= costs[p]:
                    # between the previous breaking point and r the payment is linear in rho
                    capped = [i for i in backers if money[i] / sat(voters[i], p) < r]
                    rest = [i for i in backers if i not in capped]
                    rho = (costs[p] - sum(money[i] for i in capped)) / sum(sat(voters[i], p) for i in rest)
                    break
            if best is None or rho < best[0]:  # ``left`` is in tie order: the first of equals stays
                best = (rho, p)
        if best is None:
            return chosen
        rho, p = best
        chosen.append(p)
        left.remove(p)
        for i, b in enumerate(voters):
            if b.get(p):
                money[i] -= min(money[i], rho * sat(b, p))


def reference_equal_shares(costs, budget, voters, order, satisfaction, completion, increment):
    """Equal shares with no completion or with add1 (the greedy completion is shared code)."""
    n = len(voters)
    if n == 0:
        outcome = []
    else:
        free = [p for p in order if costs[p] == 0 and any(b.get(p) for b in voters)]
        costly = [p for p in order if costs[p] > 0 and any(b.get(p) for b in voters)]
        share = Fraction(budget, n)
        outcome = free + reference_mes(costs, budget, voters, order, satisfaction, share)
        if completion in ("add1", "add1-greedy"):
            previous = outcome
            while True:
                spent = sum(costs[p] for p in outcome)
                if spent > budget:
                    outcome = previous
                    break
                if all(p in outcome or spent + costs[p] > budget for p in costly):
                    break
                previous = outcome
                share += Fraction(budget, n) * Fraction(increment, 100)
                outcome = free + reference_mes(costs, budget, voters, order, satisfaction, share)
    return outcome


@st.composite
def elections(draw):
    n_projects = draw(st.integers(1, 9))
    names = [f"p{i}" for i in range(n_projects)]
    # few distinct costs and ballots: identical ballots and tied projects are common
    costs = {p: draw(st.sampled_from([0, 10, 20, 30, 45, 60, 90])) for p in names}
    budget = draw(st.integers(0, sum(costs.values()) + 20))
    weights = draw(st.sampled_from([st.just(1), st.integers(1, 4)]))
    kinds = draw(st.lists(st.dictionaries(st.sampled_from(names), weights, min_size=1, max_size=n_projects),
                          min_size=1, max_size=6))
    voters = draw(st.lists(st.sampled_from(kinds), max_size=60))
    order = list(draw(st.permutations(names)))
    return costs, budget, voters, order


@settings(max_examples=150, deadline=None)
@given(elections(), st.sampled_from(rules.SATISFACTIONS), st.sampled_from(("none", "add1")), st.sampled_from([1, 7, 50]))
def test_equal_shares_equals_the_reference_model(election, satisfaction, completion, increment):
    costs, budget, voters, order = election
    mine = rules.equal_shares(rules.Instance.build(costs, budget, voters), order, satisfaction, completion, increment)
    assert mine == reference_equal_shares(costs, budget, voters, order, satisfaction, completion, increment)
