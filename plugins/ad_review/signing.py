"""What a member signs and how: the canonical bytes of a decision, a recusal or a comment, and
Ed25519 keys (generate, sign, verify). Public keys travel as base64 of the 32 raw bytes; private
keys live with the member (a PEM file, written and read by the CLI), never in the store. Pure: no
I/O; the auditor verifies with these same functions."""

from __future__ import annotations

import base64
import binascii
import unicodedata
from collections.abc import Sequence
from typing import Any

import rfc8785
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def unb64(text: str) -> bytes:
    return base64.b64decode(text.encode("ascii"), validate=True)


def generate() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


def from_seed(seed: bytes) -> Ed25519PrivateKey:
    """A key from 32 seed bytes (reproducible demo members)."""
    return Ed25519PrivateKey.from_private_bytes(seed)


def public_key_b64(key: Ed25519PrivateKey) -> str:
    raw = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return b64(raw)


def parse_public_key(text: str) -> Ed25519PublicKey:
    """A public key from base64 of its 32 raw bytes; ValueError if it is not one."""
    try:
        raw = unb64(text.strip())
    except (binascii.Error, ValueError, AttributeError):
        raise ValueError("a public key is base64 of 32 bytes") from None
    if len(raw) != 32:
        raise ValueError("a public key is base64 of 32 bytes")
    return Ed25519PublicKey.from_public_bytes(raw)


def private_key_pem(key: Ed25519PrivateKey) -> bytes:
    """A private key as unencrypted PKCS#8 PEM (the member's key file)."""
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def private_key_from_pem(pem: bytes, source: str = "the key file") -> Ed25519PrivateKey:
    """A private key from PEM; ValueError if it is not an Ed25519 private key."""
    key = serialization.load_pem_private_key(pem, password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError(f"{source} does not hold an Ed25519 private key")
    return key


def sign(key: Ed25519PrivateKey, message: bytes) -> str:
    return b64(key.sign(message))


def verify(public_key_text: str, message: bytes, signature_text: str) -> bool:
    """True when ``signature_text`` (base64) is the key's signature of ``message``."""
    try:
        public_key = parse_public_key(public_key_text)
        signature = unb64(signature_text)
        public_key.verify(signature, message)
    except (InvalidSignature, ValueError, binascii.Error, TypeError, AttributeError):
        return False
    return True


# -- what members sign ------------------------------------------------------------------------------


def signed_bytes(action: str, **fields: Any) -> bytes:
    """The canonical bytes (RFC 8785 JSON) a member signs for ``action`` (decision, recusal,
    comment): the action's context string and its fields, so no signature can be replayed as
    another action, another member, another application or another session."""
    return rfc8785.dumps({"context": f"civic.ad_review.{action}.v1", **fields})


def decision_bytes(session: str, application: str, member: str, decision: str, reasons: str,
                   conditions: Sequence[str] = ()) -> bytes:
    """What a member signs to record a decision on an application in a session."""
    return signed_bytes("decision", session=session, application=application, member=member,
                        decision=decision, reasons=reasons, conditions=list(conditions))


def recusal_bytes(session: str, application: str, member: str, reason: str) -> bytes:
    """What a member signs to recuse from an application."""
    return signed_bytes("recusal", session=session, application=application, member=member, reason=reason)


def comment_bytes(session: str, application: str, member: str, text: str) -> bytes:
    """What a member signs to post a comment in an application's thread."""
    return signed_bytes("comment", session=session, application=application, member=member, text=text)


# -- the texts members type ---------------------------------------------------------------------


def normalise_text(text: str) -> str:
    """The one form of a member's text (reasons, conditions, a recusal's reason, a comment) that
    is signed and stored: Unicode NFC, every line end ``\n``, no spaces at the end of a line, no
    blank lines or spaces at the start or the end. Whoever signs (the CLI, a page) and the server
    that verifies both apply it, so a trailing space or a Windows line end cannot make a signature
    fail. Idempotent; anything other than text is returned unchanged (validation refuses it)."""
    if not isinstance(text, str):
        return text
    text = unicodedata.normalize("NFC", text).replace("\r\n", "\n").replace("\r", "\n")
    return "\n".join(line.rstrip() for line in text.split("\n")).strip()


def normalise_texts(texts: Sequence[str]) -> list[str]:
    """Each text of a list (a decision's conditions) in its normal form."""
    return [normalise_text(t) for t in texts]
