"""The voter roll: CSV import (pure parsing, all-or-nothing), one small aggregate per entry
(codes, failures, the credential issued) and one per client that keeps failing.

Each entry is its own aggregate so that authenticating one voter never loads or contends with
the rest of the roll. The roll aggregate lists the entries and their groups (for turnout).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import attrs

from core.domain import CivicAggregate, event, natural_id
from core.errors import InvalidInput

MAX_FAILURES = 5
CLIENT_WINDOW = timedelta(hours=1)
COLUMNS = ("entry_id", "contact", "channel", "group", "name", "language")
LANGUAGES = ("ko", "en")  # the language of the texts an entry receives
REQUIRED = ("entry_id", "contact")
PHONE = re.compile(r"^\+?[0-9]{8,15}$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MAX_FIELD = 120


def roll_id(process_id: str):
    return natural_id("voting.roll", process_id)


def entry_aggregate_id(process_id: str, entry_id: str):
    return natural_id("voting.roll-entry", process_id, entry_id)


def client_aggregate_id(process_id: str, client_key: str):
    return natural_id("voting.client", process_id, client_key)


# -- CSV ---------------------------------------------------------------------------------------
@attrs.frozen
class RollRow:
    line: int
    entry_id: str
    contact: str
    channel: str
    group: str = ""
    name: str = ""
    language: str = "ko"


@attrs.frozen
class RowProblem:
    line: int
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}"


def _contact(raw: str, channel: str) -> tuple[str, str] | str:
    """(normalised contact, channel) or an error message."""
    text = raw.strip()
    if "@" in text:
        if channel not in ("", "email"):
            return f"contact {text!r} is an e-mail address but channel is {channel!r}"
        if not EMAIL.match(text):
            return "contact is not a valid e-mail address"
        return text.lower(), "email"
    if channel not in ("", "sms"):
        return f"channel must be 'sms' or 'email', not {channel!r}" if channel != "email" else \
            "channel is 'email' but contact is not an e-mail address"
    digits = re.sub(r"[\s\-().]", "", text)
    if not PHONE.match(digits):
        return "contact is neither a phone number (8-15 digits) nor an e-mail address"
    return digits, "sms"


def parse_roll_csv(data: str | bytes, *, existing: Sequence[str] = ()) -> list[RollRow]:
    """Every row of a roll CSV, or ``InvalidInput`` listing every bad row by line number.

    Columns (header row required, any order, case-insensitive): ``entry_id`` and ``contact``
    (phone or e-mail), optional ``channel`` (sms/email; inferred from the contact), ``group``
    (building, constituency...), ``name`` and ``language`` of the texts (``ko``, the default, or
    ``en``). One row per roll entry, e.g. per household.
    ``existing``: entry ids already on the roll (a row repeating one is bad).
    """
    text = data.decode("utf-8-sig") if isinstance(data, bytes) else data.lstrip("\ufeff")
    reader = csv.reader(io.StringIO(text))
    problems: list[RowProblem] = []
    try:
        header = next(reader)
    except StopIteration:
        raise InvalidInput("The roll file is empty.", errors=[{"line": 1, "message": "no header row"}]) from None
    except csv.Error as exc:
        raise InvalidInput(f"The roll file is not valid CSV: {exc}.") from None
    names = [h.strip().lower() for h in header]
    unknown = [n for n in names if n not in COLUMNS]
    missing = [c for c in REQUIRED if c not in names]
    duplicated = sorted({n for n in names if names.count(n) > 1})
    if unknown or missing or duplicated:
        parts = ([f"unknown column(s) {', '.join(map(repr, unknown))}"] if unknown else []) + \
            ([f"missing column(s) {', '.join(missing)}"] if missing else []) + \
            ([f"repeated column(s) {', '.join(duplicated)}"] if duplicated else [])
        message = "; ".join(parts) + f" (expected {', '.join(COLUMNS)})"
        raise InvalidInput(f"line 1: {message}", errors=[{"line": 1, "message": message}])
    rows: list[RollRow] = []
    seen: dict[str, int] = {}
    known = set(existing)
    try:
        for fields in reader:
            line = reader.line_num
            if not any(f.strip() for f in fields):
                continue  # blank lines are allowed (spreadsheets leave them)
            if len(fields) != len(names):
                problems.append(RowProblem(line, f"{len(fields)} fields, the header has {len(names)}"))
                continue
            row = {n: f.strip() for n, f in zip(names, fields)}
            entry_id = row["entry_id"]
            bad = None
            if not entry_id:
                bad = "entry_id is empty"
            elif any(len(row.get(c, "")) > MAX_FIELD for c in COLUMNS):
                bad = f"a field is longer than {MAX_FIELD} characters"
            elif entry_id in seen:
                bad = f"entry_id {entry_id!r} repeats line {seen[entry_id]}"
            elif entry_id in known:
                bad = f"entry_id {entry_id!r} is already on the roll"
            language = row.get("language", "").lower() or "ko"
            if bad is None and language not in LANGUAGES:
                bad = f"language must be one of {', '.join(LANGUAGES)}, not {row['language']!r}"
            if bad is None:
                contact = _contact(row["contact"], row.get("channel", "").lower())
                if isinstance(contact, str):
                    bad = contact
            if bad is not None:
                problems.append(RowProblem(line, bad))
                if entry_id and entry_id not in seen:
                    seen[entry_id] = line
                continue
            seen[entry_id] = line
            rows.append(RollRow(line=line, entry_id=entry_id, contact=contact[0], channel=contact[1],
                                group=row.get("group", ""), name=row.get("name", ""), language=language))
    except csv.Error as exc:
        problems.append(RowProblem(reader.line_num, f"not valid CSV: {exc}"))
    if problems:
        listed = "; ".join(str(p) for p in problems[:20]) + ("; ..." if len(problems) > 20 else "")
        raise InvalidInput(f"{len(problems)} bad row(s), nothing imported: {listed}",
                           errors=[attrs.asdict(p) for p in problems])
    if not rows:
        raise InvalidInput("The roll file has no entries.", errors=[{"line": 2, "message": "no rows"}])
    return rows


# -- aggregates --------------------------------------------------------------------------------
class VoterRoll(CivicAggregate):
    """The list of a process's entries and their groups; the entries themselves are aggregates."""

    @staticmethod
    def create_id(process_id: str):
        return roll_id(process_id)

    @event("Created")
    def __init__(self, process_id: str) -> None:
        self.process_id = process_id
        self.entries: dict[str, str] = {}  # entry id -> group

    @event("EntriesAdded")
    def add_entries(self, entries: list[list[str]]) -> None:
        for entry_id, group in entries:
            self.entries[entry_id] = group


class RollEntry(CivicAggregate):
    """One roll entry (a voter, a household): where its code goes, the code's keyed hash, the
    failures against it, and whether a ballot credential was issued to it (once)."""

    @staticmethod
    def create_id(process_id: str, entry_id: str, **_: Any):
        return entry_aggregate_id(process_id, entry_id)

    @event("Registered")
    def __init__(self, process_id: str, entry_id: str, group: str, channel: str, subject: str,
                 contact: dict[str, str], name: dict[str, str] | None, language: str = "ko") -> None:
        # contact and name are personal data: envelopes sealed by core.privacy for ``subject``,
        # so forgetting the subject erases them while the roll and the ledger stay intact
        self.process_id = process_id
        self.entry_id = entry_id
        self.group = group
        self.channel = channel
        self.subject = subject
        self.contact = contact
        self.name = name
        self.language = language
        self.code_hash: str | None = None
        self.code_serial = 0
        self.failures = 0
        self.locked = False
        self.credential_issued = False

    @property
    def code_usable(self) -> bool:
        return self.code_hash is not None and not self.locked and not self.credential_issued

    @event("CodeIssued")
    def issue_code(self, code_hash: str, serial: int) -> None:
        self.code_hash = code_hash
        self.code_serial = serial
        self.failures = 0
        self.locked = False

    @event("CodeFailed")
    def code_failed(self) -> None:
        self.failures += 1

    @event("CodeLocked")
    def lock_code(self) -> None:
        self.locked = True

    @event("CredentialIssued")
    def credential_given(self, method: str = "code", by: str = "") -> None:
        """``method``: "code" (the voter's one-time code) or "in-person" (an official checked the
        voter at a booth and issued it; ``by`` names the official)."""
        self.credential_issued = True
        self.code_hash = None  # a code opens the door once


class VotingClient(CivicAggregate):
    """Failed code attempts from one client (keyed hash of its address) in one process."""

    @staticmethod
    def create_id(process_id: str, client_key: str):
        return client_aggregate_id(process_id, client_key)

    @event("Seen")
    def __init__(self, process_id: str, client_key: str) -> None:
        self.process_id = process_id
        self.client_key = client_key
        self.failed_at: list[Any] = []

    @event("Failed")
    def failed(self, at: datetime) -> None:
        self.failed_at.append(at)

    def recent_failures(self, now: datetime) -> int:
        return sum(1 for t in self.failed_at if now - t < CLIENT_WINDOW)
