"""A small plugin used by core's tests: reports that hold a reporter's name and phone number as
personal data, the way a complaints plugin does (sealed in events, envelopes in the read model,
opened only when answering)."""

from __future__ import annotations

from typing import Any
from uuid import UUID, uuid4

from litestar import get, post
from litestar.params import FromPath, JSONBody

from core.domain import CivicAggregate, event
from core.errors import InvalidInput
from core.hookspecs import hookimpl
from core.web_deps import EngineDep
from core.actors import ANYONE, Actor
from core.guards import requires
from core.web_deps import ActorDep
from core.readmodels import ReadModel


class Report(CivicAggregate):
    @event("Filed")
    def __init__(self, id: UUID, what: str, reporter: str, name: dict, phone: dict, by: str) -> None:  # noqa: A002
        self.what = what
        self.reporter = reporter  # the subject id: opaque, not personal data
        self.name = name
        self.phone = phone
        self.by = by


def file_report(engine: Any, actor: Actor, what: str, name: str, phone: str) -> Report:
    if not what.strip() or not phone.strip():
        raise InvalidInput("A report needs a description and a phone number.")
    privacy = engine.privacy
    # one subject per person: the same phone number finds the same reporter again
    known = privacy.subjects("phone", phone)
    subject = known[0] if known else privacy.new_subject()
    report_id = uuid4()
    report = Report(id=report_id, what=what, reporter=subject,
                    name=privacy.seal(subject, "name", name, where=report_id),
                    phone=privacy.seal(subject, "phone", phone, where=report_id), by=actor.id)
    engine.create(report, what="report")
    privacy.remember(subject, "phone", phone)
    return report


class Reports(ReadModel):
    name = "reports.all"
    event_types = (Report.Filed,)

    def apply(self, event: Any, position: int) -> None:
        # envelopes, not plain values: an erased person disappears from here without a rebuild
        self.state[str(event.originator_id)] = {"what": event.what, "reporter": event.reporter,
                                                "name": event.name, "phone": event.phone}


@post("/api/reports", guards=[requires("reports.file")], sync_to_thread=True)
def post_report(data: JSONBody[dict[str, str]], engine: EngineDep, actor: ActorDep) -> dict[str, str]:
    report = file_report(engine, actor, data.get("what", ""), data.get("name", ""), data.get("phone", ""))
    return {"id": str(report.id), "reporter": report.reporter}


@get("/api/reports/{report_id:uuid}", guards=[requires("reports.read")], sync_to_thread=True)
def get_report(report_id: FromPath[UUID], engine: EngineDep) -> dict[str, Any]:
    state = engine.read_models.get("reports.all").state.get(str(report_id)) or {}
    return engine.privacy.reveal(state)


@hookimpl
def civic_register_permissions():
    return {"reports.file": [ANYONE], "reports.read": ["call_centre_agent", "field_officer"]}




@hookimpl
def civic_register_read_models():
    return [Reports]


@hookimpl
def civic_register_routes(engine):
    return [post_report, get_report]
