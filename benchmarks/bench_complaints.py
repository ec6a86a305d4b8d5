"""Field complaints at 2015's volume: ingest 36,376 complaints with their transitions (received,
transferred, accepted, resolved or rejected) and produce the yearly report by field, live and
recomputed from the log records; against bare eventsourcing saving the same number of events in
the same batches, measured in the same run."""

from __future__ import annotations

import random
import time
from datetime import datetime, timedelta, timezone

from benchmarks.common import BareItem, bare_app, temp_dir
from core import clock
from core.clock import ManualClock
from core.engine import Engine
from core.plugins import make_plugin_manager
from plugins.complaints import rules, service
from plugins.complaints.fold import index_from_records
from plugins.complaints.taxonomy_data import DONGS, ITEMS

YEAR_2015 = 36_376
BATCH = 1000
SINGLE_INTAKES = 300
SEOUL = rules.SEOUL
# the 2015 row of the plan, per field (as weights)
WEIGHTS = {"traffic": 18_612, "roads": 2_192, "cleaning": 1_774, "flood_control": 443, "street_order": 5_982,
           "health_env": 2_128, "other": 4_918}


def year_specs(count: int, rng: random.Random):
    items = {f: [c for c, v in ITEMS.items() if v[0] == f] for f in WEIGHTS}
    fields = rng.choices(list(WEIGHTS), list(WEIGHTS.values()), k=count)
    start = datetime(2015, 1, 1, tzinfo=SEOUL)
    for i, field in enumerate(fields):
        received = start + timedelta(seconds=int(365 * 86400 * i / count))
        item = rng.choice(items[field])
        handled = received + timedelta(hours=ITEMS[item][4] * rng.uniform(0.1, 1.5))
        then = [("accept", {"at": rules.iso(received + timedelta(minutes=20)), "by": "bench"})]
        final = "reject" if rng.random() < 0.04 else "resolve"
        then.append((final, {"note": "현장 조치", "at": rules.iso(handled), "by": "bench"}))
        yield {"channel": "call_centre", "item": item, "dong": rng.choice(DONGS), "description": "현장 민원",
               "received_at": received, "then": then}


def engine_run(path) -> dict[str, float]:
    engine = Engine(str(path), plugins=make_plugin_manager(allow={"complaints"}), outbox=path.with_suffix(".outbox"))
    out: dict[str, float] = {}
    started = time.perf_counter()
    loaded = service.bulk_intake(engine, year_specs(YEAR_2015, random.Random(2015)), batch=BATCH)
    out["ingest_s"] = time.perf_counter() - started
    out["complaints_per_s"] = loaded / out["ingest_s"]
    out["events"] = engine.position
    started = time.perf_counter()
    rows = service.yearly_report(engine, [2015])  # the read model folds the whole log first
    out["report_cold_s"] = time.perf_counter() - started
    assert rows[0]["total"] == YEAR_2015, rows
    started = time.perf_counter()
    service.yearly_report(engine, [2015])
    out["report_warm_s"] = time.perf_counter() - started
    started = time.perf_counter()
    recount = rules.yearly_by_field(index_from_records(engine.records()).values(), [2015])
    out["report_records_s"] = time.perf_counter() - started
    assert recount == rows
    # one complaint per command, as the call centre takes them in (reporter sealed, own transaction)
    started = time.perf_counter()
    for i in range(SINGLE_INTAKES):
        service.intake(engine, channel="call_centre", item="illegal_parking", dong=DONGS[i % len(DONGS)],
                       description="불법 주차", reporter_phone="010-1234-5678")
    out["single_intake_per_s"] = SINGLE_INTAKES / (time.perf_counter() - started)
    engine.close()
    return out


def bare_run(path, events_per_item: int, items: int) -> float:
    app = bare_app(path)
    started = time.perf_counter()
    batch = []
    for i in range(items):
        item = BareItem(f"c{i}")
        for k in range(events_per_item - 1):
            item.mark(f"m{k}")
        batch.append(item)
        if len(batch) >= BATCH:
            app.save(*batch)
            batch = []
    if batch:
        app.save(*batch)
    elapsed = time.perf_counter() - started
    app.close()
    return items * events_per_item / elapsed


def run(table) -> None:
    previous = clock.use_clock(ManualClock(datetime(2016, 1, 1, tzinfo=timezone.utc)))
    try:
        with temp_dir() as tmp:
            figures = engine_run(tmp / "complaints.db")
            events_per_complaint = round(figures["events"] / YEAR_2015)
            bare = bare_run(tmp / "bare.db", events_per_complaint, YEAR_2015)
    finally:
        clock.use_clock(previous)
    engine_events = figures["events"] / figures["ingest_s"]
    table.add("complaints: ingest 2015 (36,376 with transitions)", figures["ingest_s"], "s",
              f"{figures['events']:,.0f} events, {BATCH} complaints/save")
    table.add("complaints: ingest rate", figures["complaints_per_s"], "complaints/s")
    table.add("complaints: ingest rate (events)", engine_events, "events/s")
    table.add("bare eventsourcing: same events, same batches", bare, "events/s")
    table.add("ratio complaints/bare, ingest", engine_events / bare, "x")
    table.add("complaints: yearly report, cold (fold whole log)", figures["report_cold_s"], "s")
    table.add("complaints: yearly report, warm read model", figures["report_warm_s"], "s")
    table.add("complaints: yearly report from log records", figures["report_records_s"], "s", "auditor's path")
    table.add("complaints: intake, one per command", figures["single_intake_per_s"], "complaints/s",
              "sealed reporter, own transaction")
