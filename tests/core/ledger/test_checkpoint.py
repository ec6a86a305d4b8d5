"""C2SP signed notes and tlog checkpoints."""

from __future__ import annotations

import base64
import hashlib

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from hypothesis import given
from hypothesis import strategies as st

from core.ledger.checkpoint import Checkpoint, NoteError, SignedNote, SigningKey, VerifierKey

# The example key and note of Go's golang.org/x/mod/sumdb/note documentation and tests.
GO_SKEY = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
GO_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
GO_TEXT = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n"
GO_NOTE = (GO_TEXT + "\n— PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqd"
           "ngotpRZb6KE6RyyBwJnAM=\n")


def test_keys_and_signatures_agree_with_go_sumdb_note():
    key = SigningKey.parse(GO_SKEY)
    assert str(key) == GO_SKEY
    assert str(key.verifier) == GO_VKEY
    assert VerifierKey.parse(GO_VKEY) == key.verifier
    assert key.sign(GO_TEXT) == GO_NOTE  # Ed25519 is deterministic
    assert key.verifier.verify(GO_NOTE) == GO_TEXT


def test_key_id_is_the_spec_hash_of_name_and_key():
    key = SigningKey.generate("example.com/log")
    pub = key.verifier.public_key
    expected = hashlib.sha256(b"example.com/log\n\x01" + pub).digest()[:4]
    assert key.verifier.key_id == expected
    encoded = base64.b64encode(b"\x01" + pub).decode()
    assert str(key.verifier) == f"example.com/log+{expected.hex()}+{encoded}"


def test_a_signed_checkpoint_has_the_c2sp_shape():
    key = SigningKey.generate("civic.example/ledger")
    root = hashlib.sha256(b"root").digest()
    note = key.sign(Checkpoint("civic.example/ledger", 42, root).body())
    body, sig_line = note.split("\n\n")
    assert body.split("\n") == ["civic.example/ledger", "42", base64.b64encode(root).decode()]
    assert sig_line.startswith("\u2014 civic.example/ledger ") and sig_line.endswith("\n")
    blob = base64.b64decode(sig_line.split(" ")[2])
    assert blob[:4] == key.verifier.key_id and len(blob) == 68
    # the signature is Ed25519 over the body text, checked here with the library directly
    Ed25519PublicKey.from_public_bytes(key.verifier.public_key).verify(blob[4:], (body + "\n").encode())
    opened = key.verifier.open_checkpoint(note)
    assert (opened.origin, opened.size, opened.root_hash) == ("civic.example/ledger", 42, root)


@given(st.integers(0, 2**63), st.binary(min_size=32, max_size=32),
       st.lists(st.text(st.characters(min_codepoint=33, max_codepoint=0x2FFF), min_size=1, max_size=8), max_size=3))
def test_checkpoint_bodies_round_trip(size, root, extensions):
    checkpoint = Checkpoint("o.example/x", size, root, tuple(extensions))
    assert Checkpoint.parse(checkpoint.body()) == checkpoint


@pytest.mark.parametrize("body", [
    "o\n12\n",                                # no root line
    "o\n012\n" + "A" * 43 + "=\n",            # leading zero
    "o\n-1\n" + "A" * 43 + "=\n",
    "o\n12\n" + base64.b64encode(b"x" * 31).decode() + "\n",  # not 32 bytes
    "o\n12\nnot base64!\n",
    "\n12\n" + "A" * 43 + "=\n",              # empty origin
    "o\n12\n" + "A" * 43 + "=",               # no final newline
    "o\n12\n" + "A" * 43 + "=\n\n",           # empty extension line
])
def test_malformed_checkpoint_bodies_are_refused(body):
    with pytest.raises(NoteError):
        Checkpoint.parse(body)


def test_verification_refuses_other_keys_and_altered_notes():
    key = SigningKey.generate("log.example")
    note = key.sign(Checkpoint("log.example", 3, b"\x01" * 32).body())
    stranger = SigningKey.generate("log.example")  # same name, other key
    with pytest.raises(NoteError, match="not signed by the ledger key"):
        key.verifier.verify(stranger.sign(Checkpoint("log.example", 3, b"\x01" * 32).body()))
    with pytest.raises(NoteError, match="does not verify"):
        key.verifier.verify(note.replace("\n3\n", "\n4\n"))
    other_origin = SigningKey("other.example", key.seed)
    with pytest.raises(NoteError, match="origin"):
        other_origin.verifier.open_checkpoint(other_origin.sign(Checkpoint("log.example", 3, b"\x01" * 32).body()))
    # extra signatures by unknown keys are ignored, as the spec says
    cosigned = note + stranger.sign("x\n").split("\n\n")[1]
    assert key.verifier.verify(cosigned) == Checkpoint("log.example", 3, b"\x01" * 32).body()


@pytest.mark.parametrize("note", [
    "text without signatures\n",
    "text\n\n- name c2lnbmF0dXJl\n",          # hyphen, not an em dash
    "text\n\n\u2014 name\n",
    "text\n\n\u2014 name not*base64\n",
    "text\n\n\u2014 na+me AAAAAAAA\n",
    "text\x07\n\n\u2014 name AAAAAAAA\n",
])
def test_malformed_notes_are_refused(note):
    with pytest.raises(NoteError):
        SignedNote.parse(note)


def test_keys_round_trip_and_refuse_mismatched_ids():
    key = SigningKey.generate("a.example/b")
    assert SigningKey.parse(str(key)) == key
    assert VerifierKey.parse(str(key.verifier)) == key.verifier
    name, hex_id, rest = str(key.verifier).split("+", 2)
    with pytest.raises(NoteError):
        VerifierKey.parse(f"{name}+00000000+{rest}")
    with pytest.raises(NoteError):
        SigningKey.parse(str(key).replace("PRIVATE", "PUBLIC"))
    with pytest.raises(NoteError):
        SigningKey.generate("has space")


@given(st.binary(min_size=32, max_size=32))
def test_any_key_round_trips_even_with_plus_signs_in_its_base64(seed):
    key = SigningKey("n.example", seed)
    assert SigningKey.parse(str(key)) == key
    assert VerifierKey.parse(str(key.verifier)) == key.verifier
