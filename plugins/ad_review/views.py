"""Read models of the committee: applications (status, route, notice time) and sessions (agenda
and who has acted). Derived from the log only; ``civic rebuild`` refolds them identically."""

from __future__ import annotations

from typing import Any

from core import ReadModel
from plugins.ad_review.domain import Application, Deliberation, Session


class ApplicationsView(ReadModel):
    name = "ad_review.applications"
    event_types = (Application.Submitted, Application.Scheduled, Application.Decided,
                   Application.RolledOver, Application.NoticeSent)

    def apply(self, event: Any, position: int) -> None:
        key = str(event.originator_id)
        if isinstance(event, Application.Submitted):
            a = event.application
            self.state[key] = {
                "status": "queued" if event.route["committee"] == "small" else "referred",
                "committee": event.route["committee"], "rule_id": event.route["rule_id"],
                "rule": event.route["rule"], "sign_type": a["sign_type"], "illumination": a["illumination"],
                "dong": a["location"]["dong"], "address": a["location"]["address"],
                "business": a["applicant"].get("business"), "area_m2": a["size"]["area_m2"],
                "attachments": a["attachments"], "submitted_at": event.timestamp.isoformat(),
                "sessions": [], "session": None, "rollovers": [], "outcome": None, "reasons": [],
                "conditions": [], "noticed_at": None, "notice_sent": False, "position": position,
            }
            return
        row = self.state[key]
        row["position"] = position
        if isinstance(event, Application.Scheduled):
            row.update(status="in_session", session=event.session)
            row["sessions"].append(event.week)
        elif isinstance(event, Application.RolledOver):
            row.update(status="queued", session=None)
            row["rollovers"].append({"session": event.session, "outcome": event.outcome})
        elif isinstance(event, Application.Decided):
            row.update(status="decided", outcome=event.outcome, reasons=event.reasons,
                       conditions=event.conditions, noticed_at=event.timestamp.isoformat(),
                       decided_by=event.committee, session=event.session)
        elif isinstance(event, Application.NoticeSent):
            row["notice_sent"] = True


class SessionsView(ReadModel):
    name = "ad_review.sessions"
    version = 2
    event_types = (Session.Opened, Session.ApplicationAdded, Session.Closed, Deliberation.Commented,
                   Deliberation.Recused, Deliberation.DecisionCast)

    def apply(self, event: Any, position: int) -> None:
        key = str(event.originator_id)
        if isinstance(event, Session.Opened):
            self.state[key] = {
                "week": event.week, "status": "open", "opens_at": event.opens_at.isoformat(),
                "intake_until": event.intake_until.isoformat(), "closes_at": event.closes_at.isoformat(),
                "members": sorted(event.members), "quorum": event.quorum, "items": {}, "results": None,
                "opened_by": event.by,
            }
            return
        if isinstance(event, (Deliberation.Commented, Deliberation.Recused, Deliberation.DecisionCast)):
            item = self.state[event.session]["items"][event.application]
            if isinstance(event, Deliberation.Commented):
                item["comments"] += 1
            elif isinstance(event, Deliberation.Recused):
                item["recused"].append(event.member)
            else:
                item["decided"].append(event.member)
            return
        s = self.state[key]
        if isinstance(event, Session.ApplicationAdded):
            s["items"][event.application] = {"decided": [], "recused": [], "comments": 0}
        elif isinstance(event, Session.Closed):
            s["status"] = "closed"
            s["results"] = event.results
            s["closed_at"] = event.timestamp.isoformat()
