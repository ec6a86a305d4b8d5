"""The participatory-budget cycle: settings, proposals, screening, phases and result. Ballots
live in the core voting kit's box for the cycle (process id = the cycle's id).

Every command checks its rules first and raises a ``core.errors`` error before any event is
triggered, so a refused command changes nothing."""

from __future__ import annotations

import base64
import re

from typing import Any
from uuid import UUID

from core import CivicAggregate, InvalidInput, RuleViolation, event, natural_id
from plugins.budget_vote import rules

PHASES = ("proposal", "screening", "voting", "tallying", "published")
# transitions an administrator makes with "advance"; tallying -> published is "validate"
NEXT_PHASE = {"proposal": "screening", "screening": "voting", "voting": "tallying"}
MIN_REASON = 10


def _text(value: Any, what: str, *, required: bool = True, limit: int = 2000) -> str:
    if not isinstance(value, str):
        raise InvalidInput(f"{what} must be text.")
    value = value.strip()
    if required and not value:
        raise InvalidInput(f"{what} is required.")
    if len(value) > limit:
        raise InvalidInput(f"{what} is longer than {limit} characters.")
    return value


def _envelope(value: Any) -> dict[str, str]:
    if not (isinstance(value, dict) and value.get("sealed") and value.get("ct")):
        raise InvalidInput("The proposer must be given as sealed personal data.")
    return value


# why a cycle with points, scores or rankings is never voted on in civic
GRADED_ONLY_IMPORTED = ("Ballots that give points, scores or rankings come only from an imported Pabulib file; "
                        "civic's online and paper ballots choose projects (approval or knapsack).")

# 10 trillion won: above any district budget, and exact in every JSON reader (< 2**53)
MAX_WON = 10**13


def _won(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise InvalidInput(f"{what} must be a positive whole number of won.")
    if value > MAX_WON:
        raise InvalidInput(f"{what} must be at most {MAX_WON:,} won.")
    return value


# a cycle imported from a file counts in the file's currency, in whole units of its smallest
# written amount; the file's META is kept for the export (at most this many fields, that long)
CURRENCY = re.compile(r"^[A-Z]{3}$")
MAX_AMOUNT_DECIMALS = 24
MAX_SOURCE_FIELDS, MAX_SOURCE_TEXT = 200, 5000


def check_import(currency: str | None, amount_decimals: int, meta: dict[str, str]) -> None:
    """What an ``Imported`` event may record (checked before an import stores anything)."""
    if currency is not None and not CURRENCY.match(currency):
        raise InvalidInput(f"The currency {currency!r} is not a three-letter code such as PLN or EUR.")
    if isinstance(amount_decimals, bool) or not isinstance(amount_decimals, int) \
            or not 0 <= amount_decimals <= MAX_AMOUNT_DECIMALS:
        raise InvalidInput(f"The amount decimals must be a whole number from 0 to {MAX_AMOUNT_DECIMALS}.")
    if not isinstance(meta, dict) or len(meta) > MAX_SOURCE_FIELDS or not all(
            isinstance(k, str) and isinstance(v, str) and len(k) + len(v) <= MAX_SOURCE_TEXT for k, v in meta.items()):
        raise InvalidInput(f"The file's META must be at most {MAX_SOURCE_FIELDS} fields of at most "
                           f"{MAX_SOURCE_TEXT} characters.")


class Cycle(CivicAggregate):
    """One participatory-budget cycle (e.g. the 2016 district projects).

    Amounts (budget, costs) are whole numbers: won for civic's own cycles; for a cycle imported
    from a file, units of 10**-amount_decimals of the file's ``currency`` (grosze for a Warszawa
    file whose budget is 969245.38 PLN), recorded by its ``Imported`` event."""

    currency: str | None = "KRW"
    amount_decimals = 0
    source: dict[str, Any] | None = None

    @staticmethod
    def create_id(name: str, **_: Any) -> UUID:
        return natural_id("budget.cycle", name)

    @classmethod
    def open(cls, *, name: str, budget: int, scope: str, voting_opens: str | None, voting_closes: str | None,
             ballot_style: dict[str, Any] | None, rule: dict[str, Any] | None, last_vote_counts: bool,
             opened_by: str) -> Cycle:
        name = _text(name, "The cycle's name", limit=200)
        budget = _won(budget, "The budget")
        scope = _text(scope, "The scope (district or dong)", limit=100)
        style = rules.BallotStyle.from_dict(ballot_style or {})
        rule_ = rules.WinnerRule.from_dict(rule or {})
        if not isinstance(last_vote_counts, bool):
            raise InvalidInput("last_vote_counts must be true or false.")
        if voting_opens and voting_closes and voting_opens >= voting_closes:
            raise InvalidInput("Voting must close after it opens.")
        return cls(name=name, budget=budget, scope=scope, voting_opens=voting_opens, voting_closes=voting_closes,
                   ballot_style=style.as_dict(), rule=rule_.as_dict(), last_vote_counts=last_vote_counts,
                   opened_by=opened_by)

    @event("Opened")
    def __init__(self, name: str, budget: int, scope: str, voting_opens: str | None, voting_closes: str | None,
                 ballot_style: dict[str, Any], rule: dict[str, Any], last_vote_counts: bool, opened_by: str) -> None:
        self.name = name
        self.budget = budget
        self.scope = scope
        self.voting_opens = voting_opens
        self.voting_closes = voting_closes
        self.ballot_style = ballot_style
        self.rule = rule
        self.last_vote_counts = last_vote_counts
        self.phase = "proposal"
        self.proposals: dict[str, dict[str, Any]] = {}
        self.result: dict[str, Any] | None = None
        self.overrides: list[dict[str, Any]] = []
        self.validated_by: str | None = None

    # -- reading ----------------------------------------------------------------------------
    @property
    def style(self) -> rules.BallotStyle:
        return rules.BallotStyle.from_dict(self.ballot_style)

    @staticmethod
    def short_code_of(cycle_id: UUID | str) -> str:
        """The cycle's short link code, for text messages (``/b/<code>``)."""
        return base64.b32encode(UUID(str(cycle_id)).bytes[:5]).decode().lower()

    @property
    def short_code(self) -> str:
        return self.short_code_of(self.id)

    @property
    def winner_rule(self) -> rules.WinnerRule:
        return rules.WinnerRule.from_dict(self.rule)

    @property
    def ballot_costs(self) -> dict[str, int]:
        """The projects on the ballot (screened feasible) and their costs."""
        return {pid: p["cost"] for pid, p in self.proposals.items() if p.get("feasible")}

    @property
    def winners(self) -> list[str]:
        return list(self.result["final_winners"]) if self.result else []

    def _require_phase(self, *phases: str, doing: str) -> None:
        if self.phase not in phases:
            raise RuleViolation(f"Cannot {doing} in the {self.phase} phase (only in: {', '.join(phases)}).",
                                phase=self.phase)

    def record_import(self, *, source: str, currency: str | None, amount_decimals: int, meta: dict[str, str],
                      by: str) -> None:
        """Say where the cycle comes from (a Pabulib file) and what its amounts count: before any
        proposal, once."""
        self._require_phase("proposal", doing="record where the cycle was imported from")
        if self.source is not None or self.proposals:
            raise RuleViolation("Where a cycle comes from is recorded once, before its proposals.")
        check_import(currency, amount_decimals, meta)
        self._imported(source=_text(source, "The source", limit=100), currency=currency,
                       amount_decimals=amount_decimals, meta=dict(meta), by=by)

    @event("Imported")
    def _imported(self, source: str, currency: str | None, amount_decimals: int, meta: dict[str, str],
                  by: str) -> None:
        self.source = {"format": source, "meta": meta}
        self.currency = currency
        self.amount_decimals = amount_decimals

    # -- settings -----------------------------------------------------------------------------
    def configure(self, *, ballot_style: dict[str, Any] | None, rule: dict[str, Any] | None,
                  last_vote_counts: bool | None, by: str) -> None:
        self._require_phase("proposal", "screening", doing="change the ballot or the winner rule")
        style = rules.BallotStyle.from_dict(ballot_style if ballot_style is not None else self.ballot_style)
        if style.graded and ballot_style is not None:
            raise InvalidInput(GRADED_ONLY_IMPORTED)
        rule_ = rules.WinnerRule.from_dict(rule if rule is not None else self.rule)
        last = self.last_vote_counts if last_vote_counts is None else last_vote_counts
        if not isinstance(last, bool):
            raise InvalidInput("last_vote_counts must be true or false.")
        self._configured(ballot_style=style.as_dict(), rule=rule_.as_dict(), last_vote_counts=last, by=by)

    @event("Configured")
    def _configured(self, ballot_style: dict[str, Any], rule: dict[str, Any], last_vote_counts: bool, by: str) -> None:
        self.ballot_style = ballot_style
        self.rule = rule
        self.last_vote_counts = last_vote_counts

    # -- proposals ------------------------------------------------------------------------------
    def submit(self, *, title: str, description: str, dong: str, category: str, proposer: dict[str, str],
               proposer_role: str, project_id: str | None = None) -> str:
        """``proposer`` is a personal-data envelope (``core.privacy``): the name never enters the
        log in clear and is erased with its subject."""
        self._require_phase("proposal", doing="submit a proposal")
        if proposer_role not in ("resident", "council_member"):
            raise InvalidInput("A proposer is a resident or a council member.")
        if project_id is None:
            number = len(self.proposals) + 1
            while str(number) in self.proposals:
                number += 1
            project_id = str(number)
        elif project_id in self.proposals:
            raise InvalidInput(f"There is already a proposal {project_id} in this cycle.")
        self._submitted(project_id=project_id, title=_text(title, "The title", limit=200),
                        description=_text(description, "The description", required=False, limit=5000),
                        dong=_text(dong, "The dong", limit=100), category=_text(category, "The category", limit=100),
                        proposer=_envelope(proposer), proposer_role=proposer_role)
        return project_id

    @event("ProposalSubmitted")
    def _submitted(self, project_id: str, title: str, description: str, dong: str, category: str,
                   proposer: dict[str, str], proposer_role: str) -> None:
        self.proposals[project_id] = {"title": title, "description": description, "dong": dong,
                                      "category": category, "proposer": proposer, "proposer_role": proposer_role,
                                      "screened": False, "feasible": None, "cost": None, "reason": None}

    def screen(self, *, project_id: str, feasible: bool, cost: int | None, reason: str, by: str) -> None:
        self._require_phase("screening", doing="screen a proposal")
        if project_id not in self.proposals:
            raise InvalidInput(f"No proposal {project_id} in this cycle.")
        if self.proposals[project_id].get("withdrawn"):
            raise RuleViolation(f"Proposal {project_id} was withdrawn.")
        if not isinstance(feasible, bool):
            raise InvalidInput("feasible must be true or false.")
        reason = _text(reason, "The screening reason", limit=2000)
        if feasible:
            cost = _won(cost, "The cost")
            if cost > self.budget:
                raise InvalidInput(f"The cost {cost:,} won is more than the whole budget of {self.budget:,} won.")
        elif cost is not None:
            cost = _won(cost, "The cost")
        self._screened(project_id=project_id, feasible=feasible, cost=cost, reason=reason, by=by)

    @event("ProposalScreened")
    def _screened(self, project_id: str, feasible: bool, cost: int | None, reason: str, by: str) -> None:
        self.proposals[project_id].update(screened=True, feasible=feasible, cost=cost, reason=reason)

    def withdraw(self, *, project_id: str, reason: str, by: str) -> None:
        """Take a proposal off the cycle before voting (its proposer asked, or it repeats another);
        it keeps its number, and never reaches the ballot."""
        self._require_phase("proposal", "screening", doing="withdraw a proposal")
        if project_id not in self.proposals:
            raise InvalidInput(f"No proposal {project_id} in this cycle.")
        if self.proposals[project_id].get("withdrawn"):
            raise RuleViolation(f"Proposal {project_id} is already withdrawn.")
        self._withdrawn(project_id=project_id, reason=_text(reason, "The reason for withdrawing", limit=2000), by=by)

    @event("ProposalWithdrawn")
    def _withdrawn(self, project_id: str, reason: str, by: str) -> None:
        self.proposals[project_id].update(withdrawn=True, feasible=False, withdrawn_reason=reason)

    # -- phases -------------------------------------------------------------------------------
    def advance(self, *, to: str, by: str) -> None:
        if to not in PHASES:
            raise InvalidInput(f"Unknown phase {to!r}; phases are {' → '.join(PHASES)}.")
        if to == "published":
            raise RuleViolation("Results are published by validating them, not by advancing the phase.")
        expected = NEXT_PHASE.get(self.phase)
        if to != expected:
            raise RuleViolation(f"The cycle is in the {self.phase} phase; the next phase is "
                                f"{expected or 'none'}, not {to}.", phase=self.phase)
        if to == "screening" and not any(not p.get("withdrawn") for p in self.proposals.values()):
            raise RuleViolation("There are no proposals to screen.")
        if to == "voting":
            unscreened = [pid for pid, p in self.proposals.items() if not p["screened"] and not p.get("withdrawn")]
            if unscreened:
                raise RuleViolation(f"Proposals not screened yet: {', '.join(unscreened)}.")
            if not self.ballot_costs:
                raise RuleViolation("No proposal was found feasible: there is nothing to vote on.")
            style = self.style
            if style.graded and self.source is None:
                raise RuleViolation(GRADED_ONLY_IMPORTED)
            if style.min_projects > len(self.ballot_costs):
                raise RuleViolation(f"The ballot asks for at least {style.min_projects} projects but only "
                                    f"{len(self.ballot_costs)} are on it.")
        self._advanced(from_phase=self.phase, to=to, by=by)

    @event("PhaseAdvanced")
    def _advanced(self, from_phase: str, to: str, by: str) -> None:
        self.phase = to

    def check_phase_for_ballots(self) -> None:
        self._require_phase("voting", doing="cast a ballot")

    def check_ballot(self, content: Any) -> dict[str, Any]:
        """The ballot's content as the box seals it (``rules.validate_vote``), or why not."""
        self.check_phase_for_ballots()
        return rules.validate_vote(self.style, self.ballot_costs, self.budget, content)

    # -- result -------------------------------------------------------------------------------
    def record_result(self, *, rule: dict[str, Any], inputs: dict[str, Any], winners: list[str],
                      funded_total: int, votes: dict[str, int], by: str) -> None:
        self._require_phase("tallying", doing="record the result")
        if self.result is not None:
            raise RuleViolation("The result of this cycle has already been computed.")
        self._result_computed(rule=rule, inputs=inputs, winners=winners, funded_total=funded_total,
                              votes=votes, by=by)

    @event("ResultComputed")
    def _result_computed(self, rule: dict[str, Any], inputs: dict[str, Any], winners: list[str],
                         funded_total: int, votes: dict[str, int], by: str) -> None:
        self.result = {"rule": rule, "inputs": inputs, "winners": list(winners), "funded_total": funded_total,
                       "votes": votes, "final_winners": list(winners), "computed_by": by}

    def override(self, *, action: str, project_id: str, reason: str, by: str) -> None:
        self._require_phase("tallying", doing="override the result")
        if self.result is None:
            raise RuleViolation("There is no computed result to override yet.")
        reason = _text(reason, "The reason for the override", limit=2000)
        if len(reason) < MIN_REASON:
            raise InvalidInput(f"An override needs a written reason of at least {MIN_REASON} characters.")
        winners = rules.apply_overrides(self.result["final_winners"], [(action, project_id)], self.ballot_costs,
                                        self.budget)
        self._overridden(action=action, project_id=project_id, reason=reason, by=by, winners=list(winners))

    @event("ResultOverridden")
    def _overridden(self, action: str, project_id: str, reason: str, by: str, winners: list[str]) -> None:
        self.overrides.append({"action": action, "project_id": project_id, "reason": reason, "by": by})
        self.result["final_winners"] = list(winners)

    def validate(self, *, by: str) -> None:
        self._require_phase("tallying", doing="validate the result")
        if self.result is None:
            raise RuleViolation("Compute the result before validating it.")
        funded = sum(self.proposals[p]["cost"] for p in self.result["final_winners"])
        self._validated(by=by, winners=list(self.result["final_winners"]), funded_total=funded)

    @event("ResultValidated")
    def _validated(self, by: str, winners: list[str], funded_total: int) -> None:
        self.phase = "published"
        self.validated_by = by
        self.result["final_funded_total"] = funded_total
