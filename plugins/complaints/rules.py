"""Pure rules of field complaints: taxonomy changes, routing, the status machine, service-level
deadlines, the reports, and the auditor's checks of recorded terms.

No I/O and no clock: the aggregates, the fold (``fold``), the auditor's replay and the property
tests all call these same functions, so a figure computed live and one recomputed from an
exported log cannot differ.
"""

from __future__ import annotations

import copy
import re
import statistics
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta, timezone
from typing import Any

from core import SEOUL, InvalidInput, NotFound, RuleViolation

# -- statuses ----------------------------------------------------------------------------------
RECEIVED = "received"
TRANSFERRED = "transferred"
ACCEPTED = "accepted"
IN_PROGRESS = "in_progress"
RESOLVED = "resolved"
REJECTED = "rejected"
DUPLICATE = "duplicate"
STATUSES = (RECEIVED, TRANSFERRED, ACCEPTED, IN_PROGRESS, RESOLVED, REJECTED, DUPLICATE)
CLOSED = frozenset({RESOLVED, REJECTED, DUPLICATE})
CHANNELS = ("call_centre", "sns", "portal", "officer", "open311")

# action: (statuses it may start from, status it leads to)
TRANSITIONS: dict[str, tuple[frozenset[str], str]] = {
    "transfer": (frozenset({RECEIVED}), TRANSFERRED),
    "accept": (frozenset({TRANSFERRED}), ACCEPTED),
    "reassign": (frozenset({TRANSFERRED, ACCEPTED, IN_PROGRESS}), TRANSFERRED),
    "start": (frozenset({ACCEPTED}), IN_PROGRESS),
    "resolve": (frozenset({TRANSFERRED, ACCEPTED, IN_PROGRESS}), RESOLVED),
    "reject": (frozenset({TRANSFERRED, ACCEPTED, IN_PROGRESS}), REJECTED),
    "duplicate": (frozenset({RECEIVED, TRANSFERRED, ACCEPTED, IN_PROGRESS}), DUPLICATE),
}
# The event each action records.
ACTION_EVENTS = {
    "transfer": "Transferred", "accept": "Accepted", "reassign": "Reassigned", "start": "Started",
    "resolve": "Resolved", "reject": "Rejected", "duplicate": "MarkedDuplicate",
}
EVENT_ACTIONS = {v: k for k, v in ACTION_EVENTS.items()}
# Notes are required where the reporter or an inspector needs the reason.
NOTE_REQUIRED = frozenset({"resolve", "reject", "reassign"})


def next_status(current: str, action: str) -> str:
    """The status ``action`` leads to from ``current``; refused with the current state named."""
    if action not in TRANSITIONS:
        raise InvalidInput(f"Unknown action {action!r}; actions are: {', '.join(TRANSITIONS)}.", field="action")
    allowed, target = TRANSITIONS[action]
    if current not in allowed:
        raise RuleViolation(
            f"Cannot {action} a complaint that is {current}; {action} is allowed only when it is "
            f"{' or '.join(sorted(allowed))}.",
            title="Invalid transition", current_status=current, action=action,
        )
    return target


def open311_status(status: str) -> str:
    """GeoReport v2 knows two statuses."""
    return "closed" if status in CLOSED else "open"


# -- time --------------------------------------------------------------------------------------
def parse_time(value: str | datetime) -> datetime:
    when = value if isinstance(value, datetime) else datetime.fromisoformat(value)
    if when.tzinfo is None:
        raise InvalidInput(f"Time {value!s} has no time zone.")
    return when.astimezone(timezone.utc)


def iso(when: datetime) -> str:
    return when.astimezone(timezone.utc).isoformat()


def deadline_for(received_at: str, sla_hours: int) -> str:
    return iso(parse_time(received_at) + timedelta(hours=sla_hours))


def is_overdue(entry: Mapping[str, Any], at: datetime) -> bool:
    """Open at ``at`` and past its deadline."""
    return entry["status"] not in CLOSED and parse_time(entry["deadline"]) < at


# -- taxonomy ----------------------------------------------------------------------------------
CODE = re.compile(r"^[a-z][a-z0-9_]{1,39}$")
TAXONOMY_EVENTS = ("Established", "FieldDefined", "DepartmentDefined", "ItemDefined", "ItemChanged",
                   "ItemRetired", "ItemRestored", "RouteSet", "RouteCleared")
MAX_SLA_HOURS = 24 * 90


def _code(value: Any, what: str) -> str:
    if not isinstance(value, str) or not CODE.match(value):
        raise InvalidInput(f"A {what} code is 2-40 lower-case letters, digits or _, starting with a letter; "
                           f"got {value!r}.", field="code")
    return value


def _name(value: Any, what: str) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > 100:
        raise InvalidInput(f"A {what} needs a name of 1-100 characters.", field="name")
    return value.strip()


def _sla(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_SLA_HOURS:
        raise InvalidInput(f"The service-level deadline is a whole number of hours from 1 to {MAX_SLA_HOURS}; "
                           f"got {value!r}.", field="sla_hours")
    return value


def _route_scope(tax: Mapping[str, Any], scope: str) -> str:
    kind, _, code = scope.partition(":")
    if kind == "item" and code in tax["items"]:
        return scope
    if kind == "dept" and code in tax["departments"]:
        return scope
    raise InvalidInput(f"A route scope is item:<item code> or dept:<department code> of the taxonomy; got {scope!r}.",
                       field="scope")


def _dong(tax: Mapping[str, Any], dong: str, *, wildcard: bool = False) -> str:
    if wildcard and dong == "*":
        return dong
    if dong not in tax["dongs"]:
        raise InvalidInput(f"Unknown dong {dong!r}; Jung-gu's dongs are: {', '.join(tax['dongs'])}.", field="dong")
    return dong


def check_taxonomy_change(tax: Mapping[str, Any] | None, name: str, data: Mapping[str, Any]) -> None:
    """Refuse a taxonomy change that would make it inconsistent (raises before anything is saved)."""
    if name == "Established":
        if tax is not None:
            raise RuleViolation("The taxonomy is already established.")
        t = data["taxonomy"]
        for code in t["items"]:
            _code(code, "item")
            item = t["items"][code]
            if item["field"] not in t["fields"] or item["department"] not in t["departments"]:
                raise InvalidInput(f"Item {code} names an unknown field or department.")
            _sla(item["sla_hours"])
        return
    if tax is None:
        raise RuleViolation("The taxonomy is not established yet.")
    if name in ("FieldDefined", "DepartmentDefined"):
        what = "field" if name == "FieldDefined" else "department"
        table = tax["fields" if what == "field" else "departments"]
        _code(data["code"], what)
        if data["code"] in table:
            raise RuleViolation(f"There is already a {what} {data['code']}.")
        _name(data["name_ko"], what)
        _name(data["name_en"], what)
    elif name == "ItemDefined":
        _code(data["code"], "item")
        if data["code"] in tax["items"]:
            raise RuleViolation(f"There is already an item type {data['code']}; change it instead.")
        if data["field"] not in tax["fields"]:
            raise InvalidInput(f"Unknown field {data['field']!r}.", field="field")
        if data["department"] not in tax["departments"]:
            raise InvalidInput(f"Unknown department {data['department']!r}.", field="department")
        _name(data["name_ko"], "item type")
        _name(data["name_en"], "item type")
        _sla(data["sla_hours"])
    elif name == "ItemChanged":
        if data["code"] not in tax["items"]:
            raise NotFound(f"No item type {data['code']}.")
        changes = data["changes"]
        allowed = {"field", "department", "sla_hours", "name_ko", "name_en"}
        if not changes or set(changes) - allowed:
            raise InvalidInput(f"Change one or more of: {', '.join(sorted(allowed))}.", field="changes")
        if "field" in changes and changes["field"] not in tax["fields"]:
            raise InvalidInput(f"Unknown field {changes['field']!r}.", field="field")
        if "department" in changes and changes["department"] not in tax["departments"]:
            raise InvalidInput(f"Unknown department {changes['department']!r}.", field="department")
        if "sla_hours" in changes:
            _sla(changes["sla_hours"])
        for key in ("name_ko", "name_en"):
            if key in changes:
                _name(changes[key], "item type")
    elif name in ("ItemRetired", "ItemRestored"):
        item = tax["items"].get(data["code"])
        if item is None:
            raise NotFound(f"No item type {data['code']}.")
        if item["active"] == (name == "ItemRestored"):
            raise RuleViolation(f"Item type {data['code']} is already {'active' if item['active'] else 'retired'}.")
    elif name == "RouteSet":
        _route_scope(tax, data["scope"])
        _dong(tax, data["dong"], wildcard=True)
        if not isinstance(data["officer"], str) or not data["officer"].strip() or len(data["officer"]) > 80:
            raise InvalidInput("A route names a field officer (1-80 characters).", field="officer")
    elif name == "RouteCleared":
        if f"{data['scope']}/{data['dong']}" not in tax["routes"]:
            raise NotFound(f"No route for {data['scope']} in {data['dong']}.")
    else:
        raise InvalidInput(f"Unknown taxonomy change {name!r}.")


def apply_taxonomy_change(tax: dict[str, Any] | None, name: str, data: Mapping[str, Any]) -> dict[str, Any]:
    """The taxonomy after a change (a new value; the argument is not modified)."""
    if name == "Established":
        return copy.deepcopy(dict(data["taxonomy"]))
    assert tax is not None
    tax = copy.deepcopy(tax)
    if name == "FieldDefined":
        tax["fields"][data["code"]] = {"name_ko": data["name_ko"], "name_en": data["name_en"]}
    elif name == "DepartmentDefined":
        tax["departments"][data["code"]] = {"name_ko": data["name_ko"], "name_en": data["name_en"]}
    elif name == "ItemDefined":
        tax["items"][data["code"]] = {
            "field": data["field"], "name_ko": data["name_ko"], "name_en": data["name_en"],
            "department": data["department"], "sla_hours": data["sla_hours"], "active": True,
        }
    elif name == "ItemChanged":
        tax["items"][data["code"]].update(data["changes"])
    elif name in ("ItemRetired", "ItemRestored"):
        tax["items"][data["code"]]["active"] = name == "ItemRestored"
    elif name == "RouteSet":
        tax["routes"][f"{data['scope']}/{data['dong']}"] = data["officer"].strip()
    elif name == "RouteCleared":
        del tax["routes"][f"{data['scope']}/{data['dong']}"]
    return tax


def route(tax: Mapping[str, Any], item: str, dong: str) -> dict[str, str]:
    """Where a new complaint goes: the responsible department and the field officer.

    The most specific rule wins: item type in this dong, item type anywhere, the department in
    this dong, the department anywhere; failing all, the department's desk."""
    entry = tax["items"].get(item)
    if entry is None:
        raise InvalidInput(f"Unknown item type {item!r}.", field="item")
    if not entry["active"]:
        raise RuleViolation(f"Item type {item} is retired; choose another.", field="item")
    _dong(tax, dong)
    department = entry["department"]
    routes = tax["routes"]
    for key in (f"item:{item}/{dong}", f"item:{item}/*", f"dept:{department}/{dong}", f"dept:{department}/*"):
        if key in routes:
            return {"department": department, "officer": routes[key]}
    return {"department": department, "officer": f"{department}.desk"}


def department_officer(tax: Mapping[str, Any], department: str, dong: str) -> str:
    """The field officer of ``department`` for ``dong``: its route in this dong, its route
    anywhere, or its desk (where a complaint transferred to the department goes by default)."""
    routes = tax["routes"]
    for key in (f"dept:{department}/{dong}", f"dept:{department}/*"):
        if key in routes:
            return routes[key]
    return f"{department}.desk"


def intake_terms(tax: Mapping[str, Any], item: str, dong: str, received_at: str) -> dict[str, Any]:
    """What the taxonomy decides for a complaint received now: field, department, officer and
    the service-level deadline."""
    where = route(tax, item, dong)
    entry = tax["items"][item]
    return {
        "field": entry["field"],
        "department": where["department"],
        "officer": where["officer"],
        "deadline": deadline_for(received_at, entry["sla_hours"]),
    }


# -- reports -----------------------------------------------------------------------------------
DOCUMENT_FIELDS = ("traffic", "roads", "cleaning", "flood_control", "street_order", "health_env", "other")


def local_year(when: str) -> int:
    return parse_time(when).astimezone(SEOUL).year


def field_columns(fields: Iterable[str] = ()) -> list[str]:
    """The document's seven columns in its order, then any field added since."""
    extra = sorted(set(fields) - set(DOCUMENT_FIELDS))
    return [*DOCUMENT_FIELDS, *extra]


def yearly_by_field(entries: Iterable[Mapping[str, Any]], years: Iterable[int] | None = None,
                    fields: Iterable[str] = ()) -> list[dict[str, int]]:
    """Complaints received per year (Seoul time) and field: the source document's table, one row
    per year, ``total`` first then the field columns."""
    counts: dict[int, dict[str, int]] = {}
    seen_fields = set(fields)
    for e in entries:
        year = local_year(e["received_at"])
        row = counts.setdefault(year, {})
        row[e["field"]] = row.get(e["field"], 0) + 1
        seen_fields.add(e["field"])
    columns = field_columns(seen_fields)
    wanted = sorted(counts) if years is None else sorted(set(years))
    rows = []
    for year in wanted:
        row = counts.get(year, {})
        out: dict[str, int] = {"year": year, "total": sum(row.values())}
        out.update({f: row.get(f, 0) for f in columns})
        rows.append(out)
    return rows


def month_bounds(year: int, month: int) -> tuple[datetime, datetime]:
    """The month in Seoul time, as UTC instants [start, end)."""
    if not 1 <= month <= 12:
        raise InvalidInput(f"Month {month} is not 1-12.", field="month")
    start = datetime(year, month, 1, tzinfo=SEOUL)
    end = datetime(year + (month == 12), month % 12 + 1, 1, tzinfo=SEOUL)
    return start.astimezone(timezone.utc), end.astimezone(timezone.utc)


def monthly_by_department(entries: Iterable[Mapping[str, Any]], year: int, month: int, as_of: datetime,
                          departments: Iterable[str] = ()) -> list[dict[str, Any]]:
    """The monthly inspection (매월 처리실태 점검) per department.

    The cut-off is the end of the month, or ``as_of`` if earlier. Per department: complaints
    received in the month; resolved and rejected in the month; open at the cut-off; of those,
    overdue (past their deadline at the cut-off); closed in the month after their deadline; and
    the median handling time in hours of those resolved or rejected in the month."""
    start, end = month_bounds(year, month)
    cutoff = min(end, as_of)
    rows: dict[str, dict[str, Any]] = {}
    durations: dict[str, list[float]] = {}

    def row(dept: str) -> dict[str, Any]:
        if dept not in rows:
            rows[dept] = {"department": dept, "received": 0, "resolved": 0, "rejected": 0, "open": 0,
                          "overdue": 0, "closed_late": 0, "median_handling_hours": None}
            durations[dept] = []
        return rows[dept]

    for dept in departments:
        row(dept)
    for e in entries:
        received = parse_time(e["received_at"])
        closed = parse_time(e["closed_at"]) if e["closed_at"] else None
        dept = e["department"]
        if start <= received < end and received < cutoff:
            row(dept)["received"] += 1
        if received < cutoff and (closed is None or closed >= cutoff):
            r = row(dept)
            r["open"] += 1
            if parse_time(e["deadline"]) < cutoff:
                r["overdue"] += 1
        if closed is not None and start <= closed < cutoff and e["status"] in (RESOLVED, REJECTED):
            r = row(dept)
            r[e["status"]] += 1
            if closed > parse_time(e["deadline"]):
                r["closed_late"] += 1
            durations[dept].append((closed - received).total_seconds() / 3600)
    for dept, r in rows.items():
        if durations[dept]:
            r["median_handling_hours"] = round(statistics.median(durations[dept]), 2)
    return [rows[d] for d in sorted(rows)]


# -- the auditor's checks ----------------------------------------------------------------------
def check_recorded_terms(tax: Mapping[str, Any] | None, received: Mapping[str, Any],
                         transferred: Mapping[str, Any] | None) -> str | None:
    """Compare what a Received event (and the transfer saved with it) recorded with what the
    taxonomy of that moment decides. Returns the disagreement, or None."""
    if tax is None:
        return "complaint received before the taxonomy was established"
    try:
        terms = intake_terms(tax, received["item"], received["dong"], received["received_at"])
    except (InvalidInput, RuleViolation, NotFound) as exc:
        return f"intake refused by the taxonomy of its time: {exc.detail}"
    for key in ("field", "department", "deadline"):
        if received[key] != terms[key]:
            return f"recorded {key} {received[key]!r} differs from the taxonomy's {terms[key]!r}"
    if transferred is not None and transferred["officer"] != terms["officer"]:
        return f"routed to {transferred['officer']!r} but the routing rules name {terms['officer']!r}"
    return None
