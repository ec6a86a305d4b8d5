"""Base classes for the plugins' aggregates."""

from __future__ import annotations

from datetime import datetime
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event
from eventsourcing.utils import get_topic

from core import clock

__all__ = ["CivicAggregate", "event", "natural_id", "topic_of"]


class CivicAggregate(Aggregate):
    """An aggregate whose events take their time from the core clock."""

    class Event(Aggregate.Event):
        @staticmethod
        def create_timestamp() -> datetime:
            return clock.now()

    class Created(Event, Aggregate.Created):
        pass


def natural_id(kind: str, *parts: object) -> UUID:
    """A stable aggregate id for something with a natural key (a cycle's name, a complex's code):
    the same key always names the same aggregate, so creating it twice is refused by the store."""
    key = "/".join(str(p) for p in parts)
    return uuid5(NAMESPACE_URL, f"civic:{kind}:{key}")


def topic_of(cls: type) -> str:
    """The topic the store records for an event class (``module:Aggregate.Event``): event topics
    come from the classes, never from hand-written strings."""
    return get_topic(cls)
