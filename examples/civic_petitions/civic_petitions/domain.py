"""The petition aggregate: opened with a threshold, supported once per supporter."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from core import CivicAggregate, RuleViolation, event, natural_id
from civic_petitions import rules


class Petition(CivicAggregate):
    @staticmethod
    def create_id(title: str, **_: Any) -> UUID:
        # one petition per title: opening the same one twice is refused by the store
        return natural_id("petition", rules.normalised_title(title).casefold())

    @classmethod
    def open(cls, title: str, threshold: int, by: str) -> Petition:
        return cls(title=rules.check_title(title), threshold=rules.check_threshold(threshold), by=by)

    @event("Opened")
    def __init__(self, title: str, threshold: int, by: str) -> None:
        self.title = title
        self.threshold = threshold
        self.supporters: list[str] = []

    def support(self, supporter: str) -> None:
        supporter = rules.check_supporter(supporter)
        if supporter in self.supporters:
            raise RuleViolation("You already support this petition.")
        self._supported(supporter=supporter, count=len(self.supporters) + 1)

    @event("Supported")
    def _supported(self, supporter: str, count: int) -> None:
        self.supporters.append(supporter)
