"""Secrets of this civic instance, kept outside the event store.

One random master secret in a file readable only by its owner (0600), beside the database by
default (``CIVIC_SECRETS`` to move it). Purpose-specific keys are derived from it with HKDF, so
adding a purpose never needs a new file. Losing the file loses what these keys protect (keyed
hashes of voting codes, sign-in tokens); the event log itself stays verifiable.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

MASTER_BYTES = 32


def _create_private_file(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)


def load_or_create_private_file(path: Path, make: bytes | None = None) -> bytes:
    """The bytes of a 0600 file, creating it with ``make`` (or 32 random bytes) on first use.
    Refuses a file that others can read."""
    path = Path(path)
    if not path.exists():
        try:
            _create_private_file(path, make if make is not None else secrets.token_bytes(MASTER_BYTES))
        except FileExistsError:  # another process made it first: use theirs
            pass
    mode = path.stat().st_mode & 0o777
    if mode & 0o077:
        raise PermissionError(f"{path} must be readable by its owner only (mode {mode:o}); chmod 600 it")
    return path.read_bytes()


class InstanceSecrets:
    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._master: bytes | None = None
        # derived once per purpose: a ballot cast needs two keys, and deriving them per cast cost
        # more than the credential check they serve
        self._derived: dict[tuple[str, int], bytes] = {}

    @property
    def master(self) -> bytes:
        if self._master is None:
            self._master = load_or_create_private_file(self.path)
        return self._master

    def key(self, purpose: str, length: int = 32) -> bytes:
        """A key for one purpose (e.g. ``"voting-code-hash"``), stable for this instance."""
        known = self._derived.get((purpose, length))
        if known is None:
            known = HKDF(algorithm=hashes.SHA256(), length=length, salt=None,
                         info=f"civic/{purpose}".encode()).derive(self.master)
            self._derived[(purpose, length)] = known  # one dict operation: atomic
        return known
