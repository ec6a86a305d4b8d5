"""The text a household receives with its code: in the district's Korean wording, or in English
for households the roll marks ``en``; the election's short link with the code after '#', the
code as the last word. The roll's optional language column, and rolls recorded before it."""

from __future__ import annotations

import json
import re
import sqlite3

import pytest

from core.engine import Engine
from core.errors import InvalidInput, NotFound
from plugins.apartment_vote import service
from tests.plugins.apartment_vote.support import OPENS, make_election

ROLL = ("household,building,contact,language\n101-1203,101,010-1111-0001,ko\n101-1204,101,010-1111-0002,\n"
        "102-0301,102,010-1111-0003,EN\n")


def open_with_codes(engine, manual_clock) -> str:
    service.register_complex(engine, "JG-1", "신당 남산힐 아파트")
    service.import_roll(engine, "JG-1", ROLL)
    eid = make_election(engine, manual_clock)
    service.add_contest(engine, eid, "chair", "입주자대표회의 회장")
    manual_clock.set(OPENS)
    service.open_election(engine, eid)
    service.issue_codes(engine, eid)
    return eid


def texts(engine) -> dict[str, str]:
    return {m["key"].split("/")[2]: m["text"] for m in engine.outbox.sent()}


def test_codes_are_texted_in_the_roll_language_with_the_election_link(sqlite_engine, manual_clock):
    eid = open_with_codes(sqlite_engine, manual_clock)
    sent = texts(sqlite_engine)
    link = f"{sqlite_engine.public_url}/a/{service.short_code(eid)}"
    korean, english = sent["101-1203"], sent["102-0301"]
    assert korean.startswith("[중구 공동주택 온라인투표] 신당 남산힐 아파트 2016 residents' elections: ")
    assert "2016년 5월 11일 오전 9:00까지 투표하실 수 있습니다." in korean  # the close, in Seoul time
    assert english.startswith("[Jung-gu apartment vote] ") and "until 11 May 2016, 09:00 (Seoul time)" in english
    for text in sent.values():
        code = text.rsplit(" ", 1)[-1]
        assert re.fullmatch(r"[A-Z2-9]{6}", code)
        assert f" {link}#{code} " in text  # the link fills the code in, after '#'
    assert sent["101-1204"].startswith("[중구")  # no language: Korean
    assert service.find_by_short_code(sqlite_engine, service.short_code(eid).upper()).id == service.get_election(
        sqlite_engine, eid).id
    with pytest.raises(NotFound):
        service.find_by_short_code(sqlite_engine, "aaaaaaaa")
    # a replaced code goes out in the household's language too
    service.issue_codes(sqlite_engine, eid, ["102-0301"], reissue=True)
    assert sqlite_engine.outbox.sent()[-1]["text"].startswith("[Jung-gu apartment vote]")


def test_a_bad_language_is_listed_with_the_other_bad_rows(sqlite_engine):
    service.register_complex(sqlite_engine, "JG-1", "Hill")
    before = sqlite_engine.position
    with pytest.raises(InvalidInput) as caught:
        service.import_roll(sqlite_engine, "JG-1", "household,building,contact,language\n101-1,101,01011112222,fr\n"
                                                   "101-2,101,01011112223,en\n")
    assert caught.value.extra["errors"] == [{"line": 2, "message": "language must be one of ko, en"}]
    with pytest.raises(InvalidInput, match="columns"):
        service.import_roll(sqlite_engine, "JG-1", "household,building,contact,language,language\n")
    assert sqlite_engine.position == before
    service.import_roll(sqlite_engine, "JG-1", "household,building,contact,language\n101-1,101,01011112222,en\n")
    service.import_roll(sqlite_engine, "JG-1", "household,building,contact\n101-1,101,01011112222\n", replace=True)
    assert service.get_complex(sqlite_engine, "JG-1").languages == {}  # a new roll, Korean again


def test_a_roll_recorded_before_languages_still_loads(tmp_path, manual_clock):
    db = tmp_path / "civic.db"
    engine = Engine(str(db))
    service.register_complex(engine, "JG-1", "Hill")
    service.import_roll(engine, "JG-1", "household,building,contact\n101-1,101,01011112222\n")
    engine.close()
    with sqlite3.connect(db) as con:  # the event as it was recorded before it had languages
        rowid, state = con.execute("select rowid, state from stored_events where topic like '%RollImported'").fetchone()
        payload = json.loads(state)
        del payload["languages"]
        con.execute("update stored_events set state = ? where rowid = ?", (json.dumps(payload).encode(), rowid))
    engine = Engine(str(db))
    try:
        complex_ = service.get_complex(engine, "JG-1")
        assert complex_.households == {"101-1": "101"} and complex_.languages == {}
    finally:
        engine.close()
