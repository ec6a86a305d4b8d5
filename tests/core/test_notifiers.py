"""Core's notifiers against real servers started in the test: SMTP e-mail (aiosmtpd) and the
HTTP SMS gateway interface (a fake gateway on http.server)."""

from __future__ import annotations

import json
import socket
import threading
from email import message_from_bytes
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

from core.engine import Engine
from core.messages import FIRST_RETRY_SECONDS
from core.notify import Message
from core.smtp_mail import message_id

pytestmark = pytest.mark.usefixtures("manual_clock")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def mail(key: str, to: str = "kim@example.org", text: str = "투표 코드: 551234") -> Message:
    return Message(key=key, channel="email", to=to, text=text, plugin="test", subject="kim")


def sms(key: str, to: str = "010-3333-4444", text: str = "code 883311") -> Message:
    return Message(key=key, channel="sms", to=to, text=text, plugin="test", subject="lee")


# -- SMTP --------------------------------------------------------------------------------------


class Mailbox:
    def __init__(self) -> None:
        self.received: list[tuple[str, list[str], bytes]] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's name
        self.received.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        return "250 Message accepted"


def smtp_server(port: int, *, users: dict[str, str] | None = None) -> tuple[Controller, Mailbox]:
    box = Mailbox()
    options = {}
    if users is not None:
        def check(server, session, envelope, mechanism, auth_data):
            ok = users.get(auth_data.login.decode()) == auth_data.password.decode()
            return AuthResult(success=ok)

        # no TLS in the test: the notifier's STARTTLS is switched off for this local server
        options = {"authenticator": check, "auth_require_tls": False, "auth_required": True}
    controller = Controller(box, hostname="127.0.0.1", port=port, **options)
    controller.start()
    return controller, box


@pytest.fixture
def smtp_env(monkeypatch):
    port = free_port()
    monkeypatch.setenv("CIVIC_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("CIVIC_SMTP_PORT", str(port))
    monkeypatch.setenv("CIVIC_SMTP_FROM", "notices@junggu.example")
    monkeypatch.setenv("CIVIC_SMTP_STARTTLS", "0")  # a local relay; the real setting keeps STARTTLS on
    return port


def test_an_email_message_is_sent_once_through_smtp(db_url, tmp_path, smtp_env):
    controller, box = smtp_server(smtp_env)
    engine = Engine(db_url, outbox=tmp_path / "outbox.jsonl")
    try:
        reference = engine.send_notification(mail("vote/1"))
        engine.send_notification(mail("vote/1"))
        engine.tick()
    finally:
        controller.stop()
        engine.close()
    assert len(box.received) == 1
    sender, recipients, content = box.received[0]
    assert sender == "notices@junggu.example" and recipients == ["kim@example.org"]
    parsed = message_from_bytes(content)
    assert parsed.get_content_type() == "text/plain"
    assert parsed.get_payload(decode=True).decode(parsed.get_content_charset()) .strip() == "투표 코드: 551234"
    assert parsed["Message-ID"] == message_id("vote/1", "notices@junggu.example")
    assert reference == f"smtp:{parsed['Message-ID']}"
    assert not (tmp_path / "outbox.jsonl").exists()  # nothing fell back to the file


@pytest.mark.filterwarnings("ignore:Requiring AUTH:UserWarning", "ignore:Session.login_data:DeprecationWarning")
def test_smtp_signs_in_when_a_user_is_configured(sqlite_engine, smtp_env, monkeypatch):
    controller, box = smtp_server(smtp_env, users={"civic": "s3cret"})
    monkeypatch.setenv("CIVIC_SMTP_USER", "civic")
    monkeypatch.setenv("CIVIC_SMTP_PASSWORD", "s3cret")
    try:
        assert sqlite_engine.send_notification(mail("signed-in")).startswith("smtp:")
    finally:
        controller.stop()
    assert len(box.received) == 1


def test_mail_waits_while_the_server_is_down_and_goes_after_a_restart(db_url, tmp_path, smtp_env):
    first = Engine(db_url, outbox=tmp_path / "outbox.jsonl")
    assert first.send_notification(mail("down/1")) == "pending:down/1"
    assert first.messages.status("down/1")["last_error"] == "mail server: ConnectionRefusedError"
    first.close()
    controller, box = smtp_server(smtp_env)
    again = Engine(db_url, outbox=tmp_path / "outbox.jsonl")
    try:
        again.clock.advance(seconds=FIRST_RETRY_SECONDS)
        assert "messages: 1 delivered" in again.tick()
        again.tick()
    finally:
        controller.stop()
        again.close()
    assert [r[1] for r in box.received] == [["kim@example.org"]]


# -- the SMS gateway -------------------------------------------------------------------------


class FakeSmsGateway:
    """An HTTP SMS gateway: records each request; answers ``failures`` 503s first; accepts a
    key once and answers 409 to a repeat, as the interface asks."""

    def __init__(self) -> None:
        self.requests: list[dict] = []
        self.accepted: dict[str, dict] = {}
        self.failures = 0
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's name
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                gateway.requests.append({"body": body, "headers": dict(self.headers)})
                if gateway.failures:
                    gateway.failures -= 1
                    self.send_response(503)
                    self.end_headers()
                    return
                key = self.headers["Idempotency-Key"]
                if key in gateway.accepted:
                    self.send_response(409)
                    self.end_headers()
                    return
                gateway.accepted[key] = body
                answer = json.dumps({"id": f"gw-{len(gateway.accepted)}"}).encode()
                self.send_response(202)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/send"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def sms_gateway(monkeypatch):
    gateway = FakeSmsGateway()
    monkeypatch.setenv("CIVIC_SMS_GATEWAY_URL", gateway.url)
    monkeypatch.setenv("CIVIC_SMS_GATEWAY_TOKEN", "gw-token")
    yield gateway
    gateway.stop()


def test_a_text_is_posted_once_to_the_gateway(db_url, tmp_path, sms_gateway):
    engine = Engine(db_url, outbox=tmp_path / "outbox.jsonl")
    try:
        assert engine.send_notification(sms("code/1")) == "sms:gw-1"
        engine.send_notification(sms("code/1"))
        engine.tick()
    finally:
        engine.close()
    assert len(sms_gateway.requests) == 1
    request = sms_gateway.requests[0]
    assert request["body"] == {"key": "code/1", "to": "010-3333-4444", "text": "code 883311"}
    assert request["headers"]["Idempotency-Key"] == "code/1"
    assert request["headers"]["Authorization"] == "Bearer gw-token"
    assert not (tmp_path / "outbox.jsonl").exists()


def test_a_failing_gateway_is_tried_again_and_accepts_once(sqlite_engine, sms_gateway):
    sms_gateway.failures = 2
    assert sqlite_engine.send_notification(sms("code/2")) == "pending:code/2"
    assert sqlite_engine.messages.status("code/2")["last_error"] == "the SMS gateway answered 503"
    for _ in range(3):
        sqlite_engine.clock.advance(hours=1)
        sqlite_engine.tick()
    assert len(sms_gateway.requests) == 3 and list(sms_gateway.accepted) == ["code/2"]
    assert sqlite_engine.messages.status("code/2")["reference"] == "sms:gw-1"


def test_a_repeat_the_gateway_already_accepted_counts_as_delivered(sqlite_engine, sms_gateway):
    sms_gateway.accepted["code/3"] = {}  # accepted before a crash that kept us from recording it
    assert sqlite_engine.send_notification(sms("code/3")) == "sms:code/3"
    assert sqlite_engine.messages.status("code/3")["status"] == "delivered"


def test_a_pending_text_survives_a_restart(db_url, tmp_path, monkeypatch):
    down = f"http://127.0.0.1:{free_port()}/send"  # nothing listens there
    monkeypatch.setenv("CIVIC_SMS_GATEWAY_URL", down)
    first = Engine(db_url, outbox=tmp_path / "outbox.jsonl")
    assert first.send_notification(sms("code/4")) == "pending:code/4"
    assert first.messages.status("code/4")["last_error"].startswith("the SMS gateway did not answer")
    first.close()
    gateway = FakeSmsGateway()
    monkeypatch.setenv("CIVIC_SMS_GATEWAY_URL", gateway.url)
    again = Engine(db_url, outbox=tmp_path / "outbox.jsonl")
    try:
        again.clock.advance(seconds=FIRST_RETRY_SECONDS)
        again.tick()
        again.clock.advance(hours=2)
        again.tick()
    finally:
        again.close()
        gateway.stop()
    assert list(gateway.accepted) == ["code/4"] and len(gateway.requests) == 1


def test_each_channel_goes_to_its_own_notifier(sqlite_engine, sms_gateway, tmp_path):
    sqlite_engine.send_notification(sms("to-phone"))
    sqlite_engine.send_notification(mail("to-mailbox"))  # no SMTP configured: the outbox file
    assert list(sms_gateway.accepted) == ["to-phone"]
    assert [m["key"] for m in sqlite_engine.outbox.sent()] == ["to-mailbox"]
