"""Merkle tree hashing, proofs and their verification, exactly as RFC 9162 §2.1.

Pure: no I/O, no clock. Hashes are 32-byte ``bytes``. The tree of ``n`` leaves is the RFC's
``MTH(D[n])``: leaf hash ``SHA-256(0x00 ‖ leaf)``, node hash ``SHA-256(0x01 ‖ left ‖ right)``,
the left subtree of a tree of ``n > 1`` leaves holds the largest power of two ``k < n`` leaves.

Proof generation is written against a ``subtree(start, end)`` function returning the hash of
``D[start:end]``, so a caller can answer it from whatever it keeps (``MerkleTree`` keeps every
complete subtree, which makes any root or proof a matter of O(log² n) hash look-ups).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence

HASH_SIZE = 32
LEAF_PREFIX = b"\x00"
NODE_PREFIX = b"\x01"
EMPTY_ROOT = hashlib.sha256(b"").digest()

Subtree = Callable[[int, int], bytes]


class ProofError(ValueError):
    """A proof was asked for sizes or indices the tree cannot have."""


def leaf_hash(data: bytes) -> bytes:
    return hashlib.sha256(LEAF_PREFIX + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(NODE_PREFIX + left + right).digest()


def split_point(n: int) -> int:
    """The largest power of two smaller than ``n`` (``n > 1``)."""
    return 1 << ((n - 1).bit_length() - 1)


# -- generation -------------------------------------------------------------------------------
def inclusion_proof(index: int, size: int, subtree: Subtree) -> list[bytes]:
    """PATH(index, D[size]) of RFC 9162 §2.1.3.1, leaf-side first."""
    if not 0 <= index < size:
        raise ProofError(f"leaf index {index} is not in a tree of {size} leaves")
    proof: list[bytes] = []
    start, end = 0, size
    while end - start > 1:
        k = split_point(end - start)
        if index < start + k:
            proof.append(subtree(start + k, end))
            end = start + k
        else:
            proof.append(subtree(start, start + k))
            start += k
    proof.reverse()
    return proof


def consistency_proof(first: int, second: int, subtree: Subtree) -> list[bytes]:
    """PROOF(first, D[second]) of RFC 9162 §2.1.4.1; empty when ``first`` is 0 or equals ``second``."""
    if not 0 <= first <= second:
        raise ProofError(f"no consistency proof from {first} to {second} leaves")
    if first == 0 or first == second:
        return []
    proof: list[bytes] = []
    start, end, m, complete = 0, second, first, True
    while True:
        width = end - start
        if m == width:
            if not complete:
                proof.append(subtree(start, end))
            break
        k = split_point(width)
        if m <= k:
            proof.append(subtree(start + k, end))
            end = start + k
        else:
            proof.append(subtree(start, start + k))
            start += k
            m -= k
            complete = False
    proof.reverse()
    return proof


# -- verification -----------------------------------------------------------------------------
def verify_inclusion(leaf: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes) -> bool:
    """RFC 9162 §2.1.3.2: does ``proof`` show the leaf hash ``leaf`` at ``index`` under ``root``?"""
    if not 0 <= index < size:
        return False
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while not (fn & 1 or fn == 0):
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


def verify_consistency(
    first: int, second: int, first_root: bytes, second_root: bytes, proof: Sequence[bytes]
) -> bool:
    """RFC 9162 §2.1.4.2: is the tree of ``first`` leaves a prefix of the one of ``second``?

    The empty tree is a prefix of every tree (empty proof), and a tree is consistent with
    itself (empty proof, equal roots)."""
    if not 0 <= first <= second:
        return False
    if first == 0:
        return not proof and first_root == EMPTY_ROOT
    if first == second:
        return not proof and first_root == second_root
    if not proof:
        return False
    path = list(proof)
    if first & (first - 1) == 0:  # an exact power of two: the old root is a node of the new tree
        path.insert(0, first_root)
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while not (fn & 1 or fn == 0):
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return fr == first_root and sr == second_root and sn == 0


# -- an in-memory tree ------------------------------------------------------------------------
class MerkleTree:
    """Leaf hashes appended one by one; every complete subtree kept, so that the root of any
    earlier size and any proof come from O(log² n) look-ups and hashes.

    ``levels[h][i]`` is the hash of leaves ``[i·2^h, (i+1)·2^h)``. Append-only: a complete
    subtree never changes, so an earlier size's root is always recomputable.
    """

    __slots__ = ("levels",)

    def __init__(self, leaf_hashes: Sequence[bytes] = ()) -> None:
        self.levels: list[list[bytes]] = [[]]
        for h in leaf_hashes:
            self.append(h)

    @property
    def size(self) -> int:
        return len(self.levels[0])

    def __len__(self) -> int:
        return len(self.levels[0])

    def append(self, leaf: bytes) -> int:
        """Add a leaf hash; return its index."""
        levels = self.levels
        index = len(levels[0])
        levels[0].append(leaf)
        h, i, node = 0, index, leaf
        while i & 1:  # a right child completes its parent
            node = node_hash(levels[h][i - 1], node)
            h += 1
            i >>= 1
            if h == len(levels):
                levels.append([])
            levels[h].append(node)
        return index

    def leaf(self, index: int) -> bytes:
        if not 0 <= index < self.size:
            raise ProofError(f"no leaf {index} in a tree of {self.size} leaves")
        return self.levels[0][index]

    def subtree(self, start: int, end: int) -> bytes:
        """MTH(D[start:end]) for a range the RFC's recursion produces (``start`` a multiple of
        the largest power of two not above ``end - start``)."""
        n = end - start
        if n <= 0 or end > self.size:
            raise ProofError(f"no subtree [{start}, {end}) in a tree of {self.size} leaves")
        if n & (n - 1) == 0 and start % n == 0:
            h = n.bit_length() - 1
            return self.levels[h][start >> h]
        k = split_point(n)
        return node_hash(self.subtree(start, start + k), self.subtree(start + k, end))

    def root(self, size: int | None = None) -> bytes:
        size = self.size if size is None else size
        if not 0 <= size <= self.size:
            raise ProofError(f"no root for {size} leaves in a tree of {self.size}")
        return EMPTY_ROOT if size == 0 else self.subtree(0, size)

    def inclusion_proof(self, index: int, size: int | None = None) -> list[bytes]:
        size = self.size if size is None else size
        if size > self.size:
            raise ProofError(f"the tree has only {self.size} leaves, not {size}")
        return inclusion_proof(index, size, self.subtree)

    def consistency_proof(self, first: int, second: int | None = None) -> list[bytes]:
        second = self.size if second is None else second
        if second > self.size:
            raise ProofError(f"the tree has only {self.size} leaves, not {second}")
        return consistency_proof(first, second, self.subtree)


def root_of(leaf_hashes: Sequence[bytes]) -> bytes:
    """MTH of a list of leaf hashes, with no more memory than a stack of log n hashes."""
    stack: list[tuple[int, bytes]] = []  # (number of leaves, hash) of complete subtrees
    for h in leaf_hashes:
        width, node = 1, h
        while stack and stack[-1][0] == width:
            node = node_hash(stack.pop()[1], node)
            width *= 2
        stack.append((width, node))
    if not stack:
        return EMPTY_ROOT
    node = stack[-1][1]
    for _, left in reversed(stack[:-1]):
        node = node_hash(left, node)
    return node
