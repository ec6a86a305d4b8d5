"""Elections rebuilt from log records (position, originator, topic, JSON payload) and their
results computed with ``rules.tally``.

The live close and the auditor's re-tally both go through ``fold`` and ``compute_results``, so a
result computed at close and one recomputed from an exported log cannot differ unless the log
was changed. Pure: no engine, no clock.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Protocol

import attrs

from plugins.apartment_vote import rules

DOMAIN = "plugins.apartment_vote.domain:"
TOPICS = tuple(DOMAIN + name for name in (
    "Election.Created", "Election.ContestAdded", "Election.RulesChanged", "Election.CandidateRegistered",
    "Election.CandidateWithdrawn", "Election.Opened", "Election.Closed", "Election.ResultRecorded",
    "ElectionRoll.Frozen", "HouseholdAccess.Enrolled", "HouseholdAccess.Cast",
))


class RecordLike(Protocol):
    position: int
    originator_id: str
    topic: str
    payload: dict[str, Any]


@attrs.define
class Ballot:
    household: str
    choices: list[str]
    position: int
    tracking_code: str


@attrs.define
class ElectionView:
    election_id: str
    title: str = ""
    complex_code: str = ""
    contests: dict[str, dict[str, Any]] = attrs.Factory(dict)
    roll: dict[str, str] | None = None
    opened_at: int | None = None
    closed_at: int | None = None
    # contest -> household -> the household's ballots in that contest, in log order (revotes)
    history: dict[str, dict[str, list[Ballot]]] = attrs.Factory(dict)
    # every ballot ever cast (revotes included), by tracking code
    receipts: dict[str, tuple[str, int, list[str]]] = attrs.Factory(dict)
    results: dict[str, tuple[int, dict[str, Any], int]] = attrs.Factory(dict)

    def contest_spec(self, contest_id: str) -> rules.Contest:
        c = self.contests[contest_id]
        live = [k for k, v in c["candidates"].items() if not v.get("withdrawn")]
        return rules.Contest(contest_id=contest_id, kind=c["kind"], title=c["title"], building=c["building"],
                             rules=rules.RuleSet.from_json(c["rules"]), candidates=tuple(live),
                             names=tuple(c["candidates"][k]["name"] for k in live))

    def eligible(self, contest_id: str) -> dict[str, str]:
        building = self.contests[contest_id]["building"]
        roll = self.roll or {}
        return {h: b for h, b in roll.items() if building is None or b == building}

    def counted_ballots(self, contest_id: str, up_to: int) -> dict[str, list[str]]:
        """One ballot per household: its last one before position ``up_to``."""
        counted: dict[str, list[str]] = {}
        for household, ballots in self.history.get(contest_id, {}).items():
            before = [b for b in ballots if b.position < up_to]
            if before:
                counted[household] = before[-1].choices
        return counted


def _name(topic: str) -> str:
    return topic[len(DOMAIN):] if topic.startswith(DOMAIN) else ""


def fold(records: Iterable[RecordLike]) -> dict[str, ElectionView]:
    """Every election of the log, as the events say."""
    elections: dict[str, ElectionView] = {}
    access: dict[str, tuple[str, str, str]] = {}  # access id -> (election, household, building)
    for record in records:
        name = _name(record.topic)
        if not name:
            continue
        p = record.payload
        if name == "Election.Created":
            elections[record.originator_id] = ElectionView(election_id=record.originator_id, title=p["title"],
                                                           complex_code=p["complex_code"])
            continue
        if name.startswith("Election."):
            view = elections.get(record.originator_id)
            if view is None:
                continue
            if name == "Election.ContestAdded":
                view.contests[p["contest_id"]] = {"kind": p["kind"], "title": p["title"], "building": p["building"],
                                                  "rules": p["rules"], "candidates": {}}
            elif name == "Election.RulesChanged":
                view.contests[p["contest_id"]]["rules"] = p["rules"]
            elif name == "Election.CandidateRegistered":
                view.contests[p["contest_id"]]["candidates"][p["candidate_id"]] = {"name": p["name"]}
            elif name == "Election.CandidateWithdrawn":
                view.contests[p["contest_id"]]["candidates"][p["candidate_id"]]["withdrawn"] = True
            elif name == "Election.Opened":
                view.opened_at = record.position
            elif name == "Election.Closed":
                view.closed_at = record.position
            elif name == "Election.ResultRecorded":
                view.results[p["contest_id"]] = (record.position, p["result"], p["ballots_up_to"])
        elif name == "ElectionRoll.Frozen":
            view = elections.get(p["election_id"])
            if view is not None:
                view.roll = dict(p["households"])
        elif name == "HouseholdAccess.Enrolled":
            access[record.originator_id] = (p["election_id"], p["household"], p["building"])
        elif name == "HouseholdAccess.Cast":
            who = access.get(record.originator_id)
            if who is None or who[0] not in elections:
                continue
            view = elections[who[0]]
            household = who[1]
            view.receipts[p["tracking_code"]] = (household, record.position, sorted(p["choices"]))
            for contest_id, choices in p["choices"].items():
                ballot = Ballot(household, list(choices), record.position, p["tracking_code"])
                view.history.setdefault(contest_id, {}).setdefault(household, []).append(ballot)
    return elections


def compute_results(view: ElectionView, up_to: int) -> dict[str, dict[str, Any]]:
    """Each contest's result from the ballots before log position ``up_to`` (the close).

    Raises ``ValueError`` when a ballot does not fit its contest (possible only in a changed log).
    """
    results: dict[str, dict[str, Any]] = {}
    for contest_id in view.contests:
        spec = view.contest_spec(contest_id)
        eligible = view.eligible(contest_id)
        ballots = view.counted_ballots(contest_id, up_to)
        for household, choices in ballots.items():
            try:
                rules.validate_ballot(spec, choices)
            except Exception as exc:  # InvalidInput: a ballot the live system would have refused
                raise ValueError(f"household {household}: {getattr(exc, 'detail', exc)}") from None
        results[contest_id] = rules.tally(spec, eligible, ballots).to_json()
    return results


def receipt_status(view: ElectionView, tracking_code: str) -> dict[str, Any]:
    """What became of the ballot with this tracking code."""
    found = view.receipts.get(tracking_code)
    if found is None:
        return {"tracking_code": tracking_code, "status": "unknown"}
    household, position, contests = found
    if view.closed_at is not None and position > view.closed_at:
        return {"tracking_code": tracking_code, "status": "not counted: cast after voting closed",
                "position": position}
    up_to = view.closed_at if view.closed_at is not None else float("inf")
    per_contest = {}
    for contest_id in contests:
        history = [b for b in view.history.get(contest_id, {}).get(household, []) if b.position < up_to]
        latest = history[-1] if history else None
        if latest is None or latest.tracking_code != tracking_code:
            per_contest[contest_id] = "replaced by a later ballot"
        elif view.closed_at is None:
            per_contest[contest_id] = "will count unless replaced before the close"
        else:
            per_contest[contest_id] = "counted"
    return {"tracking_code": tracking_code, "status": "recorded", "position": position, "contests": per_contest}
