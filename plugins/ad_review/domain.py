"""Aggregates of the advertisement review committee: the committee (members, keys and every
configurable setting), applications, and weekly sessions.

Every command checks its input and the rules first and raises a ``core.errors`` error before any
event is triggered, so a refused command changes nothing."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any
from uuid import UUID

from core import CivicAggregate, Forbidden, InvalidInput, NotFound, RuleViolation, event, natural_id, utc_now
from plugins.ad_review import rules, signing
from plugins.ad_review.quorum import DEFAULT_QUORUM, QuorumRule, close_results
from plugins.ad_review.routing import DEFAULT_ROUTING, RoutingRule, parse_routing_rules
from plugins.ad_review.schedule import Schedule

DISTRICT = "jung-gu"
COMMITTEE_ID = natural_id("ad_review.committee", DISTRICT)


def session_id(week: str) -> UUID:
    return natural_id("ad_review.session", DISTRICT, week)


def deliberation_id(session: str | UUID, application: str | UUID) -> UUID:
    return natural_id("ad_review.deliberation", session, application)


class Committee(CivicAggregate):
    """The small committee (소심위원회) of the district and the process's settings."""

    @event("Constituted")
    def __init__(self, name: str, routing: list[dict[str, Any]], quorum: dict[str, Any],
                 schedule: dict[str, Any], by: str) -> None:
        self.name = name
        self.members: dict[str, dict[str, Any]] = {}
        self.routing = routing
        self.quorum = quorum
        self.schedule = schedule

    @staticmethod
    def create_id(**_: Any) -> UUID:
        return COMMITTEE_ID  # one committee per district: constituting it twice is refused

    @classmethod
    def with_defaults(cls, by: str) -> Committee:
        return cls(name="광고물 SNS온라인 심의 소위원회 (중구)",
                   routing=[r.to_json() for r in DEFAULT_ROUTING], quorum=DEFAULT_QUORUM.to_json(),
                   schedule=Schedule().to_json(), by=by)

    # -- members -----------------------------------------------------------------------------
    def join(self, member_id: str, name: str, public_key: str, by: str) -> None:
        problem = rules.member_id_problem(member_id)
        if problem:
            raise InvalidInput(f"member_id: {problem}.", field="member_id")
        if not isinstance(name, str) or not name.strip():
            raise InvalidInput("A member needs a name.", field="name")
        try:
            signing.parse_public_key(public_key)
        except ValueError as exc:
            raise InvalidInput(f"public_key: {exc}.", field="public_key") from None
        if member_id in self.members:
            raise RuleViolation(f"{member_id} is already a member.")
        if any(m["public_key"] == public_key for m in self.members.values()):
            raise RuleViolation("Another member registered this public key; each member has their own.")
        self._member_joined(member_id, name.strip(), public_key.strip(), by)

    @event("MemberJoined")
    def _member_joined(self, member_id: str, name: str, public_key: str, by: str) -> None:
        self.members[member_id] = {"name": name, "public_key": public_key}

    def leave(self, member_id: str, reason: str, by: str) -> None:
        if member_id not in self.members:
            raise NotFound(f"No member {member_id}.")
        self._member_left(member_id, reason, by)

    @event("MemberLeft")
    def _member_left(self, member_id: str, reason: str, by: str) -> None:
        del self.members[member_id]

    # -- settings (each one an event) --------------------------------------------------------
    def set_routing(self, raw: Any, by: str) -> None:
        try:
            parsed = parse_routing_rules(raw)
        except rules.ApplicationInvalid as exc:
            raise InvalidInput(f"Routing rules refused: {exc}.", fields=exc.fields) from None
        self._routing_set([r.to_json() for r in parsed], by)

    @event("RoutingSet")
    def _routing_set(self, routing: list[dict[str, Any]], by: str) -> None:
        self.routing = routing

    def set_quorum(self, raw: dict[str, Any], by: str) -> None:
        try:
            rule = QuorumRule.from_json(raw)
        except (ValueError, ZeroDivisionError, TypeError) as exc:
            raise InvalidInput(f"Quorum rule refused: {exc}.") from None
        self._quorum_set(rule.to_json(), by)

    @event("QuorumSet")
    def _quorum_set(self, quorum: dict[str, Any], by: str) -> None:
        self.quorum = quorum

    def set_schedule(self, raw: dict[str, Any], by: str) -> None:
        try:
            schedule = Schedule.from_json(raw)
        except (ValueError, TypeError) as exc:
            raise InvalidInput(f"Schedule refused: {exc}.") from None
        self._schedule_set(schedule.to_json(), by)

    @event("ScheduleSet")
    def _schedule_set(self, schedule: dict[str, Any], by: str) -> None:
        self.schedule = schedule

    # -- reading -----------------------------------------------------------------------------
    def routing_rules(self) -> tuple[RoutingRule, ...]:
        return parse_routing_rules(self.routing)

    def schedule_rule(self) -> Schedule:
        return Schedule(**self.schedule)


class Application(CivicAggregate):
    """An application for a sign permit review. ``status``: queued (waiting for the small
    committee's next session), in_session, referred (to the full committee), decided."""

    @event("Submitted")
    def __init__(self, id: UUID, application: dict[str, Any], route: dict[str, Any], by: str) -> None:  # noqa: A002
        # the id is chosen first: the applicant's personal data is sealed to it
        self.application = application
        self.route = route
        self.committee = route["committee"]
        self.status = "queued" if self.committee == "small" else "referred"
        self.session: str | None = None
        self.sessions: list[str] = []
        self.outcome: str | None = None
        self.notice_sent = False

    def schedule(self, session: str, week: str) -> None:
        if self.status != "queued":
            raise RuleViolation(f"The application is {self.status}, not waiting for a session.")
        self._scheduled(session, week)

    @event("Scheduled")
    def _scheduled(self, session: str, week: str) -> None:
        self.status = "in_session"
        self.session = session
        self.sessions.append(session)

    def settle(self, session: str, result: dict[str, Any]) -> None:
        """Apply a session's result: a decision notice, or a roll-over to the next session."""
        if self.status != "in_session" or self.session != session:
            raise RuleViolation("The application is not in this session.")
        if result["outcome"] in rules.FINAL_OUTCOMES:
            self._decided(session, result["outcome"], result["reasons"], result["conditions"], "small")
        else:
            self._rolled_over(session, result["outcome"], result["reasons"])

    def decide_in_full_committee(self, outcome: str, reasons: str, conditions: list[str], meeting: str) -> None:
        if self.status != "referred":
            raise RuleViolation("Only an application referred to the full committee is decided there.")
        if outcome == "re_review":
            raise InvalidInput("Record the full committee's final decision (approve, approve with conditions, "
                               "or reject).", field="decision")
        problems = rules.check_decision_fields(outcome, reasons, conditions)
        if not isinstance(meeting, str) or not meeting.strip():
            problems["meeting"] = "the full committee meeting (date or minutes reference)"
        if problems:
            raise InvalidInput("The decision is incomplete: " + "; ".join(f"{k}: {v}" for k, v in problems.items()),
                               fields=problems)
        self._decided(meeting.strip(), outcome, [reasons.strip()], list(conditions), "full")

    @event("Decided")
    def _decided(self, session: str, outcome: str, reasons: list[str], conditions: list[str], committee: str) -> None:
        self.status = "decided"
        self.outcome = outcome
        self.reasons = reasons
        self.conditions = conditions
        self.session = session

    @event("RolledOver")
    def _rolled_over(self, session: str, outcome: str, reasons: list[str]) -> None:
        self.status = "queued"
        self.session = None
        self.last_rollover = outcome

    def record_notice(self, reference: str) -> None:
        if self.status != "decided":
            raise RuleViolation("No decision to give notice of.")
        if not self.notice_sent:
            self._notice_sent(reference)

    @event("NoticeSent")
    def _notice_sent(self, reference: str) -> None:
        self.notice_sent = True


class Session(CivicAggregate):
    """One weekly online session of the small committee: its agenda and, at close, its results.
    The roster (members and their public keys) and the quorum rule are fixed when it opens."""

    @event("Opened")
    def __init__(self, week: str, opens_at: datetime, intake_until: datetime, closes_at: datetime,
                 members: dict[str, str], quorum: dict[str, Any], by: str) -> None:
        self.week = week
        self.opens_at = opens_at
        self.intake_until = intake_until
        self.closes_at = closes_at
        self.members = members
        self.quorum = quorum
        self.items: list[str] = []
        self.closed = False
        self.results: dict[str, dict[str, Any]] = {}

    @staticmethod
    def create_id(week: str, **_: Any) -> UUID:
        return session_id(week)  # one session per week: opening it twice is refused

    def add(self, application: str) -> Deliberation:
        """Put an application on the agenda; returns its new deliberation (its thread)."""
        if self.closed:
            raise RuleViolation("The session is closed.")
        if application in self.items:
            raise RuleViolation("The application is already in this session.")
        self._added(application)
        return Deliberation(session=str(self.id), application=application, members=dict(self.members),
                            closes_at=self.closes_at)

    @event("ApplicationAdded")
    def _added(self, application: str) -> None:
        self.items.append(application)

    def close(self, deliberations: dict[str, Deliberation], by: str) -> dict[str, dict[str, Any]]:
        """Decide every application on the agenda by the quorum rule fixed at opening."""
        if self.closed:
            raise RuleViolation("The session is already closed.")
        if set(deliberations) != set(self.items):
            raise RuleViolation("Every application on the agenda must be closed with the session.")
        results = close_results(
            self.members, self.items, {a: list(d.recusals) for a, d in deliberations.items()},
            {a: d.votes for a, d in deliberations.items()}, QuorumRule.from_json(self.quorum))
        self._closed(results, by)
        for deliberation in deliberations.values():
            deliberation.close()
        return results

    @event("Closed")
    def _closed(self, results: dict[str, dict[str, Any]], by: str) -> None:
        self.closed = True
        self.results = results


class Deliberation(CivicAggregate):
    """One application's thread in one session: members' signed comments, recusals and
    decisions. Each act event carries every field its member signed."""

    @event("Opened")
    def __init__(self, session: str, application: str, members: dict[str, str], closes_at: datetime) -> None:
        self.session = session
        self.application = application
        self.members = members
        self.closes_at = closes_at
        self.comments: list[dict[str, Any]] = []
        self.recusals: dict[str, str] = {}
        self.votes: dict[str, dict[str, Any]] = {}
        self.closed = False

    @staticmethod
    def create_id(session: str, application: str, **_: Any) -> UUID:
        return deliberation_id(session, application)

    def _check_act(self, member: str) -> None:
        if self.closed:
            raise RuleViolation("The session is closed.")
        if utc_now() >= self.closes_at:
            raise RuleViolation("The session's deadline has passed.")
        if member not in self.members:
            raise Forbidden(f"{member} is not a member of this session's committee.")

    def _as_signed(self, member: str, signature: str, message: Callable[..., bytes], *texts: Any) -> tuple[Any, ...]:
        """The texts as the member signed them: in their normal form (``signing.normalise_text``:
        what the CLI signs, and what is then stored), or else exactly as sent (a signature made
        over the raw text, as before the normal form); Forbidden when neither verifies."""
        normal = tuple(signing.normalise_texts(t) if isinstance(t, list) else signing.normalise_text(t) for t in texts)
        for form in (normal, texts) if normal != texts else (normal,):
            if isinstance(signature, str) and signing.verify(self.members[member], message(*form), signature):
                return form
        raise Forbidden(f"The signature does not verify with {member}'s registered key.", field="signature")

    @staticmethod
    def _check_text(text: Any, field: str, problem: str) -> None:
        if not isinstance(text, str) or not text.strip() or len(text) > 2000:
            raise InvalidInput(problem, field=field)

    @staticmethod
    def _check_decision(decision: Any, reasons: Any, conditions: Any) -> None:
        problems = rules.check_decision_fields(decision, reasons, conditions)
        if problems:
            raise InvalidInput("The decision is incomplete: " + "; ".join(f"{k}: {v}" for k, v in problems.items()),
                               fields=problems)

    def comment(self, member: str, text: str, signature: str) -> None:
        self._check_act(member)
        problem = "A comment is 1–2000 characters of text."
        self._check_text(signing.normalise_text(text), "text", problem)
        (text,) = self._as_signed(member, signature, lambda t: signing.comment_bytes(
            self.session, self.application, member, t), text)
        self._check_text(text, "text", problem)
        self._commented(self.session, self.application, member, text, signature)

    @event("Commented")
    def _commented(self, session: str, application: str, member: str, text: str, signature: str) -> None:
        self.comments.append({"member": member, "text": text})

    def recuse(self, member: str, reason: str, signature: str) -> None:
        self._check_act(member)
        if member in self.recusals:
            raise RuleViolation(f"{member} has already recused from this application.")
        if member in self.votes:
            raise RuleViolation(f"{member} has already decided on this application in this session.")
        problem = "A recusal states its reason (1–2000 characters)."
        self._check_text(signing.normalise_text(reason), "reason", problem)
        (reason,) = self._as_signed(member, signature, lambda r: signing.recusal_bytes(
            self.session, self.application, member, r), reason)
        self._check_text(reason, "reason", problem)
        self._recused(self.session, self.application, member, reason, signature)

    @event("Recused")
    def _recused(self, session: str, application: str, member: str, reason: str, signature: str) -> None:
        self.recusals[member] = reason

    def decide(self, member: str, decision: str, reasons: str, conditions: list[str], signature: str) -> None:
        self._check_act(member)
        if member in self.recusals:
            raise RuleViolation(f"{member} has recused from this application and cannot decide on it.")
        if member in self.votes:
            raise RuleViolation(f"{member} has already decided on this application in this session.")
        normal_conditions = signing.normalise_texts(conditions) if isinstance(conditions, list) else conditions
        self._check_decision(decision, signing.normalise_text(reasons), normal_conditions)
        reasons, conditions = self._as_signed(member, signature, lambda r, c: signing.decision_bytes(
            self.session, self.application, member, decision, r, c), reasons, list(conditions))
        self._check_decision(decision, reasons, conditions)
        self._decision_cast(self.session, self.application, member, decision, reasons, list(conditions), signature)

    @event("DecisionCast")
    def _decision_cast(self, session: str, application: str, member: str, decision: str, reasons: str,
                       conditions: list[str], signature: str) -> None:
        self.votes[member] = {"decision": decision, "reasons": reasons, "conditions": conditions}

    @event("Closed")
    def close(self) -> None:
        self.closed = True
