"""A member's CLI on their own machine talks to a real ``civic serve`` (``--server`` and a token)
instead of opening the store: comments, decisions and recusals signed with the member's key file,
with awkward texts (trailing spaces, Korean, Windows line ends, quotes, a byte-order mark), land in
the store in their normal form and the audit verifies them; every refusal is one clear line, a
non-zero exit and no change."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from core import SEOUL, Engine, Role, utc_now
from core.cli import cli
from core.ledger.checkpoint import CHECKPOINT_TOPIC
from plugins.ad_review import service
from plugins.ad_review.cli import adreview
from plugins.ad_review.domain import Deliberation, deliberation_id
from plugins.ad_review.schedule import iso_week
from tests.plugins.ad_review.helpers import application
from tests.support.serve import free_port
from tests.support.staff import PASSWORD, add_staff, cheap_passwords
from tests.web.conftest import Site

if "adreview" not in cli.commands:
    cli.add_command(adreview)

ROOT = Path(__file__).resolve().parents[3]
MEMBERS = ("kim", "lee", "park")
NO_SERVER = {"CIVIC_SERVER": None, "CIVIC_TOKEN": None}


def civic(*args: str, env: dict | None = None, code: int = 0, input: str | None = None) -> str:
    result = CliRunner().invoke(cli, list(args), env={**NO_SERVER, **(env or {})}, input=input,
                                catch_exceptions=False)
    assert result.exit_code == code, result.output
    return result.output


@pytest.fixture
def site(tmp_path, monkeypatch):
    """A committee of three with a key file each, a staff account each, next week's session with
    one application on its agenda, and ``civic serve`` over that store."""
    db = tmp_path / "civic.db"
    port = free_port()
    monkeypatch.setenv("CIVIC_OUTBOX", str(tmp_path / "outbox.jsonl"))
    env = {**os.environ, "CIVIC_PLUGINS": "", "PYTHONPATH": str(ROOT)}
    keys = {m: tmp_path / "home" / f"{m}.pem" for m in MEMBERS}
    with cheap_passwords():
        engine = Engine(str(db), outbox=tmp_path / "outbox.jsonl")
        try:
            for m in MEMBERS:
                public = civic("adreview", "keygen", "--out", str(keys[m])).strip()
                service.add_member(engine, "secretary", m, f"위원 {m}", public)
                add_staff(engine, m, [Role.COMMITTEE_MEMBER])
            add_staff(engine, "resident", [Role.RESIDENT])
            app = service.submit(engine, "clerk", application(engine)).id
            session = service.open_session(engine, "secretary", iso_week(utc_now() + timedelta(days=7), SEOUL))
        finally:
            engine.close()
    server = Site(db, port, env)
    server.start()
    try:
        yield {"db": db, "url": server.url, "keys": keys, "session": str(session.id), "application": str(app),
               "home": tmp_path / "home"}
    finally:
        server.stop()


def token_of(url: str, username: str) -> str:
    """What the member does once: sign in through the API and keep the token."""
    answer = httpx.post(f"{url}/api/auth/token", json={"username": username, "password": PASSWORD}, timeout=10)
    assert answer.status_code == 200, answer.text
    return answer.json()["token"]


def stored(db: Path, session: str, application: str) -> tuple[Deliberation, list[str]]:
    """The deliberation and every event's topic in the log, leaving out the checkpoints the
    server's ledger signs on its own thread whenever it likes."""
    engine = Engine(str(db))
    try:
        topics = [n.topic for n in engine.store.notifications() if n.topic != CHECKPOINT_TOPIC]
        return engine.get(deliberation_id(session, application), Deliberation), topics
    finally:
        engine.close()


def test_members_comment_decide_and_recuse_through_the_server(site, tmp_path):
    url, s, a, keys, home = site["url"], site["session"], site["application"], site["keys"], site["home"]
    where = ["--session", s, "--application", a]
    nowhere = str(tmp_path / "not-opened.db")  # the member's machine has no store
    kim_token = home / "kim.token"
    signed_in = civic("adreview", "signin", "kim", "--server", url, "--token-file", str(kim_token), "--password-stdin",
                      input=PASSWORD + "\n")
    assert f"Signed in as kim; token kept in {kim_token} until " in signed_in
    token = kim_token.read_text(encoding="utf-8").strip()
    assert token and token not in signed_in and oct(kim_token.stat().st_mode & 0o777) == "0o600"

    assert a in civic("adreview", "queue", "kim", "--server", url, "--db", nowhere)
    comment = home / "comment.txt"
    comment.write_bytes('\ufeff야간 조명이 "과하다"는 민원 있음 \r\n\r\n현장 사진 확인 바랍니다\t\r\n'.encode())
    assert "comment posted" in civic("adreview", "comment", *where, "--member", "kim", "--key", str(keys["kim"]),
                                     "--text-file", str(comment), "--token-file", str(kim_token),
                                     env={"CIVIC_SERVER": url, "CIVIC_DB": nowhere})
    reasons = '  주변 경관과 조화 "양호", it\'s fine  \r\n조명 밝기는 조건으로 \r\n'
    assert "kim: approve_with_conditions recorded" in civic(
        "adreview", "decide", *where, "--member", "kim", "--key", str(keys["kim"]),
        "--decision", "approve_with_conditions", "--reasons", reasons, "--condition", "23시 이후 소등 ",
        "--condition", "밝기 50% 이하\r\n", "--server", url + "/", "--token-file", str(kim_token))
    lee_reasons = home / "lee.txt"
    lee_reasons.write_bytes("광고 면적 적정 \r\n\r\n".encode())
    civic("adreview", "decide", *where, "--member", "lee", "--key", str(keys["lee"]), "--decision", "approve",
          "--reasons-file", str(lee_reasons), env={"CIVIC_SERVER": url, "CIVIC_TOKEN": token_of(url, "lee")})
    # a comment signed offline ('sign' signs comments too), then sent as typed with its signature
    signature = civic("adreview", "sign", "--key", str(keys["lee"]), "--session", s, "--application", a,
                      "--member", "lee", "--comment", "동의합니다 ").strip()
    civic("adreview", "comment", *where, "--member", "lee", "--signature", signature, "동의합니다\r\n",
          "--server", url, "--token", token_of(url, "lee"))
    park = token_of(url, "park")
    civic("adreview", "recuse", *where, "--member", "park", "--key", str(keys["park"]), "--reason", "가족 운영 업소 ",
          "--server", url, "--token", park)
    shown = civic("adreview", "thread", *where, "--server", url)
    assert 'kim: 야간 조명이 "과하다"는 민원 있음' in shown and "recused: park" in shown and "decided: kim, lee" in shown
    assert civic("adreview", "queue", "kim", "--server", url).strip() == "nothing to decide"
    assert not Path(nowhere).exists()

    d, _ = stored(site["db"], s, a)
    assert d.comments == [{"member": "kim", "text": '야간 조명이 "과하다"는 민원 있음\n\n현장 사진 확인 바랍니다'},
                          {"member": "lee", "text": "동의합니다"}]
    assert d.votes == {
        "kim": {"decision": "approve_with_conditions", "reasons": '주변 경관과 조화 "양호", it\'s fine\n조명 밝기는 조건으로',
                "conditions": ["23시 이후 소등", "밝기 50% 이하"]},
        "lee": {"decision": "approve", "reasons": "광고 면적 적정", "conditions": []}}
    assert d.recusals == {"park": "가족 운영 업소"}
    verify = subprocess.run([sys.executable, "-m", "core", "audit", "verify", "--db", str(site["db"])], cwd=ROOT,
                            capture_output=True, text=True, timeout=120)
    assert verify.returncode == 0, verify.stdout[-2000:] + verify.stderr[-2000:]


def test_refusals_are_one_clear_line_and_change_nothing(site, tmp_path):
    url, s, a, keys = site["url"], site["session"], site["application"], site["keys"]
    where = ["--session", s, "--application", a]
    kim = token_of(url, "kim")
    _, before = stored(site["db"], s, a)

    def refused(*args: str, code: int = 1, env: dict | None = None, input: str | None = None) -> str:
        result = CliRunner().invoke(cli, list(args), env={**NO_SERVER, **(env or {})}, input=input,
                                    catch_exceptions=False)
        assert result.exit_code == code, result.output
        assert "Traceback" not in result.output and kim not in result.output
        return result.output

    decide = ["adreview", "decide", *where, "--decision", "approve", "--reasons", "적합", "--server", url]
    out = refused(*decide, "--member", "kim", "--key", str(keys["kim"]), "--token", "not-a-token")
    assert "Sign-in required (HTTP 401)" in out and "New token: civic adreview signin" in out
    out = refused(*decide, "--member", "kim", "--key", str(keys["kim"]), "--token", token_of(url, "resident"))
    assert "(HTTP 403)" in out and "ad_review.member_act" in out
    out = refused(*decide, "--member", "kim", "--key", str(keys["lee"]), "--token", kim)  # the wrong key file
    assert "Not allowed (HTTP 403): The signature does not verify with kim's registered key." in out
    out = refused("adreview", "decide", "--session", s, "--application", s, "--decision", "approve", "--reasons", "적합",
                  "--server", url, "--member", "kim", "--key", str(keys["kim"]), "--token", kim)
    assert "Not found (HTTP 404): The application is not on this session's agenda." in out
    out = refused("adreview", "comment", *where, "--member", "kim", "--key", str(keys["kim"]), " \r\n ",
                  "--server", url, "--token", kim)
    assert "(HTTP 422): A comment is 1–2000 characters of text." in out
    out = refused(*decide, "--member", "kim", "--key", str(keys["kim"]), env={"CIVIC_TOKEN": ""}, code=2)
    assert "needs your token" in out  # no token at all
    empty = tmp_path / "empty.token"
    empty.write_text("\n", encoding="utf-8")
    assert "does not hold a token" in refused(*decide, "--member", "kim", "--key", str(keys["kim"]),
                                              "--token-file", str(empty), code=2)
    gone = f"http://127.0.0.1:{free_port()}"
    out = refused("adreview", "queue", "kim", "--server", gone)
    assert f"Cannot reach the server at {gone}" in out and len(out.strip().splitlines()) == 1
    assert "not a server URL" in refused("adreview", "queue", "kim", "--server", "civic.example.org", code=2)
    _, after = stored(site["db"], s, a)
    assert after == before

    civic(*decide, "--member", "kim", "--key", str(keys["kim"]), "--token", kim)
    # a wrong password: the account counts the failure, no token file is written
    out = refused("adreview", "signin", "kim", "--server", url, "--token-file", str(tmp_path / "t"),
                  "--password-stdin", input="wrong password\n")
    assert "Sign-in required (HTTP 401)" in out and "New token" not in out and not (tmp_path / "t").exists()
    out = refused(*decide, "--member", "kim", "--key", str(keys["kim"]), "--token", kim)
    assert "(HTTP 409): kim has already decided on this application in this session." in out
