"""Commands and queries of field complaints, shared by the HTTP API, Open311, the CLI, the demo
and the benchmark. Every command checks before it saves: a refused command changes nothing."""

from __future__ import annotations

import logging
import math
import secrets
import uuid
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from core import InvalidInput, NotFound, RuleViolation, StoreConflict, utc_now
from plugins.complaints import rules
from plugins.complaints.domain import Complaint, Inspection, Taxonomy, inspection_id, taxonomy_id
from plugins.complaints.media import keep_photo, uploaded_photo
from plugins.complaints.personal import open_reporter, seal_reporter
from plugins.complaints.taxonomy_data import JURISDICTION_ID, default_taxonomy
from plugins.complaints.views import complaint_index

log = logging.getLogger("civic.complaints")
MAX_DESCRIPTION = 2000


# -- taxonomy ----------------------------------------------------------------------------------
def ensure_taxonomy(engine: Any) -> Taxonomy:
    """The jurisdiction's taxonomy; established with the shipped defaults if it is not yet
    (the demo does this; a request establishes it only with the change that relies on it)."""
    tid = taxonomy_id(JURISDICTION_ID)
    try:
        return engine.get(tid, Taxonomy, what="taxonomy")
    except NotFound:
        pass
    try:
        engine.create(_shipped_taxonomy(), what="taxonomy")
    except RuleViolation:
        pass  # established concurrently
    return engine.get(tid, Taxonomy, what="taxonomy")


def unestablished_taxonomy(engine: Any) -> Taxonomy | None:
    """The shipped defaults as a new, unsaved ``Taxonomy`` while the log holds none, else None.
    A change that relies on the taxonomy saves it in its own transaction (``create_with_taxonomy``):
    the log then holds the taxonomy before the first complaint (the audit checks complaints
    against it), and a read or a refused request writes nothing."""
    if engine.recorder.select_events(taxonomy_id(JURISDICTION_ID), limit=1):
        return None
    return _shipped_taxonomy()


def _shipped_taxonomy() -> Taxonomy:
    return Taxonomy(id=taxonomy_id(JURISDICTION_ID), taxonomy=default_taxonomy())


def create_with_taxonomy(engine: Any, *aggregates: Any, what: str, messages: Sequence[Any] = ()) -> None:
    """Save new ``aggregates`` (and the ``messages`` they cause) in one transaction, with the
    taxonomy when it is not established yet; refused (nothing saved) when one already exists."""
    first = unestablished_taxonomy(engine)
    try:
        engine.save(*([first] if first is not None else []), *aggregates, *messages)
        return
    except StoreConflict:
        if first is None or unestablished_taxonomy(engine) is not None:
            raise RuleViolation(f"A {what} with this identity already exists.") from None
    # the taxonomy was established concurrently (with the same defaults): save without it
    try:
        engine.save(*aggregates, *messages)
    except StoreConflict:
        raise RuleViolation(f"A {what} with this identity already exists.") from None


class TaxonomySeen:
    """The taxonomy as last read, per engine: every intake reads the taxonomy, and replaying it
    each time would cost more than the intake itself. Its newest version is one indexed query."""

    def __init__(self) -> None:
        self.version_and_state: tuple[int, dict[str, Any]] | None = None


def taxonomy(engine: Any) -> dict[str, Any]:
    """The current taxonomy (read-only: callers must not modify it): the shipped defaults until
    a change establishes it in the log."""
    seen = engine.kept("complaints.taxonomy", TaxonomySeen)
    latest = engine.recorder.select_events(taxonomy_id(JURISDICTION_ID), desc=True, limit=1)
    cached = seen.version_and_state
    version = latest[0].originator_version if latest else 0
    if cached is not None and cached[0] == version:
        return cached[1]
    current = engine.get(taxonomy_id(JURISDICTION_ID), Taxonomy, what="taxonomy") if latest else _shipped_taxonomy()
    seen.version_and_state = (version, current.state)
    return current.state


def change_taxonomy(engine: Any, name: str, by: str = "system", **data: Any) -> dict[str, Any]:
    first = unestablished_taxonomy(engine)
    if first is not None:
        first.change(name, by=by, **data)  # a refused change saves nothing, the defaults included
        try:
            engine.create(first, what="taxonomy")
            return first.state
        except RuleViolation:
            pass  # established concurrently: change that one

    def change(t: Taxonomy) -> dict[str, Any]:
        t.change(name, by=by, **data)
        return t.state

    return engine.update(taxonomy_id(JURISDICTION_ID), change, cls=Taxonomy, what="taxonomy")


# -- intake ------------------------------------------------------------------------------------
def _text(value: Any, what: str, limit: int, *, required: bool) -> str | None:
    text = (value or "").strip() if isinstance(value, str) or value is None else None
    if text is None:
        raise InvalidInput(f"{what} must be text.", field=what)
    if required and not text:
        raise InvalidInput(f"A complaint needs a {what}.", field=what)
    if len(text) > limit:
        raise InvalidInput(f"The {what} has at most {limit} characters.", field=what)
    return text or None


def _coordinate(value: Any, what: str, low: float, high: float) -> float | None:
    if value is None or value == "":
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise InvalidInput(f"{what} must be a number.", field=what) from None
    if not math.isfinite(number) or not low <= number <= high:
        raise InvalidInput(f"{what} must be between {low} and {high}.", field=what)
    return number


def build_complaint(
    engine: Any,
    tax: dict[str, Any],
    *,
    channel: str,
    item: str,
    dong: str,
    description: str,
    address: str | None = None,
    lat: float | None = None,
    long: float | None = None,
    reporter_name: str | None = None,
    reporter_phone: str | None = None,
    photos: Sequence[dict[str, Any]] = (),
    media_url: str | None = None,
    received_at: datetime | None = None,
    by: str = "system",
) -> Complaint:
    """A new complaint with its routing (Received + Transferred), checked and not yet saved."""
    if channel not in rules.CHANNELS:
        raise InvalidInput(f"Unknown channel {channel!r}; channels are: {', '.join(rules.CHANNELS)}.", field="channel")
    description = _text(description, "description", MAX_DESCRIPTION, required=True)
    address = _text(address, "address", 300, required=False)
    media_url = _text(media_url, "media_url", 1000, required=False)
    lat = _coordinate(lat, "lat", -90, 90)
    long = _coordinate(long, "long", -180, 180)
    if (lat is None) != (long is None):
        raise InvalidInput("Give both lat and long, or neither.", field="lat")
    now = utc_now()
    when = now if received_at is None else rules.parse_time(received_at)
    if when > now:
        raise InvalidInput("A complaint cannot be received in the future.", field="received_at")
    received = rules.iso(when)
    terms = rules.intake_terms(tax, item, dong, received)
    cid = uuid.uuid4()
    reporter = seal_reporter(engine, cid, reporter_name, reporter_phone)
    complaint = Complaint(
        id=cid, token=secrets.token_hex(8), channel=channel, item=item, field=terms["field"],
        department=terms["department"], dong=dong, address=address, lat=lat, long=long,
        description=description, photos=[dict(p) for p in photos], media_url=media_url,
        reporter=reporter, received_at=received, deadline=terms["deadline"], by=by,
    )
    # The call centre transfers each report to the responsible field officer at once.
    complaint.act("transfer", officer=terms["officer"], department=terms["department"],
                  note="routed by item type and dong", at=received, by="routing")
    return complaint


def intake(engine: Any, *, photo_bytes: Sequence[bytes] = (), photo_hashes: Sequence[str] = (),
           **fields: Any) -> Complaint:
    """Take in one complaint and transfer it to its field officer (one transaction)."""
    tax = taxonomy(engine)
    photos = [keep_photo(engine, content) for content in photo_bytes]
    photos += [uploaded_photo(engine, sha) for sha in photo_hashes]
    complaint = build_complaint(engine, tax, photos=photos, **fields)
    create_with_taxonomy(engine, complaint, what="complaint")
    return complaint


def bulk_intake(engine: Any, specs: Iterable[dict[str, Any]], *, batch: int = 1000) -> int:
    """Take in many complaints (imports, demo, benchmark), saving ``batch`` complaints per
    transaction. Each spec holds ``build_complaint``'s keywords and optionally ``then``: a list
    of (action, keywords) applied after intake, each keyword set may carry ``at`` (ISO time).
    A bad spec stops the import with its error; the batches before it stay saved. A resolution's
    result text is saved with it, in the same transaction."""
    from plugins.complaints.texts import resolution_message

    tax = taxonomy(engine)
    pending: list[Complaint] = []
    texts: list[Any] = []
    count = 0
    for spec in specs:
        spec = dict(spec)
        then = spec.pop("then", ())
        complaint = build_complaint(engine, tax, **spec)
        for action, kwargs in then:
            complaint.act(action, **kwargs)
            if action == "resolve":
                texts.append(resolution_message(engine, complaint, complaint.version, complaint.history[-1]["note"]))
        pending.append(complaint)
        if len(pending) >= batch:
            create_with_taxonomy(engine, *pending, what="complaint", messages=list(filter(None, texts)))
            count += len(pending)
            pending, texts = [], []
    if pending:
        create_with_taxonomy(engine, *pending, what="complaint", messages=list(filter(None, texts)))
        count += len(pending)
    return count


# -- handling ----------------------------------------------------------------------------------
def get_complaint(engine: Any, complaint_id: UUID | str) -> Complaint:
    try:
        cid = complaint_id if isinstance(complaint_id, UUID) else UUID(str(complaint_id))
    except ValueError:
        raise NotFound(f"No complaint {complaint_id}.") from None
    return engine.get(cid, Complaint, what="complaint")


def act(engine: Any, complaint_id: UUID | str, action: str, *, officer: str | None = None,
        department: str | None = None, note: str | None = None, original: str | None = None,
        by: str = "system") -> Complaint:
    """Accept, reassign, start, resolve, reject or mark as duplicate. A resolution's result text
    message is saved in the same transaction, and delivered after the commit (while the gateway
    fails, by later ticks)."""
    cid = get_complaint(engine, complaint_id).id
    if action == "duplicate":
        original = str(_root_original(engine, cid, original))
    if department is not None and department not in taxonomy(engine)["departments"]:
        raise InvalidInput(f"Unknown department {department!r}.", field="department")

    def change() -> tuple[list[Any], Complaint]:
        c = engine.get(cid, Complaint, what="complaint")
        c.act(action, officer=officer, department=department, note=note, original=original, by=by)
        if action != "resolve":
            return [c], c
        from plugins.complaints.texts import resolution_message

        text = resolution_message(engine, c, c.version, c.history[-1]["note"])  # the note as recorded
        return [c, *([text] if text is not None else [])], c

    complaint = engine.transact(change, what="complaint")
    if action == "resolve":
        send_pending_texts(engine)  # keeps the catch-up follower's position at the log's end
    return complaint


def _root_original(engine: Any, cid: UUID, original: str | None) -> UUID:
    """Link a duplicate to the first report of the problem (follow a chain of duplicates)."""
    if not original:
        raise InvalidInput("Name the complaint this one duplicates.", field="original")
    target = get_complaint(engine, original)
    seen = {cid}
    while target.duplicate_of is not None:
        if target.id in seen:
            break
        seen.add(target.id)
        target = get_complaint(engine, target.duplicate_of)
    if target.id == cid:
        raise RuleViolation("A complaint cannot duplicate itself (the chain of duplicates leads back to it).")
    return target.id


def add_photo(engine: Any, complaint_id: UUID | str, content: bytes) -> dict[str, Any]:
    photo = keep_photo(engine, content)
    cid = get_complaint(engine, complaint_id).id
    engine.update(cid, lambda c: c.add_photo(photo), cls=Complaint, what="complaint")
    return photo


def flag_overdue(engine: Any) -> list[str]:
    """Record an OverdueFlagged event on each open complaint whose deadline has passed
    (the scheduler's and ``civic tick``'s job; flagging twice is impossible)."""
    now = utc_now()
    done = []
    for cid, entry in list(index(engine)["complaints"].items()):
        if entry["overdue_flagged_at"] is None and rules.is_overdue(entry, now):
            if engine.update(UUID(cid), lambda c: c.flag_overdue(rules.iso(now)), cls=Complaint):
                done.append(f"complaints: {cid} overdue since {entry['deadline']}")
    return done


def next_deadline(engine: Any, after: datetime) -> datetime | None:
    """The earliest deadline after ``after`` of an open complaint not yet flagged overdue (for
    the scheduler)."""
    times = [rules.parse_time(e["deadline"]) for e in index(engine)["complaints"].values()
             if e["overdue_flagged_at"] is None and e["status"] not in rules.CLOSED]
    return min((t for t in times if t > after), default=None)


def tick(engine: Any) -> list[str]:
    """The scheduler's round: flag what became overdue, send the result texts not yet sent."""
    done = flag_overdue(engine)
    sent = send_pending_texts(engine)
    if sent:
        done.append(f"complaints: {len(sent)} result text(s) sent")
    return done


def send_pending_texts(engine: Any) -> list[str]:
    from plugins.complaints.texts import ResolutionTexts

    try:
        return ResolutionTexts(engine).drain()
    except Exception:  # the resolution is saved; the next tick delivers the text
        log.exception("sending result texts failed; will retry on the next tick")
        return []


def erase_reporter(engine: Any, complaint_id: UUID | str, actor: Any) -> bool:
    """Crypto-shred the reporter's name and phone (the caller has authorised the actor)."""
    from plugins.complaints.personal import forget_reporter

    complaint = get_complaint(engine, complaint_id)
    return forget_reporter(engine, complaint.reporter, actor)


# -- queries -----------------------------------------------------------------------------------
def index(engine: Any) -> dict[str, Any]:
    return complaint_index(engine)


def describe(engine: Any, complaint: Complaint, *, reveal: bool = False) -> dict[str, Any]:
    out = {
        "id": str(complaint.id), "token": complaint.token, "status": complaint.status,
        "channel": complaint.channel, "item": complaint.item, "field": complaint.field,
        "department": complaint.department, "officer": complaint.officer, "dong": complaint.dong,
        "address": complaint.address, "lat": complaint.lat, "long": complaint.long,
        "description": complaint.description, "photos": complaint.photos, "media_url": complaint.media_url,
        "received_at": complaint.received_at, "deadline": complaint.deadline,
        "closed_at": complaint.closed_at, "duplicate_of": complaint.duplicate_of,
        "overdue_flagged_at": complaint.overdue_flagged_at, "history": complaint.history,
        "overdue": rules.is_overdue({"status": complaint.status, "deadline": complaint.deadline}, utc_now()),
    }
    if reveal:
        out["reporter"] = open_reporter(engine, complaint.id, complaint.reporter)
    return out


def yearly_report(engine: Any, years: Iterable[int] | None = None) -> list[dict[str, int]]:
    entries = index(engine)["complaints"].values()
    return rules.yearly_by_field(entries, years, taxonomy(engine)["fields"])


def monthly_report(engine: Any, year: int, month: int) -> list[dict[str, Any]]:
    tax = taxonomy(engine)
    rows = rules.monthly_by_department(index(engine)["complaints"].values(), year, month, utc_now())
    for row in rows:
        dept = tax["departments"].get(row["department"], {})
        row["name_ko"] = dept.get("name_ko", row["department"])
        row["name_en"] = dept.get("name_en", row["department"])
    return rows


def parse_month(value: str) -> tuple[int, int]:
    try:
        year, month = (int(p) for p in value.split("-"))
    except ValueError:
        raise InvalidInput(f"A month is written YYYY-MM; got {value!r}.", field="month") from None
    rules.month_bounds(year, month)
    return year, month


def publish_inspection(engine: Any, kind: str, period: str, by: str) -> Inspection:
    """Record the monthly inspection (``kind`` "monthly", period YYYY-MM, once the month is over)
    or a year's figures by field ("yearly", YYYY, once the year is over), as computed now from the
    log. Publishing a period twice is refused. The ledger signs a checkpoint right after."""
    now = utc_now()
    entries = index(engine)["complaints"].values()
    if kind == "monthly":
        year, month = parse_month(period)
        if rules.month_bounds(year, month)[1] > now:
            raise RuleViolation(f"The month {period} is not over yet; inspect it when it is.")
        rows: list[dict[str, Any]] = rules.monthly_by_department(entries, year, month, now)
    elif kind == "yearly":
        try:
            year = int(period)
        except ValueError:
            raise InvalidInput(f"A year is written YYYY; got {period!r}.", field="period") from None
        if rules.month_bounds(year, 12)[1] > now:
            raise RuleViolation(f"The year {period} is not over yet.")
        rows = rules.yearly_by_field(entries, [year], taxonomy(engine)["fields"])
        period = str(year)
    else:
        raise InvalidInput("An inspection is monthly or yearly.", field="kind")
    inspection = Inspection(id=inspection_id(kind, period), kind=kind, period=period, as_of=rules.iso(now),
                            rows=rows, by=by)
    create_with_taxonomy(engine, inspection, what=f"{kind} inspection for {period}")
    ledger = getattr(engine, "ledger", None)
    if ledger is not None:
        ledger.checkpoint()
    return inspection
