"""Photos by content hash: events carry a reference ``{sha256, media_type, bytes}`` to each
photo; the bytes live once in core's content-addressed store beside the store (``<db>.media/``,
or ``$CIVIC_MEDIA``), checked against their hash whenever they are read."""

from __future__ import annotations

from typing import Any

from core import BlobStore, InvalidInput

MAX_BYTES = 10 * 1024 * 1024
# Magic numbers of the image formats accepted.
SIGNATURES = {
    "image/jpeg": (b"\xff\xd8\xff",),
    "image/png": (b"\x89PNG\r\n\x1a\n",),
    "image/gif": (b"GIF87a", b"GIF89a"),
    "image/webp": (b"RIFF",),
}


def sniff(content: bytes) -> str:
    """The image's media type, read from its first bytes; anything else is refused."""
    for media_type, heads in SIGNATURES.items():
        if any(content.startswith(h) for h in heads):
            if media_type == "image/webp" and content[8:12] != b"WEBP":
                continue
            return media_type
    raise InvalidInput("A photo must be a JPEG, PNG, GIF or WebP image.", field="photos")


def check_photo(content: bytes) -> str:
    """Refuse an empty, oversized or non-image upload; return its media type."""
    if not content:
        raise InvalidInput("An empty photo.", field="photos")
    if len(content) > MAX_BYTES:
        raise InvalidInput(f"A photo has at most {MAX_BYTES // (1024 * 1024)} MB.", field="photos")
    return sniff(content)


def photo_store(engine: Any) -> BlobStore:
    return engine.blob_store("media", env="CIVIC_MEDIA", what="photo")


def keep_photo(engine: Any, content: bytes) -> dict[str, Any]:
    """Store the bytes (once) and return the photo reference an event carries."""
    media_type = check_photo(content)
    return {"sha256": photo_store(engine).put(content), "media_type": media_type, "bytes": len(content)}


def read_photo(engine: Any, sha256: str) -> tuple[bytes, str]:
    """The photo's bytes and media type (``NotFound`` when absent or damaged)."""
    store = photo_store(engine)
    content = store.get(store.check_name(sha256))
    return content, sniff(content)


def uploaded_photo(engine: Any, sha256: str) -> dict[str, Any]:
    """The reference to a photo uploaded before (refused when it is not there)."""
    store = photo_store(engine)
    if not store.has(store.check_name(sha256)):
        raise InvalidInput(f"No uploaded photo {sha256}; upload it first.", field="photos")
    content, media_type = read_photo(engine, sha256)
    return {"sha256": sha256, "media_type": media_type, "bytes": len(content)}
