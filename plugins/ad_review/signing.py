"""Members' Ed25519 keys: generate, sign, verify. Public keys travel as base64 of the 32 raw
bytes; private keys live with the member (a PEM file), never in the store."""

from __future__ import annotations

import base64
import binascii
from pathlib import Path

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


def save_private_key(key: Ed25519PrivateKey, path: Path) -> None:
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch(mode=0o600, exist_ok=False)
    path.write_bytes(pem)


def load_private_key(path: Path) -> Ed25519PrivateKey:
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError(f"{path} does not hold an Ed25519 private key")
    return key
