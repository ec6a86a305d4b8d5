"""Crashes and races, against real ``civic serve`` processes, on SQLite and on PostgreSQL:

- killed with SIGKILL in the middle of bursts of ballots and complaints, again and again: every
  acknowledged ballot and complaint is there after the restart, none twice, and the auditor's
  ``civic audit verify`` passes;
- 50 parallel casts by one voter count once; 50 voters casting at once all count;
- two server processes on one store neither double-count nor fork the ledger.

``CIVIC_KILLS`` sets how many kills (10 by default; ``make soak`` runs more)."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from core.engine import Engine
from core.errors import RuleViolation
from core.plugins import make_plugin_manager
from core.voting import COUNTED, VotingKit
from plugins.budget_vote import service as budget
from plugins.complaints import service as complaints
from tests.support.figures import record
from tests.support.serve import ROOT, ServeProcess, free_port

ADMIN = "test:admin"
PLUGINS = {"budget_vote", "complaints"}
KILLS = int(os.environ.get("CIVIC_KILLS", "10"))
VOTERS = 12


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store(request, tmp_path, monkeypatch) -> str:
    monkeypatch.setenv("CIVIC_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("CIVIC_SECRETS", str(tmp_path / "secrets"))
    monkeypatch.setenv("CIVIC_OUTBOX", str(tmp_path / "outbox.jsonl"))
    if request.param == "sqlite":
        return str(tmp_path / "civic.db")
    return request.getfixturevalue("pg_server").create_database(f"kill_{os.getpid()}_{time.monotonic_ns()}")


def open_engine(db: str) -> Engine:
    return Engine(db, plugins=make_plugin_manager(allow=PLUGINS))


def voting_cycle(engine: Engine, voters: int, *, revote: bool = True) -> tuple[str, list[str]]:
    """A cycle open for voting and a ballot credential per voter."""
    cycle = budget.open_cycle(engine, name="burst", budget=100, rule={"name": "greedy"}, last_vote_counts=revote,
                              ballot_style={"kind": "approval", "min_projects": 1, "max_projects": 2}, by=ADMIN)
    for n in range(3):
        budget.submit_proposal(engine, cycle.id, title=f"p{n}", dong="필동", category="c", proposer="p")
    budget.advance(engine, cycle.id, "screening", by=ADMIN)
    for n in range(1, 4):
        budget.screen(engine, cycle.id, str(n), feasible=True, cost=30, reason="ok", by=ADMIN)
    budget.import_roll(engine, cycle.id, "entry_id,contact\n" + "".join(f"r{n},010{n:08d}\n" for n in range(voters)))
    budget.advance(engine, cycle.id, "voting", by=ADMIN)
    kit = VotingKit(engine)
    return str(cycle.id), [kit.issue_credential_in_person(cycle.id, f"r{n}", by=ADMIN).token for n in range(voters)]


class Server(ServeProcess):
    def __init__(self, db: str, folder: Path) -> None:
        port = free_port()
        env = {**os.environ, "CIVIC_PLUGINS": ",".join(sorted(PLUGINS)), "PYTHONPATH": str(ROOT)}
        super().__init__(db, port, env, folder / f"serve-{port}.log", timeout=90)


def audit_verifies(db: str) -> None:
    env = {**os.environ, "CIVIC_PLUGINS": ",".join(sorted(PLUGINS)), "PYTHONPATH": str(ROOT)}
    verified = subprocess.run([sys.executable, "-m", "core", "audit", "verify", "--db", db], env=env, cwd=ROOT,
                              capture_output=True, text=True, timeout=600)
    assert verified.returncode == 0, verified.stdout[-2000:] + verified.stderr[-2000:]


def test_sigkill_during_bursts_of_ballots_and_complaints_loses_nothing_acknowledged(store, tmp_path):
    engine = open_engine(store)
    try:
        complaints.ensure_taxonomy(engine)
        cycle_id, credentials = voting_cycle(engine, VOTERS)
    finally:
        engine.close()
    ballots: dict[str, tuple[int, int]] = {}  # tracking code -> (voter, number of the cast)
    reports: dict[str, str] = {}  # request id -> the unique description it was sent with
    lock = threading.Lock()
    casts = iter(range(10**9))

    def cast(server: Server, voter: int, stop: threading.Event) -> None:
        with httpx.Client(timeout=30) as client:
            while not stop.is_set():
                number = next(casts)
                try:
                    answer = client.post(f"{server.url}/api/budget/cycles/{cycle_id}/ballot",
                                         json={"credential": credentials[voter], "choice": [str(1 + number % 3)]})
                except httpx.HTTPError:
                    return  # the server is gone: this ballot was never acknowledged
                assert answer.status_code == 201, answer.text
                with lock:
                    ballots[answer.json()["tracking_code"]] = (voter, number)

    def report(server: Server, thread: int, stop: threading.Event) -> None:
        with httpx.Client(timeout=30) as client:
            for n in range(10**9):
                if stop.is_set():
                    return
                description = f"burst {thread}-{n}-{time.monotonic_ns()}"
                try:
                    answer = client.post(f"{server.url}/open311/v2/requests.json", data={
                        "jurisdiction_id": "junggu.seoul.kr", "service_code": "illegal_parking",
                        "attribute[dong]": "명동", "address_string": "명동길 14",
                        "description": description})
                except httpx.HTTPError:
                    return
                assert answer.status_code in (200, 201), answer.text
                with lock:
                    reports[answer.json()[0]["service_request_id"]] = description

    for kill in range(KILLS):
        server = Server(store, tmp_path).start()
        stop = threading.Event()
        workers = [threading.Thread(target=cast, args=(server, v, stop)) for v in range(VOTERS)]
        workers += [threading.Thread(target=report, args=(server, t, stop)) for t in range(3)]
        for w in workers:
            w.start()
        wanted = (kill + 1) * 8
        deadline = time.monotonic() + 60
        while (len(ballots) < wanted or len(reports) < (kill + 1) * 2) and time.monotonic() < deadline:
            time.sleep(0.01)
        server.kill()  # mid-burst: requests are in flight
        stop.set()
        for w in workers:
            w.join(timeout=60)
    assert len(ballots) >= KILLS * 8 and len(reports) >= KILLS * 2

    engine = open_engine(store)
    try:
        budget.advance(engine, cycle_id, "tallying", by=ADMIN)
        kit = VotingKit(engine)
        box = kit.opened(cycle_id)
        codes = [b.tracking_code for b in box.ballots]
        assert len(codes) == len(set(codes))  # no ballot twice
        assert set(ballots) <= set(codes)  # nothing acknowledged is lost
        counted = [b for b in box.ballots if b.state == COUNTED]
        assert len(counted) == len({voter for voter, _ in ballots.values()})  # one ballot counts per voter
        assert kit.audit(cycle_id).ok
        stored = complaints.index(engine)["complaints"]
        descriptions = [complaints.get_complaint(engine, cid).description for cid in stored]
        assert len(descriptions) == len(set(descriptions))  # no report taken in twice
        assert set(reports) <= set(stored)
        record(f"SIGKILL during bursts ({'PostgreSQL' if store.startswith('postgresql') else 'SQLite'})",
               kills=KILLS, ballots_acknowledged=len(ballots), ballots_acknowledged_found=len(set(ballots) & set(codes)),
               ballot_duplicates=len(codes) - len(set(codes)), complaints_acknowledged=len(reports),
               complaints_acknowledged_found=len(set(reports) & set(stored)),
               complaint_duplicates=len(descriptions) - len(set(descriptions)))
    finally:
        engine.close()
    audit_verifies(store)


def test_fifty_parallel_casts_count_once_per_voter(store):
    engine = open_engine(store)
    try:
        cycle_id, credentials = voting_cycle(engine, 51, revote=False)

        def cast(credential: str) -> str:
            try:
                budget.cast_ballot(engine, cycle_id, credential=credential, choice=["1"])
                return "taken"
            except RuleViolation:
                return "refused"

        with ThreadPoolExecutor(max_workers=16) as pool:
            same = list(pool.map(cast, [credentials[50]] * 50))  # one voter, 50 times at once
            everyone = list(pool.map(cast, credentials[:50]))  # 50 voters at once
        assert same.count("taken") == 1 and same.count("refused") == 49
        assert everyone == ["taken"] * 50
        budget.advance(engine, cycle_id, "tallying", by=ADMIN)
        box = VotingKit(engine).opened(cycle_id)
        assert len(box.ballots) == 51 and all(b.state == COUNTED for b in box.ballots)
        assert VotingKit(engine).audit(cycle_id).ok
    finally:
        engine.close()


def test_two_server_processes_on_one_store_neither_double_count_nor_fork_the_ledger(store, tmp_path):
    engine = open_engine(store)
    try:
        cycle_id, credentials = voting_cycle(engine, 40)
    finally:
        engine.close()
    first, second = Server(store, tmp_path).start(), Server(store, tmp_path).start()
    try:
        def cast(voter: int) -> str:
            server = (first, second)[voter % 2]
            answer = httpx.post(f"{server.url}/api/budget/cycles/{cycle_id}/ballot", timeout=60,
                                json={"credential": credentials[voter], "choice": [str(1 + voter % 3)]})
            assert answer.status_code == 201, answer.text
            return answer.json()["tracking_code"]

        with ThreadPoolExecutor(max_workers=8) as pool:
            codes = list(pool.map(cast, range(40)))
        for server in (first, second):  # both sign checkpoints while the other does
            assert httpx.get(f"{server.url}/ledger/checkpoint", timeout=30).status_code == 200
    finally:
        first.stop()
        second.stop()
    engine = open_engine(store)
    try:
        budget.advance(engine, cycle_id, "tallying", by=ADMIN)
        box = VotingKit(engine).opened(cycle_id)
        assert sorted(b.tracking_code for b in box.ballots) == sorted(codes)
        assert sum(1 for b in box.ballots if b.state == COUNTED) == 40
    finally:
        engine.close()
    audit_verifies(store)  # one ledger: every checkpoint either server signed is consistent
