"""Demo data: the June 2016 residents' elections of a 550-household complex in Jung-gu, voted
online and closed, with every kind of outcome the Art. 11 rules give:

- building 101: two candidates, most votes wins; 102: a single candidate approved;
- building 103: turnout 38% — not elected, quorum missed; 104: no candidate registered;
- chair (three candidates) and two auditors (top two of three) elected complex-wide;
- two agenda decisions: a bylaw amendment needing a majority of all households (not adopted)
  and an EV charger decision by a majority of voters, its rule changed before opening (adopted).

Time is a manual clock set to 2016 while loading, then the previous clock comes back.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Any

from core import ManualClock, hookimpl, use_clock
from plugins.apartment_vote import service
from plugins.apartment_vote.domain import PLUGIN

CODE = "JG-SINDANG-7"
NAME = "Sindang Namsan Hill Apartments (신당 남산힐 아파트)"
BUILDINGS = {"101": 120, "102": 110, "103": 110, "104": 100, "105": 110}
T0 = datetime(2016, 5, 23, 0, 0, tzinfo=timezone.utc)
OPENS = datetime(2016, 6, 1, 0, 0, tzinfo=timezone.utc)  # 09:00 Seoul
CLOSES = datetime(2016, 6, 3, 9, 0, tzinfo=timezone.utc)  # 18:00 Seoul
SURNAMES = ["Kim", "Lee", "Park", "Choi", "Jung", "Kang", "Cho", "Yoon", "Jang", "Lim", "Han", "Oh"]
GIVEN = ["Minsu", "Jiyoung", "Seojun", "Hana", "Dohyun", "Yuna", "Jiho", "Sumin", "Hyunwoo", "Eunji"]


class CodeCatcher:
    """Takes the demo's voting codes before they reach the outbox: demo households 'read' them."""

    def __init__(self) -> None:
        self.codes: dict[str, str] = {}

    @hookimpl(tryfirst=True)
    def civic_send_notification(self, notification: Any) -> str | None:
        if notification.plugin != PLUGIN:
            return None
        household = notification.key.split("/")[2]
        self.codes[household] = notification.text.rsplit(" ", 1)[-1]  # the code is the text's last word
        return f"demo:{notification.key}"


def roll_csv() -> str:
    lines = ["household,building,contact"]
    for building, size in BUILDINGS.items():
        floors = size // 4 + 1
        n = 0
        for floor in range(1, floors + 1):
            for line in range(1, 5):
                n += 1
                if n > size:
                    break
                lines.append(f"{building}-{floor}{line:02d},{building},010-7{building}-{n:04d}")
    return "\n".join(lines) + "\n"


def load_demo(engine: Any, progress: Callable[[str], None]) -> dict[str, Any]:
    manual = ManualClock(T0)
    previous = use_clock(manual)
    catcher = CodeCatcher()
    engine.pm.register(catcher, name="apartment_vote.demo-codes")
    try:
        return _load(engine, progress, manual, catcher)
    finally:
        engine.pm.unregister(name="apartment_vote.demo-codes")
        use_clock(previous)


def _load(engine: Any, progress: Callable[[str], None], manual: ManualClock, catcher: CodeCatcher) -> dict[str, Any]:
    rng = random.Random(2016)
    progress("apartment: complex and roll")
    service.register_complex(engine, CODE, NAME)
    service.import_roll(engine, CODE, roll_csv())
    eid = service.schedule_election(engine, CODE, "2016 residents' representatives and bylaw vote",
                                    OPENS, CLOSES, OPENS - timedelta(days=3))["id"]

    def name() -> str:
        return f"{rng.choice(SURNAMES)} {rng.choice(GIVEN)}"

    candidates: dict[str, list[str]] = {}
    contests: dict[str, str] = {}
    plan = {"101": 2, "102": 1, "103": 2, "104": 0, "105": 1}
    for building, count in plan.items():
        cid = service.add_contest(engine, eid, "building_representative", f"Building {building} representative",
                                  building)["contest_id"]
        contests[building] = cid
        candidates[cid] = [service.register_candidate(engine, eid, cid, name(), "Residents first")["candidate_id"]
                           for _ in range(count)]
    chair = contests["chair"] = service.add_contest(engine, eid, "chair", "Chair of the residents' council")["contest_id"]
    candidates[chair] = [service.register_candidate(engine, eid, chair, name(), s)["candidate_id"]
                         for s in ("Open accounts every month", "Repaint the car park", "Quieter nights")]
    auditor = contests["auditor"] = service.add_contest(engine, eid, "auditor", "Auditors (2 seats)", seats=2)["contest_id"]
    candidates[auditor] = [service.register_candidate(engine, eid, auditor, name())["candidate_id"] for _ in range(3)]
    bylaw = contests["bylaw"] = service.add_contest(engine, eid, "agenda",
                                                    "Amend the management bylaw: pets in the lifts")["contest_id"]
    chargers = contests["chargers"] = service.add_contest(engine, eid, "agenda",
                                                          "Install 12 EV chargers in the car park")["contest_id"]
    service.change_rules(engine, eid, chargers, {"approval_basis": "voters", "turnout_num": 1, "turnout_den": 4,
                                                 "turnout_strict": False, "source": "bylaw art. 41: spending "
                                                 "decisions by a majority of voters, a quarter voting"},
                         "Bylaw art. 41 (spending from the long-term repair fund)")

    progress("apartment: voting opens, codes sent")
    manual.set(OPENS)
    service.open_election(engine, eid)
    service.issue_codes(engine, eid)

    progress("apartment: households vote")
    turnout = {"101": 0.68, "102": 0.61, "103": 0.38, "104": 0.57, "105": 0.64}
    households = sorted(catcher.codes)
    rng.shuffle(households)
    minutes = 0
    for household in households:
        building = household.split("-")[0]
        if rng.random() >= turnout[building]:
            continue
        minutes += 3
        manual.set(OPENS + timedelta(minutes=minutes % (60 * 56)))
        session = service.authenticate(engine, eid, household, catcher.codes[household], client=f"demo-{household}")
        ballot: dict[str, list[str]] = {}
        for contest in session["contests"]:
            cid, form = contest["contest_id"], contest["ballot"]
            if form["form"] == "none":
                continue
            if form["form"] == "yes_no":
                weights = (0.42, 0.48) if cid == bylaw else (0.63, 0.3)
                pick = rng.random()
                ballot[cid] = ["yes"] if pick < weights[0] else (["no"] if pick < sum(weights) else [])
            elif form["form"] == "approve":
                ballot[cid] = list(form["options"]) if rng.random() < 0.72 else []
            else:
                ranked = form["options"]
                weights = [0.5, 0.35, 0.15][: len(ranked)]
                chosen = set()
                while len(chosen) < form["max_choices"]:
                    chosen.add(rng.choices(ranked, weights=weights)[0])
                ballot[cid] = sorted(chosen)
        if rng.random() < 0.05:  # a few change their mind: the later ballot replaces the first
            service.cast(engine, eid, session["credential"], {k: [] for k in ballot})
        service.cast(engine, eid, session["credential"], ballot)

    progress("apartment: voting closes, results recorded")
    manual.set(CLOSES)
    outcome = service.close_election(engine, eid)
    return outcome
