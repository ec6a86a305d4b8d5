"""The committee's pages in the staff console, under ``/staff/ad-review``.

The secretary opens and closes the weekly sessions, puts waiting applications on a session's
agenda and confirms members' signing keys. A member makes their Ed25519 key in the browser (kept
there, never sent), sees their queue, reads an application with its attachments and thread, and
comments, recuses or decides: each act signed in the browser (``core/web/static/sign.js``) over
the canonical bytes the server gives for exactly the text it will store (the ``prepare`` answer),
then verified by the same service as the JSON API. The review-time report with its chart."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any
from uuid import UUID

from typing import Annotated

from litestar import Request, Router, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath
from litestar.response import Redirect, Response, Template

from core import (
    SEOUL,
    ActorDep,
    CivicError,
    EngineDep,
    Forbidden,
    InvalidInput,
    NotFound,
    RuleViolation,
    StaffLink,
    form_values,
    staff_page,
    staff_template,
    utc_now,
)
from core import gettext as _
from plugins.ad_review import queries, rules, service, signing, sla
from plugins.ad_review.schedule import iso_week

BASE = "/staff/ad-review"
SECRETARY = "ad_review.secretary"
MEMBER = "ad_review.member_act"
READ = "ad_review.read"
Form = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.URL_ENCODED)]


def staff_links() -> list[StaffLink]:
    return [
        StaffLink(f"{BASE}/queue", _("Ad review: my queue"), MEMBER,
                  _("Applications waiting for your decision, with their thread; comment, recuse or decide.")),
        StaffLink(f"{BASE}/key", _("Ad review: my signing key"), MEMBER,
                  _("Make the key this browser signs your decisions with, and ask the secretary to register it.")),
        StaffLink(BASE, _("Ad review: weekly sessions"), SECRETARY,
                  _("Open and close the weekly sessions and put applications on their agenda.")),
        StaffLink(f"{BASE}/full-committee", _("Ad review: full committee"), SECRETARY,
                  _("Record the full committee's decisions on the applications referred to it.")),
        StaffLink(f"{BASE}/members", _("Ad review: members and keys"), SECRETARY,
                  _("Confirm members' signing keys by their fingerprint.")),
        StaffLink(f"{BASE}/report", _("Ad review: review times"), READ,
                  _("Days from submission to decision notice against the 5-day target and the 28-day baseline.")),
    ]


# -- texts ------------------------------------------------------------------------------------------


def decision_names() -> dict[str, str]:
    return {"approve": _("Approve"), "approve_with_conditions": _("Approve with conditions"),
            "re_review": _("Review again next week"), "reject": _("Reject the application")}


def outcome_names() -> dict[str, str]:
    return {**decision_names(), "no_quorum": _("No quorum (next week)"), "no_majority": _("No majority (next week)")}


def sign_type_names() -> dict[str, str]:
    return {"wall": _("Wall sign"), "projecting": _("Projecting sign"), "pole": _("Pole sign"),
            "window": _("Window sign"), "banner": _("Banner"), "rooftop": _("Rooftop sign"),
            "digital_display": _("Digital display")}


def illumination_names() -> dict[str, str]:
    return {"none": _("no lighting"), "external": _("lit from outside"), "internal": _("lit from inside"),
            "digital": _("digital screen")}


def explain(exc: CivicError) -> str:
    """A service's refusal in the reader's language (its English detail when not a known one)."""
    detail = str(exc.detail)
    known = [
        ("signature does not verify", _("The signature does not match your registered key. Sign again in the "
                                        "browser that holds your key.")),
        ("deadline has passed", _("The session's deadline has passed.")),
        ("session is closed", _("The session is closed.")),
        ("already decided", _("You have already decided on this application.")),
        ("already recused", _("You have already recused from this application.")),
        ("has recused", _("You have recused from this application and cannot decide on it.")),
        ("not a member of this session", _("You are not on this session's roster.")),
        ("already open", _("That week's session is already open.")),
        ("past its deadline", _("That week's session would already be past its deadline.")),
        ("no members yet", _("The committee has no members yet.")),
        ("is not an ISO week", _("Give a week like 2026-W49.")),
        ("already a member", _("That member id is already taken.")),
        ("has asked to join as", _("Another account has asked to join with that member id.")),
        ("already linked", _("Your account is already linked to a member.")),
        ("registered this public key", _("Another member registered this key.")),
        ("No request to join", _("There is no request from this account.")),
        ("not on this session's agenda", _("The application is not on this session's agenda.")),
        ("busy", _("The session is busy; please try again.")),
        ("was replaced since it was shown", _("The member sent a new key since this page was shown. Compare the new "
                                              "fingerprint.")),
        ("Only an application referred", _("This application is not waiting for the full committee.")),
    ]
    for needle, text in known:
        if needle in detail:
            return text
    return detail


FIELD_TEXTS = {
    "decision": lambda: _("Choose a decision."),
    "reasons": lambda: _("Write the reasons for your decision (at most 2000 characters)."),
    "conditions": lambda: _("Write the conditions, one per line, only for an approval with conditions."),
    "text": lambda: _("Write a comment (at most 2000 characters)."),
    "reason": lambda: _("Write why you recuse (at most 2000 characters)."),
    "member_id": lambda: _("2 to 40 characters: lowercase letters, digits, '-' or '_'."),
    "name": lambda: _("Write your name as the committee knows it."),
    "public_key": lambda: _("Make a key in this browser first (it needs JavaScript)."),
    "week": lambda: _("Give a week like 2026-W49."),
}


def field_errors(exc: CivicError, default_field: str) -> dict[str, str]:
    fields = exc.extra.get("fields") or {}
    if fields:
        return {f: FIELD_TEXTS[f]() if f in FIELD_TEXTS else str(m) for f, m in fields.items()}
    field = exc.extra.get("field") or default_field
    return {field: explain(exc)}


# -- reading ------------------------------------------------------------------------------------------


def _member(engine: Any, actor: Any) -> str | None:
    return service.member_of(engine, actor.id)


def _uuid(text: Any) -> UUID:
    """A path's id; NotFound (the 404 page) when it is not one."""
    try:
        return UUID(str(text))
    except ValueError:
        raise NotFound("No such page.") from None


def _session(engine: Any, sid: UUID) -> dict[str, Any]:
    row = queries.sessions(engine).get(str(sid))
    if row is None:
        raise NotFound("No such session.")
    return {"id": str(sid), **row}


def _suggested_week(engine: Any) -> str:
    """This week when its session can still be held (before its close), else next week."""
    now = utc_now()
    week = iso_week(now, SEOUL)
    try:
        closes = service.committee(engine).schedule_rule().times(week, SEOUL)[2]
    except NotFound:
        return week
    return week if now < closes else iso_week(now + timedelta(days=7), SEOUL)


def _committee_info(engine: Any) -> dict[str, Any]:
    try:
        c = service.committee(engine)
    except NotFound:
        return {"members": {}, "requests": {}, "accounts": {}}
    return {"members": c.members, "requests": c.key_requests, "accounts": c.accounts}


# -- the secretary: sessions ------------------------------------------------------------------------


def _sessions_page(request: Request, engine: Any, *, errors: dict[str, str] | None = None, week: str = "",
                   status_code: int = 200) -> Template:
    sessions = list(reversed(queries.list_sessions(engine)))
    waiting = queries.list_applications(engine, "queued")
    referred = queries.list_applications(engine, "referred")
    return staff_template(request, "ad_review/console/sessions.html", _("Ad review: weekly sessions"),
                          sessions=sessions, waiting=waiting, referred=referred, errors=errors,
                          week=week or _suggested_week(engine), members=_committee_info(engine)["members"],
                          status_code=status_code)


@get(BASE, guards=[staff_page(SECRETARY)], sync_to_thread=True, name="ad-review-sessions")
def sessions_page(request: Request, engine: EngineDep) -> Template:
    return _sessions_page(request, engine)


@post(f"{BASE}/sessions", guards=[staff_page(SECRETARY)], sync_to_thread=True, name="ad-review-open")
def open_session(request: Request, engine: EngineDep, actor: ActorDep, data: Form) -> Template | Redirect:
    week = str((data or {}).get("week") or "").strip().upper()
    try:
        session = service.open_session(engine, actor.id, week or None)
    except (InvalidInput, RuleViolation, NotFound) as exc:
        return _sessions_page(request, engine, errors={"week": explain(exc) if not isinstance(exc, NotFound)
                                                       else _("The committee has no members yet.")},
                              week=week, status_code=400)
    return Redirect(path=f"{BASE}/sessions/{session.id}", status_code=303)


def _session_page(request: Request, engine: Any, sid: UUID, *, errors: dict[str, str] | None = None,
                  status_code: int = 200) -> Template:
    session = _session(engine, sid)
    apps = queries.applications(engine)
    agenda = [{"id": a, **apps.get(a, {}), **item} for a, item in session["items"].items()]
    waiting = queries.list_applications(engine, "queued") if session["status"] == "open" else []
    return staff_template(request, "ad_review/console/session.html",
                          _("Session of %(week)s") % {"week": session["week"]}, session=session, agenda=agenda,
                          waiting=waiting, errors=errors, outcomes=outcome_names(), sign_types=sign_type_names(),
                          status_code=status_code)


@get(f"{BASE}/sessions/{{session_id:str}}", guards=[staff_page(SECRETARY)], sync_to_thread=True,
     name="ad-review-session")
def session_page(request: Request, engine: EngineDep, session_id: FromPath[str]) -> Template:
    session_id = _uuid(session_id)
    return _session_page(request, engine, session_id)


@post(f"{BASE}/sessions/{{session_id:str}}/agenda", guards=[staff_page(SECRETARY)], sync_to_thread=True,
      name="ad-review-agenda")
def put_on_agenda(request: Request, engine: EngineDep, session_id: FromPath[str], data: Form) -> Template | Redirect:
    session_id = _uuid(session_id)
    _session(engine, session_id)
    chosen = []
    for value in form_values((data or {}).get("application")):
        try:
            chosen.append(UUID(value))
        except ValueError:
            continue
    if not chosen:
        return _session_page(request, engine, session_id, status_code=400,
                             errors={"application": _("Choose at least one application to put on the agenda.")})
    try:
        service.collect(engine, session_id, chosen)
    except (RuleViolation, NotFound) as exc:
        return _session_page(request, engine, session_id, errors={"application": explain(exc)}, status_code=400)
    return Redirect(path=f"{BASE}/sessions/{session_id}", status_code=303)


@post(f"{BASE}/sessions/{{session_id:str}}/close", guards=[staff_page(SECRETARY)], sync_to_thread=True,
      name="ad-review-close")
def close_session(request: Request, engine: EngineDep, actor: ActorDep, session_id: FromPath[str]) -> Template | Redirect:
    session_id = _uuid(session_id)
    _session(engine, session_id)
    try:
        service.close_session(engine, actor.id, session_id)
    except (RuleViolation, NotFound) as exc:
        return _session_page(request, engine, session_id, errors={"close": explain(exc)}, status_code=400)
    return Redirect(path=f"{BASE}/sessions/{session_id}", status_code=303)


# -- the secretary: members and their keys ------------------------------------------------------------


def _members_page(request: Request, engine: Any, *, errors: dict[str, str] | None = None,
                  values: dict[str, str] | None = None, status_code: int = 200) -> Template:
    info = _committee_info(engine)
    linked = {m: a for a, m in info["accounts"].items()}
    requests = []
    for account, r in sorted(info["requests"].items(), key=lambda kv: kv[1]["member_id"]):
        requests.append({"account": account, **r, "fingerprint": signing.fingerprint(r["public_key"]),
                         "username": _username(engine, account)})
    members = [{"member_id": m, **i, "fingerprint": signing.fingerprint(i["public_key"]),
                "username": _username(engine, linked[m]) if m in linked else None}
               for m, i in sorted(info["members"].items())]
    return staff_template(request, "ad_review/console/members.html", _("Ad review: members and keys"),
                          requests=requests, members=members, errors=errors, values=values or {},
                          status_code=status_code)


def _username(engine: Any, account: str) -> str:
    try:
        return str(engine.identity.describe(engine.identity.get(account))["username"])
    except NotFound:
        return account


@get(f"{BASE}/members", guards=[staff_page(SECRETARY)], sync_to_thread=True, name="ad-review-members")
def members_page(request: Request, engine: EngineDep) -> Template:
    return _members_page(request, engine)


@post(f"{BASE}/members/add", guards=[staff_page(SECRETARY)], sync_to_thread=True, name="ad-review-add-member")
def add_member(request: Request, engine: EngineDep, actor: ActorDep, data: Form) -> Template | Redirect:
    """Register a member whose key was made with ``civic adreview keygen`` (they sign with the CLI)."""
    data = data or {}
    values = {k: str(data.get(k) or "").strip() for k in ("member_id", "name", "public_key")}
    errors: dict[str, str] = {}
    if rules.member_id_problem(values["member_id"]):
        errors["member_id"] = FIELD_TEXTS["member_id"]()
    if not values["name"]:
        errors["name"] = FIELD_TEXTS["name"]()
    try:
        signing.parse_public_key(values["public_key"])
    except ValueError:
        errors["public_key"] = _("Paste the public key that civic adreview keygen printed (base64 of 32 bytes).")
    if not errors:
        try:
            service.add_member(engine, actor.id, values["member_id"], values["name"], values["public_key"])
        except (InvalidInput, RuleViolation) as exc:
            errors = field_errors(exc, "member_id")
    if errors:
        return _members_page(request, engine, errors=errors, values=values, status_code=400)
    return Redirect(path=f"{BASE}/members", status_code=303)


@post(f"{BASE}/members/requests/{{account:str}}/confirm", guards=[staff_page(SECRETARY)], sync_to_thread=True,
      name="ad-review-confirm-key")
def confirm_key(request: Request, engine: EngineDep, actor: ActorDep, account: FromPath[str],
                data: Form) -> Template | Redirect:
    shown = str((data or {}).get("public_key") or "")  # the key whose fingerprint the page showed
    try:
        service.confirm_key(engine, actor.id, account, shown or None)
    except (InvalidInput, RuleViolation, NotFound) as exc:
        return _members_page(request, engine, errors={f"request-{account}": explain(exc)}, status_code=400)
    return Redirect(path=f"{BASE}/members", status_code=303)


@post(f"{BASE}/members/requests/{{account:str}}/refuse", guards=[staff_page(SECRETARY)], sync_to_thread=True,
      name="ad-review-refuse-key")
def refuse_key(request: Request, engine: EngineDep, actor: ActorDep, account: FromPath[str], data: Form) -> Template | Redirect:
    reason = signing.normalise_text(str((data or {}).get("reason") or ""))
    try:
        service.refuse_key(engine, actor.id, account, reason or "refused by the secretary")
    except (InvalidInput, RuleViolation, NotFound) as exc:
        return _members_page(request, engine, errors={f"request-{account}": explain(exc)}, status_code=400)
    return Redirect(path=f"{BASE}/members", status_code=303)


# -- a member: their key ------------------------------------------------------------------------------


def _suggested_member_id(actor: Any, engine: Any) -> str:
    username = _username(engine, actor.id).lower()
    cleaned = "".join(ch if ch in rules.MEMBER_ID_CHARS else "-" for ch in username).strip("-")
    return cleaned[:40] if len(cleaned) >= 2 else ""


def _key_page(request: Request, engine: Any, actor: Any, *, errors: dict[str, str] | None = None,
              values: dict[str, str] | None = None, status_code: int = 200) -> Template:
    info = _committee_info(engine)
    member = _member(engine, actor)
    registered = info["members"].get(member) if member else None
    pending = info["requests"].get(actor.id)
    values = values or {"member_id": _suggested_member_id(actor, engine), "name": actor.name}
    return staff_template(
        request, "ad_review/console/key.html", _("Ad review: my signing key"), member=member,
        registered=registered, registered_fingerprint=signing.fingerprint(registered["public_key"]) if registered else None,
        pending=pending, pending_fingerprint=signing.fingerprint(pending["public_key"]) if pending else None,
        values=values, errors=errors, account=actor.id, status_code=status_code)


@get(f"{BASE}/key", guards=[staff_page(MEMBER)], sync_to_thread=True, name="ad-review-key")
def key_page(request: Request, engine: EngineDep, actor: ActorDep) -> Template:
    return _key_page(request, engine, actor)


@post(f"{BASE}/key/request", guards=[staff_page(MEMBER)], sync_to_thread=True, name="ad-review-request-key")
def request_key(request: Request, engine: EngineDep, actor: ActorDep, data: Form) -> Template | Redirect:
    data = data or {}
    values = {k: str(data.get(k) or "").strip() for k in ("member_id", "name", "public_key")}
    errors: dict[str, str] = {}
    if rules.member_id_problem(values["member_id"]):
        errors["member_id"] = FIELD_TEXTS["member_id"]()
    if not values["name"]:
        errors["name"] = FIELD_TEXTS["name"]()
    if not values["public_key"]:
        errors["public_key"] = FIELD_TEXTS["public_key"]()
    if not errors:
        try:
            service.request_key(engine, actor.id, values["member_id"], values["name"], values["public_key"])
        except (InvalidInput, RuleViolation, NotFound) as exc:
            errors = field_errors(exc, "member_id")
    if errors:
        return _key_page(request, engine, actor, errors=errors, values=values, status_code=400)
    return Redirect(path=f"{BASE}/key", status_code=303)


# -- a member: the queue and an application -----------------------------------------------------------


@get(f"{BASE}/queue", guards=[staff_page(MEMBER)], sync_to_thread=True, name="ad-review-queue")
def queue_page(request: Request, engine: EngineDep, actor: ActorDep) -> Template:
    member = _member(engine, actor)
    queue = queries.member_queue(engine, member) if member else []
    done = []
    if member:
        for s in queries.list_sessions(engine):
            if s["status"] == "open" and member in s["members"]:
                for a, item in s["items"].items():
                    if member in item["decided"] or member in item["recused"]:
                        done.append({"session": s["id"], "week": s["week"], "application": a,
                                     "recused": member in item["recused"],
                                     **{k: queries.applications(engine).get(a, {}).get(k)
                                        for k in ("sign_type", "dong", "address")}})
    return staff_template(request, "ad_review/console/queue.html", _("Ad review: my queue"), member=member,
                          queue=queue, done=done, sign_types=sign_type_names(),
                          pending=actor.id in _committee_info(engine)["requests"])


def _application_page(request: Request, engine: Any, actor: Any, sid: UUID, aid: UUID, *,
                      errors: dict[str, str] | None = None, values: dict[str, str] | None = None,
                      status_code: int = 200) -> Template:
    session = _session(engine, sid)
    application = queries.application_view(engine, aid)
    thread = queries.thread(engine, sid, aid)
    member = _member(engine, actor)
    on_roster = member is not None and member in session["members"]
    acted = None
    if member in thread["decided"]:
        acted = "decided"
    elif member in thread["recused"]:
        acted = "recused"
    return staff_template(
        request, "ad_review/console/application.html",
        _("Application %(short)s") % {"short": str(aid)[:8]}, session=session, application=application,
        thread=thread, member=member, on_roster=on_roster, acted=acted,
        can_act=on_roster and session["status"] == "open" and acted is None,
        decisions=decision_names(), outcomes=outcome_names(), sign_types=sign_type_names(),
        lighting=illumination_names(), errors=errors, values=values or {}, base=f"{BASE}/sessions/{sid}/applications/{aid}",
        account=actor.id, status_code=status_code)


@get(f"{BASE}/sessions/{{session_id:str}}/applications/{{application_id:str}}", guards=[staff_page(MEMBER)],
     sync_to_thread=True, name="ad-review-application")
def application_page(request: Request, engine: EngineDep, actor: ActorDep, session_id: FromPath[str],
                     application_id: FromPath[str]) -> Template:
    session_id = _uuid(session_id)
    application_id = _uuid(application_id)
    return _application_page(request, engine, actor, session_id, application_id)


ACTS = ("decision", "comment", "recusal")


def _act_fields(act: str, data: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """The normalised fields of an act as they will be signed and stored, and what is missing."""
    errors: dict[str, str] = {}
    if act == "decision":
        decision = str(data.get("decision") or "")
        reasons = signing.normalise_text(str(data.get("reasons") or ""))
        conditions = signing.conditions_from_text(str(data.get("conditions") or ""))
        if decision != "approve_with_conditions":
            conditions = []  # conditions typed and then another decision chosen: not part of it
        fields: dict[str, Any] = {"decision": decision, "reasons": reasons, "conditions": conditions}
        for f in rules.check_decision_fields(decision, reasons, conditions):
            errors[f] = FIELD_TEXTS[f]()
        return fields, errors
    name = "text" if act == "comment" else "reason"
    text = signing.normalise_text(str(data.get(name) or ""))
    if not text or len(text) > 2000:
        errors[name] = FIELD_TEXTS[name]()
    return {name: text}, errors


def _signed_bytes(act: str, sid: UUID, aid: UUID, member: str, fields: dict[str, Any]) -> bytes:
    if act == "decision":
        return signing.decision_bytes(str(sid), str(aid), member, fields["decision"], fields["reasons"],
                                      fields["conditions"])
    if act == "comment":
        return signing.comment_bytes(str(sid), str(aid), member, fields["text"])
    return signing.recusal_bytes(str(sid), str(aid), member, fields["reason"])


@post(f"{BASE}/sessions/{{session_id:str}}/applications/{{application_id:str}}/prepare/{{act:str}}",
      guards=[staff_page(MEMBER)], sync_to_thread=True, name="ad-review-prepare")
def prepare(engine: EngineDep, actor: ActorDep, session_id: FromPath[str], application_id: FromPath[str], act: FromPath[str],
            data: Form) -> Response[dict[str, Any]]:
    """The exact bytes the member's browser signs for this act: RFC 8785 JSON of the fields as
    the server will store them (the same bytes the server and the auditor verify)."""
    session_id = _uuid(session_id)
    application_id = _uuid(application_id)
    member = _member(engine, actor)
    if act not in ACTS:
        return Response({"errors": {"act": "unknown"}}, status_code=404)
    if member is None:
        return Response({"errors": {"signature": _("Your account has no registered signing key.")}}, status_code=400)
    fields, errors = _act_fields(act, data or {})
    if errors:
        return Response({"errors": errors}, status_code=400)
    message = _signed_bytes(act, session_id, application_id, member, fields)
    return Response({"member": member, "message": signing.b64(message), "document": message.decode("utf-8")},
                    status_code=200)


@post(f"{BASE}/sessions/{{session_id:str}}/applications/{{application_id:str}}/{{act:str}}",
      guards=[staff_page(MEMBER)], sync_to_thread=True, name="ad-review-act")
def member_act(request: Request, engine: EngineDep, actor: ActorDep, session_id: FromPath[str], application_id: FromPath[str], act: FromPath[str],
        data: Form) -> Template | Redirect:
    session_id = _uuid(session_id)
    application_id = _uuid(application_id)
    if act not in ACTS:
        raise NotFound("No such form.")
    data = data or {}
    values = {k: str(data.get(k) or "") for k in ("decision", "reasons", "conditions", "text", "reason")}
    member = _member(engine, actor)
    fields, errors = _act_fields(act, data)
    signature = str(data.get("signature") or "").strip()
    if not errors and member is None:
        errors = {"signature": _("Your account has no registered signing key. Make one on the key page.")}
    elif not errors and not signature:
        errors = {"signature": _("Signing needs a browser with JavaScript and your key (or the civic adreview "
                                 "command). Nothing was recorded.")}
    if not errors:
        try:
            if act == "decision":
                service.decide(engine, session_id, application_id, member, fields["decision"], fields["reasons"],
                               fields["conditions"], signature)
            elif act == "comment":
                service.comment(engine, session_id, application_id, member, fields["text"], signature)
            else:
                service.recuse(engine, session_id, application_id, member, fields["reason"], signature)
        except (InvalidInput, RuleViolation, NotFound, Forbidden) as exc:
            errors = field_errors(exc, "signature")
    if errors:
        return _application_page(request, engine, actor, session_id, application_id, errors=errors, values=values,
                                 status_code=400)
    anchor = "#thread" if act == "comment" else ""
    return Redirect(path=f"{BASE}/sessions/{session_id}/applications/{application_id}?done={act}{anchor}",
                    status_code=303)


# -- the secretary: the full committee's decisions ------------------------------------------------------


@get(f"{BASE}/full-committee", guards=[staff_page(SECRETARY)], sync_to_thread=True, name="ad-review-full")
def full_committee_page(request: Request, engine: EngineDep) -> Template:
    referred = queries.list_applications(engine, "referred")
    decided = [a for a in queries.list_applications(engine, "decided") if a.get("decided_by") == "full"]
    return staff_template(request, "ad_review/console/full_committee.html", _("Ad review: full committee"),
                          referred=referred, decided=list(reversed(decided)), sign_types=sign_type_names(),
                          outcomes=outcome_names())


def _full_decision_page(request: Request, engine: Any, aid: UUID, *, errors: dict[str, str] | None = None,
                        values: dict[str, str] | None = None, status_code: int = 200) -> Template:
    application = queries.application_view(engine, aid)
    decisions = {k: v for k, v in decision_names().items() if k != "re_review"}
    return staff_template(request, "ad_review/console/full_decision.html",
                          _("Record the full committee's decision"), application=application, decisions=decisions,
                          sign_types=sign_type_names(), lighting=illumination_names(), errors=errors,
                          values=values or {}, status_code=status_code)


@get(f"{BASE}/full-committee/{{application_id:str}}", guards=[staff_page(SECRETARY)], sync_to_thread=True,
     name="ad-review-full-decision")
def full_decision_page(request: Request, engine: EngineDep, application_id: FromPath[str]) -> Template:
    return _full_decision_page(request, engine, _uuid(application_id))


@post(f"{BASE}/full-committee/{{application_id:str}}/decision", guards=[staff_page(SECRETARY)],
      sync_to_thread=True, name="ad-review-full-record")
def record_full_decision(request: Request, engine: EngineDep, actor: ActorDep, application_id: FromPath[str],
                         data: Form) -> Template | Redirect:
    aid = _uuid(application_id)
    data = data or {}
    values = {k: str(data.get(k) or "") for k in ("decision", "reasons", "conditions", "meeting")}
    decision = values["decision"]
    reasons = signing.normalise_text(values["reasons"])
    conditions = signing.conditions_from_text(values["conditions"]) if decision == "approve_with_conditions" else []
    meeting = signing.normalise_text(values["meeting"])
    errors: dict[str, str] = {}
    if not meeting:  # in the form's order, so the summary reads top to bottom
        errors["meeting"] = _("Name the meeting: its date or the minutes' reference.")
    problems = rules.check_decision_fields(decision, reasons, conditions)
    if decision == "re_review":
        problems["decision"] = "the full committee decides finally"
    for field in ("decision", "reasons", "conditions"):
        if field in problems:
            errors[field] = FIELD_TEXTS[field]()
    if not errors:
        try:
            service.record_full_committee_decision(engine, actor.id, aid, decision, reasons, conditions, meeting)
        except (InvalidInput, RuleViolation) as exc:
            errors = field_errors(exc, "decision")
    if errors:
        return _full_decision_page(request, engine, aid, errors=errors, values=values, status_code=400)
    return Redirect(path=f"{BASE}/full-committee", status_code=303)


# -- the review-time report ---------------------------------------------------------------------------


def _day(text: Any) -> date | None:
    try:
        return date.fromisoformat(str(text)) if text else None
    except ValueError:
        return None


@get(f"{BASE}/report", guards=[staff_page(READ)], sync_to_thread=True, name="ad-review-report")
def report_page(request: Request, engine: EngineDep) -> Template:
    raw_from, raw_to = request.query_params.get("from") or "", request.query_params.get("to") or ""
    end = _day(raw_to) or utc_now().astimezone(SEOUL).date()
    start = _day(raw_from) or date(end.year, 1, 1)
    errors: dict[str, str] = {}
    if raw_from and _day(raw_from) is None:
        errors["from"] = _("Give the first day as YYYY-MM-DD.")
    if raw_to and _day(raw_to) is None:
        errors["to"] = _("Give the last day as YYYY-MM-DD.")
    if end < start:
        errors["to"] = _("The last day comes before the first day.")
        start = end
    report = queries.report(engine, start, end)
    chart = sla.weekly_chart_svg(report, texts=chart_texts())
    return staff_template(request, "ad_review/console/report.html", _("Ad review: review times"), report=report,
                          chart=chart, start=start.isoformat(), end=end.isoformat(), errors=errors or None,
                          status_code=400 if errors else 200)


def chart_texts() -> dict[str, str]:
    return {
        "title": _("Small committee: days from submission to decision notice, %(start)s – %(end)s"),
        "subtitle": _("decided %(decided)s · median %(median)s · p90 %(p90)s · within %(target)s days: %(share)s · "
                      "baseline %(baseline)s days"),
        "y_label": _("applications decided"),
        "note": _("week of the decision notice; label: the week's median"),
        "days": _("%(days)s d"),
        "bar": _("%(week)s: %(count)s in %(band)s"),
    }


# the console's pages and forms: for browsers, so not in the API's OpenAPI document
console_router = Router(path="/", include_in_schema=False, route_handlers=[
    sessions_page, open_session, session_page, put_on_agenda, close_session, members_page, add_member, confirm_key,
    refuse_key, key_page, request_key, queue_page, application_page, prepare, member_act, full_committee_page,
    full_decision_page, record_full_decision, report_page])
