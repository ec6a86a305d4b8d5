"""Attachments (photos, drawings) in a content-addressed file store beside the database.

The bytes are not events: the store keeps each file once under its SHA-256, and events carry only
``{sha256, media_type, size}``. The type is recognised from the bytes; the size is limited."""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path
from typing import Any

from core import Engine
from core import InvalidInput, NotFound
from plugins.ad_review import rules


class AttachmentStore:
    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)

    @classmethod
    def of(cls, engine: Engine) -> AttachmentStore:
        return cls(os.environ.get("CIVIC_ADREVIEW_ATTACHMENTS") or engine.store.sibling("attachments"))

    def path(self, sha256: str) -> Path:
        return self.root / sha256[:2] / sha256

    def put(self, data: bytes, declared_type: str | None = None) -> dict[str, Any]:
        """Store the bytes (once) and return their description; refuse what is too large, empty,
        of a type not allowed, or not of the type declared."""
        if not data:
            raise InvalidInput("The attachment is empty.", field="attachment")
        if len(data) > rules.MAX_ATTACHMENT_BYTES:
            raise InvalidInput(f"The attachment is {len(data)} bytes; the limit is "
                               f"{rules.MAX_ATTACHMENT_BYTES}.", field="attachment")
        media_type = rules.sniff_media_type(data[:16])
        if media_type is None:
            raise InvalidInput("Attachments must be JPEG or PNG photos or PDF drawings.", field="attachment")
        declared = (declared_type or "").split(";")[0].strip().lower()
        if declared and declared not in ("application/octet-stream", media_type):
            raise InvalidInput(f"The attachment was declared {declared} but is {media_type}.", field="attachment")
        digest = hashlib.sha256(data).hexdigest()
        target = self.path(digest)
        if not target.exists():
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
        return {"sha256": digest, "media_type": media_type, "size": len(data)}

    def get(self, sha256: str) -> bytes:
        path = self.path(sha256) if len(sha256) == 64 else None
        if path is None or not path.exists():
            raise NotFound(f"No attachment {sha256}.")
        data = path.read_bytes()
        if hashlib.sha256(data).hexdigest() != sha256:
            raise NotFound(f"The stored attachment {sha256} is damaged.")
        return data

    def describe(self, sha256: str) -> dict[str, Any] | None:
        """The description of a stored file, recomputed from its bytes; None when absent."""
        try:
            data = self.get(sha256)
        except NotFound:
            return None
        return {"sha256": sha256, "media_type": rules.sniff_media_type(data[:16]), "size": len(data)}
