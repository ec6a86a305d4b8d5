"""The staff and public HTTP face under ``/api/complaints`` (one controller; each handler names
the permission it needs)."""

from __future__ import annotations

import base64
import binascii
from typing import Any, Literal
from uuid import UUID

import attrs
from litestar import Controller, Response, get, post
from litestar.params import FromPath, FromQuery, JSONBody

from core import ActorDep, EngineDep, InvalidInput, csv_response, requires, utc_now
from plugins.complaints import reports, rules, service
from plugins.complaints.domain import Inspection, inspection_id
from plugins.complaints.media import read_photo

Action = Literal["accept", "reassign", "start", "resolve", "reject", "duplicate"]
TaxonomyChange = Literal["FieldDefined", "DepartmentDefined", "ItemDefined", "ItemChanged", "ItemRetired",
                         "ItemRestored", "RouteSet", "RouteCleared"]
LIST_LIMIT = 500


@attrs.define
class IntakeBody:
    channel: Literal["call_centre", "sns", "portal", "officer", "open311"]
    item: str
    dong: str
    description: str
    address: str | None = None
    lat: float | None = None
    long: float | None = None
    reporter_name: str | None = None
    reporter_phone: str | None = None
    photos: list[str] = attrs.field(factory=list)  # base64 image bytes
    photo_hashes: list[str] = attrs.field(factory=list)  # photos uploaded before
    media_url: str | None = None


@attrs.define
class ActionBody:
    note: str | None = None
    officer: str | None = None
    department: str | None = None
    original: str | None = None


@attrs.define
class TaxonomyChangeBody:
    change: TaxonomyChange
    data: dict[str, Any]


@attrs.define
class PhotoBody:
    content: str  # base64 image bytes


@attrs.define
class InspectionBody:
    kind: Literal["monthly", "yearly"]
    period: str  # YYYY-MM or YYYY


def _decode(photo: str) -> bytes:
    try:
        return base64.b64decode(photo, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidInput("A photo is sent as base64.", field="photos") from None


def _inspection(inspection: Inspection) -> dict[str, Any]:
    return {"kind": inspection.kind, "period": inspection.period, "as_of": inspection.as_of, "rows": inspection.rows}


def _report(rows: list[dict[str, Any]], format: str) -> Response[Any]:  # noqa: A002 - the query's name
    if format == "csv":
        return csv_response(reports.to_csv(rows))
    return Response(rows)


class ComplaintsController(Controller):
    path = "/api/complaints"
    tags = ["complaints"]

    @post("/inspections", guards=[requires("complaints.inspect")], sync_to_thread=True,
          summary="Publish a finished month's inspection or a year's figures (recorded, re-tallied by the auditor)")
    def post_inspection(self, data: JSONBody[InspectionBody], engine: EngineDep, actor: ActorDep) -> dict[str, Any]:
        return _inspection(service.publish_inspection(engine, data.kind, data.period, by=actor.id))

    @get("/inspections/{kind:str}/{period:str}", sync_to_thread=True, summary="A published inspection")
    def get_inspection(self, kind: FromPath[Literal["monthly", "yearly"]], period: FromPath[str],
                       engine: EngineDep) -> dict[str, Any]:
        inspection = engine.get(inspection_id(kind, period), Inspection, what=f"{kind} inspection for {period}")
        return _inspection(inspection) | {"by": inspection.by}

    @get("/taxonomy", sync_to_thread=True, summary="Fields, item types, deadlines, routes")
    def get_taxonomy(self, engine: EngineDep) -> dict[str, Any]:
        return service.taxonomy(engine)

    @post("/taxonomy/changes", guards=[requires("complaints.configure")], sync_to_thread=True,
          summary="Change the taxonomy (an event)")
    def post_taxonomy_change(self, data: JSONBody[TaxonomyChangeBody], engine: EngineDep,
                             actor: ActorDep) -> dict[str, Any]:
        return service.change_taxonomy(engine, data.change, by=actor.id, **data.data)

    # The operation id the published OpenAPI document gives (Litestar once derived it from its
    # thread wrapper's name); kept so that generated clients keep working.
    @post(guards=[requires("complaints.intake")], sync_to_thread=True, summary="Take in a complaint and route it",
          operation_id="ApiComplaintsAsynccallable")
    def post_complaint(self, data: JSONBody[IntakeBody], engine: EngineDep, actor: ActorDep) -> dict[str, Any]:
        complaint = service.intake(
            engine, channel=data.channel, item=data.item, dong=data.dong, description=data.description,
            address=data.address, lat=data.lat, long=data.long, reporter_name=data.reporter_name,
            reporter_phone=data.reporter_phone, media_url=data.media_url,
            photo_bytes=[_decode(p) for p in data.photos], photo_hashes=data.photo_hashes, by=actor.id,
        )
        return service.describe(engine, complaint)

    @get(sync_to_thread=True, summary="Complaints, newest first")
    def list_complaints(
        self,
        engine: EngineDep,
        status: FromQuery[str | None] = None,
        department: FromQuery[str | None] = None,
        dong: FromQuery[str | None] = None,
        overdue: FromQuery[bool | None] = None,
        limit: FromQuery[int] = 100,
    ) -> list[dict[str, Any]]:
        if not 1 <= limit <= LIST_LIMIT:
            raise InvalidInput(f"limit is 1-{LIST_LIMIT}.", field="limit")
        now = utc_now()
        found = []
        for e in service.index(engine)["complaints"].values():
            if status and e["status"] != status or department and e["department"] != department:
                continue
            if dong and e["dong"] != dong:
                continue
            late = rules.is_overdue(e, now)
            if overdue is not None and late != overdue:
                continue
            found.append({k: v for k, v in e.items() if k != "reporter"} | {"overdue": late})
        found.sort(key=lambda e: e["received_at"], reverse=True)
        return found[:limit]

    @get("/{complaint_id:uuid}", sync_to_thread=True, summary="One complaint with its history")
    def get_complaint(self, complaint_id: FromPath[UUID], engine: EngineDep) -> dict[str, Any]:
        return service.describe(engine, service.get_complaint(engine, complaint_id))

    @get("/{complaint_id:uuid}/reporter", guards=[requires("complaints.personal_data")], sync_to_thread=True,
         summary="The reporter's name and phone (personal data)")
    def get_reporter(self, complaint_id: FromPath[UUID], engine: EngineDep) -> dict[str, Any] | None:
        complaint = service.get_complaint(engine, complaint_id)
        return service.describe(engine, complaint, reveal=True)["reporter"]

    @post("/{complaint_id:uuid}/reporter/erase", guards=[requires("complaints.erase")], sync_to_thread=True,
          summary="Erase the reporter's name and phone (the complaint stays)")
    def erase_reporter(self, complaint_id: FromPath[UUID], engine: EngineDep, actor: ActorDep) -> dict[str, bool]:
        return {"erased": service.erase_reporter(engine, complaint_id, actor)}

    @post("/{complaint_id:uuid}/actions/{action:str}", guards=[requires("complaints.handle")], sync_to_thread=True,
          summary="Accept, reassign, start, resolve, reject or mark as duplicate")
    def post_action(self, complaint_id: FromPath[UUID], action: FromPath[Action], data: JSONBody[ActionBody],
                    engine: EngineDep, actor: ActorDep) -> dict[str, Any]:
        complaint = service.act(engine, complaint_id, action, officer=data.officer, department=data.department,
                                note=data.note, original=data.original, by=actor.id)
        return service.describe(engine, complaint)

    @post("/{complaint_id:uuid}/photos", guards=[requires("complaints.intake")], sync_to_thread=True,
          summary="Attach a photo")
    def post_photo(self, complaint_id: FromPath[UUID], data: JSONBody[PhotoBody], engine: EngineDep) -> dict[str, Any]:
        return service.add_photo(engine, complaint_id, _decode(data.content))

    @get("/media/{sha256:str}", sync_to_thread=True, summary="A photo by its SHA-256")
    def get_media(self, sha256: FromPath[str], engine: EngineDep) -> Response[bytes]:
        content, media_type = read_photo(engine, sha256)
        return Response(content, media_type=media_type,
                        headers={"Cache-Control": "public, max-age=31536000, immutable"})

    @get("/reports/yearly", sync_to_thread=True, summary="Complaints per year by field (the document's table)")
    def get_yearly(self, engine: EngineDep, year: FromQuery[list[int] | None] = None,
                   format: FromQuery[Literal["json", "csv"]] = "json") -> Response[Any]:  # noqa: A002
        return _report(service.yearly_report(engine, year or None), format)

    @get("/reports/yearly.svg", sync_to_thread=True, summary="Chart of the yearly report")
    def get_yearly_chart(self, engine: EngineDep, year: FromQuery[list[int] | None] = None) -> Response[str]:
        rows = service.yearly_report(engine, year or None)
        return Response(reports.yearly_chart_svg(rows), media_type="image/svg+xml")

    @get("/reports/monthly", sync_to_thread=True,
         summary="Monthly inspection per department: open, overdue, median handling time")
    def get_monthly(self, engine: EngineDep, month: FromQuery[str],
                    format: FromQuery[Literal["json", "csv"]] = "json") -> Response[Any]:  # noqa: A002
        year, month_number = service.parse_month(month)
        return _report(service.monthly_report(engine, year, month_number), format)
