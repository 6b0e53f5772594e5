"""Observers read what a mirror serves: hash tiles above level 0 checked, static exports."""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path

import pytest

from pollnet.store import open_store
from pollnet.store.bulk import insert_many
from pollnet.tlog import entry as entries
from pollnet.tlog import merkle, note, observe
from pollnet.tlog.http import StaticLog, start_public
from pollnet.tlog.merkle import leaf_hashes, perfect_root
from pollnet.tlog.observe import ObserveError
from pollnet.tlog.policy import parse_policy
from pollnet.tlog.publisher import Publisher
from pollnet.tlog.service import export
from pollnet.tlog.tiles import (
    TILE_WIDTH,
    TiledTree,
    TileHashes,
    split_bundle,
    tiles_for,
)

SIZE = 2 * TILE_WIDTH + 37
"""Two full entry bundles and a partial one: level-1 tile ``tile/1/000.p/2``."""
TWICE = {300: 3, 310: 305}
"""Entries that accept the voter of an earlier entry again."""


def _entry(i: int, outcome: str = "accepted") -> bytes:
    return entries.encode(
        entries.Entry(
            "e1",
            f"ST-{i % 3}",
            f"D-{i % 3}",
            dt.datetime(2028, 2, 25, 8, tzinfo=dt.UTC) + dt.timedelta(seconds=i),
            outcome,
            hashlib.sha256(TWICE.get(i, i).to_bytes(8, "big")).digest(),
        )
    )


class _Log:
    """A log in SQLite signed by a publisher, exported to static files on each :meth:`grow`."""

    def __init__(self, tmp_path: Path) -> None:
        self.engine = open_store(f"sqlite:///{tmp_path / 'log.db'}")
        signer = note.Signer.generate("pollnet.test/e1")
        self.publisher = Publisher(self.engine, signer)
        self.policy = parse_policy(f"log {signer.verifier.vkey}\nquorum none\n")
        self.folder = tmp_path / "export"

    def grow(self, size: int) -> Path:
        start = self.publisher.size
        rows = []
        for i in range(start, size):
            data = _entry(i, "duplicate" if i == 5 else "accepted")
            rows.append((i, data, merkle.leaf_hash(data)))
        with self.engine.begin() as conn:
            insert_many(conn, "tlog_entries", ("idx", "entry", "leaf_hash"), rows)
        self.publisher.step(force=True)
        export(self.publisher, self.folder)
        return self.folder


def _edit(tile: Path, byte: int) -> None:
    data = bytearray(tile.read_bytes())
    data[byte] ^= 1
    tile.write_bytes(bytes(data))


def test_a_static_export_served_by_a_mirror_audits_and_verifies(tmp_path: Path) -> None:
    log = _Log(tmp_path)
    public = start_public(StaticLog(log.grow(SIZE)))
    fetch = observe.HttpFetch(public.url + "/")
    try:
        audited = observe.audit(fetch, log.policy)
        assert (audited.entries, audited.tiles) == (SIZE, 1)
        report = observe.verify(fetch, log.policy, tmp_path / "observer")
        assert sum(report.counts.stations.values()) == SIZE - 1
        assert report.counts.duplicates == 1
        assert [t["index"] for t in report.counts.accepted_twice] == [300, 310]
        with pytest.raises(ObserveError, match="answered 404 for proof/3"):
            fetch("proof/3")
    finally:
        fetch.close()
        public.stop()


@pytest.mark.parametrize("check", ["audit", "verify"])
def test_an_edited_level_1_tile_is_caught_and_named(tmp_path: Path, check: str) -> None:
    log = _Log(tmp_path)
    _edit(log.grow(SIZE) / "tile/1/000.p/2", 40)  # the second hash: entries 256..511
    public = start_public(StaticLog(log.folder))
    fetch = observe.HttpFetch(public.url)
    try:
        with pytest.raises(ObserveError, match=r"tile tile/1/000\.p/2 does not hold"):
            if check == "audit":
                observe.audit(fetch, log.policy)
            else:
                observe.verify(fetch, log.policy, tmp_path / "observer")
        assert not (tmp_path / "observer").exists()  # nothing kept from a log that failed
    finally:
        fetch.close()
        public.stop()


def test_an_incremental_verify_checks_the_tiles_over_its_new_entries(tmp_path: Path) -> None:
    log = _Log(tmp_path)
    public = start_public(StaticLog(log.grow(100)))
    fetch = observe.HttpFetch(public.url)
    try:
        assert observe.verify(fetch, log.policy, tmp_path / "observer").size == 100
        _edit(log.grow(SIZE) / "tile/1/000.p/2", 7)  # the root of entries 0..255: 100 are new
        with pytest.raises(ObserveError, match=r"tile tile/1/000\.p/2 does not hold"):
            observe.verify(fetch, log.policy, tmp_path / "observer")
        export(log.publisher, log.folder)  # the mirror serves the right tile again
        report = observe.verify(fetch, log.policy, tmp_path / "observer")
        assert (report.previous_size, report.size) == (100, SIZE)
        # 300 repeats a voter of the first run (by the kept prefixes), 310 one of this run
        assert [t["index"] for t in report.counts.accepted_twice] == [300, 310]
    finally:
        fetch.close()
        public.stop()


def test_tile_hashes_agree_with_the_tree_on_every_tile_above_level_0() -> None:
    size = TILE_WIDTH * (TILE_WIDTH + 2) + 7  # a full level-2 tile's worth and more
    leaves = [hashlib.sha256(i.to_bytes(4, "big")).digest() for i in range(size)]
    tree = TiledTree(leaves)
    for first in (0, 3):
        known = TileHashes(first)
        for n in range(first, size // TILE_WIDTH):
            known.add(perfect_root(leaves[n * TILE_WIDTH : (n + 1) * TILE_WIDTH]))
        checkable = known.checkable(size)
        for level, n, width in checkable:
            assert known.tile(level, n, width) == tree.tile(level, n, width, size)
        above_0 = [t for t in tiles_for(size) if t[0] > 0]
        if first == 0:
            assert checkable == above_0 and (2, 0, 1) in checkable
        else:  # tiles under bundles 0..2 are not known: none of level 2, none at tile 1/000
            assert checkable == [(1, 1, 2)]


def test_a_bundle_splits_into_its_entries_or_fails() -> None:
    items = [_entry(i) for i in range(3)]
    bundle = b"".join(len(d).to_bytes(2, "big") + d for d in items)
    assert split_bundle(bundle, 3) == items
    assert leaf_hashes(items) == [merkle.leaf_hash(d) for d in items]
    for bad, width in ((bundle, 4), (bundle + b"\x00", 3), (bundle[:-1], 3)):
        with pytest.raises(ValueError):
            split_bundle(bad, width)
