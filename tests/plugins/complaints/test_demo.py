"""The demo: a month of complaints across every field, some resolved with their texts in the
outbox, some overdue."""

from __future__ import annotations

import json
from collections import Counter

from plugins.complaints import rules, service
from plugins.complaints.audit import retally
from plugins.complaints.demo import DAYS, DEMO_COMPLAINTS
from plugins.complaints.taxonomy_data import FIELDS


def test_demo_month(sqlite_engine, manual_clock, tmp_path):
    steps = []
    sqlite_engine.pm.get_plugin("complaints").civic_load_demo(engine=sqlite_engine, progress=steps.append)
    assert steps
    entries = list(service.index(sqlite_engine)["complaints"].values())
    assert len(entries) == DEMO_COMPLAINTS
    now = manual_clock.now()
    received = [rules.parse_time(e["received_at"]) for e in entries]
    assert max(received) <= now and (now - min(received)).days < DAYS
    assert set(Counter(e["field"] for e in entries)) == set(FIELDS)
    statuses = Counter(e["status"] for e in entries)
    assert statuses["resolved"] > DEMO_COMPLAINTS / 2 and statuses["rejected"] and statuses["duplicate"] == 10
    overdue = [e for e in entries if rules.is_overdue(e, now)]
    assert overdue and all(e["overdue_flagged_at"] for e in overdue)
    assert any(e["status"] not in rules.CLOSED and not rules.is_overdue(e, now) for e in entries)
    texts = [json.loads(line) for line in (tmp_path / "outbox.jsonl").read_text().splitlines()]
    texts = [t for t in texts if t["plugin"] == "complaints"]
    with_phone = [e for e in entries if e["status"] == "resolved" and e["reporter"] is not None]
    assert len(texts) == len(with_phone) > 0
    assert all(t["channel"] == "sms" and t["to"].startswith("010") for t in texts)
    assert not [line for line in sqlite_engine.tick() if line.startswith("complaints")]  # nothing left to do
    assert retally(list(sqlite_engine.records())).ok
