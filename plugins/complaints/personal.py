"""The reporter's name and phone: the only personal data of this plugin, kept through the core's
per-person data keys (``engine.privacy``: seal into an envelope, open, forget).

Everything personal goes through the three functions below, so the plugin has one seam with
``core.privacy``.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from core import ERASED, InvalidInput, normalise_phone

FIELD = "reporter"


def seal_reporter(engine: Any, complaint_id: UUID, name: str | None, phone: str | None) -> dict[str, Any] | None:
    """The envelope to store in the complaint's Received event (None for an anonymous report).
    Each reporter is a new subject: erasing one report's reporter touches nothing else."""
    name = (name or "").strip() or None
    phone = normalise_phone(phone) if phone and phone.strip() else None
    if name is None and phone is None:
        return None
    if name is not None and len(name) > 100:
        raise InvalidInput("A name has at most 100 characters.", field="name")
    privacy = engine.privacy
    subject = privacy.new_subject()
    return privacy.seal(subject, FIELD, {"name": name, "phone": phone}, where=complaint_id)


def open_reporter(engine: Any, complaint_id: UUID | str, envelope: dict[str, Any] | None) -> dict[str, Any] | None:
    """``{"name", "phone"}``; each reads as the core's ERASED marker once the reporter was
    forgotten; None for an anonymous report."""
    if envelope is None:
        return None
    value = engine.privacy.open(envelope, where=complaint_id)
    if value is ERASED:
        return {"name": ERASED, "phone": ERASED, "erased": True}
    return {"name": value.get("name"), "phone": value.get("phone"), "erased": False}


def reporter_subject(envelope: dict[str, Any] | None) -> str | None:
    return None if envelope is None else envelope.get("subject")


def forget_reporter(engine: Any, envelope: dict[str, Any] | None, actor: Any) -> bool:
    """Erase the reporter (crypto-shredding: the log and the reports stay as they are)."""
    subject = reporter_subject(envelope)
    if subject is None:
        return False
    return engine.privacy.forget(subject, actor=actor)
