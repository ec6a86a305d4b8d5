"""``civic serve`` as a separate process on 127.0.0.1, as residents and staff reach it: started
over a store a test prepared, ready once ``/healthz`` answers, stopped or killed by the test."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ServeProcess:
    """One ``python -m <module> serve`` over ``db``; its output goes to ``log``."""

    module = "core"  # what ``python -m`` runs (a test may run serve through a launcher of its own)

    def __init__(self, db: str | Path, port: int, env: dict[str, str], log: Path, *,
                 options: Sequence[str] = ("--tick-seconds", "3600"), timeout: float = 60) -> None:
        self.db, self.port, self.env, self.log = db, port, env, log
        self.url = f"http://127.0.0.1:{port}"
        self.options, self.timeout = list(options), timeout
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> ServeProcess:
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", self.module, "serve", "--db", str(self.db), "--port", str(self.port), *self.options],
                env=self.env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline and self.process.poll() is None:
            try:
                if httpx.get(f"{self.url}/healthz", timeout=2).status_code == 200:
                    return self
            except httpx.HTTPError:
                time.sleep(0.2)
        raise RuntimeError(f"civic serve did not start: {self.log.read_text(errors='replace')[-2000:]}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=30)

    def kill(self) -> None:
        """SIGKILL: no shutdown, no flush (what a power cut or the OOM killer does)."""
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)
