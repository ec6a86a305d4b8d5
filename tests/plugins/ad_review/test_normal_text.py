"""A member's texts have one normal form, signed and stored: a trailing space, a Windows line end
or decomposed Hangul in what is sent cannot make a signature fail, and a signature made over the
text exactly as sent (before the normal form) is still accepted."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.errors import Forbidden, InvalidInput
from plugins.ad_review import queries, service, signing
from plugins.ad_review.audit import retally
from plugins.ad_review.domain import Deliberation, deliberation_id, session_id
from tests.plugins.ad_review.helpers import application, join, member_key

AWKWARD = '  조명 밝기 "과다" 조정 필요 \r\n\r\n둘째 줄\t \r\nit\'s "fine" \u3000\n\n'
NORMAL = '조명 밝기 "과다" 조정 필요\n\n둘째 줄\nit\'s "fine"'


def test_the_normal_form():
    assert signing.normalise_text(AWKWARD) == NORMAL
    assert signing.normalise_text("적합 ") == "적합"
    assert signing.normalise_text("a\rb\r\nc\n") == "a\nb\nc"
    decomposed = unicodedata.normalize("NFD", "적합")  # as a macOS file may hold it
    assert decomposed != "적합" and signing.normalise_text(decomposed) == "적합"
    assert signing.normalise_text("  keep  inner   spaces  ") == "keep  inner   spaces"
    assert signing.normalise_texts(["23시 이후 소등 ", "\r\n간판 크기 축소"]) == ["23시 이후 소등", "간판 크기 축소"]
    assert signing.normalise_text(None) is None  # validation, not the normal form, refuses what is not text


@given(st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=60))
def test_the_normal_form_is_idempotent_and_keeps_no_trailing_space(text):
    once = signing.normalise_text(text)
    assert signing.normalise_text(once) == once
    assert "\r" not in once and once == once.strip()
    assert all(line == line.rstrip() for line in once.split("\n"))


@pytest.fixture
def thread(sqlite_engine, sunday):
    engine = sqlite_engine
    join(engine, "kim", "lee", "park")
    app = service.submit(engine, "clerk", application(engine)).id
    sunday.advance(hours=21)
    engine.tick()
    return engine, session_id("2016-W10"), app


def sign(member, message):
    return signing.sign(member_key(member), message)


def test_texts_signed_in_normal_form_are_accepted_as_typed_and_stored_normal(thread):
    engine, sid, app = thread
    s, a = str(sid), str(app)
    conditions = ["23시 이후 소등 ", "밝기 50% 이하\r\n"]
    signature = sign("kim", signing.decision_bytes(s, a, "kim", "approve_with_conditions", NORMAL,
                                                   signing.normalise_texts(conditions)))
    service.decide(engine, sid, app, "kim", "approve_with_conditions", AWKWARD, conditions, signature)
    service.comment(engine, sid, app, "lee", "야간 확인 바랍니다 \r\n",
                    sign("lee", signing.comment_bytes(s, a, "lee", "야간 확인 바랍니다")))
    service.recuse(engine, sid, app, "park", "가족 업소\t",
                   sign("park", signing.recusal_bytes(s, a, "park", "가족 업소")))
    d = engine.get(deliberation_id(sid, app), Deliberation)
    assert d.votes["kim"] == {"decision": "approve_with_conditions", "reasons": NORMAL,
                              "conditions": ["23시 이후 소등", "밝기 50% 이하"]}
    assert d.comments == [{"member": "lee", "text": "야간 확인 바랍니다"}] and d.recusals == {"park": "가족 업소"}
    assert queries.thread(engine, sid, app)["comments"][0]["text"] == "야간 확인 바랍니다"
    assert retally(list(engine.records())).ok  # the auditor verifies the stored texts' signatures


def test_a_signature_over_the_text_as_sent_is_still_accepted_and_the_text_kept_as_signed(thread):
    engine, sid, app = thread
    raw = "적합 "  # signed exactly as sent, trailing space included
    service.decide(engine, sid, app, "kim", "approve", raw, [],
                   sign("kim", signing.decision_bytes(str(sid), str(app), "kim", "approve", raw, [])))
    assert engine.get(deliberation_id(sid, app), Deliberation).votes["kim"]["reasons"] == raw
    assert retally(list(engine.records())).ok


def test_other_texts_are_still_refused_and_nothing_changes(thread):
    engine, sid, app = thread
    before = engine.position
    signature = sign("kim", signing.decision_bytes(str(sid), str(app), "kim", "approve", "적합", []))
    with pytest.raises(Forbidden):
        service.decide(engine, sid, app, "kim", "approve", "부적합", [], signature)
    with pytest.raises(Forbidden):  # another member's key
        service.decide(engine, sid, app, "lee", "approve", "적합", [], signature)
    with pytest.raises(InvalidInput):  # spaces alone are no reasons, whatever the signature
        service.decide(engine, sid, app, "kim", "approve", " \r\n ", [], signature)
    with pytest.raises(InvalidInput):
        service.comment(engine, sid, app, "kim", "\u3000\n", signature)
    assert engine.position == before
