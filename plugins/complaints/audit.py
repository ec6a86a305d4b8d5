"""The auditor's replay of field complaints, from log records alone (an export or
``engine.records()``): the taxonomy and the complaint index are refolded with ``rules``, and
every recorded decision is checked against what the rules decide."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from core import CivicError
from core import Discrepancy, LogRecord, RetallyReport
from plugins.complaints import rules
from plugins.complaints.readmodel import event_facts

TOPIC_PREFIX = "plugins.complaints.domain:"


def facts(record: LogRecord) -> tuple[str, str, dict[str, Any], str]:
    """(aggregate class, event name, attributes, when) of one of this plugin's records."""
    cls, _, name = record.event_name.partition(".")
    name, data, at = event_facts(name, record.payload, record.timestamp or "")
    return cls, name, data, at


def index_from_records(records: Iterable[LogRecord]) -> dict[str, dict[str, Any]]:
    """The complaint index refolded from log records (equal to the live read model's)."""
    index: dict[str, dict[str, Any]] = {}
    for record in records:
        if record.topic.startswith(TOPIC_PREFIX):
            cls, name, data, at = facts(record)
            if cls == "Complaint":
                rules.apply_complaint_event(index, record.originator_id, name, data, at)
    return index


def retally(records: Iterable[LogRecord]) -> RetallyReport | None:
    tax: dict[str, Any] | None = None
    index: dict[str, dict[str, Any]] = {}
    problems: list[Discrepancy] = []
    checked = 0
    mine = False
    for record in records:
        if not record.topic.startswith(TOPIC_PREFIX):
            continue
        mine = True
        cls, name, data, at = facts(record)
        if cls == "Taxonomy":
            checked += 1
            try:
                rules.check_taxonomy_change(tax, name, data)
            except CivicError as exc:
                problems.append(Discrepancy(record.position, f"taxonomy change {name} breaks the rules: {exc.detail}"))
            tax = rules.apply_taxonomy_change(tax, name, data)
            continue
        if cls == "Inspection":
            checked += 1
            reason = check_inspection(index, tax, data)
            if reason:
                problems.append(Discrepancy(record.position, reason))
            continue
        if cls != "Complaint":
            continue
        checked += 1
        cid = record.originator_id
        entry = index.get(cid)
        if name == "Received":
            reason = rules.check_recorded_terms(tax, data, None)
            if reason:
                problems.append(Discrepancy(record.position, f"complaint {cid}: {reason}"))
        elif entry is None:
            problems.append(Discrepancy(record.position, f"complaint {cid}: {name} without a Received event"))
            continue
        elif name in rules.EVENT_ACTIONS:
            try:
                rules.next_status(entry["status"], rules.EVENT_ACTIONS[name])
            except CivicError as exc:
                problems.append(Discrepancy(record.position, f"complaint {cid}: {exc.detail}"))
            if name == "Transferred" and record.originator_version == 2 and tax is not None:
                received = dict(entry)
                reason = rules.check_recorded_terms(tax, received, data)
                if reason:
                    problems.append(Discrepancy(record.position, f"complaint {cid}: {reason}"))
        elif name == "OverdueFlagged":
            if entry["overdue_flagged_at"] is not None:
                problems.append(Discrepancy(record.position, f"complaint {cid}: flagged overdue twice"))
            elif not rules.is_overdue(entry, rules.parse_time(at)):
                problems.append(Discrepancy(record.position,
                                            f"complaint {cid}: flagged overdue at {at} but its deadline is "
                                            f"{entry['deadline']} and it is {entry['status']}"))
        rules.apply_complaint_event(index, cid, name, data, at)
    if not mine:
        return None
    return RetallyReport(plugin="complaints", checked=checked, discrepancies=tuple(problems))


def check_inspection(index: dict[str, dict[str, Any]], tax: dict[str, Any] | None, data: dict[str, Any]) -> str | None:
    """Recompute a published inspection from the complaints recorded before it."""
    try:
        if data["kind"] == "monthly":
            year, month = (int(p) for p in data["period"].split("-"))
            expected = rules.monthly_by_department(index.values(), year, month, rules.parse_time(data["as_of"]))
        else:
            expected = rules.yearly_by_field(index.values(), [int(data["period"])], (tax or {}).get("fields", ()))
    except (KeyError, ValueError, CivicError) as exc:
        return f"{data.get('kind')} inspection {data.get('period')} cannot be recomputed: {exc}"
    if expected != data["rows"]:
        differing = [e for e, r in zip(expected, data["rows"], strict=False) if e != r] or expected or data["rows"]
        return (f"{data['kind']} inspection {data['period']} differs from the recount "
                f"(first differing row: recount {differing[0]})")
    return None
