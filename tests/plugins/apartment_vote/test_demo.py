"""The demo: every kind of outcome, and the audit re-derives every result."""

from __future__ import annotations

import pytest

from core.hookspecs import hookimpl  # noqa: F401 - the demo registers a hook implementation
from plugins.apartment_vote import demo
from plugins.apartment_vote.audit import retally

pytest.importorskip("core.voting")


def test_demo_has_every_outcome_and_the_audit_agrees(sqlite_engine):
    steps = []
    outcome = demo.load_demo(sqlite_engine, steps.append)
    assert steps and outcome["status"] == "closed"
    by_title = {r["title"]: r for r in outcome["results"].values()}
    assert by_title["Building 101 representative"]["status"] == "elected"
    assert by_title["Building 102 representative"]["status"] == "elected"
    failed = by_title["Building 103 representative"]
    assert failed["status"] == "not_elected" and not failed["quorum_met"]
    assert failed["reason"].startswith("not elected: turnout ") and "below the required more than 1/2" in failed["reason"]
    assert by_title["Building 104 representative"]["status"] == "no_candidate"
    assert by_title["Chair of the residents' council"]["status"] == "elected"
    assert len(by_title["Auditors (2 seats)"]["elected"]) == 2
    assert by_title["Amend the management bylaw: pets in the lifts"]["status"] == "not_adopted"
    assert by_title["Install 12 EV chargers in the car park"]["status"] == "adopted"
    chair = by_title["Chair of the residents' council"]
    assert chair["households"] == sum(demo.BUILDINGS.values())
    assert sum(b["voted"] for b in chair["by_building"].values()) == chair["voted"]

    report = retally(list(sqlite_engine.records()))
    assert report.ok, report.discrepancies
    assert report.checked == len(outcome["results"]) == 9
    listing = sqlite_engine.read_models.get("apartment.elections").state
    assert [e["status"] for e in listing.values()] == ["closed"]
    # the demo's codes never reached the outbox, and the clock is back
    assert sqlite_engine.outbox.sent() == []
