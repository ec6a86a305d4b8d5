"""``civic serve`` for real: uvicorn on a loopback port, answering /healthz and the OpenAPI."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time

import httpx


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
