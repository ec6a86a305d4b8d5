"""Open311 GeoReport v2 under ``/open311/v2/`` (JSON and XML): the face residents' apps use.

Services are the taxonomy's active item types (``group`` is the field); each has one attribute,
the dong, which decides the routing (when it is not given, it is read from the address or from
the nearest dong centre to lat/long). Status mapping: closed = resolved, rejected or duplicate;
every other status is open. Errors are a list of ``{code, description}`` with the same HTTP
status. Reports sent through Open311 are taken in on the ``open311`` channel; the reporter's
name and phone are sealed like any other report's. What the resources say is in ``georeport``.
"""

from __future__ import annotations

import functools
import xml.etree.ElementTree as ET
from collections.abc import Callable
from typing import Any

import anyio
from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath

from core import ActorDep, CivicError, EngineDep, InvalidInput, NotFound, requires, utc_now
from plugins.complaints import service
from plugins.complaints.georeport import (Open311Error, check_jurisdiction, find_requests, request_view,
                                          resolve_dong, service_definition, services_list, w3c)

BASE = "/open311/v2"
SPEC = "http://wiki.open311.org/GeoReport_v2"
FORMATS = {"json": "application/json", "xml": "text/xml"}
# XML: the element name of each item of a list.
XML_ITEMS = {"services": "service", "service_requests": "request", "attributes": "attribute",
             "values": "value", "endpoints": "endpoint", "formats": "format", "errors": "error"}


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


def _base_url(request: Request) -> str:
    return str(request.base_url).rstrip("/")


def split_format(name: str) -> tuple[str, str]:
    stem, dot, fmt = name.rpartition(".")
    if not dot or fmt not in FORMATS:
        raise Open311Error(404, f"Unknown format in {name!r}; use .json or .xml.")
    return stem, fmt


def fmt_of(request: Request) -> str:
    return "xml" if request.url.path.endswith(".xml") else "json"


def error_response(fmt: str, exc: Exception) -> Response[Any]:
    """A refusal as GeoReport errors; the store's conflicts and refusals read as bad requests."""
    if isinstance(exc, Open311Error):
        code, description = exc.code, exc.description
    elif isinstance(exc, NotFound):
        code, description = 404, exc.detail
    else:
        assert isinstance(exc, CivicError)
        code = 400 if exc.status in (409, 422) else exc.status
        description = exc.detail
    return render(fmt, "errors", [{"code": code, "description": description}], status=code)


def open311(handler: Callable[..., Response[Any]]) -> Callable[..., Any]:
    """Run the (blocking) handler in a worker thread and answer every failure in the GeoReport
    error format, in the requested format."""

    async def wrapped(*args: Any, **kwargs: Any) -> Response[Any]:
        fmt = fmt_of(kwargs["request"])

        def run() -> Response[Any]:
            try:
                return handler(*args, **kwargs)
            except (Open311Error, CivicError) as exc:
                return error_response(fmt, exc)

        return await anyio.to_thread.run_sync(run)

    return functools.wraps(handler)(wrapped)


def both_formats(name: str) -> list[str]:
    """The paths of a resource in each format: ``name.json`` and ``name.xml``."""
    return [f"/{name}.{fmt}" for fmt in FORMATS]


def format_operation_id(handler: Any, method: str, path_components: list[Any]) -> str:
    """``open311_get_requests_json``: one operation per format of a resource."""
    name, _, fmt = str(path_components[-1]).rpartition(".")
    return f"open311_{method.lower()}_{name}_{fmt}"


def take_in(engine: Any, params: dict[str, str], by: str = "anonymous") -> dict[str, Any]:
    """Take in a POSTed service request; the answer names its id and token."""
    check_jurisdiction(params.get("jurisdiction_id"))
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


class Open311Controller(Controller):
    path = BASE
    tags = ["open311"]

    @get(both_formats("discovery"), operation_id=format_operation_id, summary="Open311 discovery")
    @open311
    def discovery(self, request: Request) -> Response[Any]:
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
        return render(fmt_of(request), "discovery", body)

    @get(both_formats("services"), operation_id=format_operation_id, summary="Open311 service list")
    @open311
    def services(self, request: Request, engine: EngineDep) -> Response[Any]:
        check_jurisdiction(request.query_params.get("jurisdiction_id"))
        return render(fmt_of(request), "services", services_list(service.taxonomy(engine)))

    @get("/services/{name:str}", summary="Open311 service definition")
    @open311
    def definition(self, request: Request, engine: EngineDep, name: FromPath[str]) -> Response[Any]:
        code, fmt = split_format(name)
        check_jurisdiction(request.query_params.get("jurisdiction_id"))
        return render(fmt, "service_definition", service_definition(service.taxonomy(engine), code))

    @get(both_formats("requests"), operation_id=format_operation_id, summary="Open311 service requests (query)")
    @open311
    def requests_list(self, request: Request, engine: EngineDep) -> Response[Any]:
        params = dict(request.query_params)
        check_jurisdiction(params.get("jurisdiction_id"))
        tax = service.taxonomy(engine)
        found = find_requests(service.index(engine)["complaints"], params, utc_now())
        base = _base_url(request)
        return render(fmt_of(request), "service_requests", [request_view(e, tax, base) for e in found])

    @get("/requests/{name:str}", summary="Open311 one service request")
    @open311
    def request_one(self, request: Request, engine: EngineDep, name: FromPath[str]) -> Response[Any]:
        request_id, fmt = split_format(name)
        check_jurisdiction(request.query_params.get("jurisdiction_id"))
        entry = service.index(engine)["complaints"].get(request_id)
        if entry is None:
            raise Open311Error(404, f"service_request_id {request_id!r} not found.")
        return render(fmt, "service_requests", [request_view(entry, service.taxonomy(engine), _base_url(request))])

    @get("/tokens/{name:str}", summary="Open311 request id from a token")
    @open311
    def token(self, request: Request, engine: EngineDep, name: FromPath[str]) -> Response[Any]:
        token_value, fmt = split_format(name)
        check_jurisdiction(request.query_params.get("jurisdiction_id"))
        request_id = service.index(engine)["tokens"].get(token_value)
        if request_id is None:
            raise Open311Error(404, f"token {token_value!r} not found.")
        return render(fmt, "service_requests", [{"service_request_id": request_id, "token": token_value}])

    @post(both_formats("requests"), operation_id=format_operation_id, guards=[requires("complaints.open311")],
          summary="Open311 create a service request", status_code=201)
    async def create_request(self, request: Request, engine: EngineDep, actor: ActorDep) -> Response[Any]:
        fmt = fmt_of(request)
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
            except (Open311Error, CivicError) as exc:
                return error_response(fmt, exc)

        return await anyio.to_thread.run_sync(work)
