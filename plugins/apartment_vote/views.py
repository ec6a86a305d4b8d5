"""Read models of apartment elections (derived from the log; ``civic rebuild`` refolds them)."""

from __future__ import annotations

from typing import Any

from core import ReadModel
from plugins.apartment_vote.domain import Election


class ElectionList(ReadModel):
    """Every election with its status, window, contests and result summary: the public listing,
    and what the deadline scheduler reads to open and close elections on time."""

    name = "apartment.elections"
    event_types = (Election.Created, Election.ContestAdded, Election.CandidateRegistered,
                   Election.CandidateWithdrawn, Election.Opened, Election.Closed, Election.ResultRecorded)

    def apply(self, event: Any, position: int) -> None:
        key = str(event.originator_id)
        if isinstance(event, Election.Created):
            self.state[key] = {"title": event.title, "complex": event.complex_code, "status": "draft",
                               "opens_at": event.opens_at, "closes_at": event.closes_at,
                               "registration_deadline": event.registration_deadline, "households": 0,
                               "contests": {}, "results_recorded": False}
            return
        election = self.state.get(key)
        if election is None:
            return
        if isinstance(event, Election.ContestAdded):
            election["contests"][event.contest_id] = {"kind": event.kind, "title": event.title,
                                                      "building": event.building, "candidates": 0, "result": None}
        elif isinstance(event, Election.CandidateRegistered):
            election["contests"][event.contest_id]["candidates"] += 1
        elif isinstance(event, Election.CandidateWithdrawn):
            election["contests"][event.contest_id]["candidates"] -= 1
        elif isinstance(event, Election.Opened):
            election["status"] = "open"
            election["households"] = event.households
        elif isinstance(event, Election.Closed):
            election["status"] = "closed"
        elif isinstance(event, Election.ResultRecorded):
            r = event.result
            election["results_recorded"] = True
            election["contests"][event.contest_id]["result"] = {
                "status": r["status"], "elected": r["elected"], "turnout": r["turnout"], "reason": r["reason"]}
