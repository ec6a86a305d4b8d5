"""Commands of the participatory budget on the engine, shared by the HTTP API, the CLI and the
demo. Each one authorises nothing itself (callers do) and records ``by``: who acted."""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
import re
import secrets
import threading
import time
import weakref
from collections.abc import Iterator
from typing import Any
from uuid import UUID

from eventsourcing.persistence import RecordConflictError

from core.engine import Engine
from core.errors import InvalidInput, NotFound, RuleViolation
from core.records import LogRecord
from plugins.budget_vote import pabulib, replay, rules
from plugins.budget_vote.domain import CHANNELS, Ballot, Cycle

PROJECT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,39}$")
CAST_RETRIES = 20


def get_cycle(engine: Engine, cycle_id: UUID | str) -> Cycle:
    try:
        cid = UUID(str(cycle_id))
    except ValueError:
        raise NotFound(f"No budget cycle with id {cycle_id}.") from None
    return engine.get(cid, Cycle, what="budget cycle")


_voting_cycles: weakref.WeakKeyDictionary[Engine, dict[UUID, Cycle]] = weakref.WeakKeyDictionary()
_cache_lock = threading.Lock()


def _changed_since(engine: Engine, cycle: Cycle) -> bool:
    return bool(engine.recorder.select_events(cycle.id, gt=cycle.version, limit=1))


def current_cycle(engine: Engine, cycle_id: UUID | str) -> Cycle:
    """The cycle, from a per-engine cache when the store holds no newer event of it (one
    indexed query instead of replaying the cycle for every ballot). Read-only use only."""
    cid = UUID(str(cycle_id)) if not isinstance(cycle_id, UUID) else cycle_id
    with _cache_lock:
        cached = _voting_cycles.setdefault(engine, {}).get(cid)
    if cached is not None and not _changed_since(engine, cached):
        return cached
    cycle = get_cycle(engine, cid)
    with _cache_lock:
        _voting_cycles[engine][cid] = cycle
    return cycle


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
    return engine.create(cycle, what=f"budget cycle named {cycle.name!r}")


def configure(engine: Engine, cycle_id: UUID, *, ballot_style: dict[str, Any] | None = None,
              rule: dict[str, Any] | None = None, last_vote_counts: bool | None = None, by: str) -> Cycle:
    def change(c: Cycle) -> Cycle:
        c.configure(ballot_style=ballot_style, rule=rule, last_vote_counts=last_vote_counts, by=by)
        return c

    return engine.update(cycle_id, change, cls=Cycle, what="budget cycle")


def submit_proposal(engine: Engine, cycle_id: UUID, *, title: str, description: str = "", dong: str,
                    category: str, proposer: str, proposer_role: str = "resident",
                    project_id: str | None = None) -> str:
    if project_id is not None and not PROJECT_ID.match(project_id):
        raise InvalidInput("A project id is 1-40 letters, digits, '.', '_' or '-'.")

    def change(c: Cycle) -> str:
        return c.submit(title=title, description=description, dong=dong, category=category, proposer=proposer,
                        proposer_role=proposer_role, project_id=project_id)

    return engine.update(cycle_id, change, cls=Cycle, what="budget cycle")


def screen(engine: Engine, cycle_id: UUID, project_id: str, *, feasible: bool, cost: int | None, reason: str,
           by: str) -> None:
    engine.update(cycle_id, lambda c: c.screen(project_id=project_id, feasible=feasible, cost=cost, reason=reason,
                                               by=by), cls=Cycle, what="budget cycle")


def advance(engine: Engine, cycle_id: UUID, to: str, *, by: str) -> Cycle:
    def change(c: Cycle) -> Cycle:
        c.advance(to=to, by=by)
        return c

    return engine.update(cycle_id, change, cls=Cycle, what="budget cycle")


# -- ballots ----------------------------------------------------------------------------------
def voter_pseudonym(engine: Engine, cycle_id: UUID | str, resident: str) -> str:
    """The voter's name in the log: a keyed hash of the resident's identifier, different in
    every cycle, that nobody without the instance secret can link back to the person."""
    resident = resident.strip()
    if not resident:
        raise InvalidInput("A voter identifier is required.")
    key = engine.secrets.key("budget-voter")
    return hmac.new(key, f"{cycle_id}\x1f{resident}".encode(), hashlib.sha256).hexdigest()[:32]


def new_tracking_code() -> str:
    """A receipt code the voter can look up once results are published: 4 groups of 4."""
    raw = secrets.token_hex(8).upper()
    return "-".join(raw[i:i + 4] for i in range(0, 16, 4))


def cast_ballot(engine: Engine, cycle_id: UUID | str, *, voter: str, choice: list[str], channel: str = "mobile",
                entered_by: str | None = None) -> dict[str, Any]:
    """Record a ballot (or replace the voter's earlier one) and return the receipt.

    ``voter`` is the voter's pseudonym (see ``voter_pseudonym``). A ballot that breaks the
    cycle's ballot rule is refused naming the rule; nothing is recorded."""
    if channel not in CHANNELS:
        raise InvalidInput(f"Unknown channel {channel!r}; use one of {', '.join(CHANNELS)}.")
    if channel == "paper" and not entered_by:
        raise InvalidInput("A paper ballot is entered by an official, who must be named.")
    cycle = current_cycle(engine, cycle_id)
    chosen = list(cycle.check_ballot(choice))
    cid = str(cycle.id)
    ballot_id = Ballot.create_id(cid, voter)
    code = new_tracking_code()
    replaced = False
    for attempt in range(CAST_RETRIES):
        try:
            ballot = engine.repository.get(ballot_id)
        except Exception:  # noqa: BLE001 - not found: this voter's first ballot
            ballot = None
        if ballot is None:
            ballot = Ballot(cycle_id=cid, voter=voter, choice=chosen, channel=channel, entered_by=entered_by,
                            tracking_code=code)
        else:
            if not cycle.last_vote_counts:
                raise RuleViolation("This voter has already voted and this cycle does not allow changing a vote.",
                                    rule="one-vote")
            ballot.replace(choice=chosen, channel=channel, entered_by=entered_by, tracking_code=code)
            replaced = True
        try:
            recordings = engine.save(ballot)
        except RecordConflictError:
            time.sleep(0.001 * (attempt + 1))
            continue
        break
    else:
        raise RuleViolation("The ballot box is busy; please try again.", title="Busy")
    position = recordings[-1].notification.id
    if _changed_since(engine, cycle):
        _check_not_after_close(engine, cycle.id, position)
    return {"cycle_id": cid, "tracking_code": code, "choice": chosen, "channel": channel, "replaced": replaced,
            "position": position}


def _check_not_after_close(engine: Engine, cycle_id: UUID, position: int) -> None:
    """Voting may have closed between the check and the save: such a ballot is in the log but
    after the close, so it is not counted, and the voter is told so."""
    cycle = get_cycle(engine, cycle_id)
    if cycle.phase == "voting":
        return
    log = replay.collect(cycle_records(engine, cycle_id))
    close = log[str(cycle_id)].close_position
    if close is not None and position > close:
        raise RuleViolation("Voting closed before this ballot was recorded; it is not counted.", rule="voting-closed")


# -- the log -----------------------------------------------------------------------------------
def _log_records(engine: Engine, topics: tuple[str, ...]) -> Iterator[LogRecord]:
    for n in engine.notifications(1, topics=topics):
        yield LogRecord(position=n.id, originator_id=str(n.originator_id), originator_version=n.originator_version,
                        topic=n.topic, payload=engine.decode_payload(n))


def cycle_records(engine: Engine, cycle_id: UUID | str | None = None) -> list[LogRecord]:
    """The budget records of the log, in order (every cycle's, or one cycle's and its ballots')."""
    records = list(_log_records(engine, replay.CYCLE_TOPICS + replay.BALLOT_TOPICS))
    if cycle_id is None:
        return records
    cid = str(cycle_id)
    owned = {r.originator_id for r in records if r.topic == replay.ballot_topic("Cast") and r.payload["cycle_id"] == cid}
    return [r for r in records if r.originator_id == cid or r.originator_id in owned]


def cycle_log(engine: Engine, cycle_id: UUID | str) -> replay.CycleLog:
    return replay.collect(cycle_records(engine, cycle_id))[str(cycle_id)]


# -- result -------------------------------------------------------------------------------------
def tally(engine: Engine, cycle_id: UUID | str, *, by: str) -> dict[str, Any]:
    """Compute and record the result of a closed cycle (embargoed until validated)."""
    cycle = get_cycle(engine, cycle_id)
    if cycle.phase != "tallying":
        raise RuleViolation(f"The cycle is in the {cycle.phase} phase; close voting before tallying.")
    if cycle.result is not None:
        raise RuleViolation("The result of this cycle has already been computed.")
    result = replay.compute_result(cycle_log(engine, cycle.id))

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

    return engine.update(cycle.id, change, cls=Cycle, what="budget cycle")


def close_due(engine: Engine) -> list[str]:
    """Close voting in every cycle whose closing time has passed (idempotent)."""
    done = []
    now = engine.now().isoformat()
    state = engine.read_models.get("budget.cycles").state
    for cid, summary in state.items():
        closes = summary.get("voting_closes")
        if summary.get("phase") == "voting" and closes and closes <= now:
            try:
                advance(engine, UUID(cid), "tallying", by="system:deadline")
            except RuleViolation:
                continue  # closed meanwhile by someone else
            done.append(f"budget: voting closed in {summary['name']}")
    return done


# -- views ---------------------------------------------------------------------------------------
def project_rows(cycle: Cycle) -> list[dict[str, Any]]:
    result = cycle.result or {}
    votes = result.get("votes", {})
    funded = set(result.get("final_winners", ()))
    rows = []
    for pid, p in cycle.proposals.items():
        rows.append({"project_id": pid, "title": p["title"], "dong": p["dong"], "category": p["category"],
                     "cost": p["cost"], "feasible": p["feasible"], "votes": votes.get(pid),
                     "funded": pid in funded if result else None})
    return rows


def public_result(cycle: Cycle) -> dict[str, Any]:
    """The published result (refused while embargoed)."""
    if cycle.phase != "published":
        raise RuleViolation("The result is embargoed until an official validates it.", phase=cycle.phase)
    return result_view(cycle)


def result_view(cycle: Cycle) -> dict[str, Any]:
    if cycle.result is None:
        raise RuleViolation("The result of this cycle has not been computed yet.", phase=cycle.phase)
    r = cycle.result
    return {"cycle_id": str(cycle.id), "name": cycle.name, "phase": cycle.phase, "budget": cycle.budget,
            "rule": r["rule"], "inputs": r["inputs"], "computed_winners": r["winners"],
            "winners": r["final_winners"], "funded_total": sum(cycle.proposals[p]["cost"] for p in r["final_winners"]),
            "overrides": cycle.overrides, "validated_by": cycle.validated_by, "projects": project_rows(cycle)}


def open_data_csv(cycle: Cycle) -> str:
    view = public_result(cycle)
    out = io.StringIO()
    fields = ["project_id", "title", "dong", "category", "cost", "feasible", "votes", "funded"]
    writer = csv.DictWriter(out, fieldnames=fields, lineterminator="\n")
    writer.writeheader()
    for row in view["projects"]:
        writer.writerow(row)
    return out.getvalue()


# -- Pabulib ----------------------------------------------------------------------------------------
def export_pb(engine: Engine, cycle_id: UUID | str) -> str:
    """The cycle's counted ballots as a Pabulib file (only once voting has closed)."""
    cycle = get_cycle(engine, cycle_id)
    if cycle.phase not in ("tallying", "published"):
        raise RuleViolation("Ballots are exported only after voting has closed.", phase=cycle.phase)
    log = cycle_log(engine, cycle.id)
    counted = replay.counted_casts(log)
    style = cycle.style
    meta = {"description": cycle.name, "country": "South Korea", "unit": "Jung-gu, Seoul",
            "instance": cycle.name, "budget": str(cycle.budget), "vote_type": "approval",
            "rule": "greedy" if cycle.winner_rule.name == "greedy" else "equalshares"}
    meta["min_length"] = str(style.min_projects)
    if style.max_projects is not None:
        meta["max_length"] = str(style.max_projects)
    if style.kind == "knapsack":
        meta["max_sum_cost"] = str(style.cost_limit if style.cost_limit is not None else cycle.budget)
    votes = rules.vote_counts(cycle.ballot_costs, ({p: 1 for p in c.choice} for c in counted.values()))
    winners = set(cycle.result["final_winners"]) if cycle.result else None
    projects = []
    for pid, cost in sorted(cycle.ballot_costs.items(), key=lambda kv: replay._natural(kv[0])):
        p = cycle.proposals[pid]
        fields = {"name": p["title"], "category": p["category"], "votes": str(votes[pid])}
        if winners is not None:
            fields["selected"] = "1" if pid in winners else "0"
        projects.append(pabulib.PbProject(pid, cost, fields))
    ballots = [pabulib.PbVote(str(i), {p: 1 for p in c.choice},
                              {"voting_method": "paper" if c.channel == "paper" else "internet"})
               for i, (_, c) in enumerate(sorted(counted.items()), start=1)]
    return pabulib.render(pabulib.PbElection(meta, projects, ballots))


def import_pb(engine: Engine, text: str, *, name: str | None = None, by: str,
              rule: dict[str, Any] | None = None) -> Cycle:
    """A closed cycle from a Pabulib approval file: projects, screening and ballots as events,
    then voting closed and the result computed (embargoed until an official validates it)."""
    election = pabulib.parse(text)
    if election.vote_type != "approval":
        raise InvalidInput("Only approval Pabulib files become cycles; use `civic budget tally --pb` for "
                           f"{election.vote_type} files.")
    meta = election.meta
    style: dict[str, Any] = {"kind": "approval", "min_projects": int(meta.get("min_length", 0) or 0)}
    if meta.get("max_length"):
        style["max_projects"] = int(meta["max_length"])
    if meta.get("max_sum_cost"):
        style["kind"] = "knapsack"
        style["cost_limit"] = pabulib._whole("max_sum_cost", meta["max_sum_cost"])
    if rule is None:
        rule = {"name": "equal-shares" if "equal" in meta.get("rule", "").lower() else "greedy"}
    name = name or meta.get("instance") or meta.get("description") or "imported"
    budget = election.budget
    for p in election.projects:
        if p.cost > budget:
            raise InvalidInput(f"Project {p.project_id} costs more than the whole budget.")
    cycle = open_cycle(engine, name=name, budget=budget, scope=meta.get("subunit") or meta.get("unit") or "district",
                       ballot_style=style, rule=rule, last_vote_counts=True, by=by)
    for p in election.projects:
        submit_proposal(engine, cycle.id, title=p.fields.get("name") or p.project_id, dong=meta.get("subunit") or "-",
                        category=p.fields.get("category") or "-", proposer="pabulib import",
                        proposer_role="resident", project_id=p.project_id)
    advance(engine, cycle.id, "screening", by=by)
    for p in election.projects:
        screen(engine, cycle.id, p.project_id, feasible=True, cost=p.cost, reason="Imported from a Pabulib file.",
               by=by)
    advance(engine, cycle.id, "voting", by=by)
    for v in election.votes:
        method = v.fields.get("voting_method", "")
        cast_ballot(engine, cycle.id, voter=f"pb:{v.voter_id}", choice=list(v.points),
                    channel="paper" if method == "paper" else "web", entered_by=by if method == "paper" else None)
    advance(engine, cycle.id, "tallying", by=by)
    tally(engine, cycle.id, by=by)
    return get_cycle(engine, cycle.id)


def tally_pb(text: str, rule: rules.WinnerRule) -> dict[str, Any]:
    """Winners of a Pabulib file (approval or cumulative), computed directly. Ties are broken by
    project order in the file, as a published instance has no lottery seed."""
    election = pabulib.parse(text)
    order = [p.project_id for p in election.projects]
    outcome = rules.compute_winners(rule, election.costs, election.budget, election.ballots(), order)
    return {"instance": election.meta.get("instance") or election.meta.get("description"),
            "vote_type": election.vote_type, "budget": election.budget, "rule": rule.as_dict(),
            "tie_order": order, "voters": len(election.votes), "winners": list(outcome.winners),
            "funded_total": outcome.funded_total, "votes": dict(outcome.votes)}
