"""Reports: the plan's yearly table reproduced exactly, the monthly inspection, CSV/JSON/SVG, the
CLI and the endpoints, and the auditor's recount from the log records."""

from __future__ import annotations

import csv
import io
import json
import xml.etree.ElementTree as ET
from datetime import datetime, timedelta
from itertools import cycle

import pytest
from click.testing import CliRunner
from litestar.testing import TestClient

from core.cli import cli
from core.errors import RuleViolation
from core.http import create_app
from core.records import LogRecord
from plugins.complaints import rules, service
from plugins.complaints.audit import retally
from plugins.complaints.fold import index_from_records
from plugins.complaints.cli import complaints as complaints_group
from plugins.complaints.taxonomy_data import DONGS, ITEMS

# The plan's table (응답소 현장민원 처리 실적), 2014.
ROW_2014 = {"year": 2014, "total": 28_743, "traffic": 16_720, "roads": 1_885, "cleaning": 1_161,
            "flood_control": 519, "street_order": 4_054, "health_env": 2_128, "other": 2_276}
SEOUL = rules.SEOUL


def year_of_complaints(counts: dict[str, int], year: int):
    """Specs for ``bulk_intake``: ``counts`` per field, spread over the year in Seoul time."""
    items = {f: cycle([c for c, v in ITEMS.items() if v[0] == f]) for f in counts}
    dongs = cycle(DONGS)
    start = datetime(year, 1, 1, tzinfo=SEOUL)
    seconds = (datetime(year + 1, 1, 1, tzinfo=SEOUL) - start).total_seconds()
    total = sum(counts.values())
    fields = [f for f, n in counts.items() for _ in range(n)]
    for i, field in enumerate(fields):
        yield {"channel": "call_centre", "item": next(items[field]), "dong": next(dongs),
               "description": "현장 민원", "received_at": start + timedelta(seconds=seconds * i / total)}


@pytest.fixture
def year_2014(sqlite_engine, manual_clock):
    counts = {k: v for k, v in ROW_2014.items() if k not in ("year", "total")}
    assert sum(counts.values()) == ROW_2014["total"]
    loaded = service.bulk_intake(sqlite_engine, year_of_complaints(counts, 2014), batch=2000)
    assert loaded == ROW_2014["total"]
    return sqlite_engine


def test_yearly_report_reproduces_2014_exactly(year_2014):
    assert service.yearly_report(year_2014, [2014]) == [ROW_2014]
    # the same figures refolded from the log records, as an auditor reads them
    records = list(year_2014.records())
    recount = rules.yearly_by_field(index_from_records(records).values(), [2014])
    assert recount == [ROW_2014]
    report = retally(records)
    assert report.ok and report.checked == 2 * ROW_2014["total"] + 1
    # ... and as CSV, JSON, text, through the endpoints and as a chart
    runner = CliRunner()
    db = year_2014.db
    out = runner.invoke(complaints_group, ["report", "yearly", "--db", db, "--csv", "--korean"])
    assert out.exit_code == 0, out.output
    rows = list(csv.reader(io.StringIO(out.output)))
    assert rows == [["년도", "전체", "교통", "도로", "청소", "치수방재", "가로정비", "보건환경", "기타"],
                    ["2014", "28743", "16720", "1885", "1161", "519", "4054", "2128", "2276"]]
    with TestClient(create_app(year_2014)) as client:
        assert client.get("/api/complaints/reports/yearly", params={"year": 2014}).json() == [ROW_2014]
        got = client.get("/api/complaints/reports/yearly", params={"format": "csv"})
        assert got.headers["content-type"] == "text/csv; charset=utf-8" and "28743" in got.text
        assert got.content.startswith(b"\xef\xbb\xbf")  # the BOM: Excel reads Korean
        svg = client.get("/api/complaints/reports/yearly.svg")
        assert svg.headers["content-type"].startswith("image/svg+xml")
    root = ET.fromstring(svg.text)
    bars = [t.text for t in root.iter("{http://www.w3.org/2000/svg}title")]
    assert "2014 traffic: 16,720" in bars and "2014 other: 2,276" in bars


def test_monthly_inspection_per_department(engine, manual_clock):
    march = datetime(2016, 3, 1, tzinfo=SEOUL)
    manual_clock.set(march + timedelta(days=1))
    base = dict(channel="call_centre", dong="명동", description="현장 민원")
    parking_fast = service.intake(engine, item="illegal_parking", **base)  # 4 h deadline
    parking_late = service.intake(engine, item="illegal_parking", **base)
    parking_open = service.intake(engine, item="illegal_parking", **base)
    pothole = service.intake(engine, item="pothole", **base)  # 24 h
    manual_clock.advance(hours=2)
    service.act(engine, parking_fast.id, "resolve", note="단속")
    manual_clock.advance(hours=8)
    service.act(engine, parking_late.id, "reject", note="현장 확인 불가")
    manual_clock.advance(hours=2)
    service.act(engine, pothole.id, "resolve", note="보수")
    manual_clock.set(march + timedelta(days=40))  # April: March is over
    rows = {r["department"]: r for r in service.monthly_report(engine, 2016, 3)}
    assert rows["parking"] | {} == {
        "department": "parking", "received": 3, "resolved": 1, "rejected": 1, "open": 1, "overdue": 1,
        "closed_late": 1, "median_handling_hours": 6.0, "name_ko": "주차관리과", "name_en": "Parking Management"}
    assert (rows["construction"]["resolved"], rows["construction"]["median_handling_hours"]) == (1, 12.0)
    assert rows["construction"]["open"] == 0 and rows["construction"]["overdue"] == 0
    # April still sees the open parking complaint, received in March
    april = {r["department"]: r for r in service.monthly_report(engine, 2016, 4)}
    assert (april["parking"]["received"], april["parking"]["open"], april["parking"]["overdue"]) == (0, 1, 1)
    runner = CliRunner()
    out = runner.invoke(complaints_group, ["report", "monthly", "--db", engine.db, "--month", "2016-03", "--csv"])
    assert out.exit_code == 0 and "parking,3,1,1,1,1,1,6.0" in out.output
    bad = runner.invoke(complaints_group, ["report", "monthly", "--db", engine.db, "--month", "2016-13"])
    assert bad.exit_code != 0 and "1-12" in bad.output
    assert parking_open.status == "transferred"


def test_commands_are_registered_on_the_civic_cli(sqlite_engine, tmp_path):
    runner = CliRunner()
    from core.cli_helpers import plugin_manager

    plugin_manager().hook.civic_register_commands(cli=cli)
    db = sqlite_engine.db
    made = runner.invoke(cli, ["complaints", "intake", "--db", db, "--item", "noise", "--dong", "동화동",
                               "--description", "심야 공사 소음", "--phone", "010-9999-0000", "--json"])
    assert made.exit_code == 0, made.output
    cid = json.loads(made.output)["id"]
    done = runner.invoke(cli, ["complaints", "act", "--db", db, cid, "resolve", "--note", "공사 중지 요청"])
    assert done.exit_code == 0 and "resolved" in done.output
    again = runner.invoke(cli, ["complaints", "act", "--db", db, cid, "accept"])
    assert again.exit_code == 1 and "that is resolved" in again.output
    chart = runner.invoke(cli, ["complaints", "report", "chart", "--db", db, "--out", str(tmp_path / "c.svg")])
    assert chart.exit_code == 0 and (tmp_path / "c.svg").read_text().startswith("<svg")


def test_retally_names_a_tampered_record(sqlite_engine, manual_clock):
    c = service.intake(sqlite_engine, channel="sns", item="pothole", dong="약수동", description="구멍")
    service.act(sqlite_engine, c.id, "resolve", note="보수")
    records = list(sqlite_engine.records())
    assert retally(records).ok
    tampered = []
    for r in records:
        payload = dict(r.payload)
        if r.event_name == "Complaint.Received":
            payload["deadline"] = rules.iso(rules.parse_time(payload["deadline"]) + timedelta(days=7))
        tampered.append(LogRecord(r.position, r.originator_id, r.originator_version, r.topic, payload))
    report = retally(tampered)
    assert not report.ok and "deadline" in report.discrepancies[0].reason
    received_position = next(r.position for r in records if r.event_name == "Complaint.Received")
    assert report.discrepancies[0].position == received_position
    # a transition the state machine forbids
    resolved = next(r for r in records if r.event_name == "Complaint.Resolved")
    twice = records + [LogRecord(resolved.position + 1, resolved.originator_id, resolved.originator_version + 1,
                                 resolved.topic.replace("Resolved", "Accepted"), {**resolved.payload})]
    report = retally(twice)
    assert any("Cannot accept a complaint that is resolved" in d.reason for d in report.discrepancies)
    assert retally([r for r in records if not r.topic.startswith("plugins.complaints")]) is None


def test_report_endpoints_validate_input(sqlite_engine):
    with TestClient(create_app(sqlite_engine)) as client:
        assert client.get("/api/complaints/reports/monthly", params={"month": "March"}).status_code == 422
        assert client.get("/api/complaints/reports/monthly").status_code == 400
        ok = client.get("/api/complaints/reports/monthly", params={"month": "2016-03"})
        assert ok.status_code == 200 and ok.json() == []




def test_published_inspection_is_recomputed_by_the_auditor(engine, manual_clock):
    from core.ledger.verify import plugin_retally, verify_database

    manual_clock.set(datetime(2016, 3, 10, tzinfo=SEOUL))
    c = service.intake(engine, channel="call_centre", item="noise", dong="다산동", description="소음")
    service.intake(engine, channel="call_centre", item="bulky_waste", dong="다산동", description="폐가구")
    manual_clock.advance(hours=30)
    service.act(engine, c.id, "resolve", note="계도")
    with pytest.raises(RuleViolation, match="not over"):
        service.publish_inspection(engine, "monthly", "2016-03", by="auditor")
    manual_clock.set(datetime(2016, 4, 1, 9, tzinfo=SEOUL))
    published = service.publish_inspection(engine, "monthly", "2016-03", by="auditor")
    assert published.rows == rules.monthly_by_department(
        service.index(engine)["complaints"].values(), 2016, 3, manual_clock.now())
    assert {r["department"] for r in published.rows} == {"environment", "sanitation"}
    with pytest.raises(RuleViolation):
        service.publish_inspection(engine, "monthly", "2016-03", by="auditor")
    # complaints handled after publication do not change the recorded inspection's recount
    manual_clock.advance(hours=1)
    service.intake(engine, channel="sns", item="noise", dong="다산동", description="소음")
    report = verify_database(engine, retally=plugin_retally(engine.pm))
    assert report.ok, report.first
    records = list(engine.records())
    assert retally(records).ok
    tampered = []
    for r in records:
        payload = r.payload
        if r.event_name == "Inspection.Published":
            payload = {**payload, "rows": [{**row, "overdue": row["overdue"] + 1} for row in payload["rows"]]}
        tampered.append(LogRecord(r.position, r.originator_id, r.originator_version, r.topic, payload))
    found = retally(tampered)
    published_at = next(r.position for r in records if r.event_name == "Inspection.Published")
    assert [d.position for d in found.discrepancies] == [published_at]
    assert "differs from the recount" in found.discrepancies[0].reason


def test_yearly_report_as_text_and_json_on_the_cli(sqlite_engine, manual_clock):
    service.bulk_intake(sqlite_engine, year_of_complaints({"traffic": 1200, "other": 3}, 2015))
    runner = CliRunner()
    text = runner.invoke(complaints_group, ["report", "yearly", "--db", sqlite_engine.db])
    assert text.exit_code == 0 and "1,203" in text.output and "1,200" in text.output
    as_json = runner.invoke(complaints_group, ["report", "yearly", "--db", sqlite_engine.db, "--json"])
    assert json.loads(as_json.output) == [{"year": 2015, "total": 1203, "traffic": 1200, "roads": 0, "cleaning": 0,
                                           "flood_control": 0, "street_order": 0, "health_env": 0, "other": 3}]
    both = runner.invoke(complaints_group, ["report", "yearly", "--db", sqlite_engine.db, "--json", "--csv"])
    assert both.exit_code == 2
