"""Checkpoints in the C2SP formats: a ``tlog-checkpoint`` body in an Ed25519 ``signed-note``.

A checkpoint body is three lines (origin, tree size in decimal, base64 root hash) and optional
extension lines, each ending in a newline. A signed note is that text, a blank line, and one
line per signature: ``— <key name> <base64(4-byte key id ‖ 64-byte Ed25519 signature)>``. The
key id is the first four bytes of SHA-256(key name ‖ 0x0A ‖ 0x01 ‖ public key); 0x01 names the
Ed25519 algorithm. Keys use the same text forms as Go's ``golang.org/x/mod/sumdb/note``:
verifier key ``<name>+<hex id>+<base64(0x01 ‖ public key)>``, private key ``PRIVATE+KEY+<name>+
<hex id>+<base64(0x01 ‖ seed)>``.

The ledger records each checkpoint it signs as a ``LedgerCheckpoint.Signed`` event, so the log
itself carries its signed history.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
import secrets
from uuid import UUID

import attrs
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from core.domain import CivicAggregate, event, natural_id
from core.ledger.merkle import HASH_SIZE

ALG_ED25519 = 0x01
SIG_PREFIX = "\u2014 "  # em dash, space
MAX_SIGNATURES = 100
_NAME = re.compile(r"^[^\s+]+$")
_DECIMAL = re.compile(r"^(0|[1-9][0-9]*)$")


class NoteError(ValueError):
    """A note, checkpoint or key that is malformed or whose signature does not verify."""


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def unb64(text: str, what: str) -> bytes:
    try:
        return base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError, ValueError):
        raise NoteError(f"{what} is not valid base64") from None


def key_id(name: str, public_key: bytes) -> bytes:
    return hashlib.sha256(name.encode() + b"\n" + bytes([ALG_ED25519]) + public_key).digest()[:4]


def _check_name(name: str) -> str:
    if not name or not _NAME.match(name):
        raise NoteError(f"key name {name!r} must be non-empty, without spaces or '+'")
    return name


# -- checkpoint bodies ------------------------------------------------------------------------
@attrs.frozen
class Checkpoint:
    """The signed statement: in the log ``origin``, the first ``size`` leaves hash to ``root``."""

    origin: str
    size: int
    root_hash: bytes
    extensions: tuple[str, ...] = ()

    def body(self) -> str:
        lines = [self.origin, str(self.size), b64(self.root_hash), *self.extensions]
        return "".join(line + "\n" for line in lines)

    @classmethod
    def parse(cls, body: str) -> Checkpoint:
        if not body.endswith("\n"):
            raise NoteError("a checkpoint body ends with a newline")
        lines = body[:-1].split("\n")
        if len(lines) < 3:
            raise NoteError("a checkpoint body has an origin, a tree size and a root hash line")
        origin, size, root, *extensions = lines
        if not origin:
            raise NoteError("the checkpoint origin line is empty")
        if not _DECIMAL.match(size):
            raise NoteError(f"tree size {size!r} is not a decimal number")
        root_hash = unb64(root, "the root hash")
        if len(root_hash) != HASH_SIZE:
            raise NoteError("the root hash is not 32 bytes")
        if any(not line for line in extensions):
            raise NoteError("a checkpoint extension line is empty")
        return cls(origin, int(size), root_hash, tuple(extensions))

    def to_json(self) -> dict[str, object]:
        return {"origin": self.origin, "size": self.size, "root_hash": b64(self.root_hash)}


# -- signed notes -----------------------------------------------------------------------------
def note_text(note: str) -> str:
    """The text of a signed note (what precedes the blank line and the signatures), unchecked."""
    split = note.rfind("\n\n")
    if split < 0:
        raise NoteError("not a signed note: no blank line before signatures")
    return note[: split + 1]


@attrs.frozen
class NoteSignature:
    name: str
    key_id: bytes
    signature: bytes

    def line(self) -> str:
        return f"{SIG_PREFIX}{self.name} {b64(self.key_id + self.signature)}\n"


@attrs.frozen
class SignedNote:
    text: str
    signatures: tuple[NoteSignature, ...]

    @classmethod
    def parse(cls, note: str) -> SignedNote:
        """Split a note into its text and signature lines (signatures are not checked here)."""
        if any(ord(c) < 0x20 and c != "\n" for c in note):
            raise NoteError("a note holds no control characters besides newlines")
        split = note.rfind("\n\n")
        if split < 0:
            raise NoteError("a signed note has a blank line before its signatures")
        text, sig_block = note[: split + 1], note[split + 2 :]
        if not sig_block.endswith("\n"):
            raise NoteError("a signed note ends with a newline")
        lines = sig_block[:-1].split("\n")
        if len(lines) > MAX_SIGNATURES:
            raise NoteError("too many signatures")
        signatures = []
        for line in lines:
            if not line.startswith(SIG_PREFIX):
                raise NoteError(f"signature line {line!r} does not start with '— '")
            parts = line[len(SIG_PREFIX) :].split(" ")
            if len(parts) != 2:
                raise NoteError(f"signature line {line!r} is not '— <name> <signature>'")
            name, blob = _check_name(parts[0]), unb64(parts[1], "a signature")
            if len(blob) < 5:
                raise NoteError("a signature is too short")
            signatures.append(NoteSignature(name, blob[:4], blob[4:]))
        return cls(text, tuple(signatures))


@attrs.frozen
class VerifierKey:
    name: str
    public_key: bytes

    @property
    def key_id(self) -> bytes:
        return key_id(self.name, self.public_key)

    def __str__(self) -> str:
        return f"{self.name}+{self.key_id.hex()}+{b64(bytes([ALG_ED25519]) + self.public_key)}"

    @classmethod
    def parse(cls, text: str) -> VerifierKey:
        parts = text.strip().split("+", 2)  # base64 may hold '+'; the name and id may not
        if len(parts) != 3:
            raise NoteError("a verifier key reads <name>+<hex key id>+<base64 key>")
        name, hex_id, encoded = parts
        raw = unb64(encoded, "the verifier key")
        if len(raw) != 33 or raw[0] != ALG_ED25519:
            raise NoteError("the verifier key is not an Ed25519 key")
        key = cls(_check_name(name), raw[1:])
        if key.key_id.hex() != hex_id.lower():
            raise NoteError("the verifier key's id does not match its name and key")
        return key

    def verify(self, note: str) -> str:
        """The note's text if it carries a valid signature by this key; ``NoteError`` otherwise.
        Signatures by other keys are ignored, as the signed-note spec says."""
        parsed = SignedNote.parse(note)
        public = Ed25519PublicKey.from_public_bytes(self.public_key)
        mine = [s for s in parsed.signatures if s.name == self.name and s.key_id == self.key_id]
        for sig in mine:
            try:
                public.verify(sig.signature, parsed.text.encode())
            except InvalidSignature:
                continue
            return parsed.text
        if mine:
            raise NoteError(f"the signature by {self.name} does not verify")
        names = ", ".join(f"{s.name} ({s.key_id.hex()})" for s in parsed.signatures) or "none"
        raise NoteError(f"not signed by the ledger key {self.name} ({self.key_id.hex()}); signed by: {names}")

    def open_checkpoint(self, note: str) -> Checkpoint:
        """Verify a signed checkpoint note and parse its body; its origin must be the key name."""
        checkpoint = Checkpoint.parse(self.verify(note))
        if checkpoint.origin != self.name:
            raise NoteError(f"the checkpoint's origin {checkpoint.origin!r} is not the log {self.name!r}")
        return checkpoint

    def to_json(self) -> dict[str, str]:
        return {
            "name": self.name,
            "algorithm": "Ed25519",
            "public_key": b64(self.public_key),
            "key_id": self.key_id.hex(),
            "verifier_key": str(self),
        }


@attrs.frozen
class SigningKey:
    name: str
    seed: bytes = attrs.field(repr=False)

    @classmethod
    def generate(cls, name: str) -> SigningKey:
        return cls(_check_name(name), secrets.token_bytes(32))

    @property
    def _private(self) -> Ed25519PrivateKey:
        return Ed25519PrivateKey.from_private_bytes(self.seed)

    @property
    def verifier(self) -> VerifierKey:
        public = self._private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        return VerifierKey(self.name, public)

    def sign(self, text: str) -> str:
        """A signed note of ``text`` (which must end with a newline)."""
        if not text.endswith("\n"):
            raise NoteError("note text ends with a newline")
        signature = self._private.sign(text.encode())
        line = NoteSignature(self.name, self.verifier.key_id, signature).line()
        return f"{text}\n{line}"

    def __str__(self) -> str:
        """The private key's text form (keep it secret)."""
        return f"PRIVATE+KEY+{self.name}+{self.verifier.key_id.hex()}+{b64(bytes([ALG_ED25519]) + self.seed)}"

    @classmethod
    def parse(cls, text: str) -> SigningKey:
        parts = text.strip().split("+", 4)
        if len(parts) != 5 or parts[:2] != ["PRIVATE", "KEY"]:
            raise NoteError("a private key reads PRIVATE+KEY+<name>+<hex key id>+<base64 key>")
        _, _, name, hex_id, encoded = parts
        raw = unb64(encoded, "the private key")
        if len(raw) != 33 or raw[0] != ALG_ED25519:
            raise NoteError("the private key is not an Ed25519 key")
        key = cls(_check_name(name), raw[1:])
        if key.verifier.key_id.hex() != hex_id.lower():
            raise NoteError("the private key's id does not match its name and key")
        return key


def default_origin(seed_hint: bytes | None = None) -> str:
    """A unique log name for a new instance: ``civic/ledger/<16 hex>``."""
    return "civic/ledger/" + (seed_hint or secrets.token_bytes(8)).hex()[:16]


# -- the record of a checkpoint in the log ----------------------------------------------------
class LedgerCheckpoint(CivicAggregate):
    """A checkpoint the ledger signed, recorded in the log it speaks about (so it becomes a later
    leaf). One aggregate per log size: recording the same size twice is refused by the store."""

    @event("Signed")
    def __init__(self, note: str) -> None:
        self.note = note

    @staticmethod
    def id_for(origin: str, size: int) -> UUID:
        return natural_id("ledger-checkpoint", origin, size)

    @classmethod
    def record(cls, origin: str, size: int, note: str) -> LedgerCheckpoint:
        return cls._create(cls.Signed, id=cls.id_for(origin, size), note=note)


CHECKPOINT_TOPIC = "core.ledger.checkpoint:LedgerCheckpoint.Signed"
