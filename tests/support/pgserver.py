"""A throw-away PostgreSQL server for the test run: initdb into a temporary directory (as the
``postgres`` OS user when running as root, since initdb refuses root), listening on a Unix socket
only, stopped and deleted at the end."""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path


def find_bindir() -> Path | None:
    explicit = os.environ.get("PG_BINDIR")
    candidates = [explicit] if explicit else sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)
    for c in candidates:
        if c and (Path(c) / "initdb").exists():
            return Path(c)
    found = shutil.which("initdb")
    return Path(found).parent if found else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PostgresServer:
    def __init__(self, bindir: Path, *, durable: bool = False) -> None:
        # tests run without fsync; a benchmark of acknowledged writes needs it (durable=True)
        self.bindir, self.durable = bindir, durable
        self.root = Path(tempfile.mkdtemp(prefix="civic-pg-"))
        self.data = self.root / "data"
        self.sock = self.root / "sock"
        self.port = _free_port()
        self._as_root = os.geteuid() == 0

    def _run(self, *args: str) -> subprocess.CompletedProcess[str]:
        cmd = list(args)
        if self._as_root:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        return subprocess.run(cmd, check=True, capture_output=True, text=True)

    def start(self) -> PostgresServer:
        self.sock.mkdir()
        if self._as_root:
            shutil.chown(self.root, "postgres")
            shutil.chown(self.sock, "postgres")
        self._run(str(self.bindir / "initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres",
                  "--no-sync", "-E", "UTF8")
        fsync = "on" if self.durable else "off"
        opts = f"-k {self.sock} -p {self.port} -c listen_addresses='' -c fsync={fsync} -c max_connections=200"
        self._run(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-o", opts, "-w", "-t", "60",
                  "-l", str(self.root / "log"), "start")
        return self

    def url(self, dbname: str) -> str:
        return f"postgresql://postgres@/{dbname}?host={self.sock}&port={self.port}"

    def create_database(self, dbname: str) -> str:
        import psycopg

        with psycopg.connect(host=str(self.sock), port=self.port, user="postgres", dbname="postgres",
                             autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{dbname}"')
        return self.url(dbname)

    def stop(self) -> None:
        try:
            self._run(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "stop")
        except subprocess.CalledProcessError:
            pass
        for _ in range(50):
            if not (self.sock / f".s.PGSQL.{self.port}").exists():
                break
            time.sleep(0.1)
        shutil.rmtree(self.root, ignore_errors=True)
