"""HTTP API of the committee, under ``/api/ad_review``: applicants (attachments, submit, status),
members (queue, comment, recuse, decide — each signed with the member's key), the secretary
(members, settings, sessions, full-committee decisions) and the public (decisions, report)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal
from uuid import UUID

import attrs
from anyio import to_thread
from litestar import Controller, Request, Response, get, post, put
from litestar.params import FromPath, JSONBody, QueryParameter

from core import SEOUL, ActorDep, EngineDep, InvalidInput, NotFound, requires, utc_now
from plugins.ad_review import queries, rules, service, sla

FromDate = Annotated[date | None, QueryParameter(name="from", description="first day (Seoul), YYYY-MM-DD")]
ToDate = Annotated[date | None, QueryParameter(name="to", description="last day (Seoul), YYYY-MM-DD")]
Decision = Literal["approve", "approve_with_conditions", "re_review", "reject"]


@attrs.define
class DecisionIn:
    """A member's decision, signed with their key over ``signing.decision_bytes(...)``."""

    member: str
    decision: Decision
    reasons: str
    signature: str
    conditions: list[str] = attrs.field(factory=list)


@attrs.define
class RecusalIn:
    member: str
    reason: str
    signature: str


@attrs.define
class CommentIn:
    member: str
    text: str
    signature: str


@attrs.define
class MemberIn:
    member_id: str
    name: str
    public_key: str


@attrs.define
class LeaveIn:
    reason: str


@attrs.define
class OpenSessionIn:
    week: str | None = None


@attrs.define
class FullCommitteeDecisionIn:
    decision: Decision
    reasons: str
    meeting: str
    conditions: list[str] = attrs.field(factory=list)


def _period(start: date | None, end: date | None) -> tuple[date, date]:
    end = end or utc_now().astimezone(SEOUL).date()
    start = start or date(end.year, 1, 1)
    if end < start:
        raise InvalidInput("'to' comes before 'from'.", field="to")
    return start, end


class AdReviewController(Controller):
    """Every route of the committee, under one path and one tag; each handler keeps its guard."""

    path = "/api/ad_review"
    tags = ["ad_review"]

    # -- applicants -------------------------------------------------------------------------------

    @post("/attachments", guards=[requires("ad_review.apply")],
          summary="Upload a photo or drawing (raw body: JPEG, PNG or PDF); returns its sha256",
          request_max_body_size=rules.MAX_ATTACHMENT_BYTES + 1)
    async def upload_attachment(self, request: Request, engine: EngineDep) -> dict[str, Any]:
        data = await request.body()
        content_type = request.headers.get("content-type")
        return await to_thread.run_sync(service.store_attachment, engine, data, content_type)

    @get("/attachments/{sha256:str}", sync_to_thread=True, guards=[requires("ad_review.read")],
         summary="An attachment's bytes")
    def download_attachment(self, sha256: FromPath[str], engine: EngineDep) -> Response[bytes]:
        data, media_type = service.attachment(engine, sha256)
        return Response(data, media_type=media_type)

    @post("/applications", sync_to_thread=True, guards=[requires("ad_review.apply")],
          summary="Submit an application (incomplete or invalid ones are refused with the fields named)")
    def submit_application(self, data: JSONBody[dict[str, Any]], engine: EngineDep, actor: ActorDep) -> dict[str, Any]:
        app = service.submit(engine, actor.id, data)
        return queries.application_view(engine, app.id)

    @get("/applications", sync_to_thread=True, guards=[requires("ad_review.read")],
         summary="Applications, oldest first (no personal data); filter by status")
    def list_applications(self, engine: EngineDep, status: Annotated[
            Literal["queued", "in_session", "referred", "decided"] | None, QueryParameter()] = None,
    ) -> list[dict[str, Any]]:
        return queries.list_applications(engine, status)

    @get("/applications/{application_id:uuid}", sync_to_thread=True, guards=[requires("ad_review.apply")],
         summary="An application's status, route and decision")
    def application_status(self, application_id: FromPath[UUID], engine: EngineDep) -> dict[str, Any]:
        return queries.application_view(engine, application_id)

    # -- the public -------------------------------------------------------------------------------

    @get("/decisions", sync_to_thread=True, guards=[requires("ad_review.read")],
         summary="Decisions with their reasons and conditions (no personal data)")
    def public_decisions(self, engine: EngineDep, start: FromDate = None, end: ToDate = None) -> list[dict[str, Any]]:
        start, end = _period(start, end)
        return queries.public_decisions(engine, start, end)

    @get("/report", sync_to_thread=True, guards=[requires("ad_review.read")],
         summary="Service level: days from submission to decision notice (median, p90, share within 5 days)")
    def sla_report(self, engine: EngineDep, start: FromDate = None, end: ToDate = None) -> dict[str, Any]:
        start, end = _period(start, end)
        return queries.report(engine, start, end)

    @get("/report.svg", sync_to_thread=True, guards=[requires("ad_review.read")],
         summary="The weekly distribution of days to decision notice, as SVG")
    def sla_chart(self, engine: EngineDep, start: FromDate = None, end: ToDate = None) -> Response[str]:
        start, end = _period(start, end)
        return Response(sla.weekly_chart_svg(queries.report(engine, start, end)), media_type="image/svg+xml")

    @get("/committee", sync_to_thread=True, guards=[requires("ad_review.read")], opt={"may_be_missing": True},
         summary="Members with their public keys, routing rules, quorum rule and schedule")
    def show_committee(self, engine: EngineDep) -> dict[str, Any]:
        return service.describe_committee(engine)

    @get("/sessions", sync_to_thread=True, guards=[requires("ad_review.read")], summary="Weekly sessions")
    def list_sessions(self, engine: EngineDep) -> list[dict[str, Any]]:
        return queries.list_sessions(engine)

    @get("/sessions/{session_id:uuid}/applications/{application_id:uuid}/thread", sync_to_thread=True,
         guards=[requires("ad_review.read")], summary="An application's comment thread in a session")
    def comment_thread(self, session_id: FromPath[UUID], application_id: FromPath[UUID],
                       engine: EngineDep) -> dict[str, Any]:
        return queries.thread(engine, session_id, application_id)

    # -- members ----------------------------------------------------------------------------------

    @get("/members/{member:str}/queue", sync_to_thread=True, guards=[requires("ad_review.read")],
         summary="What a member still has to decide in open sessions")
    def member_queue(self, member: FromPath[str], engine: EngineDep) -> list[dict[str, Any]]:
        queue = queries.member_queue(engine, member)
        if not queue and not service.known_member(engine, member):
            # an empty list would read as "nothing to do" for a mistyped id
            raise NotFound(f"No committee member {member!r}.")
        return queue

    @post("/sessions/{session_id:uuid}/applications/{application_id:uuid}/comments", sync_to_thread=True,
          guards=[requires("ad_review.member_act")], summary="A member's signed comment")
    def post_comment(self, session_id: FromPath[UUID], application_id: FromPath[UUID], data: JSONBody[CommentIn],
                     engine: EngineDep) -> dict[str, Any]:
        service.comment(engine, session_id, application_id, data.member, data.text, data.signature)
        return queries.thread(engine, session_id, application_id)

    @post("/sessions/{session_id:uuid}/applications/{application_id:uuid}/recusals", sync_to_thread=True,
          guards=[requires("ad_review.member_act")], summary="A member's signed recusal")
    def post_recusal(self, session_id: FromPath[UUID], application_id: FromPath[UUID], data: JSONBody[RecusalIn],
                     engine: EngineDep) -> dict[str, Any]:
        service.recuse(engine, session_id, application_id, data.member, data.reason, data.signature)
        return queries.thread(engine, session_id, application_id)

    @post("/sessions/{session_id:uuid}/applications/{application_id:uuid}/decisions", sync_to_thread=True,
          guards=[requires("ad_review.member_act")],
          summary="A member's decision, signed over the RFC 8785 bytes of (session, application, member, decision, "
                  "reasons, conditions); verified on receipt")
    def post_decision(self, session_id: FromPath[UUID], application_id: FromPath[UUID], data: JSONBody[DecisionIn],
                      engine: EngineDep) -> dict[str, Any]:
        service.decide(engine, session_id, application_id, data.member, data.decision, data.reasons,
                       list(data.conditions), data.signature)
        return queries.thread(engine, session_id, application_id)

    # -- the secretary ----------------------------------------------------------------------------

    @post("/members", sync_to_thread=True, guards=[requires("ad_review.secretary")],
          summary="Register a member and their Ed25519 public key")
    def add_member(self, data: JSONBody[MemberIn], engine: EngineDep, actor: ActorDep) -> dict[str, Any]:
        service.add_member(engine, actor.id, data.member_id, data.name, data.public_key)
        return service.describe_committee(engine)

    @post("/members/{member:str}/leave", sync_to_thread=True, guards=[requires("ad_review.secretary")],
          summary="A member leaves the committee")
    def remove_member(self, member: FromPath[str], data: JSONBody[LeaveIn], engine: EngineDep,
                      actor: ActorDep) -> dict[str, Any]:
        service.remove_member(engine, actor.id, member, data.reason)
        return service.describe_committee(engine)

    @put("/routing", sync_to_thread=True, guards=[requires("ad_review.secretary")],
         summary="Replace the routing rules (first match wins; no match goes to the full committee)")
    def put_routing(self, data: JSONBody[list[dict[str, Any]]], engine: EngineDep, actor: ActorDep) -> dict[str, Any]:
        service.set_routing(engine, actor.id, data)
        return service.describe_committee(engine)

    @put("/quorum", sync_to_thread=True, guards=[requires("ad_review.secretary")],
         summary="Set the quorum rule (fractions as text, e.g. '1/2')")
    def put_quorum(self, data: JSONBody[dict[str, Any]], engine: EngineDep, actor: ActorDep) -> dict[str, Any]:
        service.set_quorum(engine, actor.id, data)
        return service.describe_committee(engine)

    @put("/schedule", sync_to_thread=True, guards=[requires("ad_review.secretary")],
         summary="Set the weekly schedule (weekday and time of opening, end of intake and close)")
    def put_schedule(self, data: JSONBody[dict[str, Any]], engine: EngineDep, actor: ActorDep) -> dict[str, Any]:
        service.set_schedule(engine, actor.id, data)
        return service.describe_committee(engine)

    @post("/sessions", sync_to_thread=True, guards=[requires("ad_review.secretary")],
          summary="Open a weekly session (default: this week)")
    def open_session(self, data: JSONBody[OpenSessionIn], engine: EngineDep, actor: ActorDep) -> dict[str, Any]:
        session = service.open_session(engine, actor.id, data.week)
        return {"id": str(session.id), **queries.sessions(engine)[str(session.id)]}

    @post("/sessions/{session_id:uuid}/close", sync_to_thread=True, guards=[requires("ad_review.secretary")],
          summary="Close a session now (harmless when already closed)")
    def close_session(self, session_id: FromPath[UUID], engine: EngineDep, actor: ActorDep) -> dict[str, Any]:
        return service.close_session(engine, actor.id, session_id)

    @post("/applications/{application_id:uuid}/full-committee-decision", sync_to_thread=True,
          guards=[requires("ad_review.secretary")],
          summary="Record the full committee's decision on an application referred to it")
    def full_committee_decision(self, application_id: FromPath[UUID], data: JSONBody[FullCommitteeDecisionIn],
                                engine: EngineDep, actor: ActorDep) -> dict[str, Any]:
        service.record_full_committee_decision(engine, actor.id, application_id, data.decision, data.reasons,
                                               list(data.conditions), data.meeting)
        return queries.application_view(engine, application_id)
