"""Core's notifiers against real servers started in the test: SMTP e-mail (aiosmtpd) and the
HTTP SMS gateway interface (a fake gateway on http.server)."""

from __future__ import annotations

import json
import socket
import threading
from email import message_from_bytes
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from click.testing import CliRunner
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

from core.engine import Engine
from core import cli as cli_module
from core.messages import FIRST_RETRY_SECONDS, MAX_ATTEMPTS
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
    """An HTTP SMS gateway: records each request; answers ``failures`` times with
    ``failure_code`` (503) first; accepts a key once and answers 409 to a repeat, as the
    interface asks."""

    def __init__(self) -> None:
        self.requests: list[dict] = []
        self.accepted: dict[str, dict] = {}
        self.failures = 0
        self.failure_code = 503
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's name
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                gateway.requests.append({"body": body, "headers": dict(self.headers)})
                if gateway.failures:
                    gateway.failures -= 1
                    self.send_response(gateway.failure_code)
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


# -- messages given up (dead) ------------------------------------------------------------------


def sealed_of(engine: Engine, key: str) -> str | None:
    with engine.side.transaction(commit=False) as cur:
        return cur.execute("SELECT sealed FROM civic_messages WHERE key = ?", (key,)).fetchone()["sealed"]


def civic(engine: Engine, *args: str) -> str:
    result = CliRunner().invoke(cli_module.cli, [*args, "--db", engine.db], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def test_a_gateway_failing_for_hours_gives_the_text_up_until_staff_retry_it(db_url, tmp_path, sms_gateway,
                                                                          monkeypatch):
    monkeypatch.delenv("CIVIC_TOKEN", raising=False)
    sms_gateway.failures = 1_000  # 503 on every try
    engine = Engine(db_url, outbox=tmp_path / "outbox.jsonl")
    try:
        assert engine.send_notification(sms("code/5")) == "pending:code/5"
        lines = []
        for _ in range(2 * MAX_ATTEMPTS):
            engine.clock.advance(hours=1)
            lines += engine.tick()
        # bounded: MAX_ATTEMPTS tries, then never again by itself
        assert len(sms_gateway.requests) == MAX_ATTEMPTS
        status = engine.messages.status("code/5")
        assert status["status"] == "dead" and status["attempts"] == MAX_ATTEMPTS
        assert status["last_error"] == "the SMS gateway answered 503"
        assert any("1 given up" in line for line in lines)
        assert engine.messages.counts() == {"pending": 0, "delivered": 0, "dead": 1}
        sealed = sealed_of(engine, "code/5")  # kept for a retry, and still sealed
        assert sealed and "010-3333-4444" not in sealed and "883311" not in sealed

        shown = civic(engine, "messages", "status")
        assert "dead: 1" in shown and "code/5" in shown and "503" in shown and "010-3333-4444" not in shown

        sms_gateway.failures = 0  # the gateway's account is topped up
        assert "1 delivered" in civic(engine, "messages", "retry")
        assert list(sms_gateway.accepted) == ["code/5"]
        assert sms_gateway.requests[-1]["body"]["to"] == "010-3333-4444"
        assert engine.messages.status("code/5")["status"] == "delivered" and sealed_of(engine, "code/5") is None
        assert not (tmp_path / "outbox.jsonl").exists()
    finally:
        engine.close()


def test_a_text_the_gateway_refuses_is_not_tried_again_by_itself(sqlite_engine, sms_gateway, monkeypatch):
    monkeypatch.delenv("CIVIC_TOKEN", raising=False)
    sms_gateway.failures, sms_gateway.failure_code = 1, 400  # a number the gateway will never take
    assert sqlite_engine.send_notification(sms("code/6", to="010-bad")) == "dead:code/6"
    status = sqlite_engine.messages.status("code/6")
    assert status["status"] == "dead" and status["attempts"] == 1
    assert status["last_error"] == "the SMS gateway refused the message (400)"
    sqlite_engine.clock.advance(hours=5)
    sqlite_engine.tick()
    assert len(sms_gateway.requests) == 1

    listed = json.loads(civic(sqlite_engine, "messages", "status", "--json"))
    assert [d["key"] for d in listed["dead"]] == ["code/6"] and "010-bad" not in json.dumps(listed)
    assert "1 discarded" in civic(sqlite_engine, "messages", "discard", "--yes")
    assert sqlite_engine.messages.status("code/6")["status"] == "discarded"
    assert sealed_of(sqlite_engine, "code/6") is None
    sqlite_engine.send_notification(sms("code/6", to="010-bad"))  # the same key again: never sent
    assert len(sms_gateway.requests) == 1 and "dead" not in sqlite_engine.messages.counts()


@pytest.mark.parametrize("code", [429, 500])
def test_a_busy_or_broken_gateway_is_tried_again(sqlite_engine, sms_gateway, code):
    sms_gateway.failures, sms_gateway.failure_code = 1, code
    assert sqlite_engine.send_notification(sms("code/7")) == "pending:code/7"
    assert sqlite_engine.messages.status("code/7")["status"] == "pending"
    sqlite_engine.clock.advance(seconds=FIRST_RETRY_SECONDS)
    sqlite_engine.tick()
    assert list(sms_gateway.accepted) == ["code/7"] and len(sms_gateway.requests) == 2


def test_forgetting_the_person_erases_a_text_given_up(sqlite_engine, sms_gateway):
    from core.actors import local_operator

    sms_gateway.failures, sms_gateway.failure_code = 1, 403
    sqlite_engine.send_notification(sms("code/8"))
    assert sqlite_engine.messages.status("code/8")["status"] == "dead"
    sqlite_engine.privacy.forget("lee", actor=local_operator())
    assert sqlite_engine.messages.status("code/8") is None and sqlite_engine.messages.dead() == []
