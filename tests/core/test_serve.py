"""``civic serve`` for real: uvicorn on a loopback port, answering /healthz and the OpenAPI."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from datetime import datetime, timedelta

import httpx
import pytest

from core.clock import now as utc_now
from core.engine import Engine
from core.hookspecs import hookimpl
from core.plugins import make_plugin_manager
from core.service import BackgroundJobs
from tests.support.serve import ROOT


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_serve_answers_health_and_schema(tmp_path):
    port = free_port()
    db = tmp_path / "served.db"
    proc = subprocess.Popen(
        [sys.executable, "-m", "core", "serve", "--db", str(db), "--port", str(port), "--tick-seconds", "1"],
        cwd=tmp_path, env={**os.environ, "CIVIC_PLUGINS": ""},
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        health = None
        while time.monotonic() < deadline:
            try:
                health = httpx.get(f"{base}/healthz", timeout=2)
                break
            except httpx.TransportError:
                time.sleep(0.2)
        assert health is not None and health.status_code == 200, "server did not come up"
        assert health.json()["store"] == {"kind": "sqlite", "position": 0}
        schema = httpx.get(f"{base}/schema/openapi.json", timeout=5).json()
        assert "/healthz" in schema["paths"]
        missing = httpx.get(f"{base}/no/such/thing", timeout=5)
        assert missing.status_code == 404
        assert missing.headers["content-type"].startswith("application/problem+json")
    finally:
        proc.terminate()
        proc.wait(timeout=15)


def test_forwarded_addresses_are_believed_only_from_the_trusted_proxies(tmp_path, monkeypatch):
    """uvicorn rewrites the client address from X-Forwarded-For only when the request comes from
    an address in CIVIC_TRUSTED_PROXIES; without it, the header is ignored."""
    import uvicorn
    from click.testing import CliRunner

    from core import cli as cli_module

    seen = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: seen.append(kw))
    db = str(tmp_path / "s.db")
    for trusted in ("", "10.0.0.5"):
        monkeypatch.setenv("CIVIC_TRUSTED_PROXIES", trusted)
        result = CliRunner().invoke(cli_module.cli, ["serve", "--db", db, "--port", "0"])
        assert result.exit_code == 0, result.output
    assert seen[0]["proxy_headers"] is False and seen[0]["forwarded_allow_ips"] is None
    assert seen[1]["proxy_headers"] is True and seen[1]["forwarded_allow_ips"] == "10.0.0.5"


class Deadlines:
    """A plugin with one deadline, recording when the scheduler ticks."""

    def __init__(self, due) -> None:
        self.due, self.ticks = due, []

    @hookimpl
    def civic_next_deadline(self, engine, after):
        return self.due if self.due > after else None

    @hookimpl
    def civic_tick(self, engine):
        self.ticks.append(utc_now())
        return []


def test_the_scheduler_meets_a_deadline_between_its_rounds(tmp_path):
    """A vote closing between two rounds (an hour apart here) is closed within about a second,
    and a deadline already handled does not make it tick again."""
    plugin = Deadlines(utc_now() + timedelta(seconds=1.5))
    engine = Engine(str(tmp_path / "civic.db"), plugins=make_plugin_manager(extra=[plugin]), outbox=tmp_path / "o")
    jobs = BackgroundJobs(engine, tick_seconds=3600)
    jobs.start()
    try:
        deadline = time.monotonic() + 30
        while len(plugin.ticks) < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(2.5)
    finally:
        jobs.stop()
        engine.close()
    assert len(plugin.ticks) == 2  # the first round at start, then once for the deadline
    assert plugin.due <= plugin.ticks[1] < plugin.due + timedelta(seconds=10)


def test_each_process_names_its_next_deadline(sqlite_engine, manual_clock):
    from plugins.complaints import service as complaints

    now = utc_now()
    assert sqlite_engine.next_deadline(now) is None or sqlite_engine.next_deadline(now) > now
    complaint = complaints.intake(sqlite_engine, channel="portal", item="graffiti", dong="신당5동", description="낙서")
    sqlite_engine.read_models.catch_up_all()
    due = sqlite_engine.next_deadline(now)
    assert due == datetime.fromisoformat(complaints.get_complaint(sqlite_engine, complaint.id).deadline)
    assert sqlite_engine.next_deadline(due) is None or sqlite_engine.next_deadline(due) > due


def test_a_sqlite_process_leads_alone_and_serve_refuses_workers_on_sqlite(tmp_path):
    from click.testing import CliRunner

    from core.cli import cli
    from core.leadership import Leadership

    assert Leadership(str(tmp_path / "civic.db")).held()
    refused = CliRunner().invoke(cli, ["serve", "--db", str(tmp_path / "civic.db"), "--workers", "2"])
    assert refused.exit_code == 2 and "PostgreSQL" in refused.output
    assert not (tmp_path / "civic.db").exists()


@pytest.mark.postgres
def test_one_worker_leads_and_another_takes_over_when_it_goes(pg_server):
    from core.leadership import Leadership

    url = pg_server.create_database("leaders")
    first, second = Leadership(url, retry_seconds=0), Leadership(url, retry_seconds=0)
    assert first.held() and not second.held()
    assert first.held() and not second.held()  # leading is kept, not taken turn about
    first.release()  # the leader stops (or dies: its connection, and with it the lock, goes)
    deadline = time.monotonic() + 10
    while not second.held() and time.monotonic() < deadline:  # the others try now and then
        time.sleep(0.1)
    assert second.held() and not first.held()
    second.release()


@pytest.mark.postgres
def test_serve_with_two_workers_on_postgresql_runs_the_jobs_once(pg_server, tmp_path):
    url = pg_server.create_database("workers")
    port = free_port()
    log = tmp_path / "serve.log"
    with log.open("w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "core", "serve", "--db", url, "--port", str(port), "--workers", "2"],
            cwd=tmp_path, env={**os.environ, "CIVIC_PLUGINS": "", "CIVIC_HOME": str(tmp_path / "home")},
            stdout=out, stderr=subprocess.STDOUT, text=True)
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and log.read_text().count("Application startup complete") < 2:
            time.sleep(0.3)
        for _ in range(20):
            health = httpx.get(f"{base}/healthz", timeout=5)
            assert health.status_code == 200 and health.json()["store"]["kind"] == "postgresql"
        time.sleep(2)
        text = log.read_text()
        assert text.count("Application startup complete") == 2, text[-3000:]
        assert text.count("this process runs the scheduler") == 1, text[-3000:]
    finally:
        proc.terminate()
        proc.wait(timeout=30)


@pytest.mark.parametrize("flag, logged", [(None, True), ("--no-access-log", False)])
def test_serve_logs_each_request_unless_told_not_to(tmp_path, flag, logged):
    port = free_port()
    log = tmp_path / "serve.log"
    command = [sys.executable, "-m", "core", "serve", "--db", str(tmp_path / "served.db"), "--port", str(port)]
    with log.open("w") as out:
        proc = subprocess.Popen(command + ([flag] if flag else []), cwd=tmp_path,
                                env={**os.environ, "CIVIC_PLUGINS": ""}, stdout=out, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                assert httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200
                break
            except httpx.TransportError:
                time.sleep(0.2)
        else:
            pytest.fail("server did not come up")
    finally:
        proc.terminate()
        proc.wait(timeout=15)
    text = log.read_text()
    assert "Application startup complete" in text
    assert ('"GET /healthz HTTP/1.1" 200' in text) is logged, text[-2000:]


SETTLE_PROBE = """
import gc, sys
import uvicorn
from core import serving

apps = []
uvicorn.run = lambda app, **kw: apps.append(app)
serving.serve(sys.argv[1], "127.0.0.1", 0, 30.0, 1)
import os
os.environ[serving.DB_ENV] = sys.argv[1]
apps.append(serving.worker_app())
print(all(serving.settle_heap in app.on_startup for app in apps))
gc.collect()
before = len(gc.get_objects())
serving.settle_heap()
print(before, len(gc.get_objects()))
"""


def test_after_start_up_a_full_collection_no_longer_walks_the_app(tmp_path):
    """Every full collection of the cyclic garbage collector walked every object of the app,
    some 130,000 of them, holding the GIL for 70-120 ms while requests waited: ``civic serve``
    (one process or each worker) moves what start-up made out of its sight."""
    probe = subprocess.run([sys.executable, "-c", SETTLE_PROBE, str(tmp_path / "s.db")], cwd=tmp_path,
                           env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True, text=True, timeout=120)
    assert probe.returncode == 0, probe.stderr
    registered, counts = probe.stdout.split("\n")[-3:-1]
    assert registered == "True"
    before, after = map(int, counts.split())
    assert before > 20_000 and after < before / 20
