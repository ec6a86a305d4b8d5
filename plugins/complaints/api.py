"""HTTP handlers under ``/api/complaints``."""

from __future__ import annotations

import base64
import binascii
from typing import Any, Literal
from uuid import UUID

import attrs
from litestar import Response, get, post
from litestar.params import FromPath, FromQuery, JSONBody

from core import InvalidInput
from core import EngineDep
from core import ActorDep, requires
from plugins.complaints import reports, rules, service
from plugins.complaints.media import MediaStore

TAGS = ["complaints"]
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


def _decode(photo: str) -> bytes:
    try:
        return base64.b64decode(photo, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidInput("A photo is sent as base64.", field="photos") from None


@get("/api/complaints/taxonomy", sync_to_thread=True, tags=TAGS, summary="Fields, item types, deadlines, routes")
def get_taxonomy(engine: EngineDep) -> dict[str, Any]:
    return service.taxonomy(engine)


@post("/api/complaints/taxonomy/changes", guards=[requires("complaints.configure")], sync_to_thread=True,
      tags=TAGS, summary="Change the taxonomy (an event)")
def post_taxonomy_change(data: JSONBody[TaxonomyChangeBody], engine: EngineDep, actor: ActorDep) -> dict[str, Any]:
    return service.change_taxonomy(engine, data.change, by=actor.id, **data.data)


@post("/api/complaints", guards=[requires("complaints.intake")], sync_to_thread=True, tags=TAGS,
      summary="Take in a complaint and route it")
def post_complaint(data: JSONBody[IntakeBody], engine: EngineDep, actor: ActorDep) -> dict[str, Any]:
    complaint = service.intake(
        engine, channel=data.channel, item=data.item, dong=data.dong, description=data.description,
        address=data.address, lat=data.lat, long=data.long, reporter_name=data.reporter_name,
        reporter_phone=data.reporter_phone, media_url=data.media_url,
        photo_bytes=[_decode(p) for p in data.photos], photo_hashes=data.photo_hashes, by=actor.id,
    )
    return service.describe(engine, complaint)


@get("/api/complaints", sync_to_thread=True, tags=TAGS, summary="Complaints, newest first")
def list_complaints(
    engine: EngineDep,
    status: FromQuery[str | None] = None,
    department: FromQuery[str | None] = None,
    dong: FromQuery[str | None] = None,
    overdue: FromQuery[bool | None] = None,
    limit: FromQuery[int] = 100,
) -> list[dict[str, Any]]:
    from core import utc_now

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


@get("/api/complaints/{complaint_id:uuid}", sync_to_thread=True, tags=TAGS, summary="One complaint with its history")
def get_complaint(complaint_id: FromPath[UUID], engine: EngineDep) -> dict[str, Any]:
    return service.describe(engine, service.get_complaint(engine, complaint_id))


@get("/api/complaints/{complaint_id:uuid}/reporter", guards=[requires("complaints.personal_data")],
     sync_to_thread=True, tags=TAGS, summary="The reporter's name and phone (personal data)")
def get_reporter(complaint_id: FromPath[UUID], engine: EngineDep) -> dict[str, Any] | None:
    complaint = service.get_complaint(engine, complaint_id)
    return service.describe(engine, complaint, reveal=True)["reporter"]


@post("/api/complaints/{complaint_id:uuid}/reporter/erase", guards=[requires("complaints.erase")],
      sync_to_thread=True, tags=TAGS, summary="Erase the reporter's name and phone (the complaint stays)")
def erase_reporter(complaint_id: FromPath[UUID], engine: EngineDep, actor: ActorDep) -> dict[str, bool]:
    return {"erased": service.erase_reporter(engine, complaint_id, actor)}


@post("/api/complaints/{complaint_id:uuid}/actions/{action:str}", guards=[requires("complaints.handle")],
      sync_to_thread=True, tags=TAGS, summary="Accept, reassign, start, resolve, reject or mark as duplicate")
def post_action(complaint_id: FromPath[UUID], action: FromPath[Action], data: JSONBody[ActionBody],
                engine: EngineDep, actor: ActorDep) -> dict[str, Any]:
    complaint = service.act(engine, complaint_id, action, officer=data.officer, department=data.department,
                            note=data.note, original=data.original, by=actor.id)
    return service.describe(engine, complaint)


@post("/api/complaints/{complaint_id:uuid}/photos", guards=[requires("complaints.intake")], sync_to_thread=True,
      tags=TAGS, summary="Attach a photo")
def post_photo(complaint_id: FromPath[UUID], data: JSONBody[PhotoBody], engine: EngineDep) -> dict[str, Any]:
    return service.add_photo(engine, complaint_id, _decode(data.content))


@get("/api/complaints/media/{sha256:str}", sync_to_thread=True, tags=TAGS, summary="A photo by its SHA-256")
def get_media(sha256: FromPath[str], engine: EngineDep) -> Response[bytes]:
    content, media_type = MediaStore.for_engine(engine).get(sha256)
    return Response(content, media_type=media_type, headers={"Cache-Control": "public, max-age=31536000, immutable"})


@get("/api/complaints/reports/yearly", sync_to_thread=True, tags=TAGS,
     summary="Complaints per year by field (the document's table)")
def get_yearly(engine: EngineDep, year: FromQuery[list[int] | None] = None,
               format: FromQuery[Literal["json", "csv"]] = "json") -> Response[Any]:  # noqa: A002
    rows = service.yearly_report(engine, year or None)
    if format == "csv":
        return Response(reports.to_csv(rows), media_type="text/csv; charset=utf-8")
    return Response(rows)


@get("/api/complaints/reports/yearly.svg", sync_to_thread=True, tags=TAGS, summary="Chart of the yearly report")
def get_yearly_chart(engine: EngineDep, year: FromQuery[list[int] | None] = None) -> Response[str]:
    rows = service.yearly_report(engine, year or None)
    return Response(reports.yearly_chart_svg(rows), media_type="image/svg+xml")


@get("/api/complaints/reports/monthly", sync_to_thread=True, tags=TAGS,
     summary="Monthly inspection per department: open, overdue, median handling time")
def get_monthly(engine: EngineDep, month: FromQuery[str],
                format: FromQuery[Literal["json", "csv"]] = "json") -> Response[Any]:  # noqa: A002
    year, month_number = service.parse_month(month)
    rows = service.monthly_report(engine, year, month_number)
    if format == "csv":
        return Response(reports.to_csv(rows), media_type="text/csv; charset=utf-8")
    return Response(rows)


@attrs.define
class InspectionBody:
    kind: Literal["monthly", "yearly"]
    period: str  # YYYY-MM or YYYY


@post("/api/complaints/inspections", guards=[requires("complaints.inspect")], sync_to_thread=True, tags=TAGS,
      summary="Publish a finished month's inspection or a year's figures (recorded, re-tallied by the auditor)")
def post_inspection(data: JSONBody[InspectionBody], engine: EngineDep, actor: ActorDep) -> dict[str, Any]:
    inspection = service.publish_inspection(engine, data.kind, data.period, by=actor.id)
    return {"kind": inspection.kind, "period": inspection.period, "as_of": inspection.as_of, "rows": inspection.rows}


@get("/api/complaints/inspections/{kind:str}/{period:str}", sync_to_thread=True, tags=TAGS,
     summary="A published inspection")
def get_inspection(kind: FromPath[Literal["monthly", "yearly"]], period: FromPath[str],
                   engine: EngineDep) -> dict[str, Any]:
    from plugins.complaints.domain import Inspection, inspection_id

    inspection = engine.get(inspection_id(kind, period), Inspection, what=f"{kind} inspection for {period}")
    return {"kind": inspection.kind, "period": inspection.period, "as_of": inspection.as_of,
            "rows": inspection.rows, "by": inspection.by}


ROUTES = [post_inspection, get_inspection, get_taxonomy, post_taxonomy_change, post_complaint, list_complaints, get_complaint, get_reporter,
          erase_reporter, post_action, post_photo, get_media, get_yearly, get_yearly_chart, get_monthly]
