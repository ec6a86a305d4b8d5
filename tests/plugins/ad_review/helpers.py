"""Shared test helpers: members with keys, valid applications, and a signed decision."""

from __future__ import annotations

import hashlib
from typing import Any
from uuid import UUID

from core.engine import Engine
from core.plugins import make_plugin_manager
from plugins.ad_review import service, signing

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 64
PDF = b"%PDF-1.4\n" + b"x" * 64


def ad_engine(path: str, outbox: Any = None) -> Engine:
    return Engine(path, plugins=make_plugin_manager(allow={"ad_review"}), outbox=outbox)


def member_key(member: str):
    return signing.from_seed(hashlib.sha256(f"test member {member}".encode()).digest())


def join(engine: Engine, *members: str) -> None:
    for m in members:
        service.add_member(engine, "secretary", m, f"위원 {m}", signing.public_key_b64(member_key(m)))


def application(engine: Engine, **overrides: Any) -> dict[str, Any]:
    photo = service.store_attachment(engine, PNG + overrides.pop("salt", b""), "image/png")
    data = {
        "applicant": {"name": "홍길동", "phone": "010-1234-5678", "business": "을지로 커피"},
        "sign_type": "wall",
        "location": {"address": "서울 중구 을지로 100", "dong": "을지로동"},
        "size": {"width_m": 4, "height_m": 0.9},
        "illumination": "external",
        "attachments": [{"sha256": photo["sha256"]}],
    }
    data.update(overrides)
    return data


def sign_decision(member: str, sid: UUID, app: UUID, decision: str, reasons: str = "적합",
                  conditions: tuple[str, ...] = ()) -> str:
    message = signing.decision_bytes(str(sid), str(app), member, decision, reasons, list(conditions))
    return signing.sign(member_key(member), message)


def decide(engine: Engine, member: str, sid: UUID, app: UUID, decision: str, reasons: str = "적합",
           conditions: tuple[str, ...] = ()) -> None:
    if decision == "approve_with_conditions" and not conditions:
        conditions = ("야간 소등",)
    service.decide(engine, sid, app, member, decision, reasons, list(conditions),
                   sign_decision(member, sid, app, decision, reasons, conditions))


def recuse(engine: Engine, member: str, sid: UUID, app: UUID, reason: str = "이해관계") -> None:
    signature = signing.sign(member_key(member), signing.recusal_bytes(str(sid), str(app), member, reason))
    service.recuse(engine, sid, app, member, reason, signature)
