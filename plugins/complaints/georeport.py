"""Open311 GeoReport v2 in words: the service list and definitions made from the taxonomy, the
request view of a complaint, where a report is (its dong), and the query of requests. Pure: the
HTTP face (``open311``) renders what these return as JSON or XML.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from typing import Any

from core import seoul_time
from plugins.complaints import rules
from plugins.complaints.taxonomy_data import DONGS, JURISDICTION_ID

MAX_RESULTS = 1000
MAX_SPAN = timedelta(days=90)
# Approximate centres of the dongs, to place a report given only by coordinates.
DONG_CENTRES: dict[str, tuple[float, float]] = {
    "소공동": (37.5637, 126.9800), "회현동": (37.5580, 126.9785), "명동": (37.5609, 126.9860),
    "필동": (37.5600, 126.9950), "장충동": (37.5580, 127.0050), "광희동": (37.5655, 127.0070),
    "을지로동": (37.5665, 126.9920), "신당동": (37.5650, 127.0170), "다산동": (37.5560, 127.0120),
    "약수동": (37.5525, 127.0095), "청구동": (37.5600, 127.0150), "신당5동": (37.5640, 127.0240),
    "동화동": (37.5610, 127.0190), "황학동": (37.5680, 127.0200), "중림동": (37.5590, 126.9660),
}
NEAR_ENOUGH_M = 2500


class Open311Error(Exception):
    """A refusal in GeoReport's terms: an HTTP status and a description."""

    def __init__(self, code: int, description: str) -> None:
        super().__init__(description)
        self.code = code
        self.description = description


def check_jurisdiction(jurisdiction_id: str | None) -> None:
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
    if address.strip():
        # the location was given, but not which of the dongs (and so which officer) it is in
        raise Open311Error(400, f"The address {address.strip()!r} does not say which dong of Jung-gu it is in; "
                                f"add attribute[dong] (one of: {', '.join(DONGS)}), or lat and long.")
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
