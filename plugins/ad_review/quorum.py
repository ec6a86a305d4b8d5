"""The quorum rule: when a session's votes decide an application, and the result (with the
notice's reasons and conditions) of every application at a session's close. Pure: the session
closes and the auditor recomputes with these same functions."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping
from fractions import Fraction
from typing import Any

import attrs

from core import refuse_unknown_settings
from plugins.ad_review.rules import DECISIONS


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
