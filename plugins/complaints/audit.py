"""The auditor's replay of field complaints, from log records alone (an export or
``engine.records()``): the taxonomy is refolded with ``rules`` and the complaint index with
``fold`` (the live read model's fold), and every recorded decision is checked against what the
rules decide."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from core import CivicError, Discrepancy, LogRecord, RetallyReport
from plugins.complaints import rules
from plugins.complaints.fold import Fact, empty_index, fact_of, fold_complaint


def retally(records: Iterable[LogRecord]) -> RetallyReport | None:
    tax: dict[str, Any] | None = None
    state = empty_index()
    index = state["complaints"]
    problems: list[Discrepancy] = []
    checked = 0
    mine = False
    for record in records:
        fact = fact_of(record)
        if fact is None:
            continue
        mine = True
        checked += 1
        if fact.aggregate == "Taxonomy":
            try:
                rules.check_taxonomy_change(tax, fact.name, fact.data)
            except CivicError as exc:
                problems.append(Discrepancy(record.position,
                                            f"taxonomy change {fact.name} breaks the rules: {exc.detail}"))
            tax = rules.apply_taxonomy_change(tax, fact.name, fact.data)
        elif fact.aggregate == "Inspection":
            reason = check_inspection(index, tax, fact.data)
            if reason:
                problems.append(Discrepancy(record.position, reason))
        else:
            for reason in complaint_problems(index, tax, record, fact):
                problems.append(Discrepancy(record.position, f"complaint {record.originator_id}: {reason}"))
            fold_complaint(state, record.originator_id, fact)
    if not mine:
        return None
    return RetallyReport(plugin="complaints", checked=checked, discrepancies=tuple(problems))


def complaint_problems(index: dict[str, dict[str, Any]], tax: dict[str, Any] | None, record: LogRecord,
                       fact: Fact) -> Iterator[str]:
    """What is wrong with one complaint event, given the complaints and the taxonomy before it."""
    name, data, at = fact.name, fact.data, fact.at
    entry = index.get(record.originator_id)
    if name == "Received":
        reason = rules.check_recorded_terms(tax, data, None)
        if reason:
            yield reason
    elif entry is None:
        yield f"{name} without a Received event"
    elif name in rules.EVENT_ACTIONS:
        try:
            rules.next_status(entry["status"], rules.EVENT_ACTIONS[name])
        except CivicError as exc:
            yield exc.detail
        # the routing saved with the intake (the complaint's second event)
        if name == "Transferred" and record.originator_version == 2 and tax is not None:
            reason = rules.check_recorded_terms(tax, dict(entry), data)
            if reason:
                yield reason
    elif name == "OverdueFlagged":
        if entry["overdue_flagged_at"] is not None:
            yield "flagged overdue twice"
        elif not rules.is_overdue(entry, rules.parse_time(at)):
            yield f"flagged overdue at {at} but its deadline is {entry['deadline']} and it is {entry['status']}"


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
