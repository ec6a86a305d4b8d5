"""Routing: which committee reviews an application. Pure: the committee's rules in force (an
event) and the application decide; the auditor re-routes every application with this function."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import attrs

from plugins.ad_review.rules import COMMITTEES, ILLUMINATION, SIGN_TYPES, ApplicationInvalid, as_number


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
    """Routing rules from JSON (a list of objects); ``ApplicationInvalid`` names what is wrong."""
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
                if item.get(key) is not None and as_number(item[key]) is None:
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
