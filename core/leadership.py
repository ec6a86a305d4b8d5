"""Which process runs the instance's once-only jobs (the deadline scheduler, the ledger's
checkpoints) when several ``civic serve`` workers share one PostgreSQL store: the one holding a
PostgreSQL session advisory lock. The lock goes with its connection, so when the leader dies
another worker takes over on its next try. A SQLite store is served by one process, which leads."""

from __future__ import annotations

import logging
import threading
import time
import zlib
from typing import Any

from core.store import is_postgres_url, store_env

log = logging.getLogger("civic.leadership")
# one advisory lock key per purpose; PostgreSQL's keys are 64-bit integers
JOBS_LOCK_KEY = zlib.crc32(b"civic: scheduler and ledger jobs")


class Leadership:
    """``held()`` answers whether this process leads; it tries to become leader when it does not."""

    def __init__(self, db: str, key: int = JOBS_LOCK_KEY, *, retry_seconds: float = 5.0) -> None:
        self.db, self.key, self.retry_seconds = db, key, retry_seconds
        self._connection: Any = None
        self._next_try = 0.0
        self._lock = threading.Lock()
        self.postgres = is_postgres_url(db)

    def _connect(self) -> Any:
        import psycopg

        env = store_env(self.db)
        return psycopg.connect(dbname=env["POSTGRES_DBNAME"], host=env["POSTGRES_HOST"], port=env["POSTGRES_PORT"],
                               user=env["POSTGRES_USER"], password=env["POSTGRES_PASSWORD"] or None,
                               autocommit=True, application_name="civic-leader")

    def held(self) -> bool:
        if not self.postgres:
            return True
        with self._lock:
            if self._connection is not None:
                try:
                    self._connection.execute("SELECT 1")
                    return True
                except Exception:  # noqa: BLE001 - the connection (and with it the lock) is gone
                    log.warning("lost the jobs lock's connection; trying to take the lead again")
                    self._drop()
            if time.monotonic() < self._next_try:
                return False
            self._next_try = time.monotonic() + self.retry_seconds
            try:
                connection = self._connect()
                taken = connection.execute("SELECT pg_try_advisory_lock(%s)", (self.key,)).fetchone()[0]
            except Exception:  # noqa: BLE001 - the database is unreachable: nobody leads from here
                log.exception("could not try the jobs lock")
                return False
            if taken:
                self._connection = connection
                log.info("this process runs the scheduler and the ledger's checkpoints")
                return True
            connection.close()
            return False

    def _drop(self) -> None:
        try:
            self._connection.close()
        except Exception:  # noqa: BLE001
            pass
        self._connection = None

    def release(self) -> None:
        with self._lock:
            if self._connection is not None:
                try:  # at once, rather than when the server notices the connection is gone
                    self._connection.execute("SELECT pg_advisory_unlock(%s)", (self.key,))
                except Exception:  # noqa: BLE001 - closing below releases it anyway
                    pass
                self._drop()
