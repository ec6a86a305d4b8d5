"""Bearer tokens: HMAC-signed, needing no storage. A token carries its account's *generation*,
which a password change or disabling bumps, so old tokens stop working."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import datetime
from typing import Any

import attrs

from core.actors import Actor

TOKEN_PREFIX = "civic1"


@attrs.frozen
class Token:
    token: str
    expires_at: datetime
    actor: Actor

    def public(self) -> dict[str, Any]:
        return {"token": self.token, "token_type": "Bearer", "expires_at": self.expires_at.isoformat(),
                "actor": self.actor.public()}


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))



def sign_claims(key: bytes, claims: dict[str, Any]) -> str:
    body = json.dumps(claims, separators=(",", ":")).encode()
    mac = hmac.new(key, body, hashlib.sha256).digest()
    return f"{TOKEN_PREFIX}.{_b64(body)}.{_b64(mac)}"


def verified_claims(key: bytes, token: str) -> dict[str, Any] | None:
    """The claims of a well-formed token signed with ``key``; None otherwise."""
    try:
        prefix, body_text, mac_text = token.strip().split(".")
        body, mac = _unb64(body_text), _unb64(mac_text)
    except ValueError:
        return None
    expected = hmac.new(key, body, hashlib.sha256).digest()
    if prefix != TOKEN_PREFIX or not hmac.compare_digest(mac, expected):
        return None
    try:
        claims = json.loads(body)
    except ValueError:
        return None
    return claims if isinstance(claims, dict) else None
