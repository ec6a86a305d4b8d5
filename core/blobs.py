"""A content-addressed file store for bytes that are not events (photos, drawings).

Each file is kept once under its SHA-256; events carry only the hash and a description. A file is
written durably (temporary file, fsync, rename) before its hash is handed out, and checked
against its hash whenever it is read."""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from pathlib import Path

from core.errors import InvalidInput, NotFound

SHA256_HEX = re.compile(r"^[0-9a-f]{64}$")


class BlobStore:
    def __init__(self, root: str | os.PathLike[str], *, what: str = "file") -> None:
        self.root = Path(root)
        self.what = what

    def check_name(self, sha256: str, *, field: str = "sha256") -> str:
        if not isinstance(sha256, str) or not SHA256_HEX.match(sha256):
            raise InvalidInput(f"A {self.what} is named by its SHA-256 (64 lower-case hex digits).", field=field)
        return sha256

    def path(self, sha256: str) -> Path:
        return self.root / sha256[:2] / sha256

    def put(self, data: bytes) -> str:
        """Keep the bytes (once) and return their SHA-256."""
        digest = hashlib.sha256(data).hexdigest()
        target = self.path(digest)
        if target.exists():
            return digest
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".incoming-")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return digest

    def has(self, sha256: str) -> bool:
        return SHA256_HEX.match(sha256 or "") is not None and self.path(sha256).exists()

    def get(self, sha256: str) -> bytes:
        """The bytes, or ``NotFound`` when absent or damaged on disk."""
        if not self.has(sha256):
            raise NotFound(f"No {self.what} {sha256}.")
        data = self.path(sha256).read_bytes()
        if hashlib.sha256(data).hexdigest() != sha256:
            raise NotFound(f"The stored {self.what} {sha256} is damaged.")
        return data
