"""What the re-tallies read of an export file: the same records the verify's own reading finds,
decoded once per line; a line that is no record of the right shape stops it with its number."""

from __future__ import annotations

import json

import pytest

from core.ledger.export import ExportFormatError, read_export, read_records, write_export
from tests.core.ledger.conftest import build_log


@pytest.fixture
def export(sqlite_pet_engine, tmp_path):
    build_log(sqlite_pet_engine)
    out = tmp_path / "log.jsonl"
    write_export(sqlite_pet_engine, out)
    return out


def test_the_records_read_for_the_re_tallies_are_those_the_verify_reads(export):
    verified = [value.record for kind, value in read_export(export) if kind == "record"]
    assert len(verified) == 21
    assert list(read_records(export)) == verified


@pytest.mark.parametrize(("damage", "reason"), [
    (lambda obj: obj["record"].pop("topic"), "a record has exactly the fields"),
    (lambda obj: obj["record"].update(position="7"), "record field 'position' must be a JSON int"),
])
def test_a_record_of_the_wrong_shape_is_refused_with_its_line(export, tmp_path, damage, reason):
    lines = export.read_text(encoding="utf-8").splitlines(keepends=True)
    obj = json.loads(lines[5])
    assert obj["type"] == "record"
    damage(obj)
    lines[5] = json.dumps(obj, ensure_ascii=False) + "\n"
    bad = tmp_path / "bad.jsonl"
    bad.write_text("".join(lines), encoding="utf-8")
    with pytest.raises(ExportFormatError, match=reason) as refused:
        list(read_records(bad))
    assert refused.value.line == 6


def test_a_line_that_is_not_json_is_refused_with_its_line(export, tmp_path):
    lines = export.read_text(encoding="utf-8").splitlines(keepends=True)
    lines[3] = lines[3][:40] + "\n"
    bad = tmp_path / "cut.jsonl"
    bad.write_text("".join(lines), encoding="utf-8")
    with pytest.raises(ExportFormatError, match="not JSON") as refused:
        list(read_records(bad))
    assert refused.value.line == 4
