"""RFC 9162 §2.1 trees and proofs, against the RFC's recursive definitions written out plainly
here, known answers from Certificate Transparency, and the independent ``pymerkle``."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pymerkle import InmemoryTree

from core.ledger import merkle
from core.ledger.merkle import MerkleTree, root_of, verify_consistency, verify_inclusion


# -- the RFC, transcribed: slices and recursion, nothing shared with the code under test -----
def sha(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def k_of(n: int) -> int:
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def mth(d: list[bytes]) -> bytes:
    if len(d) == 0:
        return sha(b"")
    if len(d) == 1:
        return sha(b"\x00" + d[0])
    k = k_of(len(d))
    return sha(b"\x01" + mth(d[:k]) + mth(d[k:]))


def path(m: int, d: list[bytes]) -> list[bytes]:
    if len(d) == 1:
        return []
    k = k_of(len(d))
    if m < k:
        return path(m, d[:k]) + [mth(d[k:])]
    return path(m - k, d[k:]) + [mth(d[:k])]


def subproof(m: int, d: list[bytes], b: bool) -> list[bytes]:
    if m == len(d):
        return [] if b else [mth(d)]
    k = k_of(len(d))
    if m <= k:
        return subproof(m, d[:k], b) + [mth(d[k:])]
    return subproof(m - k, d[k:], False) + [mth(d[:k])]


def leaves_of(n: int, salt: int = 0) -> list[bytes]:
    return [f"{salt}:{i}".encode() for i in range(n)]


def tree_of(data: list[bytes]) -> MerkleTree:
    return MerkleTree([merkle.leaf_hash(x) for x in data])


# -- known answers: the eight leaves of the certificate-transparency test suite ----------------
CT_LEAVES = [bytes.fromhex(h) for h in (
    "", "00", "10", "2021", "3031", "40414243", "5051525354555657", "606162636465666768696a6b6c6d6e6f")]
CT_ROOTS = [
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]


def test_roots_match_the_certificate_transparency_vectors():
    tree = tree_of(CT_LEAVES)
    for size, expected in enumerate(CT_ROOTS):
        assert tree.root(size).hex() == expected
        assert root_of(tree.levels[0][:size]).hex() == expected


def test_leaf_and_node_hashes_carry_the_rfc_prefixes():
    assert merkle.leaf_hash(b"x") == sha(b"\x00x")
    assert merkle.node_hash(b"L" * 32, b"R" * 32) == sha(b"\x01" + b"L" * 32 + b"R" * 32)
    assert merkle.EMPTY_ROOT == sha(b"")


# -- properties against the transcription -----------------------------------------------------
@given(st.integers(1, 300), st.data())
def test_roots_and_proofs_agree_with_the_rfc_recursion(n, data):
    d = leaves_of(n)
    tree = tree_of(d)
    size = data.draw(st.integers(1, n), label="size")
    index = data.draw(st.integers(0, size - 1), label="index")
    first = data.draw(st.integers(1, size), label="first")
    assert tree.root(size) == mth(d[:size])
    proof = tree.inclusion_proof(index, size)
    assert proof == path(index, d[:size])
    assert verify_inclusion(tree.leaf(index), index, size, proof, mth(d[:size]))
    cproof = tree.consistency_proof(first, size)
    assert cproof == subproof(first, d[:size], True)
    assert verify_consistency(first, size, mth(d[:first]), mth(d[:size]), cproof)


@given(st.integers(2, 200), st.data())
def test_verifiers_reject_what_does_not_hold(n, data):
    d = leaves_of(n)
    tree = tree_of(d)
    size = data.draw(st.integers(2, n), label="size")
    index = data.draw(st.integers(0, size - 1), label="index")
    root = tree.root(size)
    proof = tree.inclusion_proof(index, size)
    leaf = tree.leaf(index)
    other = data.draw(st.integers(0, size - 1).filter(lambda i: i != index), label="other")
    assert not verify_inclusion(leaf, other, size, proof, root)
    assert not verify_inclusion(sha(b"forged"), index, size, proof, root)
    assert not verify_inclusion(leaf, index, size, proof, sha(b"other root"))
    assert not verify_inclusion(leaf, index, size, proof + [root], root)
    if proof:
        j = data.draw(st.integers(0, len(proof) - 1), label="flip")
        bent = list(proof)
        bent[j] = sha(bent[j])
        assert not verify_inclusion(leaf, index, size, bent, root)
        assert not verify_inclusion(leaf, index, size, proof[:-1], root)

    first = data.draw(st.integers(1, size - 1), label="first")
    cproof = tree.consistency_proof(first, size)
    old = tree.root(first)
    assert not verify_consistency(first, size, old, sha(b"x"), cproof)
    assert not verify_consistency(first, size, sha(b"x"), root, cproof)
    # a tree that does not extend the old one: change one of the old leaves
    forked = tree_of(d[:first - 1] + [b"forged"] + d[first:size])
    assert not verify_consistency(first, size, old, forked.root(), forked.consistency_proof(first, size))
    j = data.draw(st.integers(0, len(cproof) - 1), label="flip")
    bent = list(cproof)
    bent[j] = sha(bent[j])
    assert not verify_consistency(first, size, old, root, bent)
    assert not verify_consistency(first, size, old, root, [])


def test_edge_sizes():
    tree = tree_of(leaves_of(5))
    assert verify_consistency(0, 5, merkle.EMPTY_ROOT, tree.root(), [])
    assert verify_consistency(5, 5, tree.root(), tree.root(), [])
    assert not verify_consistency(5, 5, tree.root(), tree.root(4), [])
    assert not verify_consistency(4, 3, tree.root(4), tree.root(3), [])
    assert tree.consistency_proof(0, 5) == [] and tree.consistency_proof(5) == []
    assert not verify_inclusion(tree.leaf(0), 5, 5, [], tree.root())
    assert verify_inclusion(tree.leaf(0), 0, 1, [], tree.root(1))
    for bad in ((5, 5), (-1, 3), (0, 0)):
        with pytest.raises(merkle.ProofError):
            tree.inclusion_proof(*bad)
    with pytest.raises(merkle.ProofError):
        tree.root(6)
    with pytest.raises(merkle.ProofError):
        tree.consistency_proof(3, 9)
    assert MerkleTree().root() == merkle.EMPTY_ROOT == root_of([])


# -- the independent implementation ---------------------------------------------------------
PYMERKLE_LEAVES = [hashlib.sha256(i.to_bytes(4, "big")).digest()[: 1 + i % 40] for i in range(5000)]


@pytest.fixture(scope="module")
def pymerkle_tree() -> InmemoryTree:
    # pymerkle's default ("security" on) is RFC 9162's: 0x00 before leaves, 0x01 before nodes
    tree = InmemoryTree(algorithm="sha256")
    assert tree.leaf_prefix == b"\x00" and tree.node_prefix == b"\x01"
    for entry in PYMERKLE_LEAVES:
        tree.append_entry(entry)
    return tree


@pytest.fixture(scope="module")
def our_tree() -> MerkleTree:
    return tree_of(PYMERKLE_LEAVES)


@given(size=st.integers(1, 5000))
def test_roots_agree_with_pymerkle_for_sizes_up_to_5000(pymerkle_tree, our_tree, size):
    expected = pymerkle_tree.get_root(size)
    assert our_tree.root(size) == expected
    assert root_of([merkle.leaf_hash(x) for x in PYMERKLE_LEAVES[:size]]) == expected


def test_roots_agree_with_pymerkle_at_the_bounds(pymerkle_tree, our_tree):
    for size in (1, 2, 3, 4095, 4096, 4097, 5000):
        assert our_tree.root(size) == pymerkle_tree.get_root(size)
