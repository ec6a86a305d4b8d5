"""The cryptography of the voting kit, as small functions over explicit keys (no storage).

- Voting codes: 6 characters from an alphabet without look-alikes (K-voting style), kept only as a
  keyed hash (HMAC-SHA-256 under an instance key), compared in constant time.
- Ballot credentials: a random 128-bit value plus the roll group, authenticated with an HMAC under
  a per-process instance key, so that the box accepts only credentials the roll issued without
  the box ever learning which entry a credential belongs to.
- Pseudonym: a public hash of the credential's random part; ballots are recorded under it.
- Sealing: HPKE (RFC 9180, X25519 / HKDF-SHA256 / AES-128-GCM) to the process's public key; the
  ``info`` binds the process, the pseudonym and the group, so a sealed ballot copied under
  another pseudonym or moved to another group does not open.
- Deposits: a cast ballot waits in the log, AES-GCM-encrypted under a per-process instance key
  that is never released, until it is moved into a shuffled batch.
- Tracking code: a hash of the sealed ballot.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import json
import os
import secrets
from json.encoder import encode_basestring as _encode_string
from typing import Any

import attrs
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hpke
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from core.canonical import CanonicalizationError, canonical_json

CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud and typed from SMS
CODE_LENGTH = 6
SUITE = hpke.Suite(hpke.KEM.X25519, hpke.KDF.HKDF_SHA256, hpke.AEAD.AES_128_GCM)
SUITE_NAME = "HPKE-Base X25519/HKDF-SHA256/AES-128-GCM"


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def canonical(value: Any) -> bytes:
    """RFC 8785 canonical JSON: the same content always seals the same plaintext."""
    return canonical_json(value)


# -- voting codes ------------------------------------------------------------------------------
def new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def normalise_code(code: str) -> str:
    """What a person typed, as the code it means: case, spaces and dashes do not matter."""
    return "".join(ch for ch in str(code).upper() if ch not in " -\t")


def code_hash(key: bytes, process_id: str, entry_id: str, code: str) -> str:
    message = canonical(["civic/voting-code/v1", process_id, entry_id, normalise_code(code)])
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def client_hash(key: bytes, process_id: str, client: str) -> str:
    """A keyed hash of a client identifier (an IP address, a session): counted, never stored."""
    return hmac.new(key, canonical(["civic/voting-client/v1", process_id, client]), hashlib.sha256).hexdigest()[:32]


# -- ballot credentials ------------------------------------------------------------------------
@attrs.frozen
class BallotCredential:
    """What a voter holds after authenticating: present it to cast (and recast) a ballot.

    ``token`` is the whole secret, a single string a client can store; ``group`` is the roll
    group the ballot will be counted in (a building, a constituency; "" when the roll has none).
    """

    token: str = attrs.field(repr=lambda _: "<secret>")
    group: str


def _credential_tag(key: bytes, process_id: str, nonce: bytes, group: str) -> bytes:
    return hmac.new(key, canonical(["civic/ballot-credential/v1", process_id, b64(nonce), group]),
                    hashlib.sha256).digest()[:16]


def new_credential(key: bytes, process_id: str, group: str) -> BallotCredential:
    nonce = secrets.token_bytes(16)
    tag = _credential_tag(key, process_id, nonce, group)
    token = ".".join((b64(nonce), b64(group.encode("utf-8")), b64(tag)))
    return BallotCredential(token=token, group=group)


def read_credential(key: bytes, process_id: str, token: str) -> tuple[bytes, str] | None:
    """(random part, group) of a credential this process issued, or None for anything else."""
    try:
        nonce_text, group_text, tag_text = str(token).strip().split(".")
        nonce, group, tag = unb64(nonce_text), unb64(group_text).decode("utf-8"), unb64(tag_text)
    except (ValueError, UnicodeDecodeError):
        return None
    if len(nonce) != 16 or not hmac.compare_digest(tag, _credential_tag(key, process_id, nonce, group)):
        return None
    return nonce, group


def pseudonym(process_id: str, nonce: bytes) -> str:
    """The name a credential's ballots carry in the box. A one-way public function, so a voter can
    compute it, and no one can go back from it to the credential."""
    return hashlib.sha256(canonical(["civic/ballot-pseudonym/v1", process_id, b64(nonce)])).hexdigest()[:32]


# -- sealing -----------------------------------------------------------------------------------
def ballot_private_key(seed: bytes) -> X25519PrivateKey:
    return X25519PrivateKey.from_private_bytes(seed[:32])


def public_key_text(private_key: X25519PrivateKey) -> str:
    return b64(private_key.public_key().public_bytes_raw())


def private_key_text(private_key: X25519PrivateKey) -> str:
    return b64(private_key.private_bytes_raw())


def _json_string(value: str) -> str:
    if type(value) is not str:
        raise TypeError("not a string")
    return _encode_string(value)


def _seal_info(process_id: str, pseudonym_: str, group: str) -> bytes:
    return canonical(["civic/sealed-ballot/v1", process_id, pseudonym_, group])


def ballot_public_key(public_key: str) -> X25519PublicKey:
    """The box's public key, parsed (parse once per box, not per ballot)."""
    return X25519PublicKey.from_public_bytes(unb64(public_key))


def seal(public_key: str | X25519PublicKey, process_id: str, pseudonym_: str, group: str, content: Any, *,
         plaintext: bytes | None = None) -> str:
    """``content`` sealed to the box key; ``plaintext``: its canonical JSON, when already made."""
    key = ballot_public_key(public_key) if isinstance(public_key, str) else public_key
    plaintext = canonical(content) if plaintext is None else plaintext
    return b64(SUITE.encrypt(plaintext, key, info=_seal_info(process_id, pseudonym_, group)))


class UnopenableBallot(ValueError):
    """A sealed ballot that does not open with the released key (tampered, copied or corrupt)."""


class BallotOpener:
    """Opens the sealed ballots of one process with its released key, parsed once (parsing it
    per ballot cost as much as the HPKE open itself)."""

    def __init__(self, private_key: str, process_id: str) -> None:
        try:
            self._key = X25519PrivateKey.from_private_bytes(unb64(private_key))
        except (ValueError, TypeError) as exc:
            raise UnopenableBallot("The released key is not an X25519 private key.") from exc
        self.process_id = process_id
        # the seal info's first two members, ready to be followed by the ballot's own two
        try:
            self._info_head: bytes | None = canonical(["civic/sealed-ballot/v1", process_id])[:-1] + b","
        except (CanonicalizationError, TypeError):
            self._info_head = None

    def info(self, pseudonym_: str, group: str) -> bytes:
        """``_seal_info`` of a ballot of this process, without walking the whole list again:
        RFC 8785 writes a list of strings as the standard library's encoder does."""
        try:
            if self._info_head is None:
                raise TypeError("no plain head")
            return self._info_head + f"{_json_string(pseudonym_)},{_json_string(group)}]".encode("utf-8")
        except (TypeError, UnicodeEncodeError):
            return _seal_info(self.process_id, pseudonym_, group)

    def plaintext(self, pseudonym_: str, group: str, sealed: str) -> bytes:
        """The canonical JSON sealed in the ballot; ``UnopenableBallot`` if it does not open."""
        try:
            return SUITE.decrypt(unb64(sealed), self._key, info=self.info(pseudonym_, group))
        except (InvalidTag, ValueError, TypeError, CanonicalizationError) as exc:
            raise UnopenableBallot("The sealed ballot does not open with the process key.") from exc

    def open(self, pseudonym_: str, group: str, sealed: str) -> Any:
        return json.loads(self.plaintext(pseudonym_, group, sealed))


def open_sealed(private_key: str, process_id: str, pseudonym_: str, group: str, sealed: str) -> Any:
    return BallotOpener(private_key, process_id).open(pseudonym_, group, sealed)


def keys_match(private_key: str, public_key: str) -> bool:
    try:
        derived = X25519PrivateKey.from_private_bytes(unb64(private_key)).public_key().public_bytes_raw()
    except ValueError:
        return False
    return hmac.compare_digest(derived, unb64(public_key))


def tracking_code(sealed: str) -> str:
    """The voter's receipt: 128 bits of SHA-256 over the sealed ballot, in groups of four."""
    d = hashlib.sha256(b"civic/tracking-code/v1\x00" + sealed.encode("ascii")).hexdigest()
    return f"{d[0:4]}-{d[4:8]}-{d[8:12]}-{d[12:16]}-{d[16:20]}-{d[20:24]}-{d[24:28]}-{d[28:32]}"


def normalise_tracking_code(code: str) -> str:
    flat = "".join(ch for ch in str(code).lower() if ch in "0123456789abcdef")
    return "-".join(flat[i:i + 4] for i in range(0, len(flat), 4))


# -- deposits (the pending pool) ---------------------------------------------------------------
@functools.lru_cache(maxsize=64)
def _deposit_cipher(key: bytes, process_id: str) -> tuple[AESGCM, bytes]:
    """The pool key's cipher and the associated data of one process (made once, not per deposit)."""
    return AESGCM(key), canonical(["civic/deposit/v1", process_id])


def wrap_deposit(key: bytes, process_id: str, item: dict[str, Any]) -> str:
    cipher, associated = _deposit_cipher(key, process_id)
    nonce = os.urandom(12)
    return b64(nonce + cipher.encrypt(nonce, canonical(item), associated))


def unwrap_deposit(key: bytes, process_id: str, blob: str) -> dict[str, Any]:
    cipher, associated = _deposit_cipher(key, process_id)
    raw = unb64(blob)
    return json.loads(cipher.decrypt(raw[:12], raw[12:], associated))


def deposit_slot(key: bytes, process_id: str, pseudonym_: str) -> str:
    """An opaque, stable name for a pseudonym's one deposit where revoting is not allowed: the
    store refuses a second one atomically, and no one without the instance key can link it."""
    return hmac.new(key, canonical(["civic/deposit-slot/v1", process_id, pseudonym_]), hashlib.sha256).hexdigest()
