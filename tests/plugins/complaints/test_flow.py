"""Intake, routing, the status machine, duplicates, photos and taxonomy changes."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest

from core.errors import InvalidInput, NotFound, RuleViolation
from core.actors import local_operator
from plugins.complaints import rules, service
from plugins.complaints.domain import Complaint
from plugins.complaints.taxonomy_data import DONGS, FIELDS, ITEMS

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def report(engine, **over):
    fields = dict(channel="call_centre", item="illegal_parking", dong="명동", description="차량이 인도를 막고 있음",
                  address="명동길 14", reporter_name="김민원", reporter_phone="010-1234-5678")
    fields.update(over)
    return service.intake(engine, **fields)


def test_shipped_taxonomy_has_the_documents_seven_fields_and_53_items():
    assert list(FIELDS) == ["traffic", "roads", "cleaning", "flood_control", "street_order", "health_env", "other"]
    assert len(ITEMS) == 53
    assert {f for f, *_ in ITEMS.values()} == set(FIELDS)
    assert len(DONGS) == 15


def test_intake_routes_by_item_and_dong_and_sets_the_deadline(engine, manual_clock):
    c = report(engine)
    assert c.status == rules.TRANSFERRED
    assert (c.field, c.department, c.officer) == ("traffic", "parking", "parking.west")
    assert rules.parse_time(c.deadline) - rules.parse_time(c.received_at) == timedelta(hours=4)
    east = report(engine, item="pothole", dong="신당5동")
    assert (east.department, east.officer) == ("construction", "construction.east")
    stored = engine.get(c.id, Complaint)
    assert [h["status"] for h in stored.history] == ["received", "transferred"]
    # personal data is never in the log in clear
    for record in engine.records():
        assert "010" not in str(record.payload) and "김민원" not in str(record.payload)


def test_item_route_overrides_department_zone_and_taxonomy_changes_are_events(engine, manual_clock):
    before = engine.position
    service.change_taxonomy(engine, "RouteSet", scope="item:illegal_parking", dong="명동", officer="parking.myeongdong")
    service.change_taxonomy(engine, "ItemChanged", code="illegal_parking", changes={"sla_hours": 2})
    assert report(engine).officer == "parking.myeongdong"
    c = report(engine)
    assert rules.parse_time(c.deadline) - rules.parse_time(c.received_at) == timedelta(hours=2)
    topics = [r.event_name for r in engine.records(before + 1)]
    assert "Taxonomy.RouteSet" in topics and "Taxonomy.ItemChanged" in topics
    service.change_taxonomy(engine, "ItemRetired", code="illegal_parking")
    with pytest.raises(RuleViolation, match="retired"):
        report(engine)


def test_bad_input_is_refused_and_changes_nothing(engine, manual_clock):
    report(engine)
    position = engine.position
    for bad in (dict(item="no_such"), dict(dong="강남동"), dict(channel="fax"), dict(description="  "),
                dict(reporter_phone="12345"), dict(lat=37.5)):
        with pytest.raises(InvalidInput):
            report(engine, **bad)
    with pytest.raises(InvalidInput):
        service.change_taxonomy(engine, "ItemChanged", code="pothole", changes={"sla_hours": 0})
    with pytest.raises(InvalidInput):
        service.change_taxonomy(engine, "ItemDefined", code="x", field="traffic", name_ko="a", name_en="a",
                                department="parking", sla_hours=3)
    assert engine.position == position


def test_flow_with_timestamps_and_invalid_transitions_naming_the_state(engine, manual_clock):
    c = report(engine)
    manual_clock.advance(minutes=10)
    service.act(engine, c.id, "accept", note="현장 출동")
    manual_clock.advance(minutes=20)
    service.act(engine, c.id, "start")
    with pytest.raises(RuleViolation, match="Cannot accept a complaint that is in_progress") as refused:
        service.act(engine, c.id, "accept")
    assert refused.value.extra["current_status"] == "in_progress"
    with pytest.raises(InvalidInput, match="note"):
        service.act(engine, c.id, "resolve")
    manual_clock.advance(minutes=30)
    done = service.act(engine, c.id, "resolve", note="견인 조치 완료")
    assert done.status == rules.RESOLVED
    times = [rules.parse_time(h["at"]) for h in done.history]
    assert [h["status"] for h in done.history] == ["received", "transferred", "accepted", "in_progress", "resolved"]
    assert times[-1] - times[0] == timedelta(hours=1) and times == sorted(times)
    position = engine.position
    with pytest.raises(RuleViolation, match="that is resolved"):
        service.act(engine, c.id, "reject", note="x")
    assert engine.position == position
    with pytest.raises(NotFound):
        service.act(engine, "4f8c0c5e-0000-4000-8000-000000000000", "accept")


def test_reassign_moves_to_another_officer_and_department(engine, manual_clock):
    c = report(engine, item="street_vendor")
    moved = service.act(engine, c.id, "reassign", officer="city_design.west", department="city_design",
                        note="광고물 관련")
    assert (moved.status, moved.officer, moved.department) == ("transferred", "city_design.west", "city_design")
    with pytest.raises(InvalidInput):
        service.act(engine, c.id, "reassign", officer="x", department="nope", note="n")


def test_duplicates_link_to_the_first_report(engine, manual_clock):
    first = report(engine)
    second = report(engine)
    third = report(engine)
    service.act(engine, second.id, "duplicate", original=str(first.id))
    linked = service.act(engine, third.id, "duplicate", original=str(second.id), note="같은 차량")
    assert linked.duplicate_of == str(first.id) and linked.status == rules.DUPLICATE
    with pytest.raises(RuleViolation, match="itself"):
        service.act(engine, first.id, "duplicate", original=str(third.id))
    entry = service.index(engine)["complaints"][str(first.id)]
    assert entry["duplicates"] == [str(second.id), str(third.id)]


def test_photos_are_kept_by_content_hash(engine, manual_clock):
    c = report(engine, photo_bytes=[PNG])
    digest = hashlib.sha256(PNG).hexdigest()
    assert c.photos == [{"sha256": digest, "media_type": "image/png", "bytes": len(PNG)}]
    again = report(engine, photo_hashes=[digest])
    assert again.photos[0]["sha256"] == digest
    with pytest.raises(InvalidInput, match="JPEG, PNG"):
        report(engine, photo_bytes=[b"not an image"])
    with pytest.raises(InvalidInput, match="upload it first"):
        report(engine, photo_hashes=["0" * 64])
    with pytest.raises(RuleViolation, match="already attached"):
        service.add_photo(engine, c.id, PNG)
    from plugins.complaints.media import read_photo

    assert read_photo(engine, digest) == (PNG, "image/png")


def test_tick_flags_overdue_once(engine, manual_clock):
    late = report(engine)  # 4 hours
    slow = report(engine, item="abandoned_vehicle")  # 168 hours
    done = report(engine)
    service.act(engine, done.id, "resolve", note="처리")
    manual_clock.advance(hours=5)
    lines = engine.tick()
    assert any(str(late.id) in line for line in lines)
    assert not any(str(slow.id) in line or str(done.id) in line for line in lines)
    assert engine.get(late.id, Complaint).overdue_flagged_at == manual_clock.now().isoformat()
    assert not any("overdue" in line for line in engine.tick())  # idempotent


def test_erasing_the_reporter_keeps_reports_and_log(engine, manual_clock):
    from core.ledger.verify import plugin_retally, verify_database

    c = report(engine)
    engine.ledger.checkpoint()
    payloads = [r.payload for r in engine.records()]
    yearly = service.yearly_report(engine)
    assert service.describe(engine, c, reveal=True)["reporter"]["phone"] == "01012345678"
    assert service.erase_reporter(engine, c.id, actor=local_operator())
    shown = service.describe(engine, service.get_complaint(engine, c.id), reveal=True)["reporter"]
    assert shown["erased"] and "010" not in str(shown)
    assert [r.payload for r in engine.records()][: len(payloads)] == payloads
    assert service.yearly_report(engine) == yearly
    service.act(engine, c.id, "resolve", note="처리")  # the flow goes on; no text can be sent
    engine.ledger.checkpoint()
    verified = verify_database(engine, retally=plugin_retally(engine.pm))
    assert verified.ok, verified.first
    assert any(r.plugin == "complaints" and r.ok and r.checked >= 4 for r in verified.retally)


def test_on_a_new_store_reads_and_refusals_write_nothing_and_the_first_intake_brings_the_taxonomy(engine, manual_clock):
    """The taxonomy's shipped defaults are read without being written; the first change that
    relies on them saves them in its own transaction, so the log holds the taxonomy before the
    first complaint (the audit checks complaints against it)."""
    from plugins.complaints.audit import retally

    assert engine.position == 0
    assert "illegal_parking" in service.taxonomy(engine)["items"]
    with pytest.raises(InvalidInput):
        report(engine, description=" ")
    with pytest.raises(InvalidInput):
        service.change_taxonomy(engine, "ItemChanged", code="illegal_parking", changes={"sla_hours": -1})
    with pytest.raises(InvalidInput, match="Unknown dong"):
        report(engine, dong="없는동")
    assert engine.position == 0  # a refused request, or a read, wrote nothing
    c = report(engine)
    names = [r.event_name for r in engine.records()]
    assert names[0] == "Taxonomy.Established" and names[1:] == ["Complaint.Received", "Complaint.Transferred"]
    assert report(engine).officer == c.officer  # the second intake finds it established
    assert retally(engine.records()).ok
