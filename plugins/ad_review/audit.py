"""The auditor's replay of the committee from the log records alone (live store or export).

It folds the records with the plugin's one fold (``fold.py``, the read models' own) and, before
folding each record, checks it against the state so far: it re-verifies every member signature
against the key registered when the member joined, re-checks that no refused act slipped in
(non-member, recused, second decision, closed session), recomputes every session result with
``close_results`` and every route with ``route``, and checks each application's decision notice
against its session's result. A record found wrong is reported and, when folding it would build
on it (an act, an agenda item of a session never opened), left out of the state."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import Any

from core import Discrepancy, LogRecord, RetallyReport, topic_of
from plugins.ad_review import fold, rules, signing
from plugins.ad_review.domain import Application, Committee, Deliberation, Session
from plugins.ad_review.quorum import QuorumRule, close_results
from plugins.ad_review.routing import parse_routing_rules, route
from plugins.ad_review.sla import sla_rows

# an act's topic → the canonical bytes its member signed
_SIGNED: dict[str, Callable[[dict[str, Any]], bytes]] = {
    topic_of(Deliberation.DecisionCast): lambda p: signing.decision_bytes(
        p["session"], p["application"], p["member"], p["decision"], p["reasons"], p["conditions"]),
    topic_of(Deliberation.Recused): lambda p: signing.recusal_bytes(p["session"], p["application"], p["member"],
                                                                   p["reason"]),
    topic_of(Deliberation.Commented): lambda p: signing.comment_bytes(p["session"], p["application"], p["member"],
                                                                     p["text"]),
}
_DECISION, _RECUSAL = topic_of(Deliberation.DecisionCast), topic_of(Deliberation.Recused)
_DECIDED = topic_of(Application.Decided)


def _when(value: Any) -> datetime:
    return datetime.fromisoformat(fold.iso(value))


def retally(records: Sequence[LogRecord]) -> RetallyReport | None:
    mine = [r for r in records if r.topic in fold.TOPICS]
    if not mine:
        return None
    replay = _Replay()
    for r in mine:
        replay.take(r)
    return RetallyReport(plugin="ad_review", checked=replay.checked, discrepancies=tuple(replay.problems))


def sla_rows_from_records(records: Iterable[LogRecord]) -> list[dict[str, Any]]:
    """The service-level rows (submission and notice times) read from the log records, through the
    same fold as the live read model."""
    applications: dict[str, Any] = {}
    for r in records:
        fold.fold_section("applications", applications, r)
    return sla_rows(applications)


class _Replay:
    def __init__(self) -> None:
        self.state = fold.empty()
        self.problems: list[Discrepancy] = []
        self.checked = 0
        # (session, application) → the result recomputed at the session's close
        self.results: dict[tuple[str, str], dict[str, Any]] = {}
        # each check returns whether the record may be folded
        self._checks: dict[str, Callable[[LogRecord], bool]] = {
            topic_of(Application.Submitted): self._submitted,
            topic_of(Session.Opened): self._session_opened,
            topic_of(Session.ApplicationAdded): self._application_added,
            topic_of(Deliberation.Opened): self._thread_opened,
            **{topic: self._act for topic in _SIGNED},
            topic_of(Session.Closed): self._session_closed,
            topic_of(Application.Decided): self._notice,
            topic_of(Application.RolledOver): self._notice,
        }

    def take(self, r: LogRecord) -> None:
        check = self._checks.get(r.topic)
        if check is None or check(r):
            fold.fold(self.state, r)

    def bad(self, r: LogRecord, reason: str) -> None:
        self.problems.append(Discrepancy(r.position, f"ad_review {r.event_name}: {reason}"))

    # -- applications and sessions ------------------------------------------------------------
    def _submitted(self, r: LogRecord) -> bool:
        p = r.payload
        self.checked += 1
        recorded = p["application"]
        # the applicant's name and phone are sealed: the auditor checks everything else
        stand_in = {"name": "-", "phone": "000-000-0000"}
        if recorded.get("applicant", {}).get("business"):
            stand_in["business"] = recorded["applicant"]["business"]
        try:
            normal = rules.validate_application({**recorded, "applicant": stand_in})
        except rules.ApplicationInvalid as exc:
            self.bad(r, f"the recorded application is not valid ({exc})")
            return False
        if {**normal, "applicant": None} != {**recorded, "applicant": None}:
            self.bad(r, "the recorded application is not in its validated form")
        rule = route(normal, parse_routing_rules(self.state["committee"]["routing"]))
        if (rule.id, rule.committee) != (p["route"]["rule_id"], p["route"]["committee"]):
            self.bad(r, f"routed by {p['route']['rule_id']} to the {p['route']['committee']} committee, "
                        f"but the rules in force give {rule.id} ({rule.committee})")
        return True

    def _session_opened(self, r: LogRecord) -> bool:
        committee = self.state["committee"]
        if r.payload["members"] != committee["members"]:
            self.bad(r, "the session's roster or keys differ from the committee's registered members")
        if r.payload["quorum"] != committee["quorum"]:
            self.bad(r, "the session's quorum rule differs from the committee's rule in force")
        return True

    def _application_added(self, r: LogRecord) -> bool:
        if r.originator_id not in self.state["sessions"]:
            self.bad(r, "an application added to a session that was never opened")
            return False
        return True

    def _thread_opened(self, r: LogRecord) -> bool:
        p = r.payload
        session = self.state["sessions"].get(p["session"])
        if session is None or p["application"] not in session["items"]:
            self.bad(r, "a thread for an application that is not on the session's agenda")
            return False
        if p["members"] != self.state["rosters"][p["session"]] or _when(p["closes_at"]) != _when(session["closes_at"]):
            self.bad(r, "the thread's roster or deadline differ from its session's")
        return True

    def _session_closed(self, r: LogRecord) -> bool:
        p, sid = r.payload, r.originator_id
        session = self.state["sessions"].get(sid)
        if session is None:
            self.bad(r, "a session closed that was never opened")
            return False
        threads = {(t["session"], t["application"]): t for t in self.state["threads"].values()}
        missing = [a for a in session["items"] if (sid, a) not in threads]
        if missing:
            self.bad(r, f"applications on the agenda without a thread: {missing}")
            return True
        of_item = {a: threads[(sid, a)] for a in session["items"]}
        expected = close_results(self.state["rosters"][sid], list(session["items"]),
                                 {a: t["recusals"] for a, t in of_item.items()},
                                 {a: t["votes"] for a, t in of_item.items()}, QuorumRule.from_json(session["quorum"]))
        for application, result in expected.items():
            self.checked += 1
            self.results[(sid, application)] = result
            if p["results"].get(application) != result:
                recorded = (p["results"].get(application) or {}).get("outcome")
                self.bad(r, f"application {application}: recorded {recorded}, "
                            f"the quorum rule gives {result['outcome']}")
        if set(p["results"]) != set(expected):
            self.bad(r, "the results name applications that were not on the agenda")
        return True

    def _notice(self, r: LogRecord) -> bool:
        p = r.payload
        decided = r.topic == _DECIDED
        if decided and p["committee"] == "full":
            return True  # recorded from the full committee's minutes, not computed here
        self.checked += 1
        result = self.results.get((p["session"], r.originator_id))
        if result is None:
            self.bad(r, "no closed session result for this application")
        elif result["outcome"] != p["outcome"]:
            self.bad(r, f"the notice says {p['outcome']}, the session's result is {result['outcome']}")
        elif decided and (result["reasons"], result["conditions"]) != (p["reasons"], p["conditions"]):
            self.bad(r, "the notice's reasons or conditions differ from the session's result")
        elif decided != (result["outcome"] in rules.FINAL_OUTCOMES):
            self.bad(r, f"{result['outcome']} is not recorded the way the rules say")
        return True

    # -- members' acts ------------------------------------------------------------------------
    def _act(self, r: LogRecord) -> bool:
        self.checked += 1
        thread = self.state["threads"].get(r.originator_id)
        if thread is None:
            self.bad(r, "an act in a thread that was never opened")
            return False
        reason = self._act_problem(r, thread)
        if reason:
            self.bad(r, reason)
            return False
        return True

    def _act_problem(self, r: LogRecord, thread: dict[str, Any]) -> str | None:
        p = r.payload
        member = p["member"]
        if (p["session"], p["application"]) != (thread["session"], thread["application"]):
            return "the act names another session or application than its thread"
        session = self.state["sessions"][thread["session"]]
        if thread["closed"] or session["status"] == "closed":
            return "an act after the session closed"
        if r.timestamp is not None and _when(r.timestamp) >= _when(session["closes_at"]):
            return "an act after the session's deadline"
        if member not in thread["members"]:
            return f"{member} is not a member of the session"
        recused = member in thread["recusals"]
        voted = member in thread["votes"]
        if r.topic == _DECISION:
            if recused:
                return f"{member} decided after recusing"
            if voted:
                return f"{member} decided twice in one session"
            fields = rules.check_decision_fields(p["decision"], p["reasons"], p["conditions"])
            if fields:
                return f"the decision is incomplete: {fields}"
        elif r.topic == _RECUSAL and (recused or voted):
            return f"{member} recused after recusing or deciding"
        if not signing.verify(thread["members"][member], _SIGNED[r.topic](p), p["signature"]):
            return f"{member}'s signature does not verify"
        return None
