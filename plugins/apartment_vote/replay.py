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
    "ElectionRoll.Frozen",
))


class RecordLike(Protocol):
    position: int
    originator_id: str
    topic: str
    payload: dict[str, Any]


@attrs.define
class ElectionView:
    election_id: str
    title: str = ""
    complex_code: str = ""
    contests: dict[str, dict[str, Any]] = attrs.Factory(dict)
    roll: dict[str, str] | None = None
    opened_at: int | None = None
    closed_at: int | None = None
    # contest -> (position, result, ballots_up_to, lottery) as recorded
    results: dict[str, tuple[int, dict[str, Any], int, dict[str, Any]]] = attrs.Factory(dict)
    # (position, what) for events that do not fit the election (only in a changed log)
    problems: list[tuple[int, str]] = attrs.Factory(list)

    def contest_spec(self, contest_id: str) -> rules.Contest:
        c = self.contests[contest_id]
        live = [k for k, v in c["candidates"].items() if not v.get("withdrawn")]
        return rules.Contest(contest_id=contest_id, kind=c["kind"], title=c["title"], building=c["building"],
                             rules=rules.RuleSet.from_json(c["rules"]), candidates=tuple(live),
                             names=tuple(c["candidates"][k]["name"] for k in live))

    def households(self, contest_id: str) -> dict[str, int]:
        """The contest's constituency: building -> households on the frozen roll."""
        building = self.contests[contest_id]["building"]
        counts: dict[str, int] = {}
        for b in (self.roll or {}).values():
            if building is None or b == building:
                counts[b] = counts.get(b, 0) + 1
        return counts


def _name(topic: str) -> str:
    return topic[len(DOMAIN):] if topic.startswith(DOMAIN) else ""


def fold(records: Iterable[RecordLike]) -> dict[str, ElectionView]:
    """Every election of the log, as its events say."""
    elections: dict[str, ElectionView] = {}
    for record in records:
        name = _name(record.topic)
        if not name:
            continue
        p = record.payload
        if name == "Election.Created":
            elections[record.originator_id] = ElectionView(election_id=record.originator_id, title=p["title"],
                                                           complex_code=p["complex_code"])
        elif name == "ElectionRoll.Frozen":
            view = elections.get(p["election_id"])
            if view is not None:
                view.roll = dict(p["households"])
        elif name.startswith("Election.") and record.originator_id in elections:
            view = elections[record.originator_id]
            if name != "Election.ContestAdded" and "contest_id" in p and p["contest_id"] not in view.contests:
                view.problems.append((record.position, f"{name} for unknown contest {p['contest_id']}"))
                continue
            if name == "Election.ContestAdded":
                view.contests[p["contest_id"]] = {"kind": p["kind"], "title": p["title"], "building": p["building"],
                                                  "rules": p["rules"], "candidates": {}}
            elif name == "Election.RulesChanged":
                view.contests[p["contest_id"]]["rules"] = p["rules"]
            elif name == "Election.CandidateRegistered":
                view.contests[p["contest_id"]]["candidates"][p["candidate_id"]] = {"name": p["name"]}
            elif name == "Election.CandidateWithdrawn":
                candidate = view.contests[p["contest_id"]]["candidates"].get(p["candidate_id"])
                if candidate is None:
                    view.problems.append((record.position, f"withdrawal of unknown candidate {p['candidate_id']}"))
                else:
                    candidate["withdrawn"] = True
            elif name == "Election.Opened":
                view.opened_at = record.position
            elif name == "Election.Closed":
                view.closed_at = record.position
            elif name == "Election.ResultRecorded":
                view.results[p["contest_id"]] = (record.position, p["result"], p["ballots_up_to"], p["lottery"])
    return elections


def compute_results(view: ElectionView, tally_input: Iterable[tuple[str, Any]],
                    draw: rules.Draw | None = None) -> dict[str, dict[str, Any]]:
    """Each contest's result from the counted ballots: ``(building, {contest_id: choices})`` per
    household that voted, as the ballot box hands them over (one per household, the latest).

    Raises ``ValueError`` for a ballot that does not fit its contest or building (possible only
    in a changed log: the box validated each ballot before sealing it).
    """
    ballots = list(tally_input)
    for building, content in ballots:
        if not isinstance(content, dict):
            raise ValueError(f"a ballot of building {building} is not a contest map")
    results: dict[str, dict[str, Any]] = {}
    for contest_id in view.contests:
        spec = view.contest_spec(contest_id)
        households = view.households(contest_id)
        mine = [(b, c[contest_id]) for b, c in ballots if contest_id in c]
        for building, choices in mine:
            if building not in households:
                raise ValueError(f"a ballot of building {building} votes in {contest_id}, outside its constituency")
            try:
                rules.validate_ballot(spec, choices)
            except Exception as exc:  # InvalidInput: a ballot the live system refuses
                raise ValueError(f"a ballot in {contest_id}: {getattr(exc, 'detail', exc)}") from None
        results[contest_id] = rules.tally(spec, households, mine, draw).to_json()
    return results
