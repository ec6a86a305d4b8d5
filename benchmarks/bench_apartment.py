"""Apartment elections at the size of a large complex: 10,000 households in 20 buildings, each
voting in 5 contests (its building representative, chair, auditors, two agenda decisions),
through the engine and the voting kit on a SQLite file: codes, sign-in, ballots per second, then
the time to close, open the box and tally, and the audit's re-tally of the log."""

from __future__ import annotations

import os
import random
import time
from datetime import datetime, timedelta, timezone

from benchmarks.common import bare_hpke_open_rate, ledger_following, temp_dir
from core import Engine, ManualClock, use_clock
from core.ledger.verify import Reread
from core.voting.parallel import usable_cores
from plugins.apartment_vote import service
from plugins.apartment_vote.audit import retally
from plugins.apartment_vote.demo import CodeCatcher

HOUSEHOLDS = int(os.environ.get("BENCH_APARTMENT_HOUSEHOLDS", 10_000))
BUILDINGS = 20
T0 = datetime(2016, 5, 2, tzinfo=timezone.utc)
OPENS, CLOSES = T0 + timedelta(days=7), T0 + timedelta(days=9)


def roll_csv() -> str:
    per = HOUSEHOLDS // BUILDINGS
    rows = ["household,building,contact"]
    for b in range(BUILDINGS):
        building = str(101 + b)
        rows += [f"{building}-{u:04d},{building},0107{b:03d}{u:04d}" for u in range(1, per + 1)]
    return "\n".join(rows) + "\n"


def run(table) -> None:
    rng = random.Random(7)
    manual = ManualClock(T0)
    previous = use_clock(manual)
    try:
        with temp_dir() as tmp:
            engine = Engine(str(tmp / "apartment.db"), outbox=tmp / "outbox.jsonl")
            catcher = CodeCatcher()
            engine.pm.register(catcher, name="bench-codes")
            service.register_complex(engine, "BENCH", "Benchmark Towers")
            service.import_roll(engine, "BENCH", roll_csv())
            eid = service.schedule_election(engine, "BENCH", "bench", OPENS, CLOSES, OPENS)["id"]
            reps = {}
            for b in range(BUILDINGS):
                building = str(101 + b)
                cid = service.add_contest(engine, eid, "building_representative", f"{building} rep", building)["contest_id"]
                reps[building] = (cid, [service.register_candidate(engine, eid, cid, n)["candidate_id"] for n in "AB"])
            chair = service.add_contest(engine, eid, "chair", "Chair")["contest_id"]
            chairs = [service.register_candidate(engine, eid, chair, n)["candidate_id"] for n in "ABC"]
            auditor = service.add_contest(engine, eid, "auditor", "Auditors")["contest_id"]
            auditors = [service.register_candidate(engine, eid, auditor, n)["candidate_id"] for n in "ABCD"]
            agendas = [service.add_contest(engine, eid, "agenda", f"Agenda {i}")["contest_id"] for i in (1, 2)]

            manual.set(OPENS)
            started = time.perf_counter()
            service.open_election(engine, eid)
            opening = time.perf_counter() - started
            started = time.perf_counter()
            service.issue_codes(engine, eid)
            coding = time.perf_counter() - started
            assert len(catcher.codes) == HOUSEHOLDS

            households = sorted(catcher.codes)
            ballots = []
            for household in households:
                building = household.split("-")[0]
                rep, candidates = reps[building]
                ballots.append((household, {rep: [rng.choice(candidates)], chair: [rng.choice(chairs)],
                                            auditor: rng.sample(auditors, 2), agendas[0]: [rng.choice(["yes", "no"])],
                                            agendas[1]: [rng.choice(["yes", "no", "yes"])]}))
            started = time.perf_counter()
            with ledger_following(engine):  # as in `civic serve`, while ballots arrive
                for household, ballot in ballots:
                    session = service.authenticate(engine, eid, household, catcher.codes[household], client=household)
                    service.cast(engine, eid, session["credential"], ballot)
            voting = time.perf_counter() - started

            manual.set(CLOSES)
            hpke_rate = bare_hpke_open_rate()
            started = time.perf_counter()
            outcome = service.close_election(engine, eid)
            closing = time.perf_counter() - started
            assert outcome["results"][chair]["voted"] == HOUSEHOLDS

            started = time.perf_counter()
            report = retally(Reread(engine.records))  # streamed from the store, no list
            auditing = time.perf_counter() - started
            assert report.ok and report.checked == BUILDINGS + 4
            events = engine.position
            engine.close()
            hpke_rate = (hpke_rate + bare_hpke_open_rate()) / 2  # before and after: the load drifts
    finally:
        use_clock(previous)
    table.add("apartment: open (roll frozen, into the box)", opening, "s",
              f"{HOUSEHOLDS:,} households, one sealed contact each")
    table.add("apartment: one-time codes sent", coding, "s", f"{HOUSEHOLDS:,} codes")
    table.add("apartment: households voting (sign-in + ballot)", HOUSEHOLDS / voting, "ballots/s",
              "each ballot holds 5 contests")
    table.add("apartment: contest votes through the engine", HOUSEHOLDS * 5 / voting, "votes/s")
    limit = HOUSEHOLDS / (hpke_rate * usable_cores())  # every ballot opened once, bare, on every core
    table.add("bare HPKE open, one core", hpke_rate, "opens/s",
              f"reference; limit for {HOUSEHOLDS:,} on {usable_cores()} cores: {limit:.2f} s")
    table.add("apartment: close, open the box, tally 24 contests", closing, "s",
              f"{HOUSEHOLDS:,} sealed ballots, vs bare opens", ratio=closing / limit, target="<= 1.5x")
    table.add("apartment: audit re-tally of the whole log", auditing, "s", f"{events:,} events, vs bare opens",
              ratio=auditing / limit)
