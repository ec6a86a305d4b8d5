"""Shared helpers for the apartment_vote tests: a small complex and an election on a timeline."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from plugins.apartment_vote import service

T0 = datetime(2016, 5, 2, 0, 0, tzinfo=timezone.utc)
REGISTRATION = T0 + timedelta(days=5)
OPENS = T0 + timedelta(days=7)
CLOSES = T0 + timedelta(days=9)


def roll_text(buildings: dict[str, int], prefix: str = "") -> str:
    lines = ["household,building,contact"]
    for building, size in buildings.items():
        for unit in range(1, size + 1):
            lines.append(f"{prefix}{building}-{unit:04d},{building},010{int(building) % 1000:04d}{unit:04d}")
    return "\n".join(lines) + "\n"


def households(buildings: dict[str, int], prefix: str = "") -> list[str]:
    return [f"{prefix}{b}-{u:04d}" for b, n in buildings.items() for u in range(1, n + 1)]


def make_complex(engine, buildings: dict[str, int], code: str = "JG-1") -> None:
    service.register_complex(engine, code, "Jung-gu Hill Apartments")
    service.import_roll(engine, code, roll_text(buildings))


def make_election(engine, manual_clock, code: str = "JG-1") -> str:
    manual_clock.set(T0)
    return service.schedule_election(engine, code, "2016 residents' elections", OPENS, CLOSES, REGISTRATION)["id"]
