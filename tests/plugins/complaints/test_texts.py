"""Exactly one result text per resolution, across crashes and restarts."""

from __future__ import annotations

import json

import pytest

from core.engine import Engine
from core.hookspecs import hookimpl
from core.actors import local_operator
from core.plugins import make_plugin_manager
from plugins.complaints import service
from plugins.complaints.texts import ResolutionTexts, text_key


class CrashAfterSend(Exception):
    pass


class RecordingGateway:
    """An SMS gateway that, like real ones, delivers a key once and counts every attempt."""

    def __init__(self) -> None:
        self.attempts: list[str] = []
        self.delivered: dict[str, dict] = {}

    @hookimpl
    def civic_send_notification(self, notification):
        self.attempts.append(notification.key)
        self.delivered.setdefault(notification.key, {"to": notification.to, "text": notification.text})
        return f"gw:{notification.key}"


def open_engine(db, outbox, gateway=None):
    return Engine(db, plugins=make_plugin_manager(extra=[gateway] if gateway else []), outbox=outbox)


def report(engine, phone="010-2222-3333"):
    return service.intake(engine, channel="call_centre", item="pothole", dong="필동", description="도로 파임",
                          reporter_name="이신고", reporter_phone=phone)


def outbox_lines(path):
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()] if path.exists() else []


def test_resolution_sends_one_text_to_the_reporter(engine, manual_clock, tmp_path):
    c = report(engine)
    service.act(engine, c.id, "resolve", note="아스팔트 보수 완료")
    engine.tick()
    service.send_pending_texts(engine)
    sent = outbox_lines(tmp_path / "outbox.jsonl")
    assert len(sent) == 1
    resolved_version = engine.get(c.id).version
    assert sent[0]["key"] == text_key(str(c.id), resolved_version)
    assert sent[0]["to"] == "01022223333" and sent[0]["channel"] == "sms"
    assert "처리되었습니다" in sent[0]["text"] and "아스팔트 보수 완료" in sent[0]["text"]


def test_crash_between_send_and_position_hands_over_again_but_sends_once(db_url, manual_clock, tmp_path, monkeypatch):
    outbox = tmp_path / "outbox.jsonl"
    gateway = RecordingGateway()
    first = open_engine(db_url, outbox, gateway)
    complaints = [report(first) for _ in range(3)]
    # the resolutions are saved, then the process dies right after handing the 2nd text over
    original_save = ResolutionTexts.save_position
    calls = {"n": 0}

    def crash_on_second(self, position):
        calls["n"] += 1
        if calls["n"] == 2:
            raise CrashAfterSend()
        original_save(self, position)

    monkeypatch.setattr(ResolutionTexts, "save_position", crash_on_second)
    for c in complaints:
        first.update(c.id, lambda x: x.act("resolve", note="완료"))
    with pytest.raises(CrashAfterSend):
        ResolutionTexts(first).drain()
    first.close()
    monkeypatch.setattr(ResolutionTexts, "save_position", original_save)

    restarted = open_engine(db_url, outbox, gateway)
    ResolutionTexts(restarted).drain()
    ResolutionTexts(restarted).drain()  # nothing left
    restarted.tick()
    keys = [text_key(str(c.id), 3) for c in complaints]
    assert sorted(gateway.delivered) == sorted(keys)
    # the 2nd message was handed to the outbox twice (before and after the crash) with one key:
    # the outbox had recorded it as delivered, so the gateway saw each message once
    assert sorted(gateway.attempts) == sorted(keys)
    assert ResolutionTexts(restarted).pending() == 0
    restarted.close()


def test_crash_window_with_the_default_outbox_file(db_url, manual_clock, tmp_path, monkeypatch):
    outbox = tmp_path / "outbox.jsonl"
    first = open_engine(db_url, outbox)
    c = report(first)
    monkeypatch.setattr(ResolutionTexts, "save_position", lambda self, p: (_ for _ in ()).throw(CrashAfterSend()))
    first.update(c.id, lambda x: x.act("resolve", note="완료"))
    with pytest.raises(CrashAfterSend):
        ResolutionTexts(first).drain()  # the text is written, the position is not
    first.close()
    monkeypatch.undo()
    again = open_engine(db_url, outbox)
    again.tick()
    again.tick()
    assert [m["key"] for m in outbox_lines(outbox)] == [text_key(str(c.id), 3)]
    again.close()


def test_no_text_for_anonymous_or_erased_reporters(engine, manual_clock, tmp_path):
    anonymous = service.intake(engine, channel="sns", item="pothole", dong="필동", description="도로 파임")
    erased = report(engine)
    service.erase_reporter(engine, erased.id, actor=local_operator())
    service.act(engine, anonymous.id, "resolve", note="완료")
    service.act(engine, erased.id, "resolve", note="완료")
    assert outbox_lines(tmp_path / "outbox.jsonl") == []
    assert ResolutionTexts(engine).pending() == 0


class Crash(BaseException):
    """The process dying: nothing after it runs."""


def test_the_text_is_saved_in_the_resolutions_transaction(manual_clock, tmp_path, monkeypatch):
    from tests.support.store_faults import fail_event_inserts

    db, outbox = str(tmp_path / "civic.db"), tmp_path / "outbox.jsonl"
    first = open_engine(db, outbox)
    c = report(first)
    before = first.position

    # the store fails while saving the resolution: neither the event nor its text is left
    with monkeypatch.context() as patch:
        fail_event_inserts(patch)
        with pytest.raises(Exception, match="disk is full"):
            service.act(first, c.id, "resolve", note="완료")
    assert first.position == before and first.get(c.id).status != "resolved"
    assert first.messages.counts() == {"pending": 0, "delivered": 0} and outbox_lines(outbox) == []

    # the process dies right after the commit, before any delivery or follower: the text is
    # already in the outbox, and the next tick of a new process delivers it once
    def crash(*args, **kwargs):
        raise Crash()

    with monkeypatch.context() as patch:
        patch.setattr(first.messages, "dispatch", crash)
        patch.setattr(service, "send_pending_texts", crash)
        with pytest.raises(Crash):
            service.act(first, c.id, "resolve", note="완료")
    first.close()
    again = open_engine(db, outbox)
    try:
        resolved = again.get(c.id)
        assert resolved.status == "resolved"
        key = text_key(str(c.id), resolved.version)
        assert again.messages.status(key)["status"] == "pending"
        again.tick()
        again.tick()
        assert [m["key"] for m in outbox_lines(outbox)] == [key]
        assert again.messages.status(key)["status"] == "delivered"
    finally:
        again.close()
