"""RFC 9162 (RFC 6962) Merkle tree hashing, inclusion and consistency proofs, with SHA-256.

Pure functions. A tree is read through a :data:`HashAt` function that returns the hash of the
*perfect* subtree at ``level`` and position ``n`` (it covers leaves ``[n * 2**level,
(n + 1) * 2**level)``); :class:`MemoryTree` is one, the tiles of ``pollnet.tlog.tiles`` another.
Proofs are generated the way RFC 9162 section 2.1 defines ``PATH`` and ``SUBPROOF`` and verified
with the algorithms of sections 2.1.3.2 and 2.1.4.2.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()
"""The root of the empty tree: SHA-256 of nothing (RFC 9162, section 2.1.1)."""

HashAt = Callable[[int, int], bytes]
"""``hash_at(level, n)``: the hash of the perfect subtree of ``2**level`` leaves at position n."""


class ProofError(ValueError):
    """A proof that does not verify, or a request for one that cannot exist."""


# SHA-256 states that have taken in the domain-separation byte: copying one is several times
# cheaper than a new hash object (OpenSSL 3 looks the algorithm up on every ``sha256()``).
_LEAF = hashlib.sha256(b"\x00")
_NODE = hashlib.sha256(b"\x01")


def leaf_hash(entry: bytes) -> bytes:
    """``SHA-256(0x00 || entry)``: the hash of a leaf."""
    h = _LEAF.copy()
    h.update(entry)
    return h.digest()


def leaf_hashes(entries: Iterable[bytes]) -> list[bytes]:
    """The leaf hash of each of ``entries``, in order."""
    start = _LEAF
    out = []
    for entry in entries:
        h = start.copy()
        h.update(entry)
        out.append(h.digest())
    return out


def node_hash(left: bytes, right: bytes) -> bytes:
    """``SHA-256(0x01 || left || right)``: the hash of an interior node."""
    h = _NODE.copy()
    h.update(left)
    h.update(right)
    return h.digest()


def perfect_root(hashes: Sequence[bytes]) -> bytes:
    """The root of a perfect tree over ``hashes`` (a power of two of them, at least one): an
    entry bundle's root from its leaf hashes, a tile's subtree from its hashes."""
    start = _NODE
    row = list(hashes)
    while len(row) > 1:
        out = []
        for left, right in zip(row[::2], row[1::2], strict=True):
            h = start.copy()
            h.update(left + right)
            out.append(h.digest())
        row = out
    return row[0]


def _split(n: int) -> int:
    """The largest power of two smaller than ``n`` (``n`` > 1)."""
    return 1 << ((n - 1).bit_length() - 1)


def subtree_hash(hash_at: HashAt, lo: int, hi: int) -> bytes:
    """MTH(D[lo:hi]) for a range that RFC 9162's recursion visits (``lo`` aligned to it)."""
    size = hi - lo
    if size <= 0:
        raise ProofError("empty range")
    if size & (size - 1) == 0:
        level = size.bit_length() - 1
        return hash_at(level, lo >> level)
    k = _split(size)
    return node_hash(subtree_hash(hash_at, lo, lo + k), subtree_hash(hash_at, lo + k, hi))


def tree_hash(hash_at: HashAt, size: int) -> bytes:
    """The root hash of the tree of the first ``size`` leaves."""
    return EMPTY_ROOT if size == 0 else subtree_hash(hash_at, 0, size)


def inclusion_proof(hash_at: HashAt, index: int, size: int) -> list[bytes]:
    """PATH(index, D[0:size]): the audit path from the leaf's sibling up to the root's child."""
    if not 0 <= index < size:
        raise ProofError(f"index {index} is not in a tree of size {size}")
    proof: list[bytes] = []
    lo, hi = 0, size
    while hi - lo > 1:
        k = _split(hi - lo)
        if index < lo + k:
            proof.append(subtree_hash(hash_at, lo + k, hi))
            hi = lo + k
        else:
            proof.append(subtree_hash(hash_at, lo, lo + k))
            lo = lo + k
    proof.reverse()
    return proof


def consistency_proof(hash_at: HashAt, old: int, new: int) -> list[bytes]:
    """PROOF(old, D[0:new]) of RFC 9162 section 2.1.4.1 (empty when ``old`` is 0 or ``new``)."""
    if not 0 <= old <= new:
        raise ProofError(f"no consistency proof from size {old} to size {new}")
    if old in (0, new):
        return []
    proof: list[bytes] = []
    lo, hi, whole = 0, new, True
    m = old
    while True:
        if m == hi - lo:
            if not whole:
                proof.append(subtree_hash(hash_at, lo, hi))
            break
        k = _split(hi - lo)
        if m <= k:
            proof.append(subtree_hash(hash_at, lo + k, hi))
            hi = lo + k
        else:
            proof.append(subtree_hash(hash_at, lo, lo + k))
            lo, m, whole = lo + k, m - k, False
    proof.reverse()
    return proof


def root_from_inclusion(index: int, size: int, leaf: bytes, proof: Sequence[bytes]) -> bytes:
    """The root an inclusion proof leads to (RFC 9162, section 2.1.3.2); raises on a bad shape."""
    if not 0 <= index < size:
        raise ProofError(f"index {index} is not in a tree of size {size}")
    _check_hashes([leaf, *proof])
    fn, sn = index, size - 1
    r = leaf
    for p in proof:
        if sn == 0:
            raise ProofError("the inclusion proof is too long")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while fn & 1 == 0 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError("the inclusion proof is too short")
    return r


def verify_inclusion(
    index: int, size: int, leaf: bytes, proof: Sequence[bytes], root: bytes
) -> None:
    """Raise :class:`ProofError` unless ``proof`` shows leaf ``index`` in the tree ``root``."""
    if root_from_inclusion(index, size, leaf, proof) != root:
        raise ProofError("the inclusion proof does not lead to the root")


def verify_consistency(
    old: int, new: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> None:
    """Raise :class:`ProofError` unless ``proof`` shows tree ``old`` is a prefix of tree ``new``.

    The algorithm of RFC 9162 section 2.1.4.2; size 0 is consistent with everything.
    """
    if not 0 <= old <= new:
        raise ProofError(f"size {new} cannot follow size {old}")
    _check_hashes(proof)
    if old == new:
        if proof:
            raise ProofError("a proof between equal sizes must be empty")
        if old_root != new_root:
            raise ProofError("two different roots for one size")
        return
    if old == 0:
        if proof:
            raise ProofError("a proof from the empty tree must be empty")
        return
    if not proof:
        raise ProofError("the consistency proof is empty")
    path = list(proof)
    if old & (old - 1) == 0:  # old is a power of two: its root is the first node
        path.insert(0, old_root)
    fn, sn = old - 1, new - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise ProofError("the consistency proof is too long")
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while fn & 1 == 0 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError("the consistency proof is too short")
    if fr != old_root:
        raise ProofError("the consistency proof does not lead to the old root")
    if sr != new_root:
        raise ProofError("the consistency proof does not lead to the new root")


def _check_hashes(hashes: Iterable[bytes]) -> None:
    for h in hashes:
        if len(h) != HASH_SIZE:
            raise ProofError("a hash is not 32 bytes")


def proof_size(index: int, size: int) -> int:
    """How many hashes the inclusion proof of ``index`` in a tree of ``size`` holds."""
    count, lo, hi = 0, 0, size
    while hi - lo > 1:
        k = _split(hi - lo)
        count += 1
        lo, hi = (lo, lo + k) if index < lo + k else (lo + k, hi)
    return count


class CompactRange:
    """The roots of the perfect subtrees that cover leaves ``[0, size)``: enough to extend the
    tree and compute its root without keeping it (what an observer keeps between runs)."""

    def __init__(self, size: int = 0, hashes: Sequence[bytes] = ()) -> None:
        if len(hashes) != size.bit_count():
            raise ProofError("a compact range has one hash per bit of its size")
        self.size = size
        self.hashes = list(hashes)

    def append(self, leaf: bytes) -> None:
        """Add a leaf hash."""
        self.append_subtree(leaf, 0)

    def append_subtree(self, root: bytes, level: int) -> None:
        """Add the ``2**level`` leaves of a perfect subtree by its root (the size must be a
        multiple of ``2**level``)."""
        if self.size % (1 << level):
            raise ProofError("a subtree must start on its own boundary")
        h = root
        size = self.size >> level
        while size & 1:
            h = node_hash(self.hashes.pop(), h)
            size >>= 1
        self.hashes.append(h)
        self.size += 1 << level

    def root(self) -> bytes:
        if not self.hashes:
            return EMPTY_ROOT
        r = self.hashes[-1]
        for h in reversed(self.hashes[:-1]):
            r = node_hash(h, r)
        return r


class MemoryTree:
    """A whole tree in memory: every level's perfect-subtree hashes (tests, tools, audits)."""

    def __init__(self, leaf_hashes: Iterable[bytes] = ()) -> None:
        self.levels: list[list[bytes]] = [[]]
        for h in leaf_hashes:
            self.append_hash(h)

    @property
    def size(self) -> int:
        return len(self.levels[0])

    def append(self, entry: bytes) -> int:
        """Add a leaf for ``entry``; returns its index."""
        return self.append_hash(leaf_hash(entry))

    def append_hash(self, h: bytes) -> int:
        """Add a leaf by its hash; returns its index."""
        index = self.size
        level = 0
        while True:
            row = self.levels[level]
            row.append(h)
            if len(row) % 2:
                break
            h = node_hash(row[-2], row[-1])
            level += 1
            if level == len(self.levels):
                self.levels.append([])
        return index

    def hash_at(self, level: int, n: int) -> bytes:
        return self.levels[level][n]

    def root(self, size: int | None = None) -> bytes:
        return tree_hash(self.hash_at, self.size if size is None else size)

    def inclusion(self, index: int, size: int | None = None) -> list[bytes]:
        return inclusion_proof(self.hash_at, index, self.size if size is None else size)

    def consistency(self, old: int, new: int | None = None) -> list[bytes]:
        return consistency_proof(self.hash_at, old, self.size if new is None else new)
