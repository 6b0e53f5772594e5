"""RFC 9162 hashing and proofs against published test vectors, plus property tests.

Vectors: leaf inputs, node and root hashes from transparency-dev/merkle ``testonly/constants.go``
(the RFC 6962 reference tree of 8 leaves, also in Certificate Transparency's C++ tests);
inclusion and consistency proofs from transparency-dev/merkle ``proof/verify_test.go``
(there the leaf index is 1-based; here it is 0-based).
"""

from __future__ import annotations

import hypothesis.strategies as st
import pytest
from hypothesis import given, settings

from pollnet.tlog import merkle
from pollnet.tlog.merkle import MemoryTree, ProofError

LEAVES = [
    bytes.fromhex(h)
    for h in (
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
    )
]
LEAF_HASHES = [
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
    "0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7",
    "07506a85fd9dd2f120eb694f86011e5bb4662e5c415a62917033d4a9624487e7",
    "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
    "4271a26be0d8a84f0bd54c8c302e7cb3a3b5d1fa6780a40bcce2873477dab658",
    "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
    "46f6ffadd3d06a09ff3c5860d2755c8b9819db7df44251788c7d8e3180de8eb1",
]
ROOTS = [
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
INCLUSION = [  # (0-based index, tree size, proof)
    (
        0,
        8,
        [
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        5,
        8,
        [
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (2, 3, ["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"]),
    (
        1,
        5,
        [
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
    (0, 1, []),
]
CONSISTENCY = [  # (old size, new size, proof)
    (1, 1, []),
    (
        1,
        8,
        [
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        6,
        8,
        [
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (
        2,
        5,
        [
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
    (
        6,
        7,
        [
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
]

TREE = MemoryTree(merkle.leaf_hash(x) for x in LEAVES)


def _hashes(hexes: list[str]) -> list[bytes]:
    return [bytes.fromhex(h) for h in hexes]


def test_leaf_hashes_match_the_vectors() -> None:
    assert [merkle.leaf_hash(x).hex() for x in LEAVES] == LEAF_HASHES


@pytest.mark.parametrize("size", range(9))
def test_roots_match_the_vectors(size: int) -> None:
    assert TREE.root(size).hex() == ROOTS[size]


@pytest.mark.parametrize(("index", "size", "proof"), INCLUSION)
def test_inclusion_proofs_match_the_vectors(index: int, size: int, proof: list[str]) -> None:
    assert TREE.inclusion(index, size) == _hashes(proof)
    leaf = merkle.leaf_hash(LEAVES[index])
    root = bytes.fromhex(ROOTS[size])
    merkle.verify_inclusion(index, size, leaf, _hashes(proof), root)
    with pytest.raises(ProofError):
        merkle.verify_inclusion(index, size, merkle.leaf_hash(b"other"), _hashes(proof), root)
    if index + 1 < size:
        with pytest.raises(ProofError):
            merkle.verify_inclusion(index + 1, size, leaf, _hashes(proof), root)
    with pytest.raises(ProofError):
        merkle.verify_inclusion(index, size * 2, leaf, _hashes(proof), root)


@pytest.mark.parametrize(("old", "new", "proof"), CONSISTENCY)
def test_consistency_proofs_match_the_vectors(old: int, new: int, proof: list[str]) -> None:
    assert TREE.consistency(old, new) == _hashes(proof)
    old_root, new_root = bytes.fromhex(ROOTS[old]), bytes.fromhex(ROOTS[new])
    merkle.verify_consistency(old, new, old_root, new_root, _hashes(proof))
    if proof:
        with pytest.raises(ProofError):
            merkle.verify_consistency(old, new, new_root, old_root, _hashes(proof))
        with pytest.raises(ProofError):
            merkle.verify_consistency(old, new, old_root, new_root, _hashes(proof)[:-1])


def test_edge_cases_of_consistency() -> None:
    empty = merkle.EMPTY_ROOT
    merkle.verify_consistency(0, 0, empty, empty, [])
    merkle.verify_consistency(0, 5, empty, TREE.root(5), [])
    with pytest.raises(ProofError):
        merkle.verify_consistency(1, 1, TREE.root(1), TREE.root(2), [])  # one size, two roots
    with pytest.raises(ProofError):
        merkle.verify_consistency(2, 1, TREE.root(2), TREE.root(1), [])  # shrinking
    with pytest.raises(ProofError):
        merkle.verify_consistency(1, 2, TREE.root(1), TREE.root(2), [])  # missing proof
    with pytest.raises(ProofError):
        merkle.verify_consistency(0, 1, empty, TREE.root(1), [empty])  # proof from empty


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 300), st.data())
def test_every_proof_verifies_and_tampering_fails(size: int, data: st.DataObject) -> None:
    tree = MemoryTree(merkle.leaf_hash(i.to_bytes(4, "big")) for i in range(size))
    root = tree.root()
    index = data.draw(st.integers(0, size - 1))
    proof = tree.inclusion(index)
    leaf = tree.hash_at(0, index)
    merkle.verify_inclusion(index, size, leaf, proof, root)
    assert len(proof) == merkle.proof_size(index, size)
    if proof:
        i = data.draw(st.integers(0, len(proof) - 1))
        bad = [*proof]
        bad[i] = bytes([bad[i][0] ^ 1]) + bad[i][1:]
        with pytest.raises(ProofError):
            merkle.verify_inclusion(index, size, leaf, bad, root)
    old = data.draw(st.integers(0, size))
    cproof = tree.consistency(old)
    merkle.verify_consistency(old, size, tree.root(old), root, cproof)
    if cproof:
        i = data.draw(st.integers(0, len(cproof) - 1))
        bad = [*cproof]
        bad[i] = bytes([bad[i][0] ^ 1]) + bad[i][1:]
        with pytest.raises(ProofError):
            merkle.verify_consistency(old, size, tree.root(old), root, bad)
        # A tree that differs in one earlier leaf is not an extension of this one.
        other = MemoryTree([*tree.levels[0][: old - 1], merkle.leaf_hash(b"forged")])
        with pytest.raises(ProofError):
            merkle.verify_consistency(old, size, other.root(), root, cproof)


def test_proofs_at_the_national_electorate_stay_small() -> None:
    """At 61 million entries an inclusion proof has at most 26 hashes (the issue's bound)."""
    size = 61_000_000
    worst = max(merkle.proof_size(i, size) for i in (0, size // 2, size - 1, 2**25, 2**25 - 1))
    assert worst == 26


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(1, 600), min_size=1, max_size=4))
def test_a_compact_range_extends_to_the_same_root(chunks: list[int]) -> None:
    """An observer keeps only the compact range; leaves and whole aligned subtrees extend it
    to the root the full tree has."""
    tree = MemoryTree()
    compact = merkle.CompactRange()
    for chunk in chunks:
        leaves = [merkle.leaf_hash(f"{tree.size + i}".encode()) for i in range(chunk)]
        for leaf in leaves:
            tree.append_hash(leaf)
        i = 0
        while i < len(leaves):
            if compact.size % 256 == 0 and len(leaves) - i >= 256:
                compact.append_subtree(MemoryTree(leaves[i : i + 256]).root(), 8)
                i += 256
            else:
                compact.append(leaves[i])
                i += 1
        assert compact.root() == tree.root()
        assert merkle.CompactRange(compact.size, compact.hashes).root() == tree.root()
    with pytest.raises(ProofError):
        merkle.CompactRange(3, [tree.root()])
    if compact.size % 256:
        with pytest.raises(ProofError):
            compact.append_subtree(bytes(32), 8)
