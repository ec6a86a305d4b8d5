"""Pure rules of apartment elections and decisions (Multi-Family Housing Management Act,
Enforcement Decree Art. 11): rule sets, ballot forms, the tally with its quorum and thresholds,
and the tie lottery order.

No I/O and no clock: the live close, the auditor's re-tally and the property tests call these
same functions. Fractions are kept as integer numerators and denominators so that "more than
half" is decided exactly (``yes * 2 > voters``), never on a rounded percentage.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Literal

import attrs

from core import InvalidInput, refuse_unknown_settings


Kind = Literal["building_representative", "chair", "auditor", "agenda"]
KINDS: tuple[str, ...] = ("building_representative", "chair", "auditor", "agenda")
ApprovalBasis = Literal["voters", "households"]
AGENDA_OPTIONS = ("yes", "no")
# Auditors: the Act asks for two or more; two is the usual bylaw figure.
DEFAULT_AUDITOR_SEATS = 2
MAX_SEATS = 50


def _positive(_: Any, attribute: attrs.Attribute, value: int) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        raise InvalidInput(f"{attribute.name} must be a positive whole number.", field=attribute.name)


def _natural(_: Any, attribute: attrs.Attribute, value: int) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise InvalidInput(f"{attribute.name} must be a whole number, 0 or more.", field=attribute.name)


@attrs.frozen
class RuleSet:
    """How one contest is decided. Defaults per kind come from ``default_rules``.

    - turnout quorum: ``voted / households`` must be more than (``turnout_strict``) or at least
      ``turnout_num / turnout_den``; households are those of the contest's constituency;
    - a single candidate (or, with several seats, each candidate when there are no more
      candidates than seats) and an agenda need "yes" from more than ``approval_num /
      approval_den`` of the voters (``approval_basis="voters"``) or of all the constituency's
      households (``"households"``);
    - with more candidates than seats, the most votes win (top-``seats``); a candidate needs at
      least one vote; a tie for the last seat is broken by the lottery.
    """

    turnout_num: int = attrs.field(validator=_natural)
    turnout_den: int = attrs.field(validator=_positive)
    turnout_strict: bool
    approval_num: int = attrs.field(default=1, validator=_natural)
    approval_den: int = attrs.field(default=2, validator=_positive)
    approval_basis: ApprovalBasis = "voters"
    seats: int = attrs.field(default=1, validator=_positive)
    tie_break: Literal["lottery"] = "lottery"
    source: str = ""

    def __attrs_post_init__(self) -> None:
        if self.turnout_num > self.turnout_den:
            raise InvalidInput("The turnout quorum cannot exceed all households.", field="turnout_num")
        if self.approval_num > self.approval_den:
            raise InvalidInput("The approval threshold cannot exceed the whole.", field="approval_num")
        if self.approval_basis not in ("voters", "households"):
            raise InvalidInput("approval_basis is 'voters' or 'households'.", field="approval_basis")
        if not isinstance(self.turnout_strict, bool):
            raise InvalidInput("turnout_strict must be true or false.", field="turnout_strict")
        if self.seats > MAX_SEATS:
            raise InvalidInput(f"At most {MAX_SEATS} seats.", field="seats")
        if self.tie_break != "lottery":
            raise InvalidInput("The only tie-break is the lottery.", field="tie_break")

    def to_json(self) -> dict[str, Any]:
        return attrs.asdict(self)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> RuleSet:
        refuse_unknown_settings(cls, data, "rule")
        try:
            return cls(**dict(data))
        except TypeError as exc:
            raise InvalidInput(f"Incomplete rule set: {exc}.") from None

    def turnout_text(self) -> str:
        word = "more than" if self.turnout_strict else "at least"
        return f"{word} {self.turnout_num}/{self.turnout_den} ({percent(self.turnout_num, self.turnout_den)})"

    def approval_text(self) -> str:
        return (f"more than {self.approval_num}/{self.approval_den} of the "
                f"{'voters' if self.approval_basis == 'voters' else 'households'}")


ART_11 = "Multi-Family Housing Management Act Enforcement Decree Art. 11"


def default_rules(kind: str, seats: int | None = None) -> RuleSet:
    """The Enforcement Decree Art. 11 rule set for a kind of contest."""
    if kind == "building_representative":
        return RuleSet(1, 2, True, 1, 2, "voters", seats or 1, source=f"{ART_11}(1): building representative")
    if kind == "chair":
        return RuleSet(1, 10, False, 1, 2, "voters", seats or 1, source=f"{ART_11}(2): chair elected directly")
    if kind == "auditor":
        return RuleSet(1, 10, False, 1, 2, "voters", seats or DEFAULT_AUDITOR_SEATS,
                       source=f"{ART_11}(2): auditors elected directly")
    if kind == "agenda":
        # e.g. amending the bylaws: a majority of all households (Act Art. 18, Decree Art. 20)
        return RuleSet(1, 2, True, 1, 2, "households", 1, source="agenda decision: majority of all households")
    raise InvalidInput(f"Unknown contest kind {kind!r}; one of {', '.join(KINDS)}.", field="kind")


@attrs.frozen
class Contest:
    """What a tally needs to know of a contest."""

    contest_id: str
    kind: str
    title: str
    building: str | None
    rules: RuleSet
    candidates: tuple[str, ...] = ()
    names: tuple[str, ...] = ()  # display names, parallel to ``candidates`` (reasons read better)

    @classmethod
    def from_json(cls, contest_id: str, data: Mapping[str, Any]) -> Contest:
        """A contest as an election keeps it: ``{kind, title, building, rules, candidates:
        {candidate_id: {name, withdrawn?}}}``; withdrawn candidates are not on the ballot."""
        live = [k for k, v in data["candidates"].items() if not v.get("withdrawn")]
        return cls(contest_id=contest_id, kind=data["kind"], title=data["title"], building=data["building"],
                   rules=RuleSet.from_json(data["rules"]), candidates=tuple(live),
                   names=tuple(data["candidates"][k]["name"] for k in live))

    def label(self, candidate: str) -> str:
        if len(self.names) == len(self.candidates) and candidate in self.candidates:
            return self.names[self.candidates.index(candidate)]
        return candidate

    @property
    def is_agenda(self) -> bool:
        return self.kind == "agenda"

    @property
    def contested(self) -> bool:
        """More candidates than seats: plurality. Otherwise each candidate is approved or not."""
        return len(self.candidates) > self.rules.seats


def ballot_form(contest: Contest) -> dict[str, Any]:
    """What a voter is asked, for forms and the API."""
    if contest.is_agenda:
        return {"form": "yes_no", "options": list(AGENDA_OPTIONS), "max_choices": 1,
                "blank": "an empty ballot abstains"}
    if not contest.candidates:
        return {"form": "none", "options": [], "max_choices": 0, "blank": "no candidate registered"}
    if contest.contested:
        return {"form": "choose", "options": list(contest.candidates), "max_choices": contest.rules.seats,
                "blank": "an empty ballot counts for turnout only"}
    return {"form": "approve", "options": list(contest.candidates), "max_choices": len(contest.candidates),
            "blank": "each candidate not chosen counts as a 'no'"}


def validate_ballot(contest: Contest, choices: Sequence[str]) -> list[str]:
    """The ballot as it will be counted, or ``InvalidInput``. An empty ballot is valid (blank)."""
    if isinstance(choices, (str, bytes)) or not all(isinstance(c, str) for c in choices):
        raise InvalidInput("A ballot is a list of option ids.", contest=contest.contest_id)
    chosen = list(choices)
    if len(set(chosen)) != len(chosen):
        raise InvalidInput("A ballot names each option at most once.", contest=contest.contest_id)
    form = ballot_form(contest)
    if form["form"] == "none":
        raise InvalidInput(f"Contest {contest.title!r} has no candidate to vote for.", contest=contest.contest_id)
    unknown = [c for c in chosen if c not in form["options"]]
    if unknown:
        raise InvalidInput(f"Not an option of {contest.title!r}: {', '.join(unknown)}.", contest=contest.contest_id)
    if len(chosen) > form["max_choices"]:
        raise InvalidInput(f"{contest.title!r} allows at most {form['max_choices']} choice(s).",
                           contest=contest.contest_id)
    return chosen


# -- arithmetic ------------------------------------------------------------------------------

def reaches(part: int, whole: int, num: int, den: int, strict: bool) -> bool:
    """``part / whole`` more than (strict) or at least ``num / den``; nothing reaches a share of 0
    households or voters except a zero threshold that is not strict."""
    if whole <= 0:
        return num == 0 and not strict
    return part * den > num * whole if strict else part * den >= num * whole


def percent(part: int, whole: int) -> str:
    """One decimal, half up, exact integer arithmetic: ``percent(41, 100) == "41.0%"``."""
    if whole <= 0:
        return "0.0%"
    tenths = (part * 2000 + whole) // (2 * whole)
    return f"{tenths // 10}.{tenths % 10}%"


def canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


# -- the lottery -----------------------------------------------------------------------------

Draw = Callable[[Sequence[str], str], list[str]]
"""``draw(tied, context) -> tied in lottery order`` (first wins). The live close passes the voting
kit's verifiable draw (committed seed, ledger root); the auditor passes the same draw with the
seed and root read from the log."""


def hash_draw(seed: str) -> Draw:
    """A draw that depends only on ``seed``: options ordered by SHA-256(seed:context:option)."""
    def draw(tied: Sequence[str], context: str) -> list[str]:
        return sorted(tied, key=lambda o: (hashlib.sha256(f"{seed}:{context}:{o}".encode()).hexdigest(), o))
    return draw


def ballots_root(tally_input: Sequence[tuple[str, Any]]) -> bytes:
    """SHA-256 over the counted ballots, in an order that does not depend on the box's shuffle:
    the lottery's public value when there is no ledger root."""
    return hashlib.sha256(canonical(sorted(canonical([g, c]) for g, c in tally_input)).encode()).digest()


# -- the tally -------------------------------------------------------------------------------

@attrs.frozen
class Result:
    contest_id: str
    kind: str
    title: str
    building: str | None
    status: str  # elected | not_elected | no_candidate | adopted | not_adopted
    elected: tuple[str, ...]
    reason: str
    households: int
    voted: int
    turnout: str
    quorum_met: bool
    counts: dict[str, int]
    blank: int
    by_building: dict[str, dict[str, int]]
    tie: dict[str, Any] | None
    rule: dict[str, Any]

    def to_json(self) -> dict[str, Any]:
        data = attrs.asdict(self)
        data["elected"] = list(self.elected)
        return data


def _plurality(contest: Contest, counts: dict[str, int], draw: Draw) -> tuple[list[str], dict[str, Any] | None]:
    """Top-``seats`` candidates with at least one vote; a tie across the last seat is drawn."""
    seats = contest.rules.seats
    by_votes: dict[int, list[str]] = {}
    for candidate in contest.candidates:
        if counts[candidate] > 0:
            by_votes.setdefault(counts[candidate], []).append(candidate)
    elected: list[str] = []
    tie = None
    for votes in sorted(by_votes, reverse=True):
        group = by_votes[votes]
        free = seats - len(elected)
        if free <= 0:
            break
        if len(group) <= free:
            elected.extend(group)
        else:
            context = f"{contest.contest_id}/tie/{votes}"
            order = list(draw(sorted(group), context))
            if sorted(order) != sorted(group):
                raise ValueError("the lottery must return exactly the tied candidates")
            elected.extend(order[:free])
            tie = {"votes": votes, "tied": sorted(group), "seats": free, "context": context, "order": order}
    return elected, tie


def tally(contest: Contest, households: Mapping[str, int], ballots: Sequence[tuple[str, Sequence[str]]],
          draw: Draw | None = None) -> Result:
    """Decide a contest.

    ``households`` is the constituency's roll: building -> number of households. ``ballots`` is
    one ``(building, choices)`` per household that voted in this contest (the ballot box keeps
    one ballot per household, the latest); choices are validated (``validate_ballot``).
    ``draw`` orders a tie (default: ``hash_draw`` over the ballots, for tests and tools).
    """
    strangers = sorted({b for b, _ in ballots if b not in households})
    if strangers:
        raise ValueError(f"ballots from buildings outside the constituency: {strangers}")
    rules = contest.rules
    if draw is None:
        draw = hash_draw(hashlib.sha256(canonical(sorted(canonical([b, sorted(c)]) for b, c in ballots)).encode()).hexdigest())
    eligible, voted = sum(households.values()), len(ballots)
    turnout = percent(voted, eligible)
    quorum_met = reaches(voted, eligible, rules.turnout_num, rules.turnout_den, rules.turnout_strict)
    blank = sum(1 for _, c in ballots if not c)
    options = list(AGENDA_OPTIONS) if contest.is_agenda else list(contest.candidates)
    counts = {o: 0 for o in options}
    by_building = {b: {"households": households[b], "voted": 0} for b in sorted(households)}
    for building, choices in ballots:
        by_building[building]["voted"] += 1
        for choice in choices:
            counts[choice] += 1
    base = {"contest_id": contest.contest_id, "kind": contest.kind, "title": contest.title,
            "building": contest.building, "households": eligible, "voted": voted, "turnout": turnout,
            "quorum_met": quorum_met, "counts": counts, "blank": blank, "by_building": by_building,
            "rule": rules.to_json()}
    turnout_line = f"turnout {turnout} ({voted} of {eligible} households)"

    def result(status: str, elected: Sequence[str], reason: str, tie: dict[str, Any] | None = None) -> Result:
        return Result(status=status, elected=tuple(elected), reason=reason, tie=tie, **base)

    if contest.is_agenda:
        if not quorum_met:
            return result("not_adopted", [], f"not adopted: {turnout_line} below the required {rules.turnout_text()}")
        whole = voted if rules.approval_basis == "voters" else eligible
        yes = counts["yes"]
        share = f"{yes} yes of {whole} {rules.approval_basis} ({percent(yes, whole)})"
        if reaches(yes, whole, rules.approval_num, rules.approval_den, True):
            return result("adopted", [], f"adopted: {share}; {rules.approval_text()} required")
        return result("not_adopted", [], f"not adopted: {share}; {rules.approval_text()} required")

    if not contest.candidates:
        return result("no_candidate", [], "not elected: no candidate registered")
    if not quorum_met:
        return result("not_elected", [], f"not elected: {turnout_line} below the required {rules.turnout_text()}")

    if contest.contested:
        elected, tie = _plurality(contest, counts, draw)
        if not elected:
            return result("not_elected", [], "not elected: no candidate received a vote")
        lines = ", ".join(f"{contest.label(c)} ({counts[c]} votes)" for c in elected)
        vacant = rules.seats - len(elected)
        reason = f"elected: {lines}; most votes, {turnout_line}"
        if tie:
            reason += f"; tie at {tie['votes']} votes broken by lottery"
        if vacant:
            reason += f"; {vacant} seat(s) vacant"
        return result("elected", elected, reason, tie)

    # no more candidates than seats: each one needs approval
    whole = voted if rules.approval_basis == "voters" else eligible
    elected = [c for c in contest.candidates
               if reaches(counts[c], whole, rules.approval_num, rules.approval_den, True)]
    shares = "; ".join(f"{contest.label(c)} received {percent(counts[c], whole)} yes "
                       f"({counts[c]} of {whole} {rules.approval_basis})" for c in contest.candidates)
    single = "single candidate " if len(contest.candidates) == 1 else ""
    if not elected:
        return result("not_elected", [], f"not elected: {single}{shares}; {rules.approval_text()} required")
    reason = f"elected: {', '.join(contest.label(c) for c in elected)}; {single}{shares}; {rules.approval_text()} required"
    vacant = rules.seats - len(elected)
    if vacant:
        reason += f"; {vacant} seat(s) vacant"
    return result("elected", elected, reason)


def constituency(roll: Mapping[str, str], building: str | None) -> dict[str, int]:
    """A contest's constituency: building -> households on the frozen roll (``building`` None:
    every building)."""
    counts: dict[str, int] = {}
    for b in roll.values():
        if building is None or b == building:
            counts[b] = counts.get(b, 0) + 1
    return counts


def election_results(contests: Mapping[str, Mapping[str, Any]], roll: Mapping[str, str],
                     tally_input: Iterable[tuple[str, Any]], draw: Draw | None = None) -> dict[str, dict[str, Any]]:
    """Each contest's result from the counted ballots: ``(building, {contest_id: choices})`` per
    household that voted, as the ballot box hands them over (one per household, the latest).
    ``contests`` as an election keeps them (see ``Contest.from_json``); ``roll`` household ->
    building as frozen when voting opened.

    Raises ``ValueError`` for a ballot that does not fit its contest or building (possible only
    in a changed log: the box validated each ballot before sealing it).
    """
    ballots = list(tally_input)
    for building, content in ballots:
        if not isinstance(content, dict):
            raise ValueError(f"a ballot of building {building} is not a contest map")
    results: dict[str, dict[str, Any]] = {}
    for contest_id, data in contests.items():
        contest = Contest.from_json(contest_id, data)
        households = constituency(roll, contest.building)
        mine = [(b, c[contest_id]) for b, c in ballots if contest_id in c]
        for building, choices in mine:
            if building not in households:
                raise ValueError(f"a ballot of building {building} votes in {contest_id}, outside its constituency")
            try:
                validate_ballot(contest, choices)
            except Exception as exc:  # noqa: BLE001 - InvalidInput, or whatever a changed log's ballot breaks
                raise ValueError(f"a ballot in {contest_id}: {getattr(exc, 'detail', exc)}") from None
        results[contest_id] = tally(contest, households, mine, draw).to_json()
    return results
