"""Applications, routing, sessions, signed decisions, refusals, notices and the audit, through
the service layer on a real store (SQLite and PostgreSQL for the main flow)."""

from __future__ import annotations

import json
from datetime import timedelta
from uuid import UUID

import attrs
import pytest

from core.errors import Forbidden, InvalidInput, NotFound, RuleViolation
from plugins.ad_review import queries, rules, service, signing
from plugins.ad_review.audit import retally
from plugins.ad_review.domain import Application, Session, session_id
from tests.plugins.ad_review.helpers import JPEG, PDF, PNG, application, decide, join, member_key, recuse

MEMBERS = ("kim", "lee", "park", "choi", "jung")


def open_week(engine, clock):
    """Advance to Monday 09:00 of 2016-W10 and let the scheduler open the session."""
    clock.advance(hours=21)
    lines = engine.tick()
    assert any("2016-W10 opened" in line for line in lines)
    return session_id("2016-W10")


def test_weekly_session_decides_by_quorum_notifies_and_audits(engine, sunday):
    join(engine, *MEMBERS)
    approved = service.submit(engine, "clerk", application(engine)).id
    deferred = service.submit(engine, "clerk", application(engine, salt=b"2")).id
    rooftop = service.submit(engine, "clerk", application(engine, salt=b"3", sign_type="rooftop")).id
    assert engine.get(rooftop, Application).status == "referred"
    assert engine.get(rooftop, Application).route["rule_id"] == "R1"
    sid = open_week(engine, sunday)
    assert engine.get(sid, Session).items == [str(approved), str(deferred)]  # the rooftop sign is not here

    for m in ("kim", "lee", "park"):
        decide(engine, m, sid, approved, "approve_with_conditions", conditions=("야간 소등",))
    decide(engine, "choi", sid, approved, "reject", reasons="경관 저해")
    recuse(engine, "jung", sid, approved)
    decide(engine, "kim", sid, deferred, "approve")  # one of five: no quorum
    late = service.submit(engine, "clerk", application(engine, salt=b"4")).id  # Monday: joins this week
    assert engine.get(late, Application).session == str(sid)

    sunday.advance(days=4, hours=9)  # Friday 18:00
    lines = engine.tick()
    assert any("2016-W10 closed" in line for line in lines)
    results = engine.get(sid, Session).results
    assert results[str(approved)]["outcome"] == "approve_with_conditions"
    assert results[str(approved)]["eligible"] == 4 and results[str(approved)]["participants"] == 4
    assert results[str(approved)]["conditions"] == ["야간 소등"]
    assert results[str(deferred)]["outcome"] == "no_quorum"
    assert engine.get(approved, Application).status == "decided"
    assert engine.get(approved, Application).notice_sent
    assert engine.get(deferred, Application).status == "queued"

    sent = engine.outbox.sent()
    assert [m["to"] for m in sent] == ["010-1234-5678"]
    assert "조건부 가결" in sent[0]["text"] and "야간 소등" in sent[0]["text"]
    assert engine.tick() == []  # closing twice is harmless; nothing is sent twice
    assert len(engine.outbox.sent()) == 1

    sunday.advance(days=3, hours=-9)  # next Monday 09:00: rolled-over items join 2016-W11
    engine.tick()
    assert engine.get(session_id("2016-W11"), Session).items == [str(deferred), str(late)]

    report = retally(list(engine.records()))
    assert report.ok and report.checked >= 10


def test_incomplete_application_is_refused_with_fields_named_and_nothing_changes(sqlite_engine, sunday):
    engine = sqlite_engine
    before = engine.position
    with pytest.raises(InvalidInput) as caught:
        service.submit(engine, "clerk", {"sign_type": "wall", "location": {"address": "을지로 1"}})
    assert {"applicant", "location.dong", "size", "illumination", "attachments"} <= set(caught.value.extra["fields"])
    with pytest.raises(InvalidInput) as caught:
        service.submit(engine, "clerk", application(engine) | {"attachments": [{"sha256": "00" * 32}]})
    assert "upload it first" in caught.value.extra["fields"]["attachments[0]"]
    assert engine.position == before


def test_attachments_are_content_addressed_checked_and_kept_out_of_events(sqlite_engine, sunday, attachments_dir):
    engine = sqlite_engine
    first = service.store_attachment(engine, JPEG, "image/jpeg")
    assert service.store_attachment(engine, JPEG) == first  # same bytes, same file
    assert (attachments_dir / first["sha256"][:2] / first["sha256"]).read_bytes() == JPEG
    assert service.store_attachment(engine, PDF)["media_type"] == "application/pdf"
    with pytest.raises(InvalidInput, match="JPEG or PNG"):
        service.store_attachment(engine, b"<svg onload=alert(1)>")
    with pytest.raises(InvalidInput, match="declared image/png"):
        service.store_attachment(engine, JPEG, "image/png")
    with pytest.raises(InvalidInput, match="limit"):
        service.store_attachment(engine, PNG + b"\0" * rules.MAX_ATTACHMENT_BYTES)
    app = service.submit(engine, "clerk", application(engine) | {"attachments": [
        {"sha256": first["sha256"], "media_type": "application/pdf", "size": 1}]})  # claims are not trusted
    assert engine.get(app.id, Application).application["attachments"] == [first]
    payload = json.dumps([r.payload for r in engine.records()])
    assert "image/jpeg" in payload and "JFIF" not in payload and len(payload) < 20_000


def test_routing_rules_are_configurable_and_the_matched_rule_is_recorded(sqlite_engine, sunday):
    engine = sqlite_engine
    service.ensure_committee(engine, "secretary")
    before = engine.position
    with pytest.raises(InvalidInput):
        service.set_routing(engine, "secretary", [{"id": "X", "committee": "nowhere"}])
    assert engine.position == before
    service.set_routing(engine, "secretary", [
        {"id": "MYEONGDONG", "committee": "full", "dongs": ["명동"], "description": "명동 특정구역"},
        {"id": "REST", "committee": "small"}])
    in_myeongdong = service.submit(engine, "c", application(engine, location={"address": "명동길 2", "dong": "명동"}))
    elsewhere = service.submit(engine, "c", application(engine, salt=b"x", sign_type="rooftop"))
    assert in_myeongdong.route == {"committee": "full", "rule_id": "MYEONGDONG", "rule": "명동 특정구역"}
    assert elsewhere.route["rule_id"] == "REST" and elsewhere.status == "queued"
    assert retally(list(engine.records())).ok


@pytest.fixture
def in_session(sqlite_engine, sunday):
    engine = sqlite_engine
    join(engine, *MEMBERS)
    app = service.submit(engine, "clerk", application(engine)).id
    other = service.submit(engine, "clerk", application(engine, salt=b"o")).id
    sid = open_week(engine, sunday)
    return engine, sid, app, other


def refused(engine, call, error):
    before = engine.position
    with pytest.raises(error):
        call()
    assert engine.position == before


def test_refusals_change_nothing(in_session):
    engine, sid, app, other = in_session
    decide(engine, "kim", sid, app, "approve")
    recuse(engine, "lee", sid, app)
    outsider = signing.from_seed(b"\1" * 32)
    message = signing.decision_bytes(str(sid), str(app), "stranger", "approve", "좋음", [])
    refused(engine, lambda: service.decide(engine, sid, app, "stranger", "approve", "좋음", [],
                                           signing.sign(outsider, message)), Forbidden)
    refused(engine, lambda: decide(engine, "kim", sid, app, "reject"), RuleViolation)  # second decision
    refused(engine, lambda: decide(engine, "lee", sid, app, "approve"), RuleViolation)  # recused
    refused(engine, lambda: recuse(engine, "kim", sid, app), RuleViolation)  # decided already
    # a signature by another member's key, a signature over other words, and garbage
    park_signs_for_choi = signing.sign(member_key("park"), signing.decision_bytes(
        str(sid), str(app), "choi", "approve", "적합", []))
    refused(engine, lambda: service.decide(engine, sid, app, "choi", "approve", "적합", [], park_signs_for_choi),
            Forbidden)
    choi_signed_reject = signing.sign(member_key("choi"), signing.decision_bytes(
        str(sid), str(app), "choi", "reject", "적합", []))
    refused(engine, lambda: service.decide(engine, sid, app, "choi", "approve", "적합", [], choi_signed_reject),
            Forbidden)
    refused(engine, lambda: service.decide(engine, sid, app, "choi", "approve", "적합", [], "!!"), Forbidden)
    # a signature for one application does not carry over to another
    for_app = signing.sign(member_key("choi"), signing.decision_bytes(str(sid), str(app), "choi", "approve", "적합",
                                                                      []))
    refused(engine, lambda: service.decide(engine, sid, other, "choi", "approve", "적합", [], for_app), Forbidden)
    refused(engine, lambda: decide(engine, "choi", sid, app, "approve", reasons=" "), InvalidInput)
    refused(engine, lambda: decide(engine, "choi", sid, UUID(int=7), "approve"), NotFound)
    assert queries.deliberation(engine, sid, app).votes == {
        "kim": {"decision": "approve", "reasons": "적합", "conditions": []}}
    assert queries.deliberation(engine, sid, other).votes == {}


def test_acts_after_the_deadline_are_refused(in_session, sunday):
    engine, sid, app, _ = in_session
    sunday.advance(days=5)
    refused(engine, lambda: decide(engine, "kim", sid, app, "approve"), RuleViolation)
    engine.tick()
    refused(engine, lambda: decide(engine, "kim", sid, app, "approve"), RuleViolation)


def test_comments_are_signed_and_threaded(in_session):
    engine, sid, app, _ = in_session
    text = "현장 사진 확인했습니다."
    signature = signing.sign(member_key("kim"), signing.comment_bytes(str(sid), str(app), "kim", text))
    service.comment(engine, sid, app, "kim", text, signature)
    refused(engine, lambda: service.comment(engine, sid, app, "lee", text, signature), Forbidden)
    thread = queries.thread(engine, sid, app)
    assert thread["comments"] == [{"member": "kim", "text": text}] and not thread["closed"]


def test_reject_and_re_review_notices(in_session, sunday):
    engine, sid, app, other = in_session
    for m in ("kim", "lee", "park"):
        decide(engine, m, sid, app, "reject", reasons="1업소 1간판 위반")
        decide(engine, m, sid, other, "re_review", reasons="도면 보완")
    sunday.advance(days=5)
    engine.tick()
    assert engine.get(app, Application).outcome == "reject"
    assert engine.get(other, Application).status == "queued"
    texts = [m["text"] for m in engine.outbox.sent()]
    assert any("부결" in t and "1업소 1간판 위반" in t for t in texts)
    assert any("재심의" in t for t in texts)


class Crash(BaseException):
    """The process dying: nothing after it runs."""


def test_decision_and_re_review_notices_are_saved_with_the_session_close(in_session, sunday, monkeypatch):
    from tests.support.store_faults import fail_event_inserts

    from core.engine import Engine

    engine, sid, app, other = in_session
    for m in ("kim", "lee", "park"):
        decide(engine, m, sid, app, "reject", reasons="1업소 1간판 위반")
        decide(engine, m, sid, other, "re_review", reasons="도면 보완")
    sunday.advance(days=5)
    before = engine.position

    # the store fails while saving the close: no result, no notice
    with monkeypatch.context() as patch:
        fail_event_inserts(patch)
        with pytest.raises(Exception, match="disk is full"):
            service.close_session(engine, "secretary", sid)
    assert engine.position == before and not engine.get(sid, Session).closed
    assert engine.messages.counts() == {"pending": 0, "delivered": 0} and engine.outbox.sent() == []

    # the process dies right after the commit: both notices are in the outbox with the close
    def crash(*args, **kwargs):
        raise Crash()

    with monkeypatch.context() as patch:
        patch.setattr(engine.messages, "dispatch", crash)
        with pytest.raises(Crash):
            service.close_session(engine, "secretary", sid)
    assert engine.messages.counts() == {"pending": 2, "delivered": 0} and engine.outbox.sent() == []
    again = Engine(engine.db, outbox=engine.outbox.path)
    try:
        assert again.get(app, Application).notice_sent and again.get(other, Application).status == "queued"
        again.tick()
        again.tick()
        sent = {m["key"]: m["text"] for m in again.outbox.sent()}
        assert sorted(sent) == sorted([f"ad_review:{app}:{sid}:reject", f"ad_review:{other}:{sid}:re_review"])
        assert "재심의" in sent[f"ad_review:{other}:{sid}:re_review"]
        assert again.messages.counts() == {"pending": 0, "delivered": 2}
    finally:
        again.close()


def test_quorum_rule_change_applies_from_the_next_session(sqlite_engine, sunday):
    engine = sqlite_engine
    join(engine, *MEMBERS)
    service.set_quorum(engine, "secretary", {"participation": "1/5", "participation_inclusive": True})
    app = service.submit(engine, "clerk", application(engine)).id
    sid = open_week(engine, sunday)
    decide(engine, "kim", sid, app, "approve")
    service.set_quorum(engine, "secretary", {})  # back to the default for later sessions
    sunday.advance(days=5)
    engine.tick()
    assert engine.get(app, Application).outcome == "approve"
    assert retally(list(engine.records())).ok


def test_secretary_opens_and_closes_a_session_by_hand(in_session):
    engine, sid, app, _ = in_session
    with pytest.raises(RuleViolation):
        service.open_session(engine, "secretary", "2016-W10")
    with pytest.raises(InvalidInput):
        service.open_session(engine, "secretary", "sometime")
    for m in ("kim", "lee", "park"):
        decide(engine, m, sid, app, "approve")
    results = service.close_session(engine, "secretary", sid)
    assert results == service.close_session(engine, "secretary", sid)  # harmless twice
    assert engine.get(app, Application).outcome == "approve"


def test_full_committee_decision(sqlite_engine, sunday):
    engine = sqlite_engine
    app = service.submit(engine, "clerk", application(engine, sign_type="rooftop")).id
    refused(engine, lambda: service.record_full_committee_decision(
        engine, "secretary", app, "re_review", "보완", [], "대심의 3월"), InvalidInput)
    sunday.advance(days=18)
    service.record_full_committee_decision(engine, "secretary", app, "approve", "적합", [], "대심의 2016-03-24")
    assert engine.get(app, Application).outcome == "approve"
    r = queries.report(engine, sunday.now().date() - timedelta(days=30), sunday.now().date())
    assert r["full_committee"]["decided"] == 1 and r["full_committee"]["median_days"] == 18.0


def tamper(records, position, change):
    return [attrs.evolve(r, payload=change(json.loads(json.dumps(r.payload)))) if r.position == position else r
            for r in records]


def test_audit_names_a_tampered_result_and_a_forged_vote(in_session, sunday):
    engine, sid, app, other = in_session
    for m in ("kim", "lee", "park"):
        decide(engine, m, sid, app, "approve")
    sunday.advance(days=5)
    engine.tick()
    records = list(engine.records())
    assert retally(records).ok
    closed = next(r for r in records if r.event_name == "Session.Closed")

    def flip(payload):
        payload["results"][str(other)]["outcome"] = "approve"
        return payload

    report = retally(tamper(records, closed.position, flip))
    assert [d.position for d in report.discrepancies] == [closed.position]

    vote = next(r for r in records if r.event_name == "Deliberation.DecisionCast")

    def forge(payload):
        payload["decision"] = "reject"
        return payload

    report = retally(tamper(records, vote.position, forge))
    assert report.discrepancies[0].position == vote.position
    assert "signature" in report.discrepancies[0].reason

    decided = next(r for r in records if r.event_name == "Application.Decided")

    def soften(payload):
        payload["outcome"] = "approve_with_conditions"
        return payload

    assert [d.position for d in retally(tamper(records, decided.position, soften)).discrepancies] == [
        decided.position]


def test_applicant_data_is_sealed_and_erasable(in_session, sunday):
    from core.actors import local_operator

    engine, sid, app, other = in_session
    payloads = json.dumps([r.payload for r in engine.records()], ensure_ascii=False)
    assert "010-1234-5678" not in payloads and "홍길동" not in payloads
    assert "을지로 커피" in payloads  # the business name is what the sign shows
    applicant = engine.get(other, Application).application["applicant"]
    assert engine.privacy.open(applicant["phone"], where=other) == "010-1234-5678"
    assert applicant["subject"] in engine.privacy.subjects("phone", "010-1234-5678")

    engine.privacy.forget(applicant["subject"], actor=local_operator())
    for m in ("kim", "lee", "park"):
        decide(engine, m, sid, app, "approve")
        decide(engine, m, sid, other, "approve")
    sunday.advance(days=5)
    engine.tick()
    assert engine.get(other, Application).outcome == "approve" and engine.get(other, Application).notice_sent
    notified = [m["key"].split(":")[1] for m in engine.outbox.sent()]
    assert notified == [str(app)]  # the erased applicant cannot be texted
    assert retally(list(engine.records())).ok


def test_a_failed_text_is_sent_again_by_a_later_tick(in_session, sunday):
    from core.hookspecs import hookimpl
    from core.messages import FIRST_RETRY_SECONDS

    engine, sid, app, _ = in_session

    class FlakyGateway:
        down = True

        @hookimpl(tryfirst=True)
        def civic_send_notification(self, notification):
            if FlakyGateway.down:
                raise ConnectionError("gateway down")
            return None  # let the outbox deliver it

    engine.pm.register(FlakyGateway())
    for m in ("kim", "lee", "park"):
        decide(engine, m, sid, app, "approve")
    sunday.advance(days=5)
    engine.tick()
    # the notice is handed to the outbox with the decision's notice record; the gateway failed
    assert engine.get(app, Application).notice_sent
    assert engine.outbox.sent() == [] and engine.messages.counts()["pending"] == 1
    FlakyGateway.down = False
    assert not any(line.startswith("messages:") for line in engine.tick())  # not due yet
    sunday.advance(seconds=FIRST_RETRY_SECONDS)
    assert "messages: 1 delivered" in engine.tick()
    assert len(engine.outbox.sent()) == 1 and engine.messages.counts() == {"pending": 0, "delivered": 1}
    engine.tick()
    assert len(engine.outbox.sent()) == 1


def test_members_deciding_at_once_are_all_recorded(engine, sunday):
    from concurrent.futures import ThreadPoolExecutor

    join(engine, *MEMBERS)
    apps = [service.submit(engine, "clerk", application(engine, salt=bytes([i]))).id for i in range(2)]
    sid = open_week(engine, sunday)
    acts = [(m, app) for app in apps for m in MEMBERS]
    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(lambda act: decide(engine, act[0], sid, act[1], "approve"), acts))
    for app in apps:
        assert sorted(queries.deliberation(engine, sid, app).votes) == sorted(MEMBERS)
    assert len([r for r in engine.records() if r.event_name == "Deliberation.DecisionCast"]) == len(acts)
