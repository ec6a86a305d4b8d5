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
