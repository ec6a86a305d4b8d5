"""The auditor's replay of the committee from the log records alone (live store or export).

It re-verifies every member signature against the key registered when the member joined,
re-checks that no refused act slipped in (non-member, recused, second decision, closed
session), recomputes every session result with ``close_results`` and every route with
``route``, and checks each application's decision notice against its session's result."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from core import Discrepancy, LogRecord, RetallyReport
from plugins.ad_review import rules, signing
from plugins.ad_review.quorum import QuorumRule, close_results
from plugins.ad_review.routing import parse_routing_rules, route

PREFIX = "plugins.ad_review."


def _when(value: Any) -> datetime:
    if isinstance(value, dict):
        value = value.get("_data_")
    return datetime.fromisoformat(value)


def mine(records: Iterable[LogRecord]) -> list[LogRecord]:
    return [r for r in records if r.topic.startswith(PREFIX)]


def retally(records: Sequence[LogRecord]) -> RetallyReport | None:
    records = mine(records)
    if not records:
        return None
    problems: list[Discrepancy] = []
    checked = 0
    members: dict[str, str] = {}  # member → public key, as registered
    routing: list[dict[str, Any]] = []
    quorum: dict[str, Any] = {}
    sessions: dict[str, dict[str, Any]] = {}
    threads: dict[str, dict[str, Any]] = {}  # deliberation id → its replayed state
    by_item: dict[tuple[str, str], dict[str, Any]] = {}  # (session, application) → thread
    results: dict[tuple[str, str], dict[str, Any]] = {}  # (session, application) → recomputed result

    def bad(record: LogRecord, reason: str) -> None:
        problems.append(Discrepancy(record.position, f"ad_review {record.event_name}: {reason}"))

    for r in records:
        p, name = r.payload, r.event_name
        if name == "Committee.Constituted":
            routing, quorum = p["routing"], p["quorum"]
        elif name == "Committee.MemberJoined":
            members[p["member_id"]] = p["public_key"]
        elif name == "Committee.MemberLeft":
            members.pop(p["member_id"], None)
        elif name == "Committee.RoutingSet":
            routing = p["routing"]
        elif name == "Committee.QuorumSet":
            quorum = p["quorum"]
        elif name == "Application.Submitted":
            checked += 1
            recorded = p["application"]
            # the applicant's name and phone are sealed: the auditor checks everything else
            stand_in = {"name": "-", "phone": "000-000-0000"}
            if recorded.get("applicant", {}).get("business"):
                stand_in["business"] = recorded["applicant"]["business"]
            try:
                normal = rules.validate_application({**recorded, "applicant": stand_in})
            except rules.ApplicationInvalid as exc:
                bad(r, f"the recorded application is not valid ({exc})")
                continue
            if {**normal, "applicant": None} != {**recorded, "applicant": None}:
                bad(r, "the recorded application is not in its validated form")
            rule = route(normal, parse_routing_rules(routing))
            if (rule.id, rule.committee) != (p["route"]["rule_id"], p["route"]["committee"]):
                bad(r, f"routed by {p['route']['rule_id']} to the {p['route']['committee']} committee, "
                       f"but the rules in force give {rule.id} ({rule.committee})")
        elif name == "Session.Opened":
            if p["members"] != members:
                bad(r, "the session's roster or keys differ from the committee's registered members")
            if p["quorum"] != quorum:
                bad(r, "the session's quorum rule differs from the committee's rule in force")
            sessions[r.originator_id] = {"members": p["members"], "quorum": p["quorum"], "items": [],
                                         "closed": False, "closes_at": _when(p["closes_at"])}
        elif name == "Session.ApplicationAdded":
            s = sessions.get(r.originator_id)
            if s is None:
                bad(r, "an application added to a session that was never opened")
                continue
            s["items"].append(p["application"])
        elif name == "Deliberation.Opened":
            s = sessions.get(p["session"])
            if s is None or p["application"] not in s["items"]:
                bad(r, "a thread for an application that is not on the session's agenda")
                continue
            if p["members"] != s["members"] or _when(p["closes_at"]) != s["closes_at"]:
                bad(r, "the thread's roster or deadline differ from its session's")
            threads[r.originator_id] = {"session": p["session"], "application": p["application"],
                                        "members": p["members"], "closes_at": s["closes_at"], "recusals": [],
                                        "votes": {}, "closed": False}
            by_item[(p["session"], p["application"])] = threads[r.originator_id]
        elif name in ("Deliberation.Commented", "Deliberation.Recused", "Deliberation.DecisionCast"):
            checked += 1
            t = threads.get(r.originator_id)
            if t is None:
                bad(r, "an act in a thread that was never opened")
                continue
            reason = _act_problem(r, t, sessions[t["session"]]["closed"])
            if reason:
                bad(r, reason)
                continue
            if name == "Deliberation.Recused":
                t["recusals"].append(p["member"])
            elif name == "Deliberation.DecisionCast":
                t["votes"][p["member"]] = {"decision": p["decision"], "reasons": p["reasons"],
                                           "conditions": p["conditions"]}
        elif name == "Deliberation.Closed":
            if r.originator_id in threads:
                threads[r.originator_id]["closed"] = True
        elif name == "Session.Closed":
            s = sessions.get(r.originator_id)
            if s is None:
                bad(r, "a session closed that was never opened")
                continue
            s["closed"] = True
            missing = [a for a in s["items"] if (r.originator_id, a) not in by_item]
            if missing:
                bad(r, f"applications on the agenda without a thread: {missing}")
                continue
            threads_of = {a: by_item[(r.originator_id, a)] for a in s["items"]}
            expected = close_results(s["members"], s["items"], {a: t["recusals"] for a, t in threads_of.items()},
                                           {a: t["votes"] for a, t in threads_of.items()},
                                           QuorumRule.from_json(s["quorum"]))
            for application, result in expected.items():
                checked += 1
                results[(r.originator_id, application)] = result
                if p["results"].get(application) != result:
                    recorded = (p["results"].get(application) or {}).get("outcome")
                    bad(r, f"application {application}: recorded {recorded}, "
                           f"the quorum rule gives {result['outcome']}")
            if set(p["results"]) != set(expected):
                bad(r, "the results name applications that were not on the agenda")
        elif name in ("Application.Decided", "Application.RolledOver"):
            if name == "Application.Decided" and p["committee"] == "full":
                continue  # recorded from the full committee's minutes, not computed here
            checked += 1
            result = results.get((p["session"], r.originator_id))
            if result is None:
                bad(r, "no closed session result for this application")
                continue
            if result["outcome"] != p["outcome"]:
                bad(r, f"the notice says {p['outcome']}, the session's result is {result['outcome']}")
            elif name == "Application.Decided" and (result["reasons"], result["conditions"]) != (
                    p["reasons"], p["conditions"]):
                bad(r, "the notice's reasons or conditions differ from the session's result")
            elif (name == "Application.Decided") != (result["outcome"] in rules.FINAL_OUTCOMES):
                bad(r, f"{result['outcome']} is not recorded the way the rules say")
    return RetallyReport(plugin="ad_review", checked=checked, discrepancies=tuple(problems))


def _act_problem(r: LogRecord, t: dict[str, Any], session_closed: bool) -> str | None:
    p, name = r.payload, r.event_name
    member = p["member"]
    if (p["session"], p["application"]) != (t["session"], t["application"]):
        return "the act names another session or application than its thread"
    session, application = t["session"], t["application"]
    if t["closed"] or session_closed:
        return "an act after the session closed"
    if r.timestamp is not None and _when(r.timestamp) >= t["closes_at"]:
        return "an act after the session's deadline"
    if member not in t["members"]:
        return f"{member} is not a member of the session"
    recused = member in t["recusals"]
    voted = member in t["votes"]
    if name == "Deliberation.DecisionCast":
        message = rules.decision_bytes(session, application, member, p["decision"], p["reasons"], p["conditions"])
        if recused:
            return f"{member} decided after recusing"
        if voted:
            return f"{member} decided twice in one session"
        fields = rules.check_decision_fields(p["decision"], p["reasons"], p["conditions"])
        if fields:
            return f"the decision is incomplete: {fields}"
    elif name == "Deliberation.Recused":
        message = rules.recusal_bytes(session, application, member, p["reason"])
        if recused or voted:
            return f"{member} recused after recusing or deciding"
    else:
        message = rules.comment_bytes(session, application, member, p["text"])
    if not signing.verify(t["members"][member], message, p["signature"]):
        return f"{member}'s signature does not verify"
    return None


def sla_rows_from_records(records: Iterable[LogRecord]) -> list[dict[str, Any]]:
    """The service-level rows (submission and notice times) read from the log records."""
    rows: dict[str, dict[str, Any]] = {}
    for r in mine(records):
        if r.event_name == "Application.Submitted":
            rows[r.originator_id] = {"application": r.originator_id, "committee": r.payload["route"]["committee"],
                                     "submitted_at": _when(r.timestamp), "noticed_at": None}
        elif r.event_name == "Application.Decided":
            rows[r.originator_id]["noticed_at"] = _when(r.timestamp)
    return list(rows.values())
