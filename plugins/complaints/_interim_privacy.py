"""A stand-in for ``core.privacy`` with the calls this plugin uses (``new_subject``, ``seal``,
``open``, ``forget``), for a core that does not have it yet: per-subject AES-GCM keys in a file
beside the database, destroyed on ``forget``. Delete this module once ``engine.privacy`` exists
everywhere."""

from __future__ import annotations

import base64
import json
import os
import sqlite3
import threading
import uuid
from typing import Any

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

ENVELOPE = "civic.pd/1"


class _Erased(str):
    __slots__ = ()


ERASED = _Erased("[erased]")
_instances: dict[str, "InterimPrivacy"] = {}
_lock = threading.Lock()


class InterimPrivacy:
    def __init__(self, path: str) -> None:
        os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
        self._conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None, timeout=30)
        self._conn.execute("PRAGMA secure_delete=ON")
        self._conn.execute("CREATE TABLE IF NOT EXISTS keys (subject TEXT PRIMARY KEY, key BLOB)")
        self._conn.execute("CREATE TABLE IF NOT EXISTS forgotten (subject TEXT PRIMARY KEY)")
        self._lock = threading.Lock()

    @staticmethod
    def new_subject() -> str:
        return str(uuid.uuid4())

    def _key(self, subject: str, create: bool) -> bytes | None:
        with self._lock:
            if self._conn.execute("SELECT 1 FROM forgotten WHERE subject = ?", (subject,)).fetchone():
                return None
            row = self._conn.execute("SELECT key FROM keys WHERE subject = ?", (subject,)).fetchone()
            if row is None and create:
                key = AESGCM.generate_key(bit_length=256)
                self._conn.execute("INSERT INTO keys VALUES (?, ?)", (subject, key))
                return key
            return None if row is None else row[0]

    def seal(self, subject: str, field: str, value: Any, *, where: Any) -> dict[str, str]:
        key = self._key(subject, create=True)
        if key is None:
            raise ValueError("subject forgotten")
        nonce = os.urandom(12)
        aad = f"{subject}/{where}/{field}".encode()
        ct = AESGCM(key).encrypt(nonce, json.dumps(value, ensure_ascii=False).encode(), aad)
        return {"sealed": ENVELOPE, "subject": subject, "where": str(where), "field": field,
                "ct": base64.b64encode(nonce + ct).decode()}

    def open(self, envelope: dict[str, str], *, where: Any = None) -> Any:
        if where is not None and str(where) != envelope["where"]:
            raise ValueError("envelope belongs to another record")
        key = self._key(envelope["subject"], create=False)
        if key is None:
            return ERASED
        raw = base64.b64decode(envelope["ct"])
        aad = f"{envelope['subject']}/{envelope['where']}/{envelope['field']}".encode()
        return json.loads(AESGCM(key).decrypt(raw[:12], raw[12:], aad))

    def forget(self, subject: str, *, actor: Any = None) -> bool:
        with self._lock:
            self._conn.execute("DELETE FROM keys WHERE subject = ?", (subject,))
            cur = self._conn.execute("INSERT OR IGNORE INTO forgotten VALUES (?)", (subject,))
            return cur.rowcount == 1


def interim_privacy(engine: Any) -> InterimPrivacy:
    from core.engine import sibling_path

    path = str(sibling_path(engine.db, "keys.db"))
    with _lock:
        found = _instances.get(path)
        if found is None:
            found = _instances[path] = InterimPrivacy(path)
        return found
