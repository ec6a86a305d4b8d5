"""Pure rules of the participatory budget: ballot validity, vote counts, winner rules and the
result of a closed cycle.

No I/O and no clock. The live tally, the auditor's re-tally and the property tests call these
functions. Money is integer won; rule arithmetic is exact (``fractions.Fraction``; equal shares uses
gmpy2's ``mpq``, the same exact rationals, faster).

Winner rules (both resolute, ties broken by a total ``tie_order`` of the projects, earlier first;
the order comes from the verifiable lottery):

- ``greedy``: CONSUL's rule. Projects in decreasing order of support; each project that still
  fits the remaining budget is funded, one that does not is skipped. Identical to pabutools
  ``greedy_utilitarian_welfare``: with ``satisfaction="cost"`` (pabutools ``Cost_Sat``) the order
  is by votes (CONSUL); with ``satisfaction="cardinality"`` (``Cardinality_Sat``) it is by votes
  per won.
- ``equal-shares``: the Method of Equal Shares, identical to pabutools ``method_of_equal_shares``
  (which by itself applies no completion) followed by the chosen completion:
  ``none``; ``add1`` (pabutools ``voter_budget_increment``: raise every voter's share until the
  outcome is exhaustive, keeping the last feasible outcome); ``greedy`` (pabutools
  ``completion_by_rule_combination`` with the greedy rule); ``add1-greedy`` (both, the
  completion recommended on equalshares.net, and the default).
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from fractions import Fraction
from itertools import chain
from operator import methodcaller
from typing import Any, Literal

import attrs
from gmpy2 import mpq

from core import InvalidInput, refuse_unknown_settings


BallotKind = Literal["approval", "knapsack", "cumulative", "scoring", "ordinal"]
RuleName = Literal["greedy", "equal-shares"]
Satisfaction = Literal["cost", "cardinality"]
Completion = Literal["none", "add1", "greedy", "add1-greedy"]

BALLOT_KINDS = ("approval", "knapsack", "cumulative", "scoring", "ordinal")
# the kinds an official sets for a cycle voted on in civic
CHOOSING_KINDS = ("approval", "knapsack")
# ballots that say more than which projects: points shared out, a score per project, a ranking.
# Only a cycle imported from a Pabulib file has them (civic's online ballot chooses projects).
GRADED_KINDS = ("cumulative", "scoring", "ordinal")
POINTS_KINDS = ("cumulative", "scoring")
RULE_NAMES = ("greedy", "equal-shares")
SATISFACTIONS = ("cost", "cardinality")
COMPLETIONS = ("none", "add1", "greedy", "add1-greedy")


# -- settings -----------------------------------------------------------------------------
@attrs.frozen
class BallotStyle:
    """How a ballot is filled in.

    ``approval``: choose between ``min_projects`` and ``max_projects`` projects (``None``: any
    number up to all). ``knapsack``: the chosen projects' total cost may not exceed
    ``cost_limit`` won (``None``: the cycle's budget); ``min_projects``/``max_projects`` apply too.

    The graded kinds come only from Pabulib files (META fields in brackets): ``cumulative``, points
    shared out between projects, each between ``min_points`` and ``max_points`` [min_points,
    max_points], together between ``min_sum_points`` and ``max_sum_points`` [min_sum_points,
    max_sum_points]; ``scoring``, a score per project named, between ``min_points`` and
    ``max_points``; ``ordinal``, a ranking. For them ``min_projects``/``max_projects`` bound how
    many projects a ballot names [min_length, max_length] and ``cost_limit``, when set, their
    total cost [max_sum_cost]. Cumulative and scoring ballots count their points, ordinal ballots
    the Borda score of each place (the last ranked gets 0), as pabutools counts them.
    """

    kind: BallotKind = "approval"
    min_projects: int = 1
    max_projects: int | None = None
    cost_limit: int | None = None
    min_points: int | None = None
    max_points: int | None = None
    min_sum_points: int | None = None
    max_sum_points: int | None = None

    def __attrs_post_init__(self) -> None:
        if self.kind not in BALLOT_KINDS:
            raise InvalidInput(f"Unknown ballot style {self.kind!r}; use one of {', '.join(BALLOT_KINDS)}.")
        if self.min_projects < 0:
            raise InvalidInput("The minimum number of projects cannot be negative.")
        if self.max_projects is not None and self.max_projects < max(1, self.min_projects):
            raise InvalidInput("The maximum number of projects must be at least the minimum and at least 1.")
        if self.cost_limit is not None and (self.kind == "approval" or self.cost_limit <= 0):
            raise InvalidInput("A cost limit is for knapsack ballots and must be a positive number of won.")
        points = (self.min_points, self.max_points)
        sums = (self.min_sum_points, self.max_sum_points)
        if any(v is not None for v in points) and self.kind not in POINTS_KINDS:
            raise InvalidInput("Points per project are for cumulative and scoring ballots.")
        if any(v is not None for v in sums) and self.kind != "cumulative":
            raise InvalidInput("A total of points is for cumulative ballots.")
        for low, high, what in ((*points, "points per project"), (*sums, "total of points")):
            if (low is not None and low < 0) or (high is not None and high < 0):
                raise InvalidInput(f"The {what} cannot be negative.")
            if low is not None and high is not None and high < low:
                raise InvalidInput(f"The maximum {what} must be at least the minimum.")

    @property
    def graded(self) -> bool:
        """Whether a ballot gives points, scores or ranks (not only which projects)."""
        return self.kind in GRADED_KINDS

    def as_dict(self) -> dict[str, Any]:
        # the point bounds only when set: the settings of a choosing ballot read as they always did
        return attrs.asdict(self, filter=lambda a, v: v is not None or a.name not in _POINT_BOUNDS)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> BallotStyle:
        refuse_unknown_settings(cls, data, "ballot style")
        return cls(**{k: _int_or_none(k, v) if k != "kind" else v for k, v in data.items()})


_POINT_BOUNDS = ("min_points", "max_points", "min_sum_points", "max_sum_points")


@attrs.frozen
class WinnerRule:
    """Which rule picks the winners, with its parameters (all recorded with the result)."""

    name: RuleName = "greedy"
    satisfaction: Satisfaction = "cost"
    completion: Completion = "add1-greedy"
    # add1 step: each voter's share grows by this percentage of the initial share per round
    increment_percent: int = 1

    def __attrs_post_init__(self) -> None:
        if self.name not in RULE_NAMES:
            raise InvalidInput(f"Unknown winner rule {self.name!r}; use one of {', '.join(RULE_NAMES)}.")
        if self.satisfaction not in SATISFACTIONS:
            raise InvalidInput(f"Unknown satisfaction {self.satisfaction!r}; use one of {', '.join(SATISFACTIONS)}.")
        if self.completion not in COMPLETIONS:
            raise InvalidInput(f"Unknown completion {self.completion!r}; use one of {', '.join(COMPLETIONS)}.")
        if not 1 <= self.increment_percent <= 100:
            raise InvalidInput("The completion increment must be between 1 and 100 percent.")

    def as_dict(self) -> dict[str, Any]:
        return attrs.asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> WinnerRule:
        refuse_unknown_settings(cls, data, "winner rule")
        values = dict(data)
        if "increment_percent" in values:
            values["increment_percent"] = _int_or_none("increment_percent", values["increment_percent"])
        return cls(**values)


def _int_or_none(name: str, value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInput(f"{name} must be a whole number.")
    return value


# -- ballots ------------------------------------------------------------------------------
def validate_choice(style: BallotStyle, costs: Mapping[str, int], budget: int, choice: Sequence[str]) -> tuple[str, ...]:
    """The ballot as a sorted tuple of project ids, or ``InvalidInput`` naming the broken rule.

    ``costs`` holds the projects on the ballot (screened feasible) and their costs."""
    if isinstance(choice, (str, bytes)) or not all(isinstance(p, str) for p in choice):
        raise InvalidInput("A ballot is a list of project ids.", rule="form")
    chosen = set(choice)
    if len(chosen) != len(choice):
        raise InvalidInput("A ballot may name each project once.", rule="no-duplicates")
    unknown = sorted(chosen - set(costs))
    if unknown:
        raise InvalidInput(f"Not on the ballot: {', '.join(unknown)}.", rule="projects-on-ballot")
    if len(chosen) < style.min_projects:
        raise InvalidInput(f"Choose at least {style.min_projects} project(s); this ballot has {len(chosen)}.",
                           rule="min-projects")
    if style.max_projects is not None and len(chosen) > style.max_projects:
        raise InvalidInput(f"Choose at most {style.max_projects} project(s); this ballot has {len(chosen)}.",
                           rule="max-projects")
    if style.kind == "knapsack":
        limit = style.cost_limit if style.cost_limit is not None else budget
        total = sum(costs[p] for p in chosen)
        if total > limit:
            which = "per-voter limit" if style.cost_limit is not None else "budget"
            raise InvalidInput(f"The chosen projects cost {total:,} won, more than the {which} of {limit:,} won.",
                               rule="knapsack-limit")
    return tuple(sorted(chosen))


def validate_vote(style: BallotStyle, costs: Mapping[str, int], budget: int, content: Any) -> dict[str, Any]:
    """A ballot's content as the box seals it, or ``InvalidInput`` naming the broken rule.

    A choosing ballot (approval, knapsack) is a list of project ids and becomes ``{"choice":
    [...]}`` (see ``validate_choice``). A cumulative or scoring ballot is ``{"points": {project:
    points}}``, an ordinal one ``{"ranking": [projects, first preferred first]}``; both keep
    ``choice``, the projects named, sorted."""
    if not style.graded:
        if isinstance(content, Mapping):
            raise InvalidInput("A ballot of this cycle is a list of the projects chosen.", rule="form")
        return {"choice": list(validate_choice(style, costs, budget, content))}
    if style.kind == "ordinal":
        ranking = content.get("ranking") if isinstance(content, Mapping) else None
        if not isinstance(ranking, list) or set(content) != {"ranking"}:
            raise InvalidInput("A ballot of this cycle ranks projects: {\"ranking\": [project ids, first preferred "
                               "first]}.", rule="form")
        chosen = _named_projects(style, costs, budget, ranking)
        return {"choice": list(chosen), "ranking": list(ranking)}
    points = content.get("points") if isinstance(content, Mapping) else None
    if not isinstance(points, Mapping) or set(content) != {"points"}:
        raise InvalidInput("A ballot of this cycle gives points: {\"points\": {project id: points}}.", rule="form")
    chosen = _named_projects(style, costs, budget, list(points))
    for p, w in points.items():
        if isinstance(w, bool) or not isinstance(w, int) or w < 0:
            raise InvalidInput(f"The points for {p} must be a whole number, 0 or more.", rule="points")
        _within(w, style.min_points, style.max_points, "points", "Give each project {limit} {bound} point(s)",
                f"{p} has {w}.")
    total = sum(points.values())
    _within(total, style.min_sum_points, style.max_sum_points, "sum-points", "Give {limit} {bound} point(s) in all",
            f"this ballot gives {total}.")
    return {"choice": list(chosen), "points": {p: points[p] for p in chosen}}


def _within(value: int, low: int | None, high: int | None, rule: str, refusal: str, detail: str) -> None:
    """Refuse ``value`` outside [low, high] (a missing bound does not apply): ``refusal`` names
    the bound as ``{limit} {bound}``, then ``detail``; the rule is ``min-``/``max-`` + ``rule``."""
    if low is not None and value < low:
        raise InvalidInput(f"{refusal.format(limit='at least', bound=low)}; {detail}", rule=f"min-{rule}")
    if high is not None and value > high:
        raise InvalidInput(f"{refusal.format(limit='at most', bound=high)}; {detail}", rule=f"max-{rule}")


def _named_projects(style: BallotStyle, costs: Mapping[str, int], budget: int, named: list[Any]) -> tuple[str, ...]:
    """The projects a graded ballot names, checked as a choice is (once each, on the ballot,
    how many, within the cost limit when the style has one)."""
    kind = "approval" if style.cost_limit is None else "knapsack"
    return validate_choice(BallotStyle(kind, style.min_projects, style.max_projects, style.cost_limit),
                           costs, budget, named)


Ballot = Mapping[str, int]  # project id -> points (1 for approval)


def aggregate_ballots(ballots: Iterable[Ballot]) -> list[tuple[tuple[tuple[str, int], ...], int]]:
    """Identical ballots grouped with their multiplicity, in a canonical order (so the rules'
    results cannot depend on the order ballots arrived in)."""
    # counted as written first (projects and points as two tuples, built and hashed at C speed:
    # 100,000 ballots in a fraction of a second), then each distinct ballot put in canonical form
    ballots = list(ballots)
    as_written = Counter(zip(map(tuple, ballots), map(tuple, map(methodcaller("values"), ballots))))
    counter: Counter[tuple[tuple[str, int], ...]] = Counter()
    for (projects, points), multiplicity in as_written.items():
        counter[tuple(sorted((p, int(w)) for p, w in zip(projects, points) if w))] += multiplicity
    return sorted(counter.items())


def vote_counts(projects: Iterable[str], ballots: Iterable[Ballot]) -> dict[str, int]:
    """Each project's points over all ballots (its votes, for approval ballots)."""
    ballots = ballots if isinstance(ballots, list) else list(ballots)
    counts = dict.fromkeys(projects, 0)
    if set(chain.from_iterable(map(methodcaller("values"), ballots))) <= {1}:
        # every point a 1 (approval, choose-1): a project's count is how many ballots name it,
        # counted at C speed (100,000 ballots in a few hundredths of a second)
        named = Counter(chain.from_iterable(ballots))
        return {p: named.get(p, 0) for p in counts}
    for ballot in ballots:
        for p, w in ballot.items():
            if p in counts:
                counts[p] += int(w)
    return counts


# -- tie order ------------------------------------------------------------------------------
def _rank(tie_order: Sequence[str], projects: Iterable[str]) -> dict[str, int]:
    rank = {p: i for i, p in enumerate(tie_order)}
    missing = [p for p in projects if p not in rank]
    if missing:
        raise ValueError(f"tie order misses projects: {missing}")
    return rank


# -- winner rules ---------------------------------------------------------------------------
@attrs.frozen
class Instance:
    """One election for the rules: costs (won), budget (won), and grouped ballots."""

    costs: Mapping[str, int]
    budget: int
    ballots: Sequence[tuple[tuple[tuple[str, int], ...], int]]  # from aggregate_ballots

    @classmethod
    def build(cls, costs: Mapping[str, int], budget: int, ballots: Iterable[Ballot]) -> Instance:
        return cls(dict(costs), int(budget), aggregate_ballots(ballots))

    @property
    def voters(self) -> int:
        return sum(m for _, m in self.ballots)


def _sat(instance: Instance, satisfaction: str, project: str, points: int) -> int:
    return points * instance.costs[project] if satisfaction == "cost" else points


def greedy(instance: Instance, tie_order: Sequence[str], satisfaction: str = "cost",
           initial: Sequence[str] = ()) -> list[str]:
    """Greedy by support: winners (``initial`` first) in the order they were funded."""
    points: dict[str, int] = {p: 0 for p in instance.costs}
    for ballot, multiplicity in instance.ballots:
        for p, w in ballot:
            points[p] += multiplicity * w
    return _greedy(instance.costs, instance.budget, points, tie_order, satisfaction, initial)


def _greedy(costs: Mapping[str, int], budget: int, points: Mapping[str, int], tie_order: Sequence[str],
            satisfaction: str, initial: Sequence[str] = ()) -> list[str]:
    """``greedy`` from each project's points over all ballots (``vote_counts``): its total
    satisfaction is points x cost (``cost``) or the points (``cardinality``)."""
    rank = _rank(tie_order, costs)

    def density(p: str) -> Fraction | float:
        total = points[p] * costs[p] if satisfaction == "cost" else points[p]
        if total > 0:
            return Fraction(total, costs[p]) if costs[p] > 0 else float("inf")
        return 0

    chosen = list(initial)
    remaining = budget - sum(costs[p] for p in chosen)
    for p in sorted((p for p in costs if p not in chosen), key=lambda p: (-density(p), rank[p])):
        if costs[p] <= remaining:
            chosen.append(p)
            remaining -= costs[p]
    return chosen


_ZERO = mpq(0)


class _MesElection:
    """An election prepared once for repeated runs of MES (the add1 completion runs it once per
    budget increase): projects as indices in tie order, each with its supporting ballot groups
    and their satisfactions, so a run touches only numbers."""

    def __init__(self, instance: Instance, projects: Sequence[str], satisfaction: str) -> None:
        self.projects = list(projects)  # supported, costly, in tie order (index = rank)
        self.costs = [instance.costs[p] for p in self.projects]
        index = {p: j for j, p in enumerate(self.projects)}
        self.multiplicity = [m for _, m in instance.ballots]
        self.supporters: list[list[int]] = [[] for _ in self.projects]
        sats: list[list[int]] = [[] for _ in self.projects]
        for g, (ballot, _) in enumerate(instance.ballots):
            for p, w in ballot:
                j = index.get(p)
                if j is not None and w:
                    self.supporters[j].append(g)
                    sats[j].append(_sat(instance, satisfaction, p, w))
        # approval ballots give every supporter of a project the same satisfaction: then the
        # rule reduces to one price per project (rho x that satisfaction), found on budgets alone
        self.uniform = [s[0] if len(set(s)) == 1 else None for s in sats]
        self.sat_of = [dict(zip(sup, s)) for sup, s in zip(self.supporters, sats)]
        self.total_sat = [sum(self.multiplicity[g] * u for g, u in zip(sup, s)) for sup, s in zip(self.supporters, sats)]

    def run(self, share: Any) -> list[int]:
        """One run of MES with every voter holding ``share``: projects in selection order.

        Lazy: a project's rho never falls from one round to the next (budgets only fall), so the
        last rho found is a lower bound; projects are tried in order of that bound and the round
        stops at the first whose bound cannot beat the best found (ties go to the earlier rank)."""
        budgets = [mpq(share)] * len(self.multiplicity)
        bound = [mpq(c, t) for c, t in zip(self.costs, self.total_sat)]
        remaining = list(range(len(self.projects)))
        chosen: list[int] = []
        while remaining:
            remaining.sort(key=lambda j: (bound[j], j))
            best = -1
            best_rho = None
            unaffordable = []
            for j in remaining:
                if best >= 0 and (bound[j] > best_rho or (bound[j] == best_rho and j > best)):
                    break
                rho = self._rho(j, budgets)
                if rho is None:
                    unaffordable.append(j)  # budgets only fall: it can never be afforded again
                    continue
                bound[j] = rho
                if best < 0 or rho < best_rho or (rho == best_rho and j < best):
                    best, best_rho = j, rho
            for j in unaffordable:
                remaining.remove(j)
            if best < 0:
                break
            chosen.append(best)
            remaining.remove(best)
            self._pay(best, best_rho, budgets)
        return chosen

    def _rho(self, j: int, budgets: list[Any]) -> Any:
        """Smallest rho with sum_i m_i * min(b_i, rho * u_i) >= cost, or None if the supporters
        cannot afford the project."""
        m = self.multiplicity
        supporters = self.supporters[j]
        remaining_cost = self.costs[j]
        u = self.uniform[j]
        if u is not None:
            # budgets in rising order: the poorest pay all they have until the rest can share
            # the remainder equally (price q = rho * u each)
            rest = self.total_sat[j] // u  # supporters counted with multiplicity
            for g in sorted(supporters, key=budgets.__getitem__):
                b = budgets[g]
                if remaining_cost <= b * rest:
                    return mpq(remaining_cost, rest * u)
                remaining_cost -= b * m[g]
                rest -= m[g]
            return None
        sat = self.sat_of[j]
        denominator = self.total_sat[j]
        for g in sorted(supporters, key=lambda g: budgets[g] / sat[g]):
            b = budgets[g]
            if remaining_cost * sat[g] <= b * denominator:
                return mpq(remaining_cost, denominator)
            remaining_cost -= b * m[g]
            denominator -= m[g] * sat[g]
        return None

    def _pay(self, j: int, rho: Any, budgets: list[Any]) -> None:
        u = self.uniform[j]
        if u is not None:
            price = rho * u
            for g in self.supporters[j]:
                b = budgets[g]
                budgets[g] = b - price if b > price else _ZERO
        else:
            sat = self.sat_of[j]
            for g in self.supporters[j]:
                b = budgets[g]
                price = rho * sat[g]
                budgets[g] = b - price if b > price else _ZERO


def equal_shares(instance: Instance, tie_order: Sequence[str], satisfaction: str = "cost",
                 completion: str = "add1-greedy", increment_percent: int = 1) -> list[str]:
    """Method of Equal Shares with a completion; winners in the order they were funded."""
    rank = _rank(tie_order, instance.costs)
    n = instance.voters
    supported_all = sorted({p for ballot, _ in instance.ballots for p, w in ballot if w}, key=lambda p: rank[p])
    # supported zero-cost projects are free: funded up front, as pabutools does
    initial = [p for p in supported_all if instance.costs[p] == 0]
    supported = [p for p in supported_all if instance.costs[p] > 0]
    election = _MesElection(instance, supported, satisfaction)
    share = mpq(instance.budget, n) if n else mpq(0)
    if n == 0:
        outcome: list[str] = []
    elif completion in ("add1", "add1-greedy"):
        step = share * mpq(increment_percent, 100)
        previous = list(initial)
        while True:
            outcome = initial + [supported[j] for j in election.run(share)]
            spent = sum(instance.costs[p] for p in outcome)
            if spent > instance.budget:
                outcome = previous
                break
            if all(p in outcome or spent + instance.costs[p] > instance.budget for p in supported):
                break
            previous = outcome
            share += step
    else:
        outcome = initial + [supported[j] for j in election.run(share)]
    if completion in ("greedy", "add1-greedy"):
        spent = sum(instance.costs[p] for p in outcome)
        exhaustive = all(p in outcome or spent + instance.costs[p] > instance.budget for p in instance.costs)
        if not exhaustive:
            outcome = greedy(instance, tie_order, "cost", initial=outcome)
    return outcome


@attrs.frozen
class Outcome:
    winners: tuple[str, ...]  # in funding order
    funded_total: int
    votes: Mapping[str, int]


def compute_winners(rule: WinnerRule, costs: Mapping[str, int], budget: int, ballots: Sequence[Ballot],
                    tie_order: Sequence[str]) -> Outcome:
    """The winners of an election under ``rule``. The funded total never exceeds the budget."""
    ballots = ballots if isinstance(ballots, list) else list(ballots)
    votes = vote_counts(costs, ballots)
    if rule.name == "greedy":  # needs each project's points only: no grouping of ballots
        winners = _greedy(costs, budget, votes, tie_order, rule.satisfaction)
    else:
        instance = Instance.build(costs, budget, ballots)
        winners = equal_shares(instance, tie_order, rule.satisfaction, rule.completion, rule.increment_percent)
    funded = sum(costs[p] for p in winners)
    if funded > budget:  # pragma: no cover - both rules only fund what still fits
        raise AssertionError("a winner rule exceeded the budget")
    return Outcome(tuple(winners), funded, votes)


# -- results --------------------------------------------------------------------------------
def ballots_digest(choices: Iterable[Sequence[str]]) -> str:
    """SHA-256 over the counted choices as a multiset (canonical order): the result's record
    names exactly what it counted, whatever order the ballots came in."""
    h = hashlib.sha256()
    # each distinct choice once, times how often it was counted: the same bytes as one by one
    for choice, times in sorted(Counter(tuple(sorted(c)) for c in choices).items()):
        h.update((",".join(choice).encode() + b"\x1e") * times)
    return h.hexdigest()


def borda(ranking: Sequence[str]) -> dict[str, int]:
    """Borda scores of a ranking as pabutools gives them: the last ranked gets 0, each place
    above one more (``Additive_Borda_Sat``)."""
    return {p: len(ranking) - i - 1 for i, p in enumerate(ranking)}


@attrs.frozen
class CountedBallot:
    """A ballot the box counted, as its opening shows it: tracking code and content (the
    projects named; for a graded ballot also its points or its ranking)."""

    tracking_code: str
    choice: tuple[str, ...]
    channel: str
    points: Mapping[str, int] | None = None
    ranking: tuple[str, ...] | None = None

    @classmethod
    def from_content(cls, tracking_code: str, content: Any) -> CountedBallot:
        if not isinstance(content, dict) or not isinstance(content.get("choice"), list):
            raise ValueError("a budget ballot holds a choice list")
        points, ranking = content.get("points"), content.get("ranking")
        if points is not None and not (isinstance(points, dict) and sorted(points) == sorted(content["choice"])
                                       and all(isinstance(w, int) for w in points.values())):
            raise ValueError("a budget ballot's points name the projects it chose, each with a whole number")
        if ranking is not None and not (isinstance(ranking, list) and sorted(ranking) == sorted(content["choice"])):
            raise ValueError("a budget ballot's ranking names the projects it chose")
        return cls(tracking_code, tuple(content["choice"]), str(content.get("channel", "mobile")),
                   dict(points) if points is not None else None, tuple(ranking) if ranking is not None else None)

    @classmethod
    def from_opened(cls, pairs: Iterable[tuple[str, Any]]) -> list[CountedBallot]:
        """``from_content`` of every (tracking code, content) of an opened box. The box decodes
        identical plaintexts once, into one shared content: each is checked once, and its
        ballots share one choice tuple (``compute_result`` works per distinct ballot by it)."""
        checked: dict[int, CountedBallot] = {}
        counted = []
        for code, content in pairs:
            model = checked.get(id(content))
            if model is None:
                model = checked[id(content)] = cls.from_content(code, content)
                counted.append(model)
            else:
                counted.append(cls(code, model.choice, model.channel, model.points, model.ranking))
        return counted

    def weights(self) -> dict[str, int]:
        """What the ballot gives each project it names: 1 for a choice, its points, or the
        Borda score of its place."""
        if self.points is not None:
            return dict(self.points)
        if self.ranking is not None:
            return borda(self.ranking)
        return {p: 1 for p in self.choice}

    def digest_items(self) -> tuple[str, ...]:
        """The ballot for ``ballots_digest``: a choice's project ids as they always were;
        ``project=points`` for points; ``place:project`` for a ranking."""
        if self.points is not None:
            return tuple(f"{p}={w}" for p, w in self.points.items())
        if self.ranking is not None:
            return tuple(f"{i}:{p}" for i, p in enumerate(self.ranking, start=1))
        return self.choice


TIE_CONTEXT = "budget/tie-order"
# what a recorded result holds and the audit compares with its recount
RESULT_FIELDS = ("rule", "inputs", "winners", "funded_total", "votes")


def natural_order(project_id: str) -> tuple[int, str]:
    """Sort key of project ids: numbers by value ("2" before "10"), then other ids."""
    return (int(project_id), "") if project_id.isdigit() else (1 << 62, project_id)


def compute_result(cycle: Mapping[str, Any], counted: Sequence[CountedBallot], seed: bytes) -> dict[str, Any]:
    """The result of a closed cycle (its folded state: budget, costs, ballot style, rule) from
    the ballots its box counted, with the rule and every input it used: what
    ``Cycle.record_result`` stores and what the audit recomputes.

    Ties follow the core's verifiable lottery: the seed committed when the box was made and
    revealed at tally, drawn over every project on the ballot, bound to the counted ballots."""
    from core.voting import draw  # here, not above: the voting kit is heavy to import (``tally --pb`` needs none of it)

    costs: Mapping[str, int] = cycle["costs"]
    # per distinct ballot, not per ballot: ballots of one content share their choice tuple
    # (``from_opened``), so a box of a million holds a few thousand distinct ones. Keyed by the
    # identity of objects all alive here, so two different ballots never share a key.
    distinct: dict[tuple[int, int, int, str], tuple[tuple[str, ...], dict[str, int]]] = {}
    items, weights = [], []
    for b in counted:
        key = (id(b.choice), id(b.points), id(b.ranking), b.channel)
        seen = distinct.get(key)
        if seen is None:
            seen = distinct[key] = (tuple(sorted(b.digest_items())), b.weights())
        items.append(seen[0])
        weights.append(seen[1])
    digest = ballots_digest(items)
    order = draw(seed, bytes.fromhex(digest), sorted(costs), TIE_CONTEXT)
    rule = WinnerRule.from_dict(cycle["rule"])
    outcome = compute_winners(rule, costs, cycle["budget"], weights, order)
    channels = Counter(b.channel for b in counted)
    inputs = {
        "budget": cycle["budget"],
        "costs": dict(sorted(costs.items(), key=lambda kv: natural_order(kv[0]))),
        "ballot_style": cycle["ballot_style"],
        "last_vote_counts": cycle["last_vote_counts"],
        "ballots_counted": len(counted),
        "ballots_by_channel": dict(sorted(channels.items())),
        "ballots_digest": digest,
        "lottery": {"seed": seed.hex(), "root": digest, "context": TIE_CONTEXT},
        "tie_order": order,
    }
    return {"rule": rule.as_dict(), "inputs": inputs, "winners": list(outcome.winners),
            "funded_total": outcome.funded_total, "votes": dict(outcome.votes)}


def apply_overrides(winners: Sequence[str], overrides: Iterable[tuple[str, str]], costs: Mapping[str, int],
                    budget: int) -> tuple[str, ...]:
    """The winners after officials' overrides (``("fund"|"unfund", project)``), refusing any that
    would break the budget."""
    result = list(winners)
    for action, project in overrides:
        if project not in costs:
            raise InvalidInput(f"Project {project} was not on the ballot.")
        if action == "fund":
            if project in result:
                raise InvalidInput(f"Project {project} is already funded.")
            total = sum(costs[p] for p in result) + costs[project]
            if total > budget:
                raise InvalidInput(f"Funding {project} would bring the total to {total:,} won, over the budget of {budget:,} won.",
                                   rule="budget")
            result.append(project)
        elif action == "unfund":
            if project not in result:
                raise InvalidInput(f"Project {project} is not funded.")
            result.remove(project)
        else:
            raise InvalidInput(f"Unknown override {action!r}; use fund or unfund.")
    return tuple(result)
