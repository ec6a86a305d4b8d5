"""The roll file of a complex (``household,building,contact`` rows, with an optional
``language`` column: ``ko``, the default, or ``en`` for the texts a household receives) and the
roll handed to the voting kit when an election opens."""

from __future__ import annotations

import csv
import io
import re
from typing import Any

import attrs

from core import InvalidInput, normalise_phone

ROLL_COLUMNS = ("household", "building", "contact")
OPTIONAL_COLUMNS = ("language",)
# the columns as a Korean spreadsheet names them
COLUMN_NAMES = {"세대": "household", "동": "building", "연락처": "contact", "언어": "language"}
LANGUAGES = ("ko", "en")  # the language of the texts a household receives; Korean by default
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


def decode_roll(data: bytes) -> str:
    """A roll file's text: UTF-8 (with or without the BOM Excel writes) or CP949 (Excel's
    "CSV" on Korean Windows)."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp949")
    except UnicodeDecodeError:
        raise InvalidInput("The roll file is neither UTF-8 nor CP949 text: save it from the spreadsheet as CSV.",
                           errors=[{"line": 1, "message": "not UTF-8 or CP949 text"}]) from None


@attrs.frozen
class RollCheck:
    """A roll file read row by row: the good rows and every bad row with its line number."""

    households: dict[str, str]
    contacts: dict[str, str]
    languages: dict[str, str]
    problems: list[dict[str, Any]]
    rows: int  # data rows read (blank lines aside)
    lines: dict[str, int]  # household -> its line in the file


def check_roll(data: str | bytes) -> RollCheck:
    """Read ``household,building,contact[,language]`` rows without refusing: what a preview
    shows. A bad header or an empty file still raise ``InvalidInput``."""
    text = decode_roll(data) if isinstance(data, bytes) else data.lstrip("\ufeff")
    reader = csv.reader(io.StringIO(text))
    try:
        header = [h.strip().lower() for h in next(reader)]
    except StopIteration:
        raise InvalidInput("The roll file is empty.") from None
    except csv.Error as exc:
        raise InvalidInput(f"The roll file is not valid CSV: {exc}.") from None
    header = [COLUMN_NAMES.get(h, h) for h in header]
    required = sorted(h for h in header if h not in OPTIONAL_COLUMNS)
    if required != sorted(ROLL_COLUMNS) or len(set(header)) != len(header):
        raise InvalidInput(f"line 1: the columns must be {', '.join(ROLL_COLUMNS)} and optionally "
                           f"{', '.join(OPTIONAL_COLUMNS)} (any order, or in Korean: "
                           f"{', '.join(COLUMN_NAMES)}); found {', '.join(header) or 'none'}.",
                           errors=[{"line": 1, "message": "bad header"}])
    households: dict[str, str] = {}
    contacts: dict[str, str] = {}
    languages: dict[str, str] = {}
    problems: list[dict[str, Any]] = []
    lines: dict[str, int] = {}
    rows = 0
    try:
        for fields in reader:
            line = reader.line_num
            if not any(f.strip() for f in fields):
                continue
            rows += 1
            if len(fields) != len(header):
                problems.append({"line": line, "message": f"{len(fields)} fields, the header has {len(header)}",
                                 "problem": "fields", "found": len(fields), "expected": len(header)})
                continue
            row = {h: f.strip() for h, f in zip(header, fields)}
            household, building = row["household"], row["building"]
            contact = normalise_contact(row["contact"])
            language = row.get("language", "").lower() or "ko"
            if not household or not building:
                problems.append({"line": line, "message": "household and building are required", "problem": "required"})
            elif len(household) > 40 or len(building) > 40:
                problems.append({"line": line, "message": "household or building longer than 40 characters",
                                 "problem": "too_long"})
            elif household in households:
                problems.append({"line": line, "message": f"household {household!r} appears twice", "problem": "twice",
                                 "household": household})
            elif contact is None:
                problems.append({"line": line, "message": "contact is neither a phone number nor an e-mail address",
                                 "problem": "contact"})
            elif language not in LANGUAGES:
                problems.append({"line": line, "message": f"language must be one of {', '.join(LANGUAGES)}",
                                 "problem": "language"})
            else:
                households[household] = building
                contacts[household] = contact
                lines[household] = line
                if language != "ko":
                    languages[household] = language
    except csv.Error as exc:
        problems.append({"line": reader.line_num, "message": f"not valid CSV: {exc}", "problem": "csv"})
    return RollCheck(households, contacts, languages, problems, rows, lines)


def parse_roll(data: str | bytes) -> tuple[dict[str, str], dict[str, str], dict[str, str]]:
    """``household,building,contact[,language]`` rows → (household → building, household →
    contact, household → language for the households whose texts are not in Korean).
    All rows or none: every bad row is listed with its line number. Bytes are UTF-8 or CP949."""
    checked = check_roll(data)
    problems = checked.problems
    if problems:
        listed = "; ".join(f"line {p['line']}: {p['message']}" for p in problems[:20])
        raise InvalidInput(f"{len(problems)} bad row(s), nothing imported: {listed}",
                           errors=[{"line": p["line"], "message": p["message"]} for p in problems])
    if not checked.households:
        raise InvalidInput("The roll file has no household.")
    return checked.households, checked.contacts, checked.languages


def kit_roll_csv(households: dict[str, str], contacts: dict[str, str],
                 languages: dict[str, str] | None = None) -> str:
    """The voting kit's roll file for an election: one entry per household, its building as the
    group and the language of its texts."""
    languages = languages or {}
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["entry_id", "group", "contact", "language"])
    for household in sorted(households):
        writer.writerow([household, households[household], contacts[household], languages.get(household, "ko")])
    return out.getvalue()
