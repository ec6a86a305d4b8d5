"""Helpers shared by the voting kit's tests."""

from __future__ import annotations

import itertools
import os

from core.engine import Engine
from core.voting import VotingKit


def make_engine(db: str, tmp_path) -> Engine:
    """An engine whose secrets and outbox live in the test's directory (also for PostgreSQL)."""
    previous = os.environ.get("CIVIC_SECRETS")
    os.environ["CIVIC_SECRETS"] = str(tmp_path / "secrets")
    try:
        return Engine(db, outbox=tmp_path / "outbox.jsonl")
    finally:
        if previous is None:
            del os.environ["CIVIC_SECRETS"]
        else:
            os.environ["CIVIC_SECRETS"] = previous


_contacts = itertools.count(1)


def roll_csv(entries: list[tuple[str, str]]) -> str:
    """A roll with one line per (entry id, group); every contact made here is different."""
    lines = ["entry_id,contact,group,name"]
    for entry_id, group in entries:
        n = next(_contacts)
        lines.append(f"{entry_id},010-7{n % 1000:03d}-{n:04d},{group},Resident {n}")
    return "\n".join(lines) + "\n"


def latest_codes(engine: Engine) -> dict[str, str]:
    """Contact → the last code sent there (read from the outbox, as a phone would)."""
    return {m["to"]: m["text"].rsplit(" ", 1)[-1] for m in engine.outbox.sent()}


def contact_of(kit: VotingKit, process_id: str, entry_id: str) -> str:
    return kit.contact(process_id, entry_id)


def sign_in(kit: VotingKit, process_id: str, entry_id: str, client: str = "203.0.113.9"):
    code = latest_codes(kit.engine)[contact_of(kit, process_id, entry_id)]
    return kit.authenticate(process_id, entry_id, code, client)


def open_voting(kit: VotingKit, voters: list[str], *, process_id: str, allow_revote: bool = True,
                batch_size: int = 0) -> dict[str, str]:
    """A process open for voting with ``voters`` on its roll, each signed in: their credentials."""
    kit.create(process_id, allow_revote=allow_revote, batch_size=batch_size)
    kit.import_roll(process_id, roll_csv([(v, "") for v in voters]))
    kit.open(process_id)
    kit.issue_codes(process_id, "Code {code}")
    return {v: sign_in(kit, process_id, v) for v in voters}
