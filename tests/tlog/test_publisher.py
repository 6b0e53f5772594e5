"""Checkpoints, tiles, entry bundles and receipts of the log the ledger writes."""

from __future__ import annotations

import base64
import datetime as dt
import re
import struct
import uuid
from pathlib import Path

import httpx
import hypothesis.strategies as st
import pytest
import sqlalchemy as sa
from hypothesis import given, settings

from pollnet.link.checkin import Checkin, voter_hash
from pollnet.link.ledger import Ledger
from pollnet.store import open_store
from pollnet.tlog import entry as entries
from pollnet.tlog import merkle, note, store
from pollnet.tlog.http import start_public
from pollnet.tlog.merkle import MemoryTree
from pollnet.tlog.publisher import LogTampered, Publisher
from pollnet.tlog.service import export
from pollnet.tlog.tiles import (
    TILE_WIDTH,
    TiledTree,
    parse_tile_path,
    tile_path,
    tiles_for,
    tree_from_tiles,
)
from tests.link.service_helpers import national_code

KEY = b"k" * 32
PUBLICATION = b"p" * 32
ORIGIN = "pollnet.test/e1"
NATIONAL_CODE = re.compile(rb"(?<![0-9])[0-9]{10}(?![0-9])")


def _checkin(n: int, station: str = "ST-1") -> Checkin:
    now = dt.datetime.now(dt.UTC)
    return Checkin(
        device=f"D-{station}",
        station=station,
        idempotency_key=str(uuid.uuid4()),
        voter_hash=voter_hash(KEY, national_code(n)),
        device_time=now,
        provisional_at=None,
        card_read=True,
        fingerprint_score=0.9,
    )


def _fill(url: str, count: int) -> tuple[sa.Engine, note.Signer]:
    engine = open_store(url)
    with Ledger(engine, "e1", outcome_log=store.LedgerLog("e1", PUBLICATION)) as ledger:
        for n in range(count):
            ledger.submit(_checkin(n, f"ST-{n % 3}"), lambda _a: None)
        ledger.record(_checkin(0))  # a duplicate, last: everything before it is written
    return engine, note.Signer.generate(ORIGIN)


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_tile_paths_follow_the_spec() -> None:
    assert tile_path(0, 1234067) == "tile/0/x001/x234/067"
    assert tile_path("entries", 5, 17) == "tile/entries/005.p/17"
    assert parse_tile_path("tile/1/x001/x234/067.p/9") == (1, 1234067, 9)
    for bad in (
        "tile/01/000",
        "tile/0/1234",
        "tile/0/x000/001",
        "tile/0/000.p/256",
        "tile/0/000.p/0",
    ):
        with pytest.raises(ValueError):
            parse_tile_path(bad)
    # The spec's example: a tree of 70,000 entries.
    shapes = tiles_for(70_000)
    assert sum(1 for lv, _, w in shapes if lv == 0 and w == 256) == 273
    assert (0, 273, 112) in shapes and (1, 1, 17) in shapes and (2, 0, 1) in shapes


def test_checkpoints_tiles_and_receipts_verify(tmp_path: Path) -> None:
    engine, signer = _fill(f"sqlite:///{tmp_path / 'db.sqlite'}", 600)
    clock = Clock()
    publisher = Publisher(engine, signer, interval_s=5.0, clock=clock)
    assert publisher.step()  # the first checkpoint at once
    size = publisher.size
    assert size == 601
    signed = note.open_checkpoint(publisher.checkpoint() or "", signer.verifier)
    assert signed.checkpoint.size == size

    # The tiles rebuild the tree; the entry bundles hash to the level-0 tiles.
    rebuilt = tree_from_tiles(size, publisher.tile)
    assert rebuilt.root() == signed.checkpoint.root
    decoded = []
    for level, n, width in tiles_for(size):
        if level:
            assert publisher.tile(level, n, width) == rebuilt.tile(level, n, width, size)
            continue
        bundle = publisher.entry_bundle(n, width)
        hashes = publisher.tile(0, n, width)
        pos = 0
        for i in range(width):
            (length,) = struct.unpack_from(">H", bundle, pos)
            data = bundle[pos + 2 : pos + 2 + length]
            pos += 2 + length
            assert merkle.leaf_hash(data) == hashes[32 * i : 32 * i + 32]
            decoded.append(entries.decode(data))
        assert pos == len(bundle)
    assert sum(e.outcome == "accepted" for e in decoded) == 600
    assert decoded[-1].outcome == "duplicate"

    # A receipt (tlog-proof) for an entry verifies against the checkpoint in it.
    receipt = publisher.receipt(300)
    head, _, in_receipt = receipt.partition("\n\n")
    assert in_receipt == publisher.checkpoint()
    lines = head.split("\n")
    assert lines[0] == "c2sp.org/tlog-proof@v1" and lines[2] == "index 300"
    extra = base64.b64decode(lines[1].removeprefix("extra "))
    assert entries.decode(extra) == decoded[300]
    proof = [base64.b64decode(x) for x in lines[3:]]
    merkle.verify_inclusion(300, size, merkle.leaf_hash(extra), proof, signed.checkpoint.root)

    # No new entries: no new checkpoint. New entries: one once the interval has passed.
    assert not publisher.step()
    with Ledger(engine, "e1", outcome_log=store.LedgerLog("e1", PUBLICATION)) as ledger:
        ledger.record(_checkin(1000))
    assert not publisher.step()
    clock.now += 5.0
    assert publisher.step()
    assert publisher.size == size + 1
    # Every signed checkpoint extends the one before.
    rows = sa.select(sa.text("size, root FROM tlog_checkpoints ORDER BY size"))
    with engine.connect() as conn:
        signed_rows = [(int(s), bytes(r)) for s, r in conn.execute(rows)]
    assert [s for s, _ in signed_rows] == [size, size + 1]
    merkle.verify_consistency(
        size, size + 1, signed_rows[0][1], signed_rows[1][1], publisher.consistency(size, size + 1)
    )


def test_the_public_api_and_the_static_export_serve_the_same_log(tmp_path: Path) -> None:
    engine, signer = _fill(f"sqlite:///{tmp_path / 'db.sqlite'}", 300)
    publisher = Publisher(engine, signer)
    publisher.start()
    public = start_public(publisher)
    try:
        with httpx.Client(base_url=public.url) as client:
            checkpoint = client.get("/checkpoint")
            assert checkpoint.status_code == 200
            assert checkpoint.headers["content-type"] == "text/plain; charset=utf-8"
            full = client.get("/tile/0/000")
            partial = client.get("/tile/0/001.p/45")
            bundle = client.get("/tile/entries/001.p/45")
            receipt = client.get("/proof/7")
            assert [r.status_code for r in (full, partial, bundle, receipt)] == [200] * 4
            assert len(full.content) == TILE_WIDTH * 32 and len(partial.content) == 45 * 32
            assert client.get("/tile/0/001.p/46").status_code == 404  # beyond the checkpoint
            assert client.get("/tile/0/002").status_code == 404
            assert client.get("/tile/0/1").status_code == 404
            assert client.post("/checkpoint").status_code == 405
    finally:
        public.stop()
        publisher.stop()
    out = tmp_path / "export"
    assert export(publisher, out) == len(tiles_for(301)) + 2 + 1
    assert (out / "checkpoint").read_text() == checkpoint.text
    assert (out / "tile/0/000").read_bytes() == full.content
    assert (out / "tile/entries/001.p/45").read_bytes() == bundle.content
    # Nothing published anywhere holds something that looks like a national code.
    for path in out.rglob("*"):
        if path.is_file():
            assert not NATIONAL_CODE.search(path.read_bytes()), path
    for body in (receipt.content, checkpoint.content):
        assert not NATIONAL_CODE.search(body)


@pytest.mark.parametrize("tamper", ["edit", "delete", "reorder"])
def test_a_tampered_database_is_refused(tmp_path: Path, tamper: str) -> None:
    engine, signer = _fill(f"sqlite:///{tmp_path / 'db.sqlite'}", 20)
    publisher = Publisher(engine, signer)
    publisher.step()
    with engine.begin() as conn:
        if tamper == "edit":
            data = bytes(
                conn.execute(sa.text("SELECT entry FROM tlog_entries WHERE idx = 5")).scalar_one()
            )
            forged = data.replace(b"ST-2", b"ST-1")
            conn.execute(
                sa.text("UPDATE tlog_entries SET entry = :e, leaf_hash = :h WHERE idx = 5"),
                {"e": forged, "h": merkle.leaf_hash(forged)},
            )
        elif tamper == "delete":
            conn.execute(sa.text("DELETE FROM tlog_entries WHERE idx = 5"))
        else:
            conn.execute(sa.text("UPDATE tlog_entries SET idx = -1 WHERE idx = 5"))
            conn.execute(sa.text("UPDATE tlog_entries SET idx = 5 WHERE idx = 6"))
            conn.execute(sa.text("UPDATE tlog_entries SET idx = 6 WHERE idx = -1"))
    with pytest.raises(LogTampered):
        Publisher(engine, signer).load()


def test_a_mirror_follows_what_the_signing_service_stored(tmp_path: Path) -> None:
    engine, signer = _fill(f"sqlite:///{tmp_path / 'db.sqlite'}", 10)
    mirror = Publisher(engine, None)
    assert not mirror.follow() and mirror.checkpoint() is None
    publisher = Publisher(engine, signer)
    publisher.step()
    assert mirror.follow() and mirror.checkpoint() == publisher.checkpoint()
    assert mirror.tile(0, 0, 11) == publisher.tile(0, 0, 11)
    assert not mirror.follow()
    with pytest.raises(RuntimeError):
        mirror.sign(11)
    with engine.begin() as conn:  # a row edited under the mirror's feet
        conn.execute(sa.text("DELETE FROM tlog_checkpoints"))
        conn.execute(
            sa.text(
                "INSERT INTO tlog_checkpoints (size, root, signed_at, note)"
                " VALUES (11, :r, :t, 'x')"
            ),
            {"r": bytes(32), "t": dt.datetime.now(dt.UTC)},
        )
    with pytest.raises(LogTampered):
        mirror.follow()


@settings(max_examples=25, deadline=None)
@given(runs=st.lists(st.integers(0, 300), max_size=6))
def test_the_tree_takes_leaves_in_runs_of_any_length(runs: list[int]) -> None:
    leaves = [merkle.leaf_hash(i.to_bytes(4, "big")) for i in range(sum(runs))]
    tree, start = TiledTree(), 0
    for count in runs:  # the publisher appends what each poll finds committed
        tree.extend(b"".join(leaves[start : start + count]))
        start += count
    reference = MemoryTree(leaves)
    assert tree.size == len(leaves)
    for size in {0, min(1, len(leaves)), len(leaves) // 2, len(leaves)}:
        assert tree.root(size) == reference.root(size)
    for level, n, width in tiles_for(len(leaves)):
        assert tree.tile(level, n, width, len(leaves)) == reference_tile(reference, level, n, width)


def reference_tile(tree: MemoryTree, level: int, n: int, width: int) -> bytes:
    """Tile ``(level, n)`` computed from the whole tree: hashes at height ``8 * level``."""
    height = 8 * level
    first = n * TILE_WIDTH
    return b"".join(tree.hash_at(height, first + i) for i in range(width))
