"""The roll file of a complex (``household,building,contact`` rows) and the roll handed to the
voting kit when an election opens."""

from __future__ import annotations

import csv
import io
import re
from typing import Any

from core import InvalidInput, normalise_phone

ROLL_COLUMNS = ("household", "building", "contact")
EMAIL = re.compile(r"^[^@\s,]+@[^@\s,]+\.[^@\s,]+$")


def normalise_contact(raw: str) -> str | None:
    """An e-mail address in lower case or a Korean phone number in core's one form; None when
    it is neither."""
    text = raw.strip()
    if "@" in text:
        return text.lower() if EMAIL.match(text) else None
    try:
        return normalise_phone(text, field="contact")
    except InvalidInput:
        return None


def parse_roll(data: str | bytes) -> tuple[dict[str, str], dict[str, str]]:
    """``household,building,contact`` rows → (household → building, household → contact).
    All rows or none: every bad row is listed with its line number."""
    text = data.decode("utf-8-sig") if isinstance(data, bytes) else data.lstrip("\ufeff")
    reader = csv.reader(io.StringIO(text))
    try:
        header = [h.strip().lower() for h in next(reader)]
    except StopIteration:
        raise InvalidInput("The roll file is empty.") from None
    except csv.Error as exc:
        raise InvalidInput(f"The roll file is not valid CSV: {exc}.") from None
    if sorted(header) != sorted(ROLL_COLUMNS):
        raise InvalidInput(f"line 1: the columns must be {', '.join(ROLL_COLUMNS)} (any order); found "
                           f"{', '.join(header) or 'none'}.", errors=[{"line": 1, "message": "bad header"}])
    households: dict[str, str] = {}
    contacts: dict[str, str] = {}
    problems: list[dict[str, Any]] = []
    try:
        for fields in reader:
            line = reader.line_num
            if not any(f.strip() for f in fields):
                continue
            if len(fields) != len(header):
                problems.append({"line": line, "message": f"{len(fields)} fields, the header has {len(header)}"})
                continue
            row = {h: f.strip() for h, f in zip(header, fields)}
            household, building = row["household"], row["building"]
            contact = normalise_contact(row["contact"])
            if not household or not building:
                problems.append({"line": line, "message": "household and building are required"})
            elif len(household) > 40 or len(building) > 40:
                problems.append({"line": line, "message": "household or building longer than 40 characters"})
            elif household in households:
                problems.append({"line": line, "message": f"household {household!r} appears twice"})
            elif contact is None:
                problems.append({"line": line, "message": "contact is neither a phone number nor an e-mail address"})
            else:
                households[household] = building
                contacts[household] = contact
    except csv.Error as exc:
        problems.append({"line": reader.line_num, "message": f"not valid CSV: {exc}"})
    if problems:
        listed = "; ".join(f"line {p['line']}: {p['message']}" for p in problems[:20])
        raise InvalidInput(f"{len(problems)} bad row(s), nothing imported: {listed}", errors=problems)
    if not households:
        raise InvalidInput("The roll file has no household.")
    return households, contacts


def kit_roll_csv(households: dict[str, str], contacts: dict[str, str]) -> str:
    """The voting kit's roll file for an election: one entry per household, its building as the
    group."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["entry_id", "group", "contact"])
    for household in sorted(households):
        writer.writerow([household, households[household], contacts[household]])
    return out.getvalue()
