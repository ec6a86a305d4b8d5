"""Property tests: random streams of complaints, transitions and ticks against a simple model
written independently of ``rules`` (its own transition table, its own counting)."""

from __future__ import annotations

import json
import shutil
import statistics
import tempfile
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from core import clock
from core.clock import ManualClock
from core.engine import Engine
from core.errors import CivicError
from plugins.complaints import rules, service
from plugins.complaints.audit import retally
from plugins.complaints.fold import index_from_records
from plugins.complaints.taxonomy_data import DEPARTMENTS, DONGS, ITEMS
from plugins.complaints.texts import ResolutionTexts, text_key

SEOUL = ZoneInfo("Asia/Seoul")
# Two hours before the new year in Seoul, when it is still 13:00 on 31 December in UTC.
START = datetime(2015, 12, 31, 22, 0, tzinfo=SEOUL)
ITEM_CODES = sorted(ITEMS)
# (status, action) pairs the model allows, and where they lead.
ALLOWED = {
    ("transferred", "accept"): "accepted", ("accepted", "start"): "in_progress",
    ("transferred", "reassign"): "transferred", ("accepted", "reassign"): "transferred",
    ("in_progress", "reassign"): "transferred",
    ("transferred", "resolve"): "resolved", ("accepted", "resolve"): "resolved", ("in_progress", "resolve"): "resolved",
    ("transferred", "reject"): "rejected", ("accepted", "reject"): "rejected", ("in_progress", "reject"): "rejected",
    ("transferred", "duplicate"): "duplicate", ("accepted", "duplicate"): "duplicate",
    ("in_progress", "duplicate"): "duplicate",
}
FINAL = {"resolved", "rejected", "duplicate"}

minutes = st.one_of(st.integers(min_value=0, max_value=180), st.integers(min_value=0, max_value=4 * 24 * 60))
intake = st.tuples(st.just("intake"), st.sampled_from(ITEM_CODES), st.sampled_from(DONGS), minutes)
act = st.tuples(st.just("act"), st.integers(0, 40),
                st.sampled_from(["accept", "start", "reassign", "resolve", "reject", "duplicate"]),
                st.integers(0, 40), minutes)
operation = st.one_of(
    intake, intake, act, act, act,  # mostly reports and their handling
    st.tuples(st.just("tick"), minutes),
    # a crash that lost the text follower's saved position: it goes back and sends again
    st.tuples(st.just("lose_position"), st.integers(0, 100), minutes),
)


class Model:
    def __init__(self) -> None:
        self.complaints: list[dict] = []
        self.ticks: list[datetime] = []

    def root(self, i: int) -> int:
        while self.complaints[i]["duplicate_of"] is not None:
            i = self.complaints[i]["duplicate_of"]
        return i

    def allows(self, i: int, action: str, j: int) -> bool:
        c = self.complaints[i]
        if (c["status"], action) not in ALLOWED:
            return False
        return not (action == "duplicate" and self.root(j) == i)


def seoul_month(when: datetime) -> tuple[int, int]:
    local = when.astimezone(SEOUL)
    return local.year, local.month


def next_month_start(year: int, month: int) -> datetime:
    return datetime(year + month // 12, month % 12 + 1, 1, tzinfo=SEOUL)


def expected_monthly(model: Model, year: int, month: int, now: datetime) -> dict[str, dict]:
    cutoff = min(next_month_start(year, month), now)
    rows: dict[str, dict] = {}
    hours: dict[str, list[float]] = {}
    for c in model.complaints:
        dept = c["department"]
        touched = False
        row = rows.setdefault(dept, Counter())
        if seoul_month(c["received"]) == (year, month) and c["received"] < cutoff:
            row["received"] += 1
            touched = True
        if c["received"] < cutoff and (c["closed"] is None or c["closed"] >= cutoff):
            row["open"] += 1
            touched = True
            if c["deadline"] < cutoff:
                row["overdue"] += 1
        if c["closed"] is not None and c["closed"] < cutoff and seoul_month(c["closed"]) == (year, month) \
                and c["status"] in ("resolved", "rejected"):
            row[c["status"]] += 1
            touched = True
            if c["closed"] > c["deadline"]:
                row["closed_late"] += 1
            hours.setdefault(dept, []).append((c["closed"] - c["received"]).total_seconds() / 3600)
        if not touched and not row:
            del rows[dept]
    out = {}
    for dept, row in rows.items():
        out[dept] = {k: row.get(k, 0) for k in ("received", "resolved", "rejected", "open", "overdue", "closed_late")}
        out[dept]["median_handling_hours"] = round(statistics.median(hours[dept]), 2) if hours.get(dept) else None
    return out


@given(st.lists(operation, min_size=10, max_size=60))
def test_random_streams_match_the_model(ops):
    home = Path(tempfile.mkdtemp(prefix="civic-prop-"))
    manual = ManualClock(START.astimezone(timezone.utc))
    previous = clock.use_clock(manual)
    engine = Engine(str(home / "civic.db"), outbox=home / "outbox.jsonl")
    try:
        run_stream(engine, manual, ops, home)
    finally:
        engine.close()
        clock.use_clock(previous)
        shutil.rmtree(home, ignore_errors=True)


def run_stream(engine: Engine, manual: ManualClock, ops, home: Path) -> None:
    model = Model()
    ids: list[str] = []
    for op in ops:
        manual.advance(minutes=op[-1])
        now = manual.now()
        if op[0] == "intake":
            _, item, dong, _ = op
            c = service.intake(engine, channel="call_centre", item=item, dong=dong, description="민원",
                               reporter_phone="010-1000-2000")
            ids.append(str(c.id))
            field, _, _, dept, sla = ITEMS[item]
            model.complaints.append({"received": now, "field": field, "department": dept, "status": "transferred",
                                     "closed": None, "deadline": now + timedelta(hours=sla), "duplicate_of": None,
                                     "flagged": None, "resolved_version": None})
        elif op[0] == "act":
            if not ids:
                continue
            _, i, action, j, _ = op
            i, j = i % len(ids), j % len(ids)
            expected = model.allows(i, action, j)
            department = sorted(DEPARTMENTS)[(i + j) % len(DEPARTMENTS)]
            try:
                done = service.act(engine, ids[i], action, note="처리 메모", original=ids[j],
                                   officer=f"{department}.officer{len(ops)}{i}{j}{now.timestamp()}",
                                   department=department if action == "reassign" else None)
            except CivicError:
                assert not expected, f"{action} refused from {model.complaints[i]['status']}"
                continue
            assert expected, f"{action} allowed from {model.complaints[i]['status']}"
            c = model.complaints[i]
            c["status"] = ALLOWED[(c["status"], action)]
            if action == "reassign":
                c["department"] = department
            if action == "duplicate":
                c["duplicate_of"] = model.root(j)
            if c["status"] in FINAL:
                c["closed"] = now
            if action == "resolve":
                c["resolved_version"] = done.version
        elif op[0] == "lose_position":
            texts = ResolutionTexts(engine)
            texts.save_position(texts.position() * op[1] // 100)
            texts.drain()
        else:
            engine.tick()
            model.ticks.append(now)
            for c in model.complaints:
                if c["flagged"] is None and c["status"] not in FINAL and c["deadline"] < now:
                    c["flagged"] = now
    now = manual.now()
    # yearly counts (Seoul years) against a plain count
    expected_years: dict[int, Counter] = {}
    for c in model.complaints:
        expected_years.setdefault(c["received"].astimezone(SEOUL).year, Counter())[c["field"]] += 1
    live_yearly = service.yearly_report(engine)
    assert [r["year"] for r in live_yearly] == sorted(expected_years)
    for row in live_yearly:
        counts = expected_years[row["year"]]
        assert row["total"] == sum(counts.values())
        assert all(row[f] == counts.get(f, 0) for f in rules.DOCUMENT_FIELDS)
    # monthly inspection of every month from the start to now
    months = sorted({seoul_month(START + timedelta(days=d)) for d in range((now - START).days + 1)} | {seoul_month(now)})
    live_monthly = {}
    for year, month in months:
        live = service.monthly_report(engine, year, month)
        live_monthly[(year, month)] = live
        got = {r["department"]: {k: r[k] for k in ("received", "resolved", "rejected", "open", "overdue",
                                                   "closed_late", "median_handling_hours")} for r in live}
        assert got == expected_monthly(model, year, month, now), (year, month)
    # overdue flags where and when the ticks saw a passed deadline
    index = service.index(engine)["complaints"]
    for cid, c in zip(ids, model.complaints, strict=True):
        flagged = index[cid]["overdue_flagged_at"]
        assert (flagged and rules.parse_time(flagged)) == (c["flagged"] and c["flagged"].astimezone(timezone.utc))
    # exactly one text per resolution, whatever else ran (ticks, retries)
    service.send_pending_texts(engine)
    engine.tick()
    outbox = home / "outbox.jsonl"
    sent = [json.loads(line)["key"] for line in outbox.read_text().splitlines()] if outbox.exists() else []
    resolved = [text_key(cid, c["resolved_version"]) for cid, c in zip(ids, model.complaints, strict=True)
                if c["status"] == "resolved"]
    assert sorted(sent) == sorted(resolved)
    # the same reports from the log records, and the auditor's recount agrees
    index = service.index(engine)["complaints"]  # caught up with the last tick
    records = list(engine.records())
    refolded = index_from_records(records)
    assert rules.yearly_by_field(refolded.values()) == rules.yearly_by_field(index.values())
    assert refolded == index
    for (year, month), live in live_monthly.items():
        from_records = rules.monthly_by_department(refolded.values(), year, month, now)
        assert from_records == [{k: v for k, v in r.items() if k not in ("name_ko", "name_en")} for r in live]
    report = retally(records)
    if records:
        assert report.ok
    else:  # nothing was taken in (every operation refused, or none): reads wrote nothing either
        assert report is None


def test_reports_from_an_export_equal_the_live_ones(sqlite_engine, manual_clock, tmp_path):
    """The same figures from the exported file an auditor receives."""
    from core.ledger.export import read_export, write_export
    from core.ledger.leaves import log_record

    manual_clock.set(START.astimezone(timezone.utc))
    for n, item in enumerate(ITEM_CODES):
        c = service.intake(sqlite_engine, channel="sns", item=item, dong=DONGS[n % 15], description="민원",
                           reporter_phone="010-1000-2000")
        manual_clock.advance(hours=n % 7)
        if n % 3:
            service.act(sqlite_engine, c.id, "resolve" if n % 3 == 1 else "reject", note="처리")
    manual_clock.advance(days=3)
    sqlite_engine.tick()
    write_export(sqlite_engine, tmp_path / "export.jsonl")
    records = [log_record(value.record) for kind, value in read_export(tmp_path / "export.jsonl") if kind == "record"]
    refolded = index_from_records(records)
    live = service.index(sqlite_engine)["complaints"]
    assert refolded == live
    now = manual_clock.now()
    assert rules.yearly_by_field(refolded.values()) == service.yearly_report(sqlite_engine) != []
    for year, month in ((2015, 12), (2016, 1)):
        live_rows = [{k: v for k, v in r.items() if k not in ("name_ko", "name_en")}
                     for r in service.monthly_report(sqlite_engine, year, month)]
        assert rules.monthly_by_department(refolded.values(), year, month, now) == live_rows
    assert retally(records).ok
