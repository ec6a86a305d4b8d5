"""Pure rules of the advertisement review committee (광고물 SNS온라인 심의위원회): the closed sets,
the validation of an application and its attachments, and the fields of a decision. No I/O, no
clock: the live system, the auditor's replay and the tests call these same functions with the
same inputs.

The other pure rules live beside these, one concern each: ``routing`` (which committee reviews an
application), ``quorum`` (when a session's votes decide), ``schedule`` (the weekly session's
times) and ``sla`` (the service-level report); ``signing`` holds the canonical bytes a member
signs and checks the signatures.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

# -- closed sets ------------------------------------------------------------------------------

SIGN_TYPES = {
    "wall": "벽면이용간판",
    "projecting": "돌출간판",
    "pole": "지주이용간판",
    "window": "창문이용광고물",
    "banner": "현수막",
    "rooftop": "옥상간판",
    "digital_display": "디지털광고물(전광류)",
}
ILLUMINATION = {
    "none": "비조명",
    "external": "외부조명",
    "internal": "내부조명",
    "digital": "전광·디지털",
}
DECISIONS = {
    "approve": "원안 가결",
    "approve_with_conditions": "조건부 가결",
    "re_review": "재심의",
    "reject": "부결",
}
# Outcomes of an application at a session's close. The last two are not decisions: the
# application rolls over to the next session.
FINAL_OUTCOMES = ("approve", "approve_with_conditions", "reject")
ROLLOVER_OUTCOMES = ("re_review", "no_quorum", "no_majority")
COMMITTEES = ("small", "full")

# Attachments: photos and drawings. Types are recognised from the bytes, not from the name.
ATTACHMENT_TYPES = ("image/jpeg", "image/png", "application/pdf")
MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024
MAX_ATTACHMENTS = 10
MIN_ATTACHMENTS = 1


# -- applications -----------------------------------------------------------------------------


class ApplicationInvalid(ValueError):
    """An application that cannot be accepted; ``fields`` maps each bad field to why."""

    def __init__(self, fields: Mapping[str, str]) -> None:
        self.fields = dict(fields)
        super().__init__("; ".join(f"{k}: {v}" for k, v in self.fields.items()))


def sniff_media_type(head: bytes) -> str | None:
    """The attachment's type from its first bytes (magic numbers), or None if not allowed."""
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head.startswith(b"%PDF-"):
        return "application/pdf"
    return None


def attachment_refusal(data: bytes, declared_type: str | None = None) -> str | None:
    """Why uploaded bytes cannot be kept as an attachment (empty, too large, of a type not allowed,
    or not of the type declared), or None."""
    if not data:
        return "The attachment is empty."
    if len(data) > MAX_ATTACHMENT_BYTES:
        return f"The attachment is {len(data)} bytes; the limit is {MAX_ATTACHMENT_BYTES}."
    media_type = sniff_media_type(data[:16])
    if media_type is None:
        return "Attachments must be JPEG or PNG photos or PDF drawings."
    declared = (declared_type or "").split(";")[0].strip().lower()
    if declared and declared not in ("application/octet-stream", media_type):
        return f"The attachment was declared {declared} but is {media_type}."
    return None


def describe_attachment(sha256: str, data: bytes) -> dict[str, Any]:
    """What an event carries of an attachment: recomputed from its bytes, never the client's claims."""
    return {"sha256": sha256, "media_type": sniff_media_type(data[:16]), "size": len(data)}


def as_number(value: Any) -> float | None:
    """A finite number given as a number or as text, else None (booleans are not numbers)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)) and math.isfinite(value):
        return float(value)
    if isinstance(value, str):
        try:
            number = float(value)
        except ValueError:
            return None
        return number if math.isfinite(number) else None
    return None


def _text(data: Mapping[str, Any], key: str, problems: dict[str, str], label: str, *, limit: int = 200) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value.strip():
        problems[label] = "required"
        return ""
    value = value.strip()
    if len(value) > limit:
        problems[label] = f"at most {limit} characters"
    return value


def validate_application(data: Mapping[str, Any]) -> dict[str, Any]:
    """Check a submitted application and return its normalised form, or raise
    ``ApplicationInvalid`` naming every missing or wrong field (dotted names: ``location.dong``).

    ``attachments`` must already be the stored descriptions ``{sha256, media_type, size}``."""
    problems: dict[str, str] = {}
    if not isinstance(data, Mapping):
        raise ApplicationInvalid({"application": "must be an object"})

    applicant_in = data.get("applicant")
    applicant_in = applicant_in if isinstance(applicant_in, Mapping) else {}
    if not isinstance(data.get("applicant"), Mapping):
        problems["applicant"] = "required (name and phone)"
    name = _text(applicant_in, "name", problems, "applicant.name", limit=100) if applicant_in else ""
    phone = _text(applicant_in, "phone", problems, "applicant.phone", limit=20) if applicant_in else ""
    if phone and not _is_phone(phone):
        problems["applicant.phone"] = "not a phone number (digits, '-' or '+' only, 9–15 digits)"
    business = applicant_in.get("business") if applicant_in else None
    if business is not None and (not isinstance(business, str) or len(business) > 200):
        problems["applicant.business"] = "must be text of at most 200 characters"

    sign_type = data.get("sign_type")
    if sign_type not in SIGN_TYPES:
        problems["sign_type"] = "required, one of " + ", ".join(SIGN_TYPES)

    location_in = data.get("location")
    location_in = location_in if isinstance(location_in, Mapping) else {}
    if not isinstance(data.get("location"), Mapping):
        problems["location"] = "required (address and dong)"
    address = _text(location_in, "address", problems, "location.address") if location_in else ""
    dong = _text(location_in, "dong", problems, "location.dong", limit=40) if location_in else ""

    size_in = data.get("size")
    size_in = size_in if isinstance(size_in, Mapping) else {}
    if not isinstance(data.get("size"), Mapping):
        problems["size"] = "required (width_m and height_m)"
    dims: dict[str, float] = {}
    for key in ("width_m", "height_m") if size_in else ():
        number = as_number(size_in.get(key))
        if number is None:
            problems[f"size.{key}"] = "required, a number of metres"
        elif not 0 < number <= 100:
            problems[f"size.{key}"] = "must be more than 0 and at most 100 metres"
        else:
            dims[key] = round(number, 3)

    illumination = data.get("illumination")
    if illumination not in ILLUMINATION:
        problems["illumination"] = "required, one of " + ", ".join(ILLUMINATION)

    attachments_in = data.get("attachments")
    attachments: list[dict[str, Any]] = []
    if not isinstance(attachments_in, list) or len(attachments_in) < MIN_ATTACHMENTS:
        problems["attachments"] = f"at least {MIN_ATTACHMENTS} photo or drawing required"
    elif len(attachments_in) > MAX_ATTACHMENTS:
        problems["attachments"] = f"at most {MAX_ATTACHMENTS} attachments"
    else:
        seen: set[str] = set()
        for i, item in enumerate(attachments_in):
            problem = attachment_problem(item)
            if problem:
                problems[f"attachments[{i}]"] = problem
            elif item["sha256"] in seen:
                problems[f"attachments[{i}]"] = "the same file twice"
            else:
                seen.add(item["sha256"])
                attachments.append({"sha256": item["sha256"], "media_type": item["media_type"],
                                    "size": int(item["size"])})

    if problems:
        raise ApplicationInvalid(problems)
    area = round(dims["width_m"] * dims["height_m"], 3)
    applicant = {"name": name, "phone": phone}
    if business:
        applicant["business"] = business.strip()
    return {
        "applicant": applicant,
        "sign_type": sign_type,
        "location": {"address": address, "dong": dong},
        "size": {"width_m": dims["width_m"], "height_m": dims["height_m"], "area_m2": area},
        "illumination": illumination,
        "attachments": attachments,
    }


def _is_phone(value: str) -> bool:
    # Looser than core's normalise_phone on purpose: the number is kept as the applicant wrote it
    # (notices go to it as written) and the auditor re-validates recorded applications with this.
    digits = [c for c in value if c.isdigit()]
    return all(c.isdigit() or c in "-+ " for c in value) and 9 <= len(digits) <= 15


def attachment_problem(item: Any) -> str | None:
    """Why a stored attachment description is unacceptable, or None."""
    if not isinstance(item, Mapping):
        return "must be {sha256, media_type, size}"
    digest = item.get("sha256")
    if not isinstance(digest, str) or len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
        return "sha256 must be 64 lowercase hex digits"
    if item.get("media_type") not in ATTACHMENT_TYPES:
        return "type must be one of " + ", ".join(ATTACHMENT_TYPES)
    size = item.get("size")
    if not isinstance(size, int) or isinstance(size, bool) or not 0 < size <= MAX_ATTACHMENT_BYTES:
        return f"size must be 1..{MAX_ATTACHMENT_BYTES} bytes"
    return None


# -- decisions --------------------------------------------------------------------------------------


def check_decision_fields(decision: Any, reasons: Any, conditions: Any) -> dict[str, str]:
    """What is wrong with a decision's fields (empty when nothing)."""
    problems: dict[str, str] = {}
    if decision not in DECISIONS:
        problems["decision"] = "one of " + ", ".join(DECISIONS)
    if not isinstance(reasons, str) or not reasons.strip():
        problems["reasons"] = "every decision needs its reasons"
    elif len(reasons) > 2000:
        problems["reasons"] = "at most 2000 characters"
    if not isinstance(conditions, list) or not all(isinstance(c, str) and c.strip() for c in conditions):
        problems["conditions"] = "a list of non-empty texts"
    elif decision == "approve_with_conditions" and not conditions:
        problems["conditions"] = "approval with conditions needs at least one condition"
    elif decision in DECISIONS and decision != "approve_with_conditions" and conditions:
        problems["conditions"] = "only an approval with conditions carries conditions"
    return problems


# -- members ----------------------------------------------------------------------------------

MEMBER_ID_CHARS = set("abcdefghijklmnopqrstuvwxyz0123456789-_")


def member_id_problem(member_id: Any) -> str | None:
    if not isinstance(member_id, str) or not 2 <= len(member_id) <= 40 or set(member_id) - MEMBER_ID_CHARS:
        return "2–40 characters: lowercase letters, digits, '-' or '_'"
    return None
