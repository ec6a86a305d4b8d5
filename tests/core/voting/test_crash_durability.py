"""A server killed (SIGKILL) in the middle of a burst of casts loses no acknowledged ballot:
``civic serve`` in a subprocess, residents casting through the budget API from threads, the
process killed, restarted, and every acknowledged tracking code found in the box at close."""

from __future__ import annotations

import os
import signal
import threading
import time

import httpx

from core.engine import Engine
from core.plugins import make_plugin_manager
from core.voting import COUNTED, VotingKit
from plugins.budget_vote import service
from tests.support.serve import ROOT, free_port
from tests.web.conftest import Site

ADMIN = "test:admin"
VOTERS = 16


def prepare(db, outbox) -> tuple[str, list[str]]:
    engine = Engine(str(db), plugins=make_plugin_manager(allow={"budget_vote"}), outbox=outbox)
    try:
        cycle = service.open_cycle(engine, name="crash", budget=100, rule={"name": "greedy"},
                                   ballot_style={"kind": "approval", "min_projects": 1, "max_projects": 2}, by=ADMIN)
        for n in range(3):
            service.submit_proposal(engine, cycle.id, title=f"p{n}", dong="필동", category="c", proposer="p")
        service.advance(engine, cycle.id, "screening", by=ADMIN)
        for n in range(1, 4):
            service.screen(engine, cycle.id, str(n), feasible=True, cost=30, reason="ok", by=ADMIN)
        service.import_roll(engine, cycle.id, "entry_id,contact\n" + "".join(f"r{n},010{n:08d}\n" for n in range(VOTERS)))
        service.advance(engine, cycle.id, "voting", by=ADMIN)
        kit = VotingKit(engine)
        return str(cycle.id), [kit.issue_credential_in_person(cycle.id, f"r{n}", by=ADMIN).token for n in range(VOTERS)]
    finally:
        engine.close()


def test_sigkill_during_a_burst_of_casts_loses_no_acknowledged_ballot(tmp_path, monkeypatch):
    db, outbox = tmp_path / "civic.db", tmp_path / "outbox.jsonl"
    monkeypatch.setenv("CIVIC_SECRETS", str(tmp_path / "secrets"))
    cycle_id, credentials = prepare(db, outbox)
    env = {**os.environ, "CIVIC_OUTBOX": str(outbox), "CIVIC_SECRETS": str(tmp_path / "secrets"),
           "CIVIC_PLUGINS": "budget_vote", "PYTHONPATH": str(ROOT)}
    site = Site(db, free_port(), env)
    site.start()
    url = f"{site.url}/api/budget/cycles/{cycle_id}/ballot"
    acknowledged: dict[str, tuple[int, int]] = {}  # tracking code -> (voter, round)
    lock = threading.Lock()

    def vote(voter: int) -> None:
        with httpx.Client(timeout=30) as client:
            for round_ in range(10_000):
                choice = [str(1 + (voter + round_) % 3)]
                try:
                    response = client.post(url, json={"credential": credentials[voter], "choice": choice})
                except httpx.HTTPError:
                    return  # the server is gone: this ballot was never acknowledged
                assert response.status_code == 201, response.text
                with lock:
                    acknowledged[response.json()["tracking_code"]] = (voter, round_)

    threads = [threading.Thread(target=vote, args=(v,)) for v in range(VOTERS)]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 60
    while len(acknowledged) < 40 and time.monotonic() < deadline:
        time.sleep(0.02)
    os.kill(site.process.pid, signal.SIGKILL)
    site.process.wait(timeout=20)
    for t in threads:
        t.join(timeout=60)
    assert len(acknowledged) >= 40

    site.start()  # the store opens again after the kill and takes ballots
    after = httpx.post(url, json={"credential": credentials[0], "choice": ["3"]}, timeout=30)
    assert after.status_code == 201, after.text
    site.stop()

    engine = Engine(str(db), plugins=make_plugin_manager(allow={"budget_vote"}), outbox=outbox)
    try:
        service.advance(engine, cycle_id, "tallying", by=ADMIN)
        kit = VotingKit(engine)
        box = kit.opened(cycle_id)
        in_box = {b.tracking_code: b for b in box.ballots}
        assert set(acknowledged) <= set(in_box)  # nothing acknowledged is lost
        assert in_box[after.json()["tracking_code"]].state == COUNTED  # the last ballot of voter 0
        # every other voter's counted ballot is the last one acknowledged, or a later one the
        # kill cut off after it was written but before the answer left
        last: dict[int, int] = {}
        for voter, round_ in acknowledged.values():
            last[voter] = max(last.get(voter, -1), round_)
        counted = [b for b in box.ballots if b.state == COUNTED]
        # one counted ballot per voter acknowledged; a voter whose only ballot the kill cut off
        # after it was written (never acknowledged) counts as well
        assert len({v for v, _ in acknowledged.values()} | {0}) <= len(counted) <= VOTERS
        for code, (voter, round_) in acknowledged.items():
            if voter != 0 and round_ < last[voter]:
                assert in_box[code].state != COUNTED
        assert kit.audit(cycle_id).ok
    finally:
        engine.close()
