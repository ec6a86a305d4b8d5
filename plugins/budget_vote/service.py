"""Commands of the participatory budget on the engine, shared by the HTTP API, the CLI and the
demo. Each one authorises nothing itself (callers do) and records ``by``: who acted."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any
from uuid import UUID

from core import Engine, InvalidInput, NotFound, RuleViolation, check_dong
from core.voting import PREPARED, VotingKit
from plugins.budget_vote import rules
from plugins.budget_vote.domain import Cycle
from plugins.budget_vote.fold import CYCLE_EVENTS, fold
from plugins.budget_vote.views import CycleSummaries

GRADED_WORDS = {"cumulative": "points shared out between projects", "scoring": "a score to each project",
                "ordinal": "a ranking of projects"}
PROJECT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,39}$")
# ballots enter the box in shuffled batches of at least this many (hides arrival order)
BATCH_SIZE = 50
# The district's wording; the link opens the vote with the code filled in (after '#', so the
# code never reaches a server log), and the code stays the message's last word.
CODE_MESSAGES = {
    "ko": "[중구 주민참여예산] {name} 투표: {url}#{code} 인증번호: {code}",
    "en": "[Jung-gu participatory budget] {name} vote: {url}#{code} Voting code: {code}",
}


def get_cycle(engine: Engine, cycle_id: UUID | str) -> Cycle:
    try:
        cid = UUID(str(cycle_id))
    except ValueError:
        raise NotFound(f"No budget cycle with id {cycle_id}.") from None
    return engine.get(cid, Cycle, what="budget cycle")


def voting_cycle_for_ballots(engine: Engine, cycle_id: UUID | str) -> Cycle:
    """The cycle as ballots are checked against it. Once a cycle is voting, what a ballot is
    checked against (projects, costs, style) can no longer change (settings and screening are
    refused from then on) and the box, not the cycle, says whether voting is still open; so a
    cycle loaded in the voting phase is kept per engine instead of being replayed per ballot."""
    cid = UUID(str(cycle_id)) if not isinstance(cycle_id, UUID) else cycle_id
    voting: dict[UUID, Cycle] = engine.kept("budget_vote.voting_cycles", dict)
    cached = voting.get(cid)
    if cached is not None:
        return cached
    cycle = get_cycle(engine, cid)
    if cycle.phase == "voting":
        voting[cid] = cycle  # one dict operation: atomic, no lock needed
    return cycle


def voting_ballot_rule(engine: Engine, cycle_id: UUID) -> tuple[rules.BallotStyle, dict[str, int], int]:
    """What a ballot of a voting cycle is checked against (style, projects and costs, budget),
    made once per cycle like the cycle itself; refused outside the voting phase."""
    kept: dict[UUID, tuple[rules.BallotStyle, dict[str, int], int]] = engine.kept("budget_vote.ballot_rules", dict)
    rule = kept.get(cycle_id)
    if rule is None:
        cycle = voting_cycle_for_ballots(engine, cycle_id)
        cycle.check_phase_for_ballots()
        rule = (cycle.style, cycle.ballot_costs, cycle.budget)
        kept[cycle_id] = rule  # voting: none of it changes any more (one dict operation: atomic)
    return rule


def find_cycle(engine: Engine, ref: str) -> Cycle:
    """A cycle by id or by name."""
    try:
        return get_cycle(engine, UUID(ref))
    except ValueError:
        return engine.get(Cycle.create_id(ref.strip()), Cycle, what="budget cycle")


# -- cycle ----------------------------------------------------------------------------------
def open_cycle(engine: Engine, *, name: str, budget: int, scope: str = "district", voting_opens: str | None = None,
               voting_closes: str | None = None, ballot_style: dict[str, Any] | None = None,
               rule: dict[str, Any] | None = None, last_vote_counts: bool = True, by: str) -> Cycle:
    cycle = Cycle.open(name=name, budget=budget, scope=scope, voting_opens=voting_opens, voting_closes=voting_closes,
                       ballot_style=ballot_style, rule=rule, last_vote_counts=last_vote_counts, opened_by=by)
    box = VotingKit(engine).prepare(cycle.id, allow_revote=last_vote_counts, batch_size=BATCH_SIZE)
    # the cycle and its ballot box, in one transaction
    return engine.create(cycle, *box, refusal=f"A budget cycle named {cycle.name!r} already exists.")


def configure(engine: Engine, cycle_id: UUID, *, ballot_style: dict[str, Any] | None = None,
              rule: dict[str, Any] | None = None, last_vote_counts: bool | None = None, by: str) -> Cycle:
    def change() -> tuple[list[Any], Cycle]:
        c = get_cycle(engine, cycle_id)
        c.configure(ballot_style=ballot_style, rule=rule, last_vote_counts=last_vote_counts, by=by)
        changed: list[Any] = [c]
        if last_vote_counts is not None:  # the ballot box takes or refuses a second ballot by it
            changed.append(VotingKit(engine).with_revote(c.id, last_vote_counts))
        return changed, c

    return engine.transact(change, what="budget cycle")


def submit_proposal(engine: Engine, cycle_id: UUID, *, title: str, description: str = "", dong: str,
                    category: str, proposer: str, proposer_role: str = "resident",
                    project_id: str | None = None, district_dong: bool = True) -> str:
    """A proposal; the proposer's name is personal data, sealed under a subject of its own. Its
    dong is one of Jung-gu's (or the whole district); a cycle imported from another city's
    Pabulib file keeps that file's own districts (``district_dong=False``)."""
    if district_dong:
        dong = check_dong(dong, whole_district=True)
    if project_id is not None and not PROJECT_ID.match(project_id):
        raise InvalidInput("A project id is 1-40 letters, digits, '.', '_' or '-'.")
    if not isinstance(proposer, str) or not proposer.strip() or len(proposer) > 200:
        raise InvalidInput("The proposer's name is required (at most 200 characters).")
    cycle = get_cycle(engine, cycle_id)
    sealed = engine.privacy.seal(engine.privacy.new_subject(), "proposer", proposer.strip(), where=cycle.id)

    def change(c: Cycle) -> str:
        return c.submit(title=title, description=description, dong=dong, category=category, proposer=sealed,
                        proposer_role=proposer_role, project_id=project_id)

    return engine.update(cycle.id, change, cls=Cycle, what="budget cycle")


def screen(engine: Engine, cycle_id: UUID, project_id: str, *, feasible: bool, cost: int | None, reason: str,
           by: str) -> None:
    engine.update(cycle_id, lambda c: c.screen(project_id=project_id, feasible=feasible, cost=cost, reason=reason,
                                               by=by), cls=Cycle, what="budget cycle")


def withdraw_proposal(engine: Engine, cycle_id: UUID | str, project_id: str, *, reason: str, by: str) -> Cycle:
    """Withdraw a proposal before voting, with the reason written down."""
    cycle = get_cycle(engine, cycle_id)
    return engine.update(cycle.id, lambda c: (c.withdraw(project_id=project_id, reason=reason, by=by), c)[1],
                         cls=Cycle, what="budget cycle")


def advance(engine: Engine, cycle_id: UUID, to: str, *, by: str) -> Cycle:
    """Move to the next phase. Entering voting opens the cycle's ballot box (the voter roll must
    be imported); leaving it closes the box first, so the box's Closing event decides which
    ballots count, and the cycle's phase event follows it."""
    cycle = get_cycle(engine, cycle_id)
    cycle.advance(to=to, by=by)  # refuses out of order; not saved
    kit = VotingKit(engine)
    if to == "voting" and kit.box(cycle.id).status == PREPARED:  # already open on a retry
        kit.open(cycle.id)
    elif to == "tallying":
        kit.close(cycle.id)

    def change(c: Cycle) -> Cycle:
        c.advance(to=to, by=by)
        return c

    advanced = engine.update(cycle.id, change, cls=Cycle, what="budget cycle")
    if to == "tallying":
        engine.ledger.checkpoint()  # the closed box rests on a signed checkpoint
    return advanced


# -- voters -------------------------------------------------------------------------------------
def import_roll(engine: Engine, cycle_id: UUID | str, csv_text: str | bytes) -> dict[str, Any]:
    """Add residents to the cycle's voter roll (CSV: entry_id, contact, optional group = dong)."""
    cycle = get_cycle(engine, cycle_id)
    if cycle.phase not in ("proposal", "screening"):
        raise RuleViolation("The voter roll is frozen once voting has opened.", phase=cycle.phase)
    result = VotingKit(engine).import_roll(cycle.id, csv_text)
    return {"added": result.added, "total": result.total, "groups": result.groups}


def issue_codes(engine: Engine, cycle_id: UUID | str, entry_ids: list[str] | None = None) -> int:
    """Send a one-time voting code to every resident on the roll (or those named) who has none."""
    cycle = get_cycle(engine, cycle_id)
    refuse_graded(cycle)
    url = f"{engine.public_url}/b/{cycle.short_code}"
    messages = {language: text.replace("{name}", cycle.name).replace("{url}", url)
                for language, text in CODE_MESSAGES.items()}
    return VotingKit(engine).issue_codes(cycle.id, messages, entry_ids, plugin="budget_vote")


def sign_in_voter(engine: Engine, cycle_id: UUID | str, entry_id: str, code: str, client: str) -> str:
    """Trade a resident's voting code for a ballot credential (its token)."""
    return VotingKit(engine).authenticate(get_cycle(engine, cycle_id).id, entry_id, code, client).token


def sign_in_by_phone(engine: Engine, cycle_id: UUID | str, phone: str, code: str, client: str) -> str:
    """What a resident knows: the phone number the code came to, and the code. A number that is
    on no roll entry is answered like a wrong code (it reveals nobody's presence on the roll)."""
    cycle = get_cycle(engine, cycle_id)
    kit = VotingKit(engine)
    entry_id = kit.entry_for_contact(cycle.id, phone)
    # an unknown number still counts against the client, through an entry id nobody has
    return kit.authenticate(cycle.id, entry_id or "(not on the roll)", code, client).token


def find_by_short_code(engine: Engine, short_code: str) -> Cycle:
    """The cycle of a text message's short link (``/b/<code>``)."""
    for cycle_id in CycleSummaries.cycles(engine.read_models.get(CycleSummaries.name).state):
        if Cycle.short_code_of(cycle_id) == short_code.strip().lower():
            return get_cycle(engine, cycle_id)
    raise NotFound(f"No budget vote at this link ({short_code}).")


# -- ballots ----------------------------------------------------------------------------------
def refuse_graded(cycle: Cycle) -> None:
    """Residents and officials never cast a graded ballot (points, scores, a ranking): such a
    cycle's ballots are a Pabulib file's, entered by its import."""
    kind = cycle.ballot_style["kind"]  # read as recorded: this runs for every resident's ballot
    if kind in rules.GRADED_KINDS:
        raise RuleViolation(f"This cycle's ballots give {GRADED_WORDS[kind]}: they are imported from "
                            "a Pabulib file, not cast in civic.", ballot_style=kind)


def ballot_check(engine: Engine, cycle_id: UUID, channel: str):
    """The voting kit's validator for this cycle: the content sealed into the box is
    ``{"choice": [...], "channel": ...}`` (with ``points`` or ``ranking`` for an imported graded
    ballot); a ballot that breaks the ballot rule is refused naming it."""

    def validate(content: Any, group: str) -> dict[str, Any]:
        style, costs, budget = voting_ballot_rule(engine, cycle_id)
        return {**rules.validate_vote(style, costs, budget, content), "channel": channel}

    return validate


def cast_ballot(engine: Engine, cycle_id: UUID | str, *, credential: str, choice: list[str]) -> dict[str, Any]:
    """A resident's ballot, sealed into the cycle's box; returns the receipt (tracking code).
    Where the cycle lets a later vote count, casting again with the same credential replaces it."""
    cid = get_cycle(engine, cycle_id).id if not isinstance(cycle_id, UUID) else cycle_id
    refuse_graded(voting_cycle_for_ballots(engine, cid))
    receipt = VotingKit(engine).cast(cid, credential, choice, validate=ballot_check(engine, cid, "mobile"))
    return {"cycle_id": str(cid), "tracking_code": receipt.tracking_code, "channel": "mobile"}


def enter_paper_ballot(engine: Engine, cycle_id: UUID | str, *, entry_id: str, choice: list[str],
                       by: str) -> dict[str, Any]:
    """A paper or booth ballot entered by an official for a resident on the roll checked in
    person; it is marked ``paper`` in the sealed content and the roll records the official."""
    cycle = get_cycle(engine, cycle_id)
    refuse_graded(cycle)
    cycle.check_ballot(choice)  # refuse a bad ballot before the credential is used up
    kit = VotingKit(engine)
    credential = kit.issue_credential_in_person(cycle.id, entry_id, by=by)
    receipt = kit.cast(cycle.id, credential, choice, validate=ballot_check(engine, cycle.id, "paper"))
    return {"cycle_id": str(cycle.id), "tracking_code": receipt.tracking_code, "channel": "paper"}


def track(engine: Engine, cycle_id: UUID | str, tracking_code: str) -> dict[str, Any]:
    """What a voter can check with a receipt: the ballot's state in the box (sealed while voting;
    counted or replaced after close, with its content only once the result is published)."""
    cycle = get_cycle(engine, cycle_id)
    found = VotingKit(engine).track(cycle.id, tracking_code)
    view = {"tracking_code": found.tracking_code, "state": found.state, "batch": found.batch,
            "index": found.index, "position": found.position}
    if cycle.phase == "published":
        view["content"] = found.content
    return view


# -- the log -----------------------------------------------------------------------------------
def cycle_state(engine: Engine, cycle_id: UUID) -> dict[str, Any]:
    """The cycle as the budget's fold reads it from the log (what the audit re-reads too)."""
    key = str(cycle_id)
    return fold(r for r in engine.records(topics=CYCLE_EVENTS) if r.originator_id == key)[key]


def counted_ballots(engine: Engine, cycle_id: UUID) -> list[rules.CountedBallot]:
    opened = VotingKit(engine).opened(cycle_id)
    return rules.CountedBallot.from_opened(opened.counted_contents())


# -- result -------------------------------------------------------------------------------------
def tally(engine: Engine, cycle_id: UUID | str, *, by: str) -> dict[str, Any]:
    """Compute and record the result of a closed cycle (embargoed until validated)."""
    cycle = get_cycle(engine, cycle_id)
    if cycle.phase != "tallying":
        raise RuleViolation(f"The cycle is in the {cycle.phase} phase; close voting before tallying.")
    if cycle.result is not None:
        raise RuleViolation("The result of this cycle has already been computed.")
    kit = VotingKit(engine)
    counted = counted_ballots(engine, cycle.id)
    seed = kit.reveal_seed(cycle.id)
    result = rules.compute_result(cycle_state(engine, cycle.id), counted, seed)

    def change(c: Cycle) -> dict[str, Any]:
        c.record_result(by=by, **result)
        return c.result

    return engine.update(cycle.id, change, cls=Cycle, what="budget cycle")


def override(engine: Engine, cycle_id: UUID | str, *, action: str, project_id: str, reason: str, by: str) -> list[str]:
    cycle = get_cycle(engine, cycle_id)

    def change(c: Cycle) -> list[str]:
        c.override(action=action, project_id=project_id, reason=reason, by=by)
        return c.winners

    return engine.update(cycle.id, change, cls=Cycle, what="budget cycle")


def validate(engine: Engine, cycle_id: UUID | str, *, by: str) -> Cycle:
    cycle = get_cycle(engine, cycle_id)

    def change(c: Cycle) -> Cycle:
        c.validate(by=by)
        return c

    published = engine.update(cycle.id, change, cls=Cycle, what="budget cycle")
    engine.ledger.checkpoint()  # the published result rests on a signed checkpoint
    return published


def next_deadline(engine: Engine, after: datetime) -> datetime | None:
    """The earliest closing time after ``after`` of a cycle in voting (for the scheduler)."""
    times = [datetime.fromisoformat(c["voting_closes"]) for c in engine.read_models.get(CycleSummaries.name).state.values()
             if c.get("phase") == "voting" and c.get("voting_closes")]
    return min((t for t in times if t > after), default=None)


def close_due(engine: Engine) -> list[str]:
    """Close voting in every cycle whose closing time has passed (idempotent)."""
    done = VotingKit(engine).tick()
    now = engine.now().isoformat()
    for cid, cycle in engine.read_models.get(CycleSummaries.name).state.items():
        closes = cycle.get("voting_closes")
        if cycle.get("phase") == "voting" and closes and closes <= now:
            try:
                advance(engine, UUID(cid), "tallying", by="system:deadline")
            except RuleViolation:
                continue  # closed meanwhile by someone else
            done.append(f"budget: voting closed in {cycle['name']}")
    return done


def compare_rules(engine: Engine, cycle_id: UUID | str) -> list[dict[str, Any]]:
    """The computed result's ballots counted by both winner rules, side by side, for officials:
    the same counted ballots, costs, budget and tie order the recorded result used, and the
    cycle's own satisfaction and completion settings. Only the cycle's own rule is recorded; the
    other is shown for comparison and never stored."""
    cycle = get_cycle(engine, cycle_id)
    if cycle.result is None:
        raise RuleViolation("The result of this cycle has not been computed yet.", phase=cycle.phase)
    inputs = cycle.result["inputs"]
    ballots = [b.weights() for b in counted_ballots(engine, cycle.id)]
    compared = []
    for name in rules.RULE_NAMES:
        rule = rules.WinnerRule.from_dict({**cycle.result["rule"], "name": name})
        outcome = rules.compute_winners(rule, inputs["costs"], inputs["budget"], ballots, inputs["tie_order"])
        compared.append({"rule": rule.as_dict(), "winners": list(outcome.winners), "funded_total": outcome.funded_total,
                         "votes": dict(outcome.votes), "recorded": name == cycle.result["rule"]["name"]})
    return compared
