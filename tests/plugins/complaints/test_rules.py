"""The pure rules on their own."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from core.errors import InvalidInput, RuleViolation
from plugins.complaints import rules
from plugins.complaints.taxonomy_data import default_taxonomy

ROW_2015 = {"traffic": 18_612, "roads": 2_192, "cleaning": 1_774, "flood_control": 443, "street_order": 5_982,
            "health_env": 2_128, "other": 4_918}


def test_a_report_built_from_events_always_sums():
    """The plan prints 36,376 for 2015, but its fields add up to 36,049; counted from complaints,
    the total is the sum of the fields."""
    entries = [{"field": f, "received_at": "2015-06-01T00:00:00+00:00"} for f, n in ROW_2015.items() for _ in range(n)]
    [row] = rules.yearly_by_field(entries)
    assert row == {"year": 2015, "total": 36_049, **ROW_2015}


def test_years_and_months_are_seoul_time():
    assert rules.local_year("2015-12-31T15:00:00+00:00") == 2016  # 00:00 on 1 January in Seoul
    start, end = rules.month_bounds(2016, 3)
    assert start == datetime(2016, 2, 29, 15, tzinfo=timezone.utc)
    assert end == datetime(2016, 3, 31, 15, tzinfo=timezone.utc)
    assert rules.month_bounds(2016, 12)[1] == datetime(2016, 12, 31, 15, tzinfo=timezone.utc)
    with pytest.raises(InvalidInput):
        rules.month_bounds(2016, 0)


def test_the_most_specific_route_wins():
    tax = default_taxonomy()
    assert rules.route(tax, "pothole", "명동") == {"department": "construction", "officer": "construction.west"}
    tax = rules.apply_taxonomy_change(tax, "RouteSet", {"scope": "item:pothole", "dong": "*", "officer": "roads.any"})
    assert rules.route(tax, "pothole", "약수동")["officer"] == "roads.any"
    tax = rules.apply_taxonomy_change(tax, "RouteSet", {"scope": "item:pothole", "dong": "약수동", "officer": "roads.y"})
    assert rules.route(tax, "pothole", "약수동")["officer"] == "roads.y"
    assert rules.route(tax, "street_light", "약수동")["officer"] == "construction.east"
    for dong in tax["dongs"]:
        tax = rules.apply_taxonomy_change(tax, "RouteCleared", {"scope": "dept:parks", "dong": dong})
    assert rules.route(tax, "playground", "명동")["officer"] == "parks.desk"


def test_status_machine_and_open311_mapping():
    assert rules.next_status("transferred", "accept") == "accepted"
    with pytest.raises(RuleViolation) as refused:
        rules.next_status("resolved", "start")
    assert refused.value.extra == {"current_status": "resolved", "action": "start"}
    assert "resolved" in refused.value.detail
    assert [rules.open311_status(s) for s in rules.STATUSES] == ["open"] * 4 + ["closed"] * 3


def test_taxonomy_changes_are_checked_before_they_apply():
    tax = default_taxonomy()
    rules.check_taxonomy_change(tax, "ItemDefined", {"code": "manhole_odour", "field": "flood_control",
                                                     "name_ko": "맨홀 악취", "name_en": "Manhole smell",
                                                     "department": "flood", "sla_hours": 48})
    for name, data in [
        ("ItemDefined", {"code": "pothole", "field": "roads", "name_ko": "a", "name_en": "a", "department": "flood",
                         "sla_hours": 1}),
        ("ItemChanged", {"code": "pothole", "changes": {"colour": "red"}}),
        ("ItemChanged", {"code": "pothole", "changes": {"sla_hours": 24 * 91}}),
        ("RouteSet", {"scope": "dept:nowhere", "dong": "명동", "officer": "x"}),
        ("FieldDefined", {"code": "Traffic!", "name_ko": "x", "name_en": "x"}),
    ]:
        with pytest.raises((InvalidInput, RuleViolation)):
            rules.check_taxonomy_change(tax, name, data)
    before = default_taxonomy()
    rules.apply_taxonomy_change(tax, "ItemChanged", {"code": "pothole", "changes": {"sla_hours": 2}})
    assert tax == before  # a change makes a new value
