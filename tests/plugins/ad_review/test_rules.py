"""The pure rules: validation, routing, quorum, signatures' bytes, schedule, service level."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from fractions import Fraction

import pytest
import rfc8785

from core.clock import SEOUL
from plugins.ad_review import quorum, routing, rules, schedule, signing, sla

DIGEST = "ab" * 32


def valid(**overrides):
    data = {
        "applicant": {"name": "홍길동", "phone": "010-1234-5678"},
        "sign_type": "projecting",
        "location": {"address": "서울 중구 명동길 1", "dong": "명동"},
        "size": {"width_m": 0.9, "height_m": 3},
        "illumination": "internal",
        "attachments": [{"sha256": DIGEST, "media_type": "image/jpeg", "size": 1000}],
    }
    data.update(overrides)
    return data


def test_a_valid_application_is_normalised_with_its_area():
    normal = rules.validate_application(valid())
    assert normal["size"] == {"width_m": 0.9, "height_m": 3.0, "area_m2": 2.7}
    assert normal["location"] == {"address": "서울 중구 명동길 1", "dong": "명동"}
    assert rules.validate_application(normal) == normal  # idempotent: the auditor re-validates


def test_every_missing_or_wrong_field_is_named():
    with pytest.raises(rules.ApplicationInvalid) as caught:
        rules.validate_application({
            "applicant": {"name": " ", "phone": "call me"},
            "sign_type": "blimp",
            "location": {"address": "서울 중구"},
            "size": {"width_m": -1, "height_m": "tall"},
            "attachments": [],
        })
    assert set(caught.value.fields) == {
        "applicant.name", "applicant.phone", "sign_type", "location.dong", "size.width_m", "size.height_m",
        "illumination", "attachments"}


def test_attachments_are_checked_one_by_one():
    bad = [{"sha256": "xyz", "media_type": "image/png", "size": 10},
           {"sha256": DIGEST, "media_type": "text/html", "size": 10},
           {"sha256": "cd" * 32, "media_type": "image/png", "size": rules.MAX_ATTACHMENT_BYTES + 1}]
    with pytest.raises(rules.ApplicationInvalid) as caught:
        rules.validate_application(valid(attachments=bad))
    assert set(caught.value.fields) == {"attachments[0]", "attachments[1]", "attachments[2]"}
    twice = [{"sha256": DIGEST, "media_type": "image/png", "size": 10}] * 2
    with pytest.raises(rules.ApplicationInvalid, match="same file twice"):
        rules.validate_application(valid(attachments=twice))


@pytest.mark.parametrize(("head", "expected"), [
    (b"\xff\xd8\xff\xe0\x00\x10JFIF", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n\x00\x00", "image/png"),
    (b"%PDF-1.7\n", "application/pdf"),
    (b"<html><script>", None),
    (b"GIF89a", None),
])
def test_types_are_recognised_from_the_bytes(head, expected):
    assert rules.sniff_media_type(head) == expected


@pytest.mark.parametrize(("overrides", "rule_id", "committee"), [
    ({}, "R4", "small"),
    ({"sign_type": "rooftop"}, "R1", "full"),
    ({"sign_type": "digital_display", "illumination": "digital"}, "R1", "full"),
    ({"size": {"width_m": 10, "height_m": 3}}, "R4", "small"),  # exactly 30 m²
    ({"size": {"width_m": 10, "height_m": 3.1}}, "R2", "full"),
    ({"illumination": "digital"}, "R3", "full"),
])
def test_default_routing_sends_summary_items_to_the_small_committee(overrides, rule_id, committee):
    rule = routing.route(rules.validate_application(valid(**overrides)), routing.DEFAULT_ROUTING)
    assert (rule.id, rule.committee) == (rule_id, committee)


def test_no_matching_rule_falls_back_to_the_full_committee():
    only_banners = routing.parse_routing_rules([{"id": "B", "committee": "small", "sign_types": ["banner"]}])
    assert routing.route(rules.validate_application(valid()), only_banners) is routing.FALLBACK_RULE


def test_routing_rules_round_trip_and_bad_rules_are_named():
    assert routing.parse_routing_rules([r.to_json() for r in routing.DEFAULT_ROUTING]) == routing.DEFAULT_ROUTING
    with pytest.raises(rules.ApplicationInvalid) as caught:
        routing.parse_routing_rules([{"id": "A", "committee": "tiny"}, {"id": "A", "committee": "small"},
                                     {"id": "C", "committee": "small", "sign_types": ["zeppelin"]},
                                     {"id": "D", "committee": "small", "colour": "red"}])
    assert set(caught.value.fields) == {"rules[0]", "rules[1].id", "rules[2]", "rules[3]"}
    with pytest.raises(rules.ApplicationInvalid):
        routing.parse_routing_rules([])


FIVE = ["a", "b", "c", "d", "e"]


@pytest.mark.parametrize(("recused", "votes", "outcome"), [
    ([], {"a": "approve", "b": "approve", "c": "reject"}, "approve"),
    ([], {"a": "approve", "b": "approve"}, "no_quorum"),  # 2 of 5 is not a majority
    (["e"], {"a": "approve", "b": "approve"}, "no_quorum"),  # 2 of 4 is not a majority either
    (["d", "e"], {"a": "approve", "b": "approve"}, "approve"),  # 2 of 3 is
    ([], {"a": "approve", "b": "reject", "c": "re_review", "d": "approve"}, "no_majority"),
    ([], {"a": "approve_with_conditions", "b": "approve_with_conditions", "c": "approve"},
     "approve_with_conditions"),
    (FIVE, {}, "no_quorum"),
    (["a"], {"a": "approve", "b": "approve", "c": "approve"}, "no_quorum"),  # a recused: its vote is not counted
    (["a"], {"a": "reject", "b": "approve", "c": "approve", "d": "reject"}, "approve"),
])
def test_default_quorum_rule(recused, votes, outcome):
    assert quorum.decide(FIVE, recused, votes)["outcome"] == outcome


def test_quorum_rule_is_configurable():
    two_thirds = quorum.QuorumRule(participation=Fraction(2, 3), participation_inclusive=True)
    assert quorum.decide(["a", "b", "c"], [], {"a": "approve", "b": "approve"}, two_thirds)["outcome"] == "approve"
    assert quorum.decide(["a", "b", "c"], [], {"a": "approve"}, two_thirds)["outcome"] == "no_quorum"
    counted = quorum.QuorumRule(recused_count_in_quorum=True)
    assert quorum.decide(FIVE, ["d", "e"], {"a": "approve", "b": "approve"}, counted)["outcome"] == "no_quorum"
    assert quorum.QuorumRule.from_json(two_thirds.to_json()) == two_thirds
    with pytest.raises(ValueError):
        quorum.QuorumRule(participation=Fraction(3, 2))


def test_decision_bytes_are_rfc8785_json_of_the_decision():
    raw = signing.decision_bytes("s", "a", "m", "approve_with_conditions", "사유", ["조건"])
    assert raw == rfc8785.dumps({"conditions": ["조건"], "reasons": "사유", "decision": "approve_with_conditions",
                                 "member": "m", "application": "a", "session": "s",
                                 "context": "civic.ad_review.decision.v1"})
    assert raw != signing.recusal_bytes("s", "a", "m", "사유")


def test_decision_fields():
    assert rules.check_decision_fields("approve", "ok", []) == {}
    assert set(rules.check_decision_fields("maybe", " ", "x")) == {"decision", "reasons", "conditions"}
    assert "conditions" in rules.check_decision_fields("approve_with_conditions", "ok", [])
    assert "conditions" in rules.check_decision_fields("reject", "no", ["a condition"])


def test_schedule_times_are_local_and_ordered():
    opens, intake, closes = schedule.Schedule().times("2016-W10", SEOUL)
    assert opens == datetime(2016, 3, 7, 9, 0, tzinfo=SEOUL)
    assert intake == datetime(2016, 3, 9, 18, 0, tzinfo=SEOUL)
    assert closes == datetime(2016, 3, 11, 18, 0, tzinfo=SEOUL)
    with pytest.raises(ValueError):
        schedule.Schedule(open_weekday=3, intake_weekday=2)


def test_percentiles_and_median():
    values = [float(v) for v in range(1, 11)]
    assert sla.median(values) == 5.5
    assert sla.percentile(values, 0.9) == 9.0
    assert sla.percentile([3.0], 0.9) == 3.0
    assert sla.median([]) is None


def test_sla_report_on_a_known_case():
    t0 = datetime(2016, 3, 7, 1, 0, tzinfo=timezone.utc)
    rows = [{"application": str(i), "committee": "small", "submitted_at": t0,
             "noticed_at": t0 + timedelta(days=d)} for i, d in enumerate([1, 3, 4, 5, 6, 9])]
    rows.append({"application": "f", "committee": "full", "submitted_at": t0, "noticed_at": t0 + timedelta(days=20)})
    rows.append({"application": "p", "committee": "small", "submitted_at": t0, "noticed_at": None})
    rows.append({"application": "late", "committee": "small", "submitted_at": t0,
                 "noticed_at": t0 + timedelta(days=60)})  # outside the period
    r = sla.sla_report(rows, date(2016, 3, 1), date(2016, 3, 31), SEOUL)
    small = r["small_committee"]
    assert small["decided"] == 6 and small["median_days"] == 4.5 and small["p90_days"] == 9.0
    assert small["within_target"] == 4 and small["share_within_target"] == round(4 / 6, 4)
    assert r["full_committee"]["decided"] == 1 and r["pending"] == 1
    assert r["baseline_comparison"]["days_saved_at_median"] == 23.5
    assert sum(w["count"] for w in r["weekly"]) == 6
    assert [w["week"] for w in r["weekly"]] == ["2016-W10", "2016-W11"]


def test_weekly_bands_agree_with_the_target():
    t0 = datetime(2016, 3, 7, 1, 0, tzinfo=timezone.utc)
    days = [0.5, 2, 2.01, 5, 5.01, 10, 28, 28.5]
    rows = [{"application": str(i), "committee": "small", "submitted_at": t0,
             "noticed_at": t0 + timedelta(days=d)} for i, d in enumerate(days)]
    r = sla.sla_report(rows, date(2016, 3, 1), date(2016, 5, 31), SEOUL)
    merged: dict[str, int] = {}
    for week in r["weekly"]:
        for band, count in week["bands"].items():
            merged[band] = merged.get(band, 0) + count
    assert merged == {"≤ 2 d": 2, "2–5 d": 2, "5–10 d": 2, "10–28 d": 1, "> 28 d": 1}
    assert r["small_committee"]["within_target"] == merged["≤ 2 d"] + merged["2–5 d"] == 4
