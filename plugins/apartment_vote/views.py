"""Read models of apartment elections (derived from the log; ``civic rebuild`` refolds them)."""

from __future__ import annotations

from typing import Any

from core import LogRecord, ReadModel
from plugins.apartment_vote import fold
from plugins.apartment_vote.domain import Complex


class ElectionList(ReadModel):
    """Every election as ``fold`` folds it, without the frozen rolls: the public listing, the
    recorded results certificates quote, and what the deadline scheduler reads to open and close
    elections on time."""

    name = "apartment.elections"
    version = 2  # 1 kept the listing itself; now the fold's state, listed by ``listing``
    event_types = fold.ELECTION_EVENTS
    from_records = True

    def apply(self, record: LogRecord, position: int) -> None:
        fold.apply(self.state, record)


def elections(engine: Any) -> fold.State:
    """Every election's folded state, caught up with the log (read it, never change it)."""
    return engine.read_models.get(ElectionList.name).state


def listing(election: dict[str, Any]) -> dict[str, Any]:
    """What the public listing shows of an election: status, window, contests and their results."""
    results = election["results"]
    contests = {}
    for cid, c in election["contests"].items():
        recorded = results[cid]["result"] if cid in results else None
        contests[cid] = {"kind": c["kind"], "title": c["title"], "building": c["building"],
                         "candidates": sum(1 for k in c["candidates"].values() if not k.get("withdrawn")),
                         "result": None if recorded is None else {
                             "status": recorded["status"], "elected": recorded["elected"],
                             "turnout": recorded["turnout"], "reason": recorded["reason"]}}
    return {"title": election["title"], "complex": election["complex"], "status": election["status"],
            "opens_at": election["opens_at"], "closes_at": election["closes_at"],
            "registration_deadline": election["registration_deadline"], "households": election["households"],
            "contests": contests, "results_recorded": bool(results)}


def election_list(engine: Any) -> dict[str, Any]:
    """Every election and its status (the listing of ``GET /api/apartment/elections``)."""
    return {eid: listing(e) for eid, e in list(elections(engine).items())}


class ComplexList(ReadModel):
    """Every complex with the size of its roll (households per building), for the office's
    listing. Never a contact: those stay sealed in the complex's events."""

    name = "apartment.complexes"
    event_types = (Complex.Registered, Complex.RollImported)

    def apply(self, event: Any, position: int) -> None:
        key = str(event.originator_id)
        if isinstance(event, Complex.Registered):
            self.state[key] = {"code": event.code, "name": event.name, "buildings": {}, "households": 0}
            return
        found = self.state.setdefault(key, {"code": "", "name": "", "buildings": {}, "households": 0})
        buildings = {} if event.replace else dict(found["buildings"])
        for building in event.households.values():
            buildings[building] = buildings.get(building, 0) + 1
        found["buildings"] = dict(sorted(buildings.items()))
        found["households"] = sum(buildings.values())


def complexes(engine: Any) -> list[dict[str, Any]]:
    """Every complex (code, name, households, buildings), by code."""
    state = engine.read_models.get(ComplexList.name).state
    return sorted((dict(c) for c in list(state.values())), key=lambda c: c["code"])
