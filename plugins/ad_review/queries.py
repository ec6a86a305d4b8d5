"""What the committee shows: applications, sessions, members' queues, threads, public decisions
and the service-level report. Reads only: the read models (``views``) and, for a thread, its
aggregate; the HTTP API, the CLI and the commands in ``service`` read through these."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from uuid import UUID

from core import SEOUL, Engine, InvalidInput, NotFound
from plugins.ad_review.domain import Deliberation, Session, deliberation_id
from plugins.ad_review.sla import days_between, sla_report, sla_rows
from plugins.ad_review.views import ApplicationsView, SessionsView


def applications(engine: Engine) -> dict[str, Any]:
    """The applications read model's state, caught up: application id → row."""
    return engine.read_models.get(ApplicationsView.name).state


def sessions(engine: Engine) -> dict[str, Any]:
    """The sessions read model's state, caught up: session id → row."""
    return engine.read_models.get(SessionsView.name).state


STATUSES = ("queued", "in_session", "referred", "decided")


def list_applications(engine: Engine, status: str | None = None) -> list[dict[str, Any]]:
    """Applications (no personal data), oldest first, optionally of one status."""
    if status is not None and status not in STATUSES:
        raise InvalidInput(f"status is one of {', '.join(STATUSES)}.", field="status")
    state = applications(engine)
    rows = [{"id": a, **v} for a, v in state.items() if status is None or v["status"] == status]
    return sorted(rows, key=lambda r: r["submitted_at"])


def application_view(engine: Engine, application_id: UUID) -> dict[str, Any]:
    state = applications(engine).get(str(application_id))
    if state is None:
        raise NotFound(f"No application with id {application_id}.", title="Not found")
    return {"id": str(application_id), **state}


def waiting_for_a_session(engine: Engine) -> list[UUID]:
    """Applications routed to the small committee and not on a session's agenda."""
    return [UUID(a) for a, v in applications(engine).items() if v["status"] == "queued"]


def list_sessions(engine: Engine) -> list[dict[str, Any]]:
    """Weekly sessions in week order, each with its id."""
    return [{"id": sid, **s} for sid, s in sorted(sessions(engine).items(), key=lambda kv: kv[1]["week"])]


def deliberation(engine: Engine, sid: UUID, application: UUID) -> Deliberation:
    """An application's thread in a session; NotFound when it is not on that session's agenda."""
    try:
        return engine.get(deliberation_id(sid, application), Deliberation)
    except NotFound:
        raise NotFound("The application is not on this session's agenda.") from None


def member_queue(engine: Engine, member: str) -> list[dict[str, Any]]:
    """What a member still has to act on in open sessions."""
    out = []
    apps = applications(engine)
    for s in list_sessions(engine):
        if s["status"] != "open" or member not in s["members"]:
            continue
        for application, item in s["items"].items():
            if member in item["decided"] or member in item["recused"]:
                continue
            app = apps.get(application, {})
            out.append({"session": s["id"], "week": s["week"], "closes_at": s["closes_at"], "application": application,
                        "sign_type": app.get("sign_type"), "dong": app.get("dong"),
                        "address": app.get("address"), "area_m2": app.get("area_m2"),
                        "comments": item["comments"]})
    return out


def thread(engine: Engine, sid: UUID, application: UUID) -> dict[str, Any]:
    """An application's thread in a session: comments, who recused, who decided; the votes
    themselves and the result once the session is closed."""
    d = deliberation(engine, sid, application)
    out: dict[str, Any] = {
        "session": str(sid), "application": str(application), "closed": d.closed, "comments": d.comments,
        "recused": sorted(d.recusals), "decided": sorted(d.votes),
    }
    if d.closed:
        out["votes"] = d.votes
        out["result"] = engine.get(sid, Session, what="session").results.get(str(application))
    return out


def public_decisions(engine: Engine, start: date, end: date) -> list[dict[str, Any]]:
    """Decisions noticed between two local dates, without the applicant's personal data."""
    out = []
    for application_id, a in applications(engine).items():
        if a["status"] != "decided":
            continue
        noticed = datetime.fromisoformat(a["noticed_at"])
        if not start <= noticed.astimezone(SEOUL).date() <= end:
            continue
        out.append({
            "application": application_id, "business": a["business"], "sign_type": a["sign_type"],
            "dong": a["dong"], "address": a["address"], "area_m2": a["area_m2"], "committee": a["committee"],
            "rule_id": a["rule_id"], "outcome": a["outcome"], "reasons": a["reasons"],
            "conditions": a["conditions"], "submitted_at": a["submitted_at"], "noticed_at": a["noticed_at"],
            "days": round(days_between(datetime.fromisoformat(a["submitted_at"]), noticed), 2),
        })
    return sorted(out, key=lambda d: d["noticed_at"])


def report(engine: Engine, start: date, end: date) -> dict[str, Any]:
    if end < start:
        raise InvalidInput("The report's end comes before its start.", field="to")
    return sla_report(sla_rows(applications(engine)), start, end, SEOUL)
