"""The committee's commands, shared by the HTTP API, the CLI, the scheduler and the demo.

Each function takes the engine and the id of the actor already authorised by the caller; it
checks, then saves in one transaction. A decision's notice to the applicant is saved in the
decision's own transaction: the text message (in core's message outbox) and the record that the
notice was handed over, so neither exists without the other; the outbox delivers it after the
commit (again on later ticks while the gateway fails). So is a re-review notice, with the
roll-over. A decision recorded before notices were saved this way is picked up by the next tick."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

from core import ERASED, SEOUL, BlobStore, Engine, InvalidInput, Message, NotFound, RuleViolation, utc_now
from plugins.ad_review import queries, rules
from plugins.ad_review.domain import (
    COMMITTEE_ID,
    Application,
    Committee,
    Deliberation,
    Session,
    deliberation_id,
    session_id,
)
from plugins.ad_review.routing import route
from plugins.ad_review.schedule import iso_week

PLUGIN = "ad_review"
SESSION_BUSY = "The session is busy; please try again."
SCHEDULER = "schedule"
DEFAULTS = "defaults"  # who constitutes the committee when the first application arrives


# -- committee and settings -------------------------------------------------------------------


def committee(engine: Engine) -> Committee:
    """The committee; NotFound until it is constituted."""
    return engine.get(COMMITTEE_ID, Committee, what="committee",
                      missing="The advertisement review committee has no members yet; add them first.")


def known_member(engine: Engine, member: str) -> bool:
    """A member now, or on the roster of a past session."""
    try:
        if member in committee(engine).members:
            return True
    except NotFound:
        pass
    return any(member in s["members"] for s in queries.list_sessions(engine))


def ensure_committee(engine: Engine, by: str) -> Committee:
    """The committee, constituted with the default settings on first use."""
    if not engine.exists(COMMITTEE_ID):
        try:
            engine.create(Committee.with_defaults(by=by), what="committee")
        except RuleViolation:
            pass  # constituted meanwhile by another request
    return committee(engine)


def _change_committee(engine: Engine, by: str, change: Any) -> Committee:
    """Change the committee, constituting it with the default settings on first use: both in one
    transaction, so a refused first change leaves no committee behind."""

    def load_and_change() -> tuple[list[Committee], Committee]:
        c = committee(engine) if engine.exists(COMMITTEE_ID) else Committee.with_defaults(by=by)
        change(c)
        return [c], c

    return engine.transact(load_and_change, what="committee")


def add_member(engine: Engine, by: str, member_id: str, name: str, public_key: str) -> Committee:
    return _change_committee(engine, by, lambda c: c.join(member_id, name, public_key, by))


def remove_member(engine: Engine, by: str, member_id: str, reason: str) -> Committee:
    return _change_committee(engine, by, lambda c: c.leave(member_id, reason, by))


def request_key(engine: Engine, account: str, member_id: str, name: str, public_key: str) -> Committee:
    """A staff account asks to join the committee as ``member_id`` with a public key made in its
    browser; the secretary confirms it (``confirm_key``)."""
    return _change_committee(engine, account, lambda c: c.request_key(account, member_id, name, public_key))


def confirm_key(engine: Engine, by: str, account: str, public_key: str | None = None) -> Committee:
    return _change_committee(engine, by, lambda c: c.confirm_key(account, by, public_key))


def refuse_key(engine: Engine, by: str, account: str, reason: str) -> Committee:
    return _change_committee(engine, by, lambda c: c.refuse_key(account, reason, by))


def member_of(engine: Engine, account: str) -> str | None:
    """The member id a staff account is linked to (None when not, or no longer, a member)."""
    try:
        c = committee(engine)
    except NotFound:
        return None
    member = c.accounts.get(account)
    return member if member in c.members else None


def set_routing(engine: Engine, by: str, raw: Any) -> Committee:
    return _change_committee(engine, by, lambda c: c.set_routing(raw, by))


def set_quorum(engine: Engine, by: str, raw: dict[str, Any]) -> Committee:
    return _change_committee(engine, by, lambda c: c.set_quorum(raw, by))


def set_schedule(engine: Engine, by: str, raw: dict[str, Any]) -> Committee:
    return _change_committee(engine, by, lambda c: c.set_schedule(raw, by))


def describe_committee(engine: Engine) -> dict[str, Any]:
    c = committee(engine)
    return {"id": str(c.id), "name": c.name,
            "members": [{"member_id": m, **info} for m, info in sorted(c.members.items())],
            "routing": c.routing, "quorum": c.quorum, "schedule": c.schedule}


# -- applications -----------------------------------------------------------------------------


def attachment_store(engine: Engine) -> BlobStore:
    """Photos and drawings, kept once under their SHA-256 beside the store (or at
    ``CIVIC_ADREVIEW_ATTACHMENTS``); events carry only ``{sha256, media_type, size}``."""
    return engine.blob_store("attachments", env="CIVIC_ADREVIEW_ATTACHMENTS", what="attachment")


def store_attachment(engine: Engine, data: bytes, declared_type: str | None = None) -> dict[str, Any]:
    """Keep an uploaded photo or drawing and return its description; refuse what is too large,
    empty, of a type not allowed, or not of the type declared."""
    refusal = rules.attachment_refusal(data, declared_type)
    if refusal is not None:
        raise InvalidInput(refusal, field="attachment")
    return rules.describe_attachment(attachment_store(engine).put(data), data)


def attachment(engine: Engine, sha256: str) -> tuple[bytes, str]:
    """An attachment's bytes and media type; NotFound when absent or damaged."""
    data = attachment_store(engine).get(sha256.lower())
    return data, rules.sniff_media_type(data[:16]) or "application/octet-stream"


def _stored_description(store: BlobStore, sha256: str) -> dict[str, Any] | None:
    """The description of a stored attachment, recomputed from its bytes; None when absent or damaged."""
    try:
        return rules.describe_attachment(sha256, store.get(sha256))
    except NotFound:
        return None


def _resolve_attachments(engine: Engine, raw: Any) -> tuple[Any, dict[str, str]]:
    """Replace each attachment reference by the description recomputed from the stored bytes;
    the client's claims about type and size are not trusted."""
    if not isinstance(raw, list):
        return raw, {}
    store = attachment_store(engine)
    resolved: list[Any] = []
    problems: dict[str, str] = {}
    for i, item in enumerate(raw):
        digest = item.get("sha256") if isinstance(item, dict) else item
        if not isinstance(digest, str):
            problems[f"attachments[{i}]"] = "give the sha256 of an uploaded attachment"
            continue
        described = _stored_description(store, digest.lower())
        if described is None:
            problems[f"attachments[{i}]"] = "no uploaded attachment with this sha256 (upload it first)"
            continue
        resolved.append(described)
    return resolved, problems


def submit(engine: Engine, by: str, data: dict[str, Any]) -> Application:
    """Take in an application: validate (every bad field named), route by the committee's rules
    in force, record the rule that matched, and put it on the agenda of a session taking in."""
    if not isinstance(data, dict):
        raise InvalidInput("An application is a JSON object.")
    attachments, attachment_problems = _resolve_attachments(engine, data.get("attachments"))
    try:
        application = rules.validate_application({**data, "attachments": attachments})
        problems: dict[str, str] = {}
    except rules.ApplicationInvalid as exc:
        problems = exc.fields
    if attachment_problems:
        problems = {k: v for k, v in problems.items() if not k.startswith("attachments")} | attachment_problems
    if problems:
        raise InvalidInput("The application is incomplete or invalid: "
                           + "; ".join(f"{k}: {v}" for k, v in sorted(problems.items())) + ".",
                           fields=problems)
    c = ensure_committee(engine, DEFAULTS)
    rule = route(application, c.routing_rules())
    routed = {"committee": rule.committee, "rule_id": rule.id, "rule": rule.description}
    application_id = uuid4()
    application["applicant"] = seal_applicant(engine, application_id, application["applicant"])
    app = engine.create(Application(id=application_id, application=application, route=routed, by=by),
                        what="application")
    if rule.committee == "small":
        current = session_taking_in(engine)
        if current is not None:
            try:
                collect(engine, current, [app.id])
            except RuleViolation:
                pass  # the session closed meanwhile; the application waits for the next one
    return engine.get(app.id, Application, what="application")


def seal_applicant(engine: Engine, application_id: UUID, applicant: dict[str, Any]) -> dict[str, Any]:
    """The applicant's name and phone sealed for a new data subject (erasable with ``civic
    privacy forget``); the business name stays readable: it is what the sign shows."""
    privacy = engine.privacy
    subject = privacy.new_subject()
    sealed = {"subject": subject,
              "name": privacy.seal(subject, "applicant.name", applicant["name"], where=application_id),
              "phone": privacy.seal(subject, "applicant.phone", applicant["phone"], where=application_id)}
    if applicant.get("business"):
        sealed["business"] = applicant["business"]
    privacy.remember(subject, "phone", applicant["phone"])
    return sealed


# -- sessions ---------------------------------------------------------------------------------


def current_week(now: datetime | None = None) -> str:
    return iso_week(now or utc_now(), SEOUL)


def session_taking_in(engine: Engine) -> UUID | None:
    """The open session whose intake has not ended, if any."""
    now = utc_now()
    for sid, s in queries.sessions(engine).items():
        if s["status"] == "open" and datetime.fromisoformat(s["intake_until"]) > now:
            return UUID(sid)
    return None


def open_session(engine: Engine, by: str, week: str | None = None) -> Session:
    """Open the weekly session of ``week`` (default: this week) with the committee's roster and
    quorum rule, and put every application waiting for the small committee on its agenda."""
    c = committee(engine)
    week = week or current_week()
    try:
        schedule = c.schedule_rule()
        times = schedule.times(week, SEOUL)
    except (ValueError, TypeError):
        raise InvalidInput(f"{week!r} is not an ISO week like 2016-W10.", field="week") from None
    if utc_now() >= times[2]:
        raise RuleViolation(f"The session of {week} would already be past its deadline.")
    if not c.members:
        raise RuleViolation("The committee has no members yet.")
    if engine.exists(session_id(week)):
        raise RuleViolation(f"The session of {week} is already open.")
    members = {m: info["public_key"] for m, info in c.members.items()}
    session = engine.create(Session(week=week, opens_at=times[0], intake_until=times[1], closes_at=times[2],
                                    members=members, quorum=c.quorum, by=by), what="session")
    collect(engine, session.id, queries.waiting_for_a_session(engine))
    return engine.get(session.id, Session, what="session")


def collect(engine: Engine, sid: UUID, application_ids: list[UUID]) -> int:
    """Put applications on a session's agenda (each with its application, in one transaction)."""
    added = 0
    for application_id in application_ids:

        def change(application_id: UUID = application_id) -> tuple[list[Any], bool]:
            session = engine.get(sid, Session, what="session")
            app = engine.get(application_id, Application, what="application")
            if app.status != "queued":
                return [], False
            if session.closed:
                raise RuleViolation("The session is closed.")
            deliberation = session.add(str(application_id))
            app.schedule(str(sid), session.week)
            return [session, app, deliberation], True

        added += bool(engine.transact(change, busy=SESSION_BUSY))
    return added


def close_session(engine: Engine, by: str, sid: UUID) -> dict[str, dict[str, Any]]:
    """Close a session: decide every application by the quorum rule; those without quorum or
    majority, and those sent to re-review, roll over to the next session. Closing twice is
    harmless (returns the recorded results)."""

    def change() -> tuple[list[Any], dict[str, dict[str, Any]]]:
        session = engine.get(sid, Session, what="session")
        if session.closed:
            return [], session.results
        deliberations = {a: queries.deliberation(engine, sid, UUID(a)) for a in session.items}
        results = session.close(deliberations, by)
        apps = []
        for application_id, result in results.items():
            app = engine.get(UUID(application_id), Application, what="application")
            app.settle(str(sid), result)
            # each decision's or re-review's notice is saved with it (delivered after the commit)
            apps += [app, *notices(engine, app, str(sid))]
        return [session, *deliberations.values(), *apps], results

    results = engine.transact(change, busy=SESSION_BUSY)
    engine.ledger.checkpoint()  # the session's results rest on a signed checkpoint of the log
    return results


def _act(engine: Engine, sid: UUID, application: UUID, change: Any) -> None:
    try:
        engine.update(deliberation_id(sid, application), change, cls=Deliberation, what="agenda item")
    except NotFound:
        raise NotFound("The application is not on this session's agenda.") from None


def comment(engine: Engine, sid: UUID, application: UUID, member: str, text: str, signature: str) -> None:
    _act(engine, sid, application, lambda d: d.comment(member, text, signature))


def recuse(engine: Engine, sid: UUID, application: UUID, member: str, reason: str, signature: str) -> None:
    _act(engine, sid, application, lambda d: d.recuse(member, reason, signature))


def decide(engine: Engine, sid: UUID, application: UUID, member: str, decision: str, reasons: str,
           conditions: list[str], signature: str) -> None:
    _act(engine, sid, application, lambda d: d.decide(member, decision, reasons, list(conditions), signature))


def record_full_committee_decision(engine: Engine, by: str, application: UUID, decision: str, reasons: str,
                                   conditions: list[str], meeting: str) -> None:
    def change() -> tuple[list[Any], None]:
        app = engine.get(application, Application, what="application")
        app.decide_in_full_committee(decision, reasons, list(conditions), meeting)
        return [app, *notices(engine, app)], None

    engine.transact(change, what="application")


# -- notices ----------------------------------------------------------------------------------

NOTICE_TEXT = {
    "approve": "원안 가결되었습니다",
    "approve_with_conditions": "조건부 가결되었습니다",
    "reject": "부결되었습니다",
    "re_review": "재심의로 결정되어 다음 주 심의에 다시 상정됩니다",
}


def notices(engine: Engine, app: Application, session: str | None = None) -> list[Message]:
    """The notice an application's new state calls for, to save in the same transaction: a final
    decision not yet noticed (recorded on ``app`` as handed over), or, when ``session`` just
    rolled it over to re-review, the re-review notice. Empty when the applicant's data was erased
    (the decision is still recorded as noticed, saying so)."""
    if app.status == "decided" and not app.notice_sent:
        message = notice_message(engine, app, app.outcome, app.session)
        app.record_notice(f"message:{message.key}" if message is not None
                          else "not sent: the applicant's personal data was erased")
    elif session is not None and app.status == "queued" and getattr(app, "last_rollover", None) == "re_review":
        message = notice_message(engine, app, "re_review", session)
    else:
        return []
    return [message] if message is not None else []


def notice_message(engine: Engine, app: Application, outcome: str, where: str) -> Message | None:
    text = f"[중구 옥외광고물 심의] 신청 {str(app.id)[:8]}: {NOTICE_TEXT[outcome]}."
    if outcome == "approve_with_conditions":
        text += " 조건: " + "; ".join(app.conditions)
    if outcome in ("reject", "re_review") and app.status == "decided":
        text += " 사유: " + " / ".join(app.reasons)
    envelope = app.application["applicant"]["phone"]
    phone = engine.privacy.open(envelope, where=app.id)
    if phone is ERASED:
        return None
    return Message(key=f"ad_review:{app.id}:{where}:{outcome}", channel="sms", to=phone, text=text,
                   plugin=PLUGIN, subject=envelope["subject"])


def send_notices(engine: Engine, application_ids: list[UUID]) -> int:
    """Give notice of decisions recorded without one (the tick's catch-up), each notice in its
    own transaction with the record that it was handed over."""
    sent = 0
    for application_id in application_ids:

        def hand_over(application_id: UUID = application_id) -> tuple[list[Any], bool]:
            app = engine.get(application_id, Application, what="application")
            if app.status != "decided" or app.notice_sent:
                return [], False
            return [app, *notices(engine, app)], True

        sent += engine.transact(hand_over, what="application")
    return sent


# -- the scheduler ----------------------------------------------------------------------------


def next_deadline(engine: Engine, after: datetime) -> datetime | None:
    """The earliest time after ``after`` a session closes or this or next week's session opens
    (for the scheduler)."""
    try:
        c = committee(engine)
    except NotFound:
        return None
    times = [datetime.fromisoformat(s["closes_at"]) for s in queries.sessions(engine).values() if s["status"] == "open"]
    if c.members:
        for week in (current_week(after), current_week(after + timedelta(days=7))):
            times.append(c.schedule_rule().times(week, SEOUL)[0])
    return min((t for t in times if t > after), default=None)


def tick(engine: Engine) -> list[str]:
    """Open this week's session when its time has come, close sessions past their deadline, put
    waiting applications on the agenda, and resend notices not recorded as sent."""
    try:
        c = committee(engine)
    except NotFound:
        return []  # the process is not set up here
    done: list[str] = []
    now = utc_now()
    sessions = queries.sessions(engine)
    for sid, s in sorted(sessions.items(), key=lambda kv: kv[1]["week"]):
        if s["status"] == "open" and datetime.fromisoformat(s["closes_at"]) <= now:
            results = close_session(engine, SCHEDULER, UUID(sid))
            decided = sum(1 for r in results.values() if r["outcome"] in rules.FINAL_OUTCOMES)
            done.append(f"ad_review: session {s['week']} closed: {decided} decided, "
                        f"{len(results) - decided} rolled over")
    week = current_week(now)
    opens, _, closes = c.schedule_rule().times(week, SEOUL)
    if opens <= now < closes and str(session_id(week)) not in sessions and c.members:
        try:
            session = open_session(engine, SCHEDULER, week)
            done.append(f"ad_review: session {week} opened with {len(session.items)} applications")
        except RuleViolation:
            pass  # opened meanwhile by the secretary
    current = session_taking_in(engine)
    if current is not None:
        waiting = queries.waiting_for_a_session(engine)
        added = collect(engine, current, waiting) if waiting else 0
        if added:
            done.append(f"ad_review: {added} waiting applications put on the agenda")
    unsent = [UUID(a) for a, v in queries.applications(engine).items()
              if v["status"] == "decided" and not v["notice_sent"]]
    sent = send_notices(engine, unsent) if unsent else 0
    if sent:
        done.append(f"ad_review: {sent} decision notices sent")
    return done
