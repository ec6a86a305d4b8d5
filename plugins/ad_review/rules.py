"""Pure rules of the advertisement review committee (광고물 SNS온라인 심의위원회).

Validation of applications, routing to the small or the full committee, the quorum rule that
decides an application at a session's close, the canonical bytes a member signs, the weekly
schedule, and the service-level report. No I/O, no clock: the live system, the auditor's replay
and the tests call these same functions with the same inputs.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime, time, timedelta, tzinfo
from fractions import Fraction
from typing import Any

import attrs
import rfc8785

from core import refuse_unknown_settings


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


TARGET_DAYS = 5
BASELINE_DAYS = 28


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


def _number(value: Any) -> float | None:
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
        number = _number(size_in.get(key))
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


# -- routing ----------------------------------------------------------------------------------


@attrs.frozen
class RoutingRule:
    """One routing rule: every condition given must hold; empty conditions match anything.
    Rules are tried in order; the first that matches decides the committee."""

    id: str
    committee: str = attrs.field(validator=attrs.validators.in_(COMMITTEES))
    description: str = ""
    sign_types: tuple[str, ...] = attrs.field(default=(), converter=tuple)
    illumination: tuple[str, ...] = attrs.field(default=(), converter=tuple)
    dongs: tuple[str, ...] = attrs.field(default=(), converter=tuple)
    area_over_m2: float | None = None
    max_area_m2: float | None = None

    def matches(self, application: Mapping[str, Any]) -> bool:
        area = application["size"]["area_m2"]
        return (
            (not self.sign_types or application["sign_type"] in self.sign_types)
            and (not self.illumination or application["illumination"] in self.illumination)
            and (not self.dongs or application["location"]["dong"] in self.dongs)
            and (self.area_over_m2 is None or area > self.area_over_m2)
            and (self.max_area_m2 is None or area <= self.max_area_m2)
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id, "committee": self.committee, "description": self.description,
            "sign_types": list(self.sign_types), "illumination": list(self.illumination),
            "dongs": list(self.dongs), "area_over_m2": self.area_over_m2, "max_area_m2": self.max_area_m2,
        }


# The fallback when no rule matches: the full committee, recorded as such.
FALLBACK_RULE = RoutingRule("fallback", "full", "no rule matched: the full committee reviews it")

DEFAULT_ROUTING = (
    RoutingRule("R1", "full", "옥상간판·디지털광고물은 대심의(전체 위원회)",
                sign_types=("rooftop", "digital_display")),
    RoutingRule("R2", "full", "면적 30㎡ 초과 광고물은 대심의", area_over_m2=30.0),
    RoutingRule("R3", "full", "전광·디지털 조명은 대심의", illumination=("digital",)),
    RoutingRule("R4", "small", "약식심의 대상(벽면·돌출·지주·창문·현수막, 30㎡ 이하)은 소심위원회 주간 온라인 심의",
                sign_types=("wall", "projecting", "pole", "window", "banner"), max_area_m2=30.0),
)


def parse_routing_rules(raw: Any) -> tuple[RoutingRule, ...]:
    """Routing rules from JSON (a list of objects); ``InvalidRules`` names what is wrong."""
    if not isinstance(raw, list) or not raw:
        raise ApplicationInvalid({"rules": "a non-empty list of rules"})
    rules: list[RoutingRule] = []
    problems: dict[str, str] = {}
    ids: set[str] = set()
    for i, item in enumerate(raw):
        if not isinstance(item, Mapping):
            problems[f"rules[{i}]"] = "must be an object"
            continue
        rule_id = item.get("id")
        if not isinstance(rule_id, str) or not rule_id.strip() or rule_id in ids or rule_id == FALLBACK_RULE.id:
            problems[f"rules[{i}].id"] = "a unique, non-empty id (not 'fallback')"
            continue
        ids.add(rule_id)
        unknown = set(item) - {f.name for f in attrs.fields(RoutingRule)}
        if unknown:
            problems[f"rules[{i}]"] = f"unknown keys {sorted(unknown)}"
            continue
        bad = [s for s in item.get("sign_types") or () if s not in SIGN_TYPES]
        bad += [s for s in item.get("illumination") or () if s not in ILLUMINATION]
        if bad:
            problems[f"rules[{i}]"] = f"unknown sign type or illumination {bad}"
            continue
        try:
            for key in ("area_over_m2", "max_area_m2"):
                if item.get(key) is not None and _number(item[key]) is None:
                    raise ValueError(f"{key} must be a number")
            rules.append(RoutingRule(
                id=rule_id.strip(), committee=item.get("committee"), description=str(item.get("description") or ""),
                sign_types=item.get("sign_types") or (), illumination=item.get("illumination") or (),
                dongs=item.get("dongs") or (),
                area_over_m2=None if item.get("area_over_m2") is None else float(item["area_over_m2"]),
                max_area_m2=None if item.get("max_area_m2") is None else float(item["max_area_m2"]),
            ))
        except (ValueError, TypeError) as exc:
            problems[f"rules[{i}]"] = str(exc) if "must" in str(exc) else "committee must be 'small' or 'full'"
    if problems:
        raise ApplicationInvalid(problems)
    return tuple(rules)


def route(application: Mapping[str, Any], rules: Sequence[RoutingRule]) -> RoutingRule:
    """The first rule that matches, or the fallback (full committee)."""
    for rule in rules:
        if rule.matches(application):
            return rule
    return FALLBACK_RULE


# -- quorum and decision ----------------------------------------------------------------------


@attrs.frozen
class QuorumRule:
    """When a session's votes decide an application (*configurable*).

    Quorum: more than ``participation`` of the eligible members took part (``at least`` when
    ``participation_inclusive``). Eligible members are the session's members minus those who
    recused on this application (unless ``recused_count_in_quorum``). Decision: the outcome
    chosen by more than ``decision`` of those who took part. Default: majority and majority.
    """

    participation: Fraction = attrs.field(default=Fraction(1, 2), converter=Fraction)
    participation_inclusive: bool = False
    decision: Fraction = attrs.field(default=Fraction(1, 2), converter=Fraction)
    recused_count_in_quorum: bool = False

    @participation.validator
    @decision.validator
    def _fraction(self, attribute: Any, value: Fraction) -> None:
        if not 0 <= value < 1:
            raise ValueError(f"{attribute.name} must be a fraction in [0, 1)")

    def to_json(self) -> dict[str, Any]:
        return {"participation": str(self.participation), "participation_inclusive": self.participation_inclusive,
                "decision": str(self.decision), "recused_count_in_quorum": self.recused_count_in_quorum}

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> QuorumRule:
        """Strict: fractions as ``"a/b"`` or a short decimal (never an arbitrary string, whose
        exponent could make ``Fraction`` build a huge number), JSON booleans, no unknown keys."""
        refuse_unknown_settings(cls, raw, "quorum rule")
        return cls(participation=_fraction_setting(raw, "participation"),
                   participation_inclusive=_bool_setting(raw, "participation_inclusive"),
                   decision=_fraction_setting(raw, "decision"),
                   recused_count_in_quorum=_bool_setting(raw, "recused_count_in_quorum"))


_FRACTION_TEXT = re.compile(r"^\s*(\d{1,6}\s*/\s*\d{1,6}|\d{0,3}(\.\d{1,6})?)\s*$")


def _fraction_setting(raw: Mapping[str, Any], key: str) -> Fraction:
    value = raw.get(key, "1/2")
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise ValueError(f"{key} must be a fraction such as \"1/2\" or 0.5")
    text = str(value)
    if not _FRACTION_TEXT.match(text) or text.strip() in ("", "."):
        raise ValueError(f"{key} must be a fraction such as \"1/2\" or 0.5, not {text[:20]!r}")
    return Fraction(text.replace(" ", ""))


def _bool_setting(raw: Mapping[str, Any], key: str) -> bool:
    value = raw.get(key, False)
    if not isinstance(value, bool):
        raise ValueError(f"{key} must be true or false")
    return value


DEFAULT_QUORUM = QuorumRule()


def decide(
    members: Iterable[str],
    recused: Iterable[str],
    votes: Mapping[str, str],
    rule: QuorumRule = DEFAULT_QUORUM,
) -> dict[str, Any]:
    """The result of one application at a session's close.

    ``members``: the session's committee; ``recused``: members who recused on it; ``votes``:
    member → decision (only members who neither recused nor voted twice get here). Returns
    ``{"outcome", "eligible", "participants", "tally"}`` where outcome is a decision or
    ``no_quorum`` / ``no_majority``."""
    members = set(members)
    recused = set(recused) & members
    counted_votes = {m: d for m, d in votes.items() if m in members and m not in recused}
    eligible = len(members) if rule.recused_count_in_quorum else len(members - recused)
    participants = len(counted_votes)
    tally = Counter(counted_votes.values())
    result: dict[str, Any] = {
        "eligible": eligible,
        "participants": participants,
        "tally": {d: tally.get(d, 0) for d in DECISIONS},
    }
    need = rule.participation * eligible
    quorate = participants > 0 and (participants >= need if rule.participation_inclusive else participants > need)
    if not quorate:
        result["outcome"] = "no_quorum"
        return result
    winners = [d for d in DECISIONS if tally.get(d, 0) > rule.decision * participants]
    result["outcome"] = winners[0] if winners else "no_majority"
    return result


# -- signatures -------------------------------------------------------------------------------


def signed_bytes(action: str, **fields: Any) -> bytes:
    """The canonical bytes (RFC 8785 JSON) a member signs for ``action`` (decision, recusal,
    comment): the action's context string and its fields, so no signature can be replayed as
    another action, another member, another application or another session."""
    return rfc8785.dumps({"context": f"civic.ad_review.{action}.v1", **fields})


def decision_bytes(session: str, application: str, member: str, decision: str, reasons: str,
                   conditions: Sequence[str] = ()) -> bytes:
    """What a member signs to record a decision on an application in a session."""
    return signed_bytes("decision", session=session, application=application, member=member,
                        decision=decision, reasons=reasons, conditions=list(conditions))


def recusal_bytes(session: str, application: str, member: str, reason: str) -> bytes:
    """What a member signs to recuse from an application."""
    return signed_bytes("recusal", session=session, application=application, member=member, reason=reason)


def comment_bytes(session: str, application: str, member: str, text: str) -> bytes:
    """What a member signs to post a comment in an application's thread."""
    return signed_bytes("comment", session=session, application=application, member=member, text=text)


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


# -- weekly schedule --------------------------------------------------------------------------


@attrs.frozen
class Schedule:
    """The small committee's week (*configurable*), in local time: the session opens on
    ``open_weekday`` at ``open_time``, takes in applications until ``intake_weekday`` at
    ``intake_time``, and closes (deadline) on ``close_weekday`` at ``close_time``.
    Weekdays: Monday = 0. Times are the district's (Asia/Seoul, given to ``times``). Default: open
    Monday 09:00, intake until Wednesday 18:00, close Friday 18:00."""

    open_weekday: int = 0
    open_time: str = "09:00"
    intake_weekday: int = 2
    intake_time: str = "18:00"
    close_weekday: int = 4
    close_time: str = "18:00"

    def __attrs_post_init__(self) -> None:
        marks = [(self.open_weekday, self.open_time), (self.intake_weekday, self.intake_time),
                 (self.close_weekday, self.close_time)]
        for weekday, clock_text in marks:
            if isinstance(weekday, bool) or not isinstance(weekday, int) or not 0 <= weekday <= 6:
                raise ValueError("weekdays are whole numbers 0 (Monday) to 6 (Sunday)")
            if not isinstance(clock_text, str) or not re.fullmatch(r"\d{2}:\d{2}", clock_text):
                raise ValueError("times are given as HH:MM, e.g. 18:00")
            time.fromisoformat(clock_text)
        offsets = [timedelta(days=w) + _as_delta(t) for w, t in marks]
        if not offsets[0] < offsets[1] <= offsets[2]:
            raise ValueError("a session must open, then end its intake, then close, within one week")

    def to_json(self) -> dict[str, Any]:
        return attrs.asdict(self)

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> Schedule:
        refuse_unknown_settings(cls, raw, "schedule")
        return cls(**raw)

    def times(self, week: str, zone: tzinfo) -> tuple[datetime, datetime, datetime]:
        """(opens, intake ends, closes) of the ISO ``week`` ('2016-W10'), aware datetimes."""
        year, number = week.split("-W")
        monday = date.fromisocalendar(int(year), int(number), 1)

        def at(weekday: int, clock_text: str) -> datetime:
            return datetime.combine(monday + timedelta(days=weekday), time.fromisoformat(clock_text), zone)

        return (at(self.open_weekday, self.open_time), at(self.intake_weekday, self.intake_time),
                at(self.close_weekday, self.close_time))


def _as_delta(clock_text: str) -> timedelta:
    t = time.fromisoformat(clock_text)
    return timedelta(hours=t.hour, minutes=t.minute)


def iso_week(moment: datetime, zone: tzinfo) -> str:
    year, week, _ = moment.astimezone(zone).isocalendar()
    return f"{year}-W{week:02d}"


# -- service level ----------------------------------------------------------------------------


def days_between(start: datetime, end: datetime) -> float:
    return (end - start).total_seconds() / 86400


def percentile(values: Sequence[float], share: float) -> float | None:
    """Nearest-rank percentile: the smallest value with at least ``share`` of values at or below."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(share * len(ordered)))
    return ordered[rank - 1]


def median(values: Sequence[float]) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    mid = len(ordered) // 2
    return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2


BANDS = ((0, 2), (2, 5), (5, 10), (10, 28), (28, None))


def band_label(low: float, high: float | None) -> str:
    if high is None:
        return f"> {low} d"
    return f"≤ {high} d" if low == 0 else f"{low}–{high} d"


def sla_report(
    rows: Iterable[Mapping[str, Any]],
    start: date,
    end: date,
    zone: tzinfo,
    *,
    target_days: int = TARGET_DAYS,
    baseline_days: int = BASELINE_DAYS,
) -> dict[str, Any]:
    """The service-level report over decision notices dated ``start``..``end`` (local dates,
    inclusive). Each row: ``{"application", "committee", "submitted_at", "noticed_at"}``
    (aware datetimes; ``noticed_at`` None while undecided)."""
    by_committee: dict[str, list[float]] = {c: [] for c in COMMITTEES}
    weekly: dict[str, dict[str, Any]] = {}
    pending = 0
    for row in rows:
        noticed = row.get("noticed_at")
        if noticed is None:
            if row["submitted_at"].astimezone(zone).date() <= end:
                pending += 1
            continue
        local_day = noticed.astimezone(zone).date()
        if not start <= local_day <= end:
            continue
        days = days_between(row["submitted_at"], noticed)
        by_committee[row["committee"]].append(days)
        if row["committee"] == "small":
            week = iso_week(noticed, zone)
            bucket = weekly.setdefault(week, {"week": week, "count": 0,
                                              "bands": {band_label(*b): 0 for b in BANDS}, "days": []})
            bucket["count"] += 1
            bucket["days"].append(days)
            for low, high in BANDS:  # (low, high]: the target's own day counts as within it
                if (days > low or low == 0) and (high is None or days <= high):
                    bucket["bands"][band_label(low, high)] += 1
                    break

    def stats(values: list[float]) -> dict[str, Any]:
        within = sum(1 for v in values if v <= target_days)
        med = median(values)
        return {
            "decided": len(values),
            "median_days": _round(med),
            "p90_days": _round(percentile(values, 0.9)),
            "mean_days": _round(sum(values) / len(values)) if values else None,
            "max_days": _round(max(values)) if values else None,
            "within_target": within,
            "share_within_target": round(within / len(values), 4) if values else None,
        }

    small = stats(by_committee["small"])
    weeks = []
    for week in sorted(weekly):
        bucket = weekly[week]
        days = bucket.pop("days")
        bucket["median_days"] = _round(median(days))
        bucket["within_target"] = sum(1 for v in days if v <= target_days)
        weeks.append(bucket)
    return {
        "from": start.isoformat(),
        "to": end.isoformat(),
        "target_days": target_days,
        "baseline_days": baseline_days,
        "small_committee": small,
        "full_committee": stats(by_committee["full"]),
        "all": stats(by_committee["small"] + by_committee["full"]),
        "pending": pending,
        "baseline_comparison": {
            "baseline_days": baseline_days,
            "median_days": small["median_days"],
            "days_saved_at_median": _round(baseline_days - small["median_days"]) if small["decided"] else None,
            "median_as_share_of_baseline": (round(small["median_days"] / baseline_days, 4)
                                            if small["decided"] else None),
            "share_within_baseline": (round(sum(1 for v in by_committee["small"] if v <= baseline_days)
                                            / small["decided"], 4) if small["decided"] else None),
        },
        "weekly": weeks,
    }


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def result_texts(votes: Mapping[str, Mapping[str, Any]], outcome: str) -> dict[str, list[str]]:
    """The reasons and conditions the decision notice carries: those of the members whose vote
    is the outcome, in member order; conditions without repeats."""
    reasons: list[str] = []
    conditions: list[str] = []
    for member in sorted(votes):
        vote = votes[member]
        if vote["decision"] != outcome:
            continue
        reasons.append(vote["reasons"])
        for condition in vote.get("conditions") or ():
            if condition not in conditions:
                conditions.append(condition)
    return {"reasons": reasons, "conditions": conditions}


def close_results(
    members: Iterable[str],
    items: Iterable[str],
    recusals: Mapping[str, Iterable[str]],
    votes: Mapping[str, Mapping[str, Mapping[str, Any]]],
    rule: QuorumRule,
) -> dict[str, dict[str, Any]]:
    """Every application's result at a session's close: ``decide`` plus the notice texts.
    ``recusals``: application → members; ``votes``: application → member → vote."""
    members = list(members)
    results: dict[str, dict[str, Any]] = {}
    for item in items:
        item_votes = votes.get(item, {})
        result = decide(members, recusals.get(item, ()), {m: v["decision"] for m, v in item_votes.items()}, rule)
        if result["outcome"] in DECISIONS:
            result.update(result_texts(item_votes, result["outcome"]))
        else:
            result.update({"reasons": [], "conditions": []})
        results[item] = result
    return results


MEMBER_ID_CHARS = set("abcdefghijklmnopqrstuvwxyz0123456789-_")


def member_id_problem(member_id: Any) -> str | None:
    if not isinstance(member_id, str) or not 2 <= len(member_id) <= 40 or set(member_id) - MEMBER_ID_CHARS:
        return "2–40 characters: lowercase letters, digits, '-' or '_'"
    return None
