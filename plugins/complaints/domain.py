"""Aggregates of field complaints: the taxonomy (one per jurisdiction) and each complaint.

Command methods check with ``rules`` first and then record one event; the event bodies only
apply the change, so replaying the log never refuses anything.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from core import CivicAggregate, InvalidInput, RuleViolation, event, natural_id, utc_now
from plugins.complaints import rules


def taxonomy_id(jurisdiction_id: str) -> UUID:
    return natural_id("complaints.taxonomy", jurisdiction_id)


class Taxonomy(CivicAggregate):
    """Fields, departments, item types (with their deadlines) and routing rules. Every change is
    an event; the state is the fold of ``rules.apply_taxonomy_change`` over them."""

    @event("Established")
    def __init__(self, id: UUID, taxonomy: dict[str, Any]) -> None:  # noqa: A002 - eventsourcing name
        self.state = rules.apply_taxonomy_change(None, "Established", {"taxonomy": taxonomy})

    def change(self, name: str, by: str = "system", **data: Any) -> None:
        """Check and record one change (``ItemDefined``, ``ItemChanged``, ``RouteSet``...)."""
        methods = {
            "FieldDefined": self._field_defined, "DepartmentDefined": self._department_defined,
            "ItemDefined": self._item_defined, "ItemChanged": self._item_changed,
            "ItemRetired": self._item_retired, "ItemRestored": self._item_restored,
            "RouteSet": self._route_set, "RouteCleared": self._route_cleared,
        }
        if name not in methods:
            raise InvalidInput(f"Unknown taxonomy change {name!r}; changes are: {', '.join(methods)}.")
        try:
            rules.check_taxonomy_change(self.state, name, data)
            methods[name](**data, by=by)
        except (KeyError, TypeError) as exc:
            raise InvalidInput(f"The change {name} is missing or has an unexpected value: {exc}.") from None

    def _apply(self, name: str, data: dict[str, Any]) -> None:
        self.state = rules.apply_taxonomy_change(self.state, name, data)

    @event("FieldDefined")
    def _field_defined(self, code: str, name_ko: str, name_en: str, by: str) -> None:
        self._apply("FieldDefined", {"code": code, "name_ko": name_ko, "name_en": name_en})

    @event("DepartmentDefined")
    def _department_defined(self, code: str, name_ko: str, name_en: str, by: str) -> None:
        self._apply("DepartmentDefined", {"code": code, "name_ko": name_ko, "name_en": name_en})

    @event("ItemDefined")
    def _item_defined(self, code: str, field: str, name_ko: str, name_en: str, department: str,
                      sla_hours: int, by: str) -> None:
        self._apply("ItemDefined", {"code": code, "field": field, "name_ko": name_ko, "name_en": name_en,
                                    "department": department, "sla_hours": sla_hours})

    @event("ItemChanged")
    def _item_changed(self, code: str, changes: dict[str, Any], by: str) -> None:
        self._apply("ItemChanged", {"code": code, "changes": changes})

    @event("ItemRetired")
    def _item_retired(self, code: str, by: str) -> None:
        self._apply("ItemRetired", {"code": code})

    @event("ItemRestored")
    def _item_restored(self, code: str, by: str) -> None:
        self._apply("ItemRestored", {"code": code})

    @event("RouteSet")
    def _route_set(self, scope: str, dong: str, officer: str, by: str) -> None:
        self._apply("RouteSet", {"scope": scope, "dong": dong, "officer": officer})

    @event("RouteCleared")
    def _route_cleared(self, scope: str, dong: str, by: str) -> None:
        self._apply("RouteCleared", {"scope": scope, "dong": dong})


class Complaint(CivicAggregate):
    """One field complaint from intake to its result. The reporter's name and phone are held only
    as a personal-data envelope (``reporter``)."""

    @event("Received")
    def __init__(
        self,
        id: UUID,  # noqa: A002 - eventsourcing name
        token: str,
        channel: str,
        item: str,
        field: str,
        department: str,
        dong: str,
        address: str | None,
        lat: float | None,
        long: float | None,
        description: str,
        photos: list[dict[str, Any]],
        media_url: str | None,
        reporter: dict[str, Any] | None,
        received_at: str,
        deadline: str,
        by: str,
    ) -> None:
        self.token = token
        self.channel = channel
        self.item = item
        self.field = field
        self.department = department
        self.dong = dong
        self.address = address
        self.lat = lat
        self.long = long
        self.description = description
        self.photos = list(photos)
        self.media_url = media_url
        self.reporter = reporter
        self.received_at = received_at
        self.deadline = deadline
        self.status = rules.RECEIVED
        self.officer: str | None = None
        self.duplicate_of: str | None = None
        self.overdue_flagged_at: str | None = None
        self.closed_at: str | None = None
        self.history: list[dict[str, Any]] = [{"status": rules.RECEIVED, "at": received_at, "note": None}]

    # -- commands ------------------------------------------------------------------------------
    def act(self, action: str, *, officer: str | None = None, department: str | None = None,
            note: str | None = None, original: str | None = None, at: str | None = None,
            by: str = "system") -> str:
        """Move the complaint on; refused (naming the current status) when not allowed now."""
        rules.next_status(self.status, action)
        # ``at`` is given only when a complaint is taken in with its routing (same instant).
        at = at or rules.iso(utc_now())
        note = (note or "").strip() or None
        if note is not None and len(note) > 2000:
            raise InvalidInput("A note has at most 2000 characters.", field="note")
        if action in rules.NOTE_REQUIRED and note is None:
            raise InvalidInput(f"To {action} a complaint, write a note (it is what the reporter and the "
                               "inspection read).", field="note")
        if action in ("transfer", "reassign"):
            if not officer or not officer.strip():
                raise InvalidInput(f"To {action}, name the field officer.", field="officer")
            if action == "reassign" and officer == self.officer and department in (None, self.department):
                raise RuleViolation(f"The complaint is already with {officer}.")
            target = department or self.department
            (self._transferred if action == "transfer" else self._reassigned)(officer.strip(), target, note, at, by)
        elif action == "accept":
            self._accepted(note, at, by)
        elif action == "start":
            self._started(note, at, by)
        elif action == "resolve":
            self._resolved(note, at, by)
        elif action == "reject":
            self._rejected(note, at, by)
        elif action == "duplicate":
            if not original:
                raise InvalidInput("Name the complaint this one duplicates.", field="original")
            if original == str(self.id):
                raise RuleViolation("A complaint cannot duplicate itself.")
            self._marked_duplicate(original, note, at, by)
        return self.status

    def add_photo(self, photo: dict[str, Any]) -> None:
        if self.status in rules.CLOSED:
            raise RuleViolation(f"The complaint is {self.status}; photos can no longer be added.")
        if any(p["sha256"] == photo["sha256"] for p in self.photos):
            raise RuleViolation("This photo is already attached.")
        self._photo_added(photo)

    def flag_overdue(self, now: str) -> bool:
        """Record once that the deadline passed while the complaint was open."""
        if self.overdue_flagged_at is not None or self.status in rules.CLOSED:
            return False
        if rules.parse_time(self.deadline) >= rules.parse_time(now):
            return False
        self._overdue_flagged(self.deadline, rules.iso(rules.parse_time(now)))
        return True

    # -- events --------------------------------------------------------------------------------
    def _moved(self, status: str, note: str | None, at: str, by: str) -> None:
        self.status = status
        if status in rules.CLOSED:
            self.closed_at = at
        self.history.append({"status": status, "at": at, "note": note, "officer": self.officer, "by": by})

    @event("Transferred")
    def _transferred(self, officer: str, department: str, note: str | None, at: str, by: str) -> None:
        self.officer, self.department = officer, department
        self._moved(rules.TRANSFERRED, note, at, by)

    @event("Reassigned")
    def _reassigned(self, officer: str, department: str, note: str | None, at: str, by: str) -> None:
        self.officer, self.department = officer, department
        self._moved(rules.TRANSFERRED, note, at, by)

    @event("Accepted")
    def _accepted(self, note: str | None, at: str, by: str) -> None:
        self._moved(rules.ACCEPTED, note, at, by)

    @event("Started")
    def _started(self, note: str | None, at: str, by: str) -> None:
        self._moved(rules.IN_PROGRESS, note, at, by)

    @event("Resolved")
    def _resolved(self, note: str | None, at: str, by: str) -> None:
        self._moved(rules.RESOLVED, note, at, by)

    @event("Rejected")
    def _rejected(self, note: str | None, at: str, by: str) -> None:
        self._moved(rules.REJECTED, note, at, by)

    @event("MarkedDuplicate")
    def _marked_duplicate(self, original: str, note: str | None, at: str, by: str) -> None:
        self.duplicate_of = original
        self._moved(rules.DUPLICATE, note, at, by)

    @event("PhotoAdded")
    def _photo_added(self, photo: dict[str, Any]) -> None:
        self.photos.append(photo)

    @event("OverdueFlagged")
    def _overdue_flagged(self, deadline: str, at: str) -> None:
        self.overdue_flagged_at = at


def inspection_id(kind: str, period: str) -> UUID:
    return natural_id("complaints.inspection", kind, period)


class Inspection(CivicAggregate):
    """A published inspection (the monthly 처리실태 점검, or a year's figures by field): the rows
    as ``rules`` computed them from the log at that moment. The auditor recomputes them from the
    records before it and names any difference."""

    @event("Published")
    def __init__(self, id: UUID, kind: str, period: str, as_of: str, rows: list[dict[str, Any]],  # noqa: A002
                 by: str) -> None:
        self.kind = kind
        self.period = period
        self.as_of = as_of
        self.rows = rows
        self.by = by
