"""Open311 GeoReport v2 under ``/open311/v2/`` (JSON and XML).

Services are the taxonomy's active item types (``group`` is the field); each has one attribute,
the dong, which decides the routing (when it is not given, it is read from the address or from
the nearest dong centre to lat/long). Status mapping: closed = resolved, rejected or duplicate;
every other status is open. Errors are a list of ``{code, description}`` with the same HTTP
status. Reports sent through Open311 are taken in on the ``open311`` channel; the reporter's
name and phone are sealed like any other report's.
"""

from __future__ import annotations

import functools
import math
import xml.etree.ElementTree as ET
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import anyio
from litestar import Request, Response, get, post
from litestar.params import FromPath

from core import utc_now, seoul_time
from core import CivicError, InvalidInput, NotFound
from core import EngineDep
from core import ActorDep, requires
from plugins.complaints import rules, service
from plugins.complaints.taxonomy_data import DONGS, JURISDICTION_ID

BASE = "/open311/v2"
TAGS = ["open311"]
SPEC = "http://wiki.open311.org/GeoReport_v2"
MAX_RESULTS = 1000
MAX_SPAN = timedelta(days=90)
FORMATS = {"json": "application/json", "xml": "text/xml; charset=utf-8"}
# Approximate centres of the dongs, to place a report given only by coordinates.
DONG_CENTRES: dict[str, tuple[float, float]] = {
    "소공동": (37.5637, 126.9800), "회현동": (37.5580, 126.9785), "명동": (37.5609, 126.9860),
    "필동": (37.5600, 126.9950), "장충동": (37.5580, 127.0050), "광희동": (37.5655, 127.0070),
    "을지로동": (37.5665, 126.9920), "신당동": (37.5650, 127.0170), "다산동": (37.5560, 127.0120),
    "약수동": (37.5525, 127.0095), "청구동": (37.5600, 127.0150), "신당5동": (37.5640, 127.0240),
    "동화동": (37.5610, 127.0190), "황학동": (37.5680, 127.0200), "중림동": (37.5590, 126.9660),
}
NEAR_ENOUGH_M = 2500
# XML: the element name of each item of a list.
XML_ITEMS = {"services": "service", "service_requests": "request", "attributes": "attribute",
             "values": "value", "endpoints": "endpoint", "formats": "format", "errors": "error"}


class Open311Error(Exception):
    def __init__(self, code: int, description: str) -> None:
        super().__init__(description)
        self.code = code
        self.description = description


# -- rendering ---------------------------------------------------------------------------------
def _xml_value(parent: ET.Element, tag: str, value: Any) -> None:
    node = ET.SubElement(parent, tag)
    if isinstance(value, dict):
        for k, v in value.items():
            _xml_value(node, k, v)
    elif isinstance(value, list):
        for v in value:
            _xml_value(node, XML_ITEMS.get(tag, "item"), v)
    elif isinstance(value, bool):
        node.text = "true" if value else "false"
    elif value is not None:
        node.text = str(value)


def to_xml(root: str, value: Any) -> str:
    holder = ET.Element("holder")
    _xml_value(holder, root, value)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(holder[0], encoding="unicode")


def render(fmt: str, root: str, value: Any, status: int = 200) -> Response[Any]:
    if fmt == "xml":
        return Response(to_xml(root, value), media_type=FORMATS["xml"], status_code=status)
    return Response(value, media_type=FORMATS["json"], status_code=status)


def split_format(name: str) -> tuple[str, str]:
    stem, dot, fmt = name.rpartition(".")
    if not dot or fmt not in FORMATS:
        raise Open311Error(404, f"Unknown format in {name!r}; use .json or .xml.")
    return stem, fmt


def open311(handler: Callable[..., Response[Any]]) -> Callable[..., Any]:
    """Run the (blocking) handler in a worker thread and answer every failure in the GeoReport
    error format, in the requested format."""

    async def wrapped(*args: Any, **kwargs: Any) -> Response[Any]:
        request: Request = kwargs["request"]
        fmt = "xml" if request.url.path.endswith(".xml") else "json"

        def run() -> Response[Any]:
            try:
                return handler(*args, **kwargs)
            except Open311Error as exc:
                code, description = exc.code, exc.description
            except NotFound as exc:
                code, description = 404, exc.detail
            except CivicError as exc:
                code = 400 if exc.status in (409, 422) else exc.status
                description = exc.detail
            return render(fmt, "errors", [{"code": code, "description": description}], status=code)

        return await anyio.to_thread.run_sync(run)

    return functools.wraps(handler)(wrapped)


def _check_jurisdiction(jurisdiction_id: str | None) -> None:
    if jurisdiction_id not in (None, "", JURISDICTION_ID):
        raise Open311Error(404, f"jurisdiction_id {jurisdiction_id!r} not found; this endpoint serves "
                                f"{JURISDICTION_ID}.")


def w3c(iso_time: str | None) -> str | None:
    """A stored UTC time as W3C date-time in Seoul time (what people there read)."""
    if iso_time is None:
        return None
    return seoul_time(rules.parse_time(iso_time)).isoformat(timespec="seconds")


def parse_w3c(value: str, what: str) -> datetime:
    try:
        when = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise Open311Error(400, f"{what} must be a W3C date-time such as 2016-03-01T00:00:00+09:00.") from None
    if when.tzinfo is None:
        raise Open311Error(400, f"{what} needs a time zone (e.g. Z or +09:00).")
    return when


# -- resources ---------------------------------------------------------------------------------
def services_list(tax: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    for code, item in tax["items"].items():
        if not item["active"]:
            continue
        field = tax["fields"][item["field"]]
        out.append({
            "service_code": code,
            "service_name": item["name_ko"],
            "description": f"{item['name_en']} ({tax['departments'][item['department']]['name_ko']}, "
                           f"처리기한 {item['sla_hours']}시간)",
            "metadata": True,
            "type": "realtime",
            "keywords": f"{item['name_en']},{field['name_en']}",
            "group": field["name_ko"],
        })
    return out


def service_definition(tax: dict[str, Any], code: str) -> dict[str, Any]:
    item = tax["items"].get(code)
    if item is None or not item["active"]:
        raise Open311Error(404, f"service_code {code!r} not found.")
    return {
        "service_code": code,
        "attributes": [{
            "variable": True,
            "code": "dong",
            "datatype": "singlevaluelist",
            "required": False,
            "datatype_description": "행정동 (administrative dong). When absent, it is read from address_string "
                                    "or from lat/long.",
            "order": 1,
            "description": "동 (dong)",
            "values": [{"key": d, "name": d} for d in tax["dongs"]],
        }],
    }


def nearest_dong(lat: float, long: float) -> str | None:
    def metres(a: tuple[float, float]) -> float:
        dy = (a[0] - lat) * 111_320
        dx = (a[1] - long) * 111_320 * math.cos(math.radians(lat))
        return math.hypot(dx, dy)

    dong, centre = min(DONG_CENTRES.items(), key=lambda kv: metres(kv[1]))
    return dong if metres(centre) <= NEAR_ENOUGH_M else None


def resolve_dong(params: dict[str, str]) -> str:
    dong = (params.get("attribute[dong]") or "").strip()
    if dong:
        if dong not in DONGS:
            raise Open311Error(400, f"attribute[dong] {dong!r} is not a dong of Jung-gu.")
        return dong
    address = params.get("address_string") or ""
    # longest names first: 신당5동 before 신당동
    for name in sorted(DONGS, key=len, reverse=True):
        if name in address or name.removesuffix("동") + "동" in address.replace(" ", ""):
            return name
    if params.get("lat") and params.get("long"):
        try:
            found = nearest_dong(float(params["lat"]), float(params["long"]))
        except ValueError:
            raise Open311Error(400, "lat and long must be numbers.") from None
        if found:
            return found
        raise Open311Error(400, "The location is outside Jung-gu.")
    raise Open311Error(400, "Give a location: lat and long, address_string, or attribute[dong].")


def request_view(entry: dict[str, Any], tax: dict[str, Any], base_url: str) -> dict[str, Any]:
    item = tax["items"].get(entry["item"], {})
    department = tax["departments"].get(entry["department"], {})
    media = entry.get("media_url")
    if not media and entry["photos"]:
        media = f"{base_url}/api/complaints/media/{entry['photos'][0]['sha256']}"
    return {
        "service_request_id": entry["id"],
        "status": rules.open311_status(entry["status"]),
        "status_notes": entry["note"] if entry["status"] != rules.TRANSFERRED or entry["officer"] is None
        else f"담당자 이관 ({entry['officer']})",
        "service_name": item.get("name_ko", entry["item"]),
        "service_code": entry["item"],
        "description": entry["description"],
        "agency_responsible": department.get("name_ko", entry["department"]),
        "service_notice": f"처리기한 {w3c(entry['deadline'])}",
        "requested_datetime": w3c(entry["received_at"]),
        "updated_datetime": w3c(entry["updated_at"]),
        "expected_datetime": w3c(entry["deadline"]),
        "address": entry["address"] or entry["dong"],
        "address_id": None,
        "zipcode": None,
        "lat": entry["lat"],
        "long": entry["long"],
        "media_url": media,
    }


def _base_url(request: Request) -> str:
    return str(request.base_url).rstrip("/")


def _split(value: str | None) -> list[str]:
    return [v.strip() for v in (value or "").split(",") if v.strip()]


def find_requests(index: dict[str, dict[str, Any]], params: dict[str, str], now: datetime) -> list[dict[str, Any]]:
    """GET requests: by ids (which overrides every other filter), else by service codes, status
    and a window of at most 90 days (the last 90 days by default)."""
    ids = _split(params.get("service_request_id"))
    if ids:
        return [index[i] for i in ids if i in index]
    codes = set(_split(params.get("service_code")))
    statuses = set(_split(params.get("status")))
    if statuses - {"open", "closed"}:
        raise Open311Error(400, "status is open, closed, or both (comma separated).")
    start = parse_w3c(params["start_date"], "start_date") if params.get("start_date") else None
    end = parse_w3c(params["end_date"], "end_date") if params.get("end_date") else None
    if start is None and end is None:
        end, start = now, now - MAX_SPAN
    elif start is None:
        start = end - MAX_SPAN
    elif end is None:
        end = start + MAX_SPAN
    if end < start:
        raise Open311Error(400, "end_date is before start_date.")
    if end - start > MAX_SPAN:
        raise Open311Error(400, "start_date and end_date may not span more than 90 days.")
    found = []
    for entry in index.values():
        if codes and entry["item"] not in codes:
            continue
        if statuses and rules.open311_status(entry["status"]) not in statuses:
            continue
        if not start <= rules.parse_time(entry["received_at"]) <= end:
            continue
        found.append(entry)
    found.sort(key=lambda e: e["received_at"], reverse=True)
    return found[:MAX_RESULTS]


# -- handlers ----------------------------------------------------------------------------------
def _both_formats(name: str, decorator: Callable[..., Any], **options: Any) -> Callable[..., list[Any]]:
    """One handler per format (``name.json`` and ``name.xml``) for the same function."""

    def copy(fn: Callable[..., Any]) -> Callable[..., Any]:
        # Litestar prepares the function it decorates: each handler gets its own.
        async def same(*args: Any, **kwargs: Any) -> Any:
            return await fn(*args, **kwargs)

        return functools.wraps(fn)(same)

    def register(fn: Callable[..., Any]) -> list[Any]:
        verb = decorator.__name__.lower()
        return [decorator(f"{BASE}/{name}.{fmt}", operation_id=f"open311_{verb}_{name}_{fmt}", **options)(copy(fn))
                for fmt in FORMATS]

    return register


@_both_formats("discovery", get, tags=TAGS, summary="Open311 discovery")
@open311
def discovery(request: Request) -> Response[Any]:
    fmt = "xml" if request.url.path.endswith(".xml") else "json"
    body = {
        "changeset": "2016-02-01T00:00:00+09:00",
        "contact": "서울특별시 중구 감사담당관 (응답소 현장민원), 120 다산콜센터",
        "key_service": "Reports are taken without a key; staff use the civic API with sign-in.",
        "endpoints": [{
            "specification": SPEC,
            "url": f"{_base_url(request)}{BASE}",
            "changeset": "2016-02-01T00:00:00+09:00",
            "type": "production",
            "formats": ["application/json", "text/xml"],
        }],
    }
    return render(fmt, "discovery", body)


@_both_formats("services", get, tags=TAGS, summary="Open311 service list")
@open311
def services(request: Request, engine: EngineDep) -> Response[Any]:
    fmt = "xml" if request.url.path.endswith(".xml") else "json"
    _check_jurisdiction(request.query_params.get("jurisdiction_id"))
    return render(fmt, "services", services_list(service.taxonomy(engine)))


@get(f"{BASE}/services/{{name:str}}", tags=TAGS, summary="Open311 service definition")
@open311
def definition(request: Request, engine: EngineDep, name: FromPath[str]) -> Response[Any]:
    code, fmt = split_format(name)
    _check_jurisdiction(request.query_params.get("jurisdiction_id"))
    return render(fmt, "service_definition", service_definition(service.taxonomy(engine), code))


@_both_formats("requests", get, tags=TAGS, summary="Open311 service requests (query)")
@open311
def requests_list(request: Request, engine: EngineDep) -> Response[Any]:
    fmt = "xml" if request.url.path.endswith(".xml") else "json"
    params = dict(request.query_params)
    _check_jurisdiction(params.get("jurisdiction_id"))
    tax = service.taxonomy(engine)
    found = find_requests(service.index(engine)["complaints"], params, utc_now())
    base = _base_url(request)
    return render(fmt, "service_requests", [request_view(e, tax, base) for e in found])


@get(f"{BASE}/requests/{{name:str}}", tags=TAGS, summary="Open311 one service request")
@open311
def request_one(request: Request, engine: EngineDep, name: FromPath[str]) -> Response[Any]:
    request_id, fmt = split_format(name)
    _check_jurisdiction(request.query_params.get("jurisdiction_id"))
    entry = service.index(engine)["complaints"].get(request_id)
    if entry is None:
        raise Open311Error(404, f"service_request_id {request_id!r} not found.")
    return render(fmt, "service_requests", [request_view(entry, service.taxonomy(engine), _base_url(request))])


@get(f"{BASE}/tokens/{{name:str}}", tags=TAGS, summary="Open311 request id from a token")
@open311
def token(request: Request, engine: EngineDep, name: FromPath[str]) -> Response[Any]:
    token_value, fmt = split_format(name)
    _check_jurisdiction(request.query_params.get("jurisdiction_id"))
    request_id = service.index(engine)["tokens"].get(token_value)
    if request_id is None:
        raise Open311Error(404, f"token {token_value!r} not found.")
    return render(fmt, "service_requests", [{"service_request_id": request_id, "token": token_value}])


def take_in(engine: Any, params: dict[str, str], by: str = "anonymous") -> dict[str, Any]:
    _check_jurisdiction(params.get("jurisdiction_id"))
    code = (params.get("service_code") or "").strip()
    if not code:
        raise Open311Error(400, "service_code is required.")
    tax = service.taxonomy(engine)
    if code not in tax["items"] or not tax["items"][code]["active"]:
        raise Open311Error(400, f"service_code {code!r} not found.")
    if not (params.get("lat") and params.get("long")) and not params.get("address_string") \
            and not params.get("address_id"):
        raise Open311Error(400, "A location is required: lat and long, address_string or address_id.")
    dong = resolve_dong(params)
    name = " ".join(p for p in (params.get("last_name"), params.get("first_name")) if p) or None
    description = params.get("description") or tax["items"][code]["name_ko"]
    try:
        complaint = service.intake(
            engine, channel="open311", item=code, dong=dong, description=description,
            address=params.get("address_string") or params.get("address_id"),
            lat=params.get("lat") or None, long=params.get("long") or None,
            reporter_name=name, reporter_phone=params.get("phone") or None,
            media_url=params.get("media_url") or None, by=by,
        )
    except InvalidInput as exc:
        raise Open311Error(400, exc.detail) from None
    item = tax["items"][code]
    return {
        "service_request_id": str(complaint.id),
        "token": complaint.token,
        "service_notice": f"{tax['departments'][item['department']]['name_ko']}에 이관되었습니다. "
                          f"처리기한 {w3c(complaint.deadline)}",
        "account_id": None,
    }


@_both_formats("requests", post, guards=[requires("complaints.open311")], tags=TAGS,
               summary="Open311 create a service request", status_code=201)
async def create_request(request: Request, engine: EngineDep, actor: ActorDep) -> Response[Any]:
    fmt = "xml" if request.url.path.endswith(".xml") else "json"
    content_type = request.headers.get("content-type", "")
    try:
        if content_type.startswith("application/json"):
            body = await request.json()
            params = {k: str(v) for k, v in (body or {}).items() if v is not None}
        else:
            form = await request.form()
            params = {k: v for k, v in form.items() if isinstance(v, str)}
    except Exception:  # noqa: BLE001 - any unreadable body is the client's error
        return render(fmt, "errors", [{"code": 400, "description": "The request body could not be read."}], 400)
    params = {**dict(request.query_params), **params}

    def work() -> Response[Any]:
        try:
            return render(fmt, "service_requests", [take_in(engine, params, by=actor.id)], status=201)
        except Open311Error as exc:
            return render(fmt, "errors", [{"code": exc.code, "description": exc.description}], exc.code)
        except CivicError as exc:
            code = 400 if exc.status in (409, 422) else exc.status
            return render(fmt, "errors", [{"code": code, "description": exc.detail}], code)

    return await anyio.to_thread.run_sync(work)


OPEN311_ROUTES = [*discovery, *services, definition, *requests_list, request_one, token, *create_request]
