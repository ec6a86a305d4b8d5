"""Photos by content hash: events carry the SHA-256 of each photo; the bytes live once in a
content-addressed directory beside the store (``<db>.media/``), checked against their hash
whenever they are read."""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path
from typing import Any

from core import InvalidInput, NotFound

MAX_BYTES = 10 * 1024 * 1024
SHA256 = re.compile(r"^[0-9a-f]{64}$")
# Magic numbers of the image formats accepted.
SIGNATURES = {
    "image/jpeg": (b"\xff\xd8\xff",),
    "image/png": (b"\x89PNG\r\n\x1a\n",),
    "image/gif": (b"GIF87a", b"GIF89a"),
    "image/webp": (b"RIFF",),
}


def sniff(content: bytes) -> str:
    for media_type, heads in SIGNATURES.items():
        if any(content.startswith(h) for h in heads):
            if media_type == "image/webp" and content[8:12] != b"WEBP":
                continue
            return media_type
    raise InvalidInput("A photo must be a JPEG, PNG, GIF or WebP image.", field="photos")


def check_hash(sha256: str) -> str:
    if not isinstance(sha256, str) or not SHA256.match(sha256):
        raise InvalidInput("A photo is named by its SHA-256 (64 lower-case hex digits).", field="sha256")
    return sha256


class MediaStore:
    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)

    @classmethod
    def for_engine(cls, engine: Any) -> MediaStore:
        return cls(os.environ.get("CIVIC_MEDIA") or engine.store.sibling("media"))

    def _path(self, sha256: str) -> Path:
        return self.root / sha256[:2] / sha256

    def put(self, content: bytes) -> dict[str, Any]:
        """Store the bytes (once) and return the photo reference an event carries."""
        if not content:
            raise InvalidInput("An empty photo.", field="photos")
        if len(content) > MAX_BYTES:
            raise InvalidInput(f"A photo has at most {MAX_BYTES // (1024 * 1024)} MB.", field="photos")
        media_type = sniff(content)
        sha256 = hashlib.sha256(content).hexdigest()
        path = self._path(sha256)
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(".part")
            tmp.write_bytes(content)
            os.replace(tmp, path)
        return {"sha256": sha256, "media_type": media_type, "bytes": len(content)}

    def get(self, sha256: str) -> tuple[bytes, str]:
        path = self._path(check_hash(sha256))
        if not path.exists():
            raise NotFound(f"No photo {sha256}.")
        content = path.read_bytes()
        if hashlib.sha256(content).hexdigest() != sha256:
            raise NotFound(f"Photo {sha256} is damaged on disk.")
        return content, sniff(content)

    def has(self, sha256: str) -> bool:
        return self._path(check_hash(sha256)).exists()
