"""The portable export: one self-contained JSON Lines file an auditor verifies offline.

Line 1 is a header (format, origin, public key), then one line per leaf in log order, then the
checkpoint kept outside the store (if any), then an end line with the record count.
``docs/audit.md`` specifies every field.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from core.canonical import CanonicalizationError, canonical_json
from core.ledger.checkpoint import CHECKPOINT_TOPIC, NoteError, VerifierKey, b64
from core.ledger.leaves import Entry, check_public_record, public_record

if TYPE_CHECKING:
    from core.engine import Engine

FORMAT = "civic-ledger-export"
VERSION = 1
LEAF_RULE = "SHA-256(0x00 || RFC 8785 canonical JSON of record)"


class ExportFormatError(ValueError):
    """The file is not a readable export (exit code 2 for ``civic audit verify``)."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(f"line {line}: {message}")
        self.line = line
        self.message = message

    def __reduce__(self) -> tuple[Any, ...]:  # crosses process boundaries intact
        return (type(self), (self.line, self.message))


def _dump(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")) + "\n"


def write_export(
    engine: Engine,
    out: str | os.PathLike[str],
    *,
    sign: bool = True,
    progress: Callable[[int], None] | None = None,
) -> dict[str, Any]:
    """Write the export of ``engine``'s log to ``out``; return a summary.

    With ``sign`` a fresh checkpoint is signed first when new events are not yet covered, so
    the export is covered up to its last event. The file appears only once complete."""
    ledger = engine.ledger
    if sign:
        ledger.tick()
    else:
        ledger.follow()
    key = ledger.existing_verifier_key()
    out = Path(out)
    tmp = out.with_name(out.name + ".part")
    stored = ledger.stored_leaves()
    pending = next(stored, None)
    count = checkpoints = 0
    with tmp.open("w", encoding="utf-8") as f:
        f.write(_dump({
            "type": "header",
            "format": FORMAT,
            "version": VERSION,
            "origin": key.name if key else None,
            "key": key.to_json() if key else None,
            "leaf": LEAF_RULE,
            "checkpoint_topic": CHECKPOINT_TOPIC,
            "exported_at": engine.now().isoformat(),
        }))
        for index, record in enumerate(engine.records()):
            while pending is not None and pending.index < index:
                pending = next(stored, None)
            stated = None
            if pending is not None and pending.index == index and pending.position == record.position:
                stated = b64(pending.leaf_hash)
            f.write(record_line(index, stated, public_record(record)))
            count += 1
            checkpoints += record.topic == CHECKPOINT_TOPIC
            if progress and count % 2000 == 0:
                progress(2000)
        outside = ledger.outside_checkpoint()
        if outside is not None:
            f.write(_dump({"type": "checkpoint", "source": "outside-store", "note": outside}))
        f.write(_dump({"type": "end", "records": count}))
    os.replace(tmp, out)
    return {"path": str(out), "records": count, "checkpoints": checkpoints,
            "origin": key.name if key else None, "outside_checkpoint": outside is not None}


RECORD_KEY = b',"record":'


def record_line(index: int, stated: str | None, record: dict[str, Any]) -> str:
    """A record line, its record last and in its canonical form (the leaf's own bytes), so that
    a verifier can hash the text as it stands instead of encoding the record again."""
    try:
        text = canonical_json(record).decode("utf-8")
    except CanonicalizationError:  # the verifier reports it; the line stays readable
        return _dump({"type": "record", "index": index, "leaf_hash": stated, "record": record})
    head = json.dumps({"type": "record", "index": index, "leaf_hash": stated}, separators=(",", ":"))
    return f"{head[:-1]},\"record\":{text}}}\n"


def _split_record_line(raw: bytes) -> tuple[dict[str, Any], bytes] | None:
    """(the line's other fields, the record's exact text) of a record line written as
    ``record_line`` writes them; None for any other layout (then the line is read whole)."""
    at = raw.find(RECORD_KEY)
    end = raw.rstrip().rfind(b"}")
    if at < 0 or end < at:
        return None
    try:
        head = json.loads(raw[:at] + b"}")
    except ValueError:
        return None
    if not isinstance(head, dict) or head.get("type") != "record" or "record" in head:
        return None
    return head, raw[at + len(RECORD_KEY):end]


def _field(obj: dict[str, Any], name: str, kind: type | tuple[type, ...], line: int) -> Any:
    value = obj.get(name)
    if not isinstance(value, kind) or isinstance(value, bool):
        raise ExportFormatError(line, f"field {name!r} is missing or of the wrong type")
    return value


def _header_key(header: dict[str, Any], line: int) -> VerifierKey | None:
    key = header.get("key")
    if key is None:
        return None
    if not isinstance(key, dict) or not isinstance(key.get("verifier_key"), str):
        raise ExportFormatError(line, "the header's key has no verifier_key")
    try:
        parsed = VerifierKey.parse(key["verifier_key"])
    except NoteError as exc:
        raise ExportFormatError(line, f"the header's key: {exc}") from None
    if key.get("public_key") not in (None, b64(parsed.public_key)) or key.get("name") not in (None, parsed.name):
        raise ExportFormatError(line, "the header's key fields disagree with its verifier_key")
    return parsed


def read_export(
    path: str | os.PathLike[str], *, progress: Callable[[int], None] | None = None
) -> Iterator[tuple[str, Any]]:
    """``("header", {"key": VerifierKey | None, ...})``, then ``("record", Entry)`` per record,
    ``("checkpoint", note)``, ``("end", count)``. Raises ``ExportFormatError`` for a file that
    cannot be read as an export."""
    with open_export(path) as f:
        ended = False
        for number, raw in enumerate(f, 1):
            if progress:
                progress(len(raw))
            if number == 1:
                yield "header", parse_header(raw)
                continue
            line = parse_line(number, raw)
            if line is None:
                continue
            if ended:
                raise ExportFormatError(number, "content after the end line")
            ended = line[0] == "end"
            yield line
        if f.tell() == 0:
            raise ExportFormatError(1, "the file is empty")


def read_records(path: str | os.PathLike[str]) -> Iterator[dict[str, Any]]:
    """The public records of an export file, in order, each line decoded once and nothing else
    made of it: what the re-tallies read, after the verify's own pass has checked the layout,
    the stated hashes and the order (``read_export``). A line that is not a record line of the
    right shape raises ``ExportFormatError`` as there."""
    with open_export(path) as f:
        for number, raw in enumerate(f, 1):
            if number == 1 or not raw.strip():
                continue
            obj = _json_object(number, raw)
            if obj.get("type") != "record":
                continue
            try:
                yield check_public_record(obj.get("record"))
            except ValueError as exc:
                raise ExportFormatError(number, str(exc)) from None


def open_export(path: str | os.PathLike[str]) -> BinaryIO:
    try:
        return Path(path).open("rb")
    except OSError as exc:
        raise ExportFormatError(0, f"cannot open {path}: {exc.strerror}") from None


def _json_object(number: int, raw: bytes) -> dict[str, Any]:
    try:
        obj = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ExportFormatError(number, f"not JSON ({exc})") from None
    if not isinstance(obj, dict):
        raise ExportFormatError(number, "not a JSON object")
    return obj


def parse_header(raw: bytes) -> dict[str, Any]:
    """The first line: the header, with its key parsed (``VerifierKey`` or None)."""
    if not raw.strip():
        raise ExportFormatError(1, "the file is empty" if not raw else f"not a {FORMAT} file")
    obj = _json_object(1, raw)
    if obj.get("type") != "header" or obj.get("format") != FORMAT:
        raise ExportFormatError(1, f"not a {FORMAT} file")
    if obj.get("version") != VERSION:
        raise ExportFormatError(1, f"export version {obj.get('version')} is not supported")
    return {**obj, "key": _header_key(obj, 1)}


def parse_line(number: int, raw: bytes) -> tuple[str, Any] | None:
    """A line after the header: ``("record", Entry)``, ``("checkpoint", note)``, ``("end",
    count)``, or None for a blank line. Pure: the same for every reader of the file."""
    if not raw.strip():
        return None
    split = _split_record_line(raw)
    text = None
    if split is not None:
        obj, text = split
        try:
            obj["record"] = json.loads(text)
        except (ValueError, UnicodeDecodeError) as exc:
            raise ExportFormatError(number, f"not JSON ({exc})") from None
    else:
        obj = _json_object(number, raw)
    kind = obj.get("type")
    if kind == "record":
        index = _field(obj, "index", int, number)
        stated = obj.get("leaf_hash")
        leaf_hash = None
        if stated is not None:
            try:
                leaf_hash = base64.b64decode(_field(obj, "leaf_hash", str, number), validate=True)
            except (binascii.Error, ValueError):
                raise ExportFormatError(number, "leaf_hash is not base64") from None
        try:
            record = check_public_record(obj.get("record"))
        except ValueError as exc:
            raise ExportFormatError(number, str(exc)) from None
        return "record", Entry(record, index, leaf_hash, text)
    if kind == "checkpoint":
        return "checkpoint", _field(obj, "note", str, number)
    if kind == "end":
        return "end", _field(obj, "records", int, number)
    raise ExportFormatError(number, f"unknown line type {kind!r}")
