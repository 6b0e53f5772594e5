"""Observers: verify the log from outside, trusting only a policy of public keys.

:func:`verify` fetches the checkpoint, checks the log's signature and the witnesses' quorum,
reads the entries added since the last checkpoint it verified (state in a local folder: the
compact range of the tree, the counts, the accepted voters), checks that they lead to the new
root from the old one (consistency), and counts per station and district, listing any voter
accepted twice. :func:`audit` re-hashes the whole log. Both also fetch every hash tile above
level 0 whose hashes they computed from the entries and compare (:func:`check_tiles`): a mirror
serving tiles of another tree is caught, the tile named. :func:`verify_receipt` checks a
tlog-proof offline.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import http.client
import json
import os
import ssl
import threading
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import numpy as np

from pollnet.errors import Problem, UserError
from pollnet.tlog import entry as entries
from pollnet.tlog import merkle
from pollnet.tlog.merkle import CompactRange, leaf_hashes, perfect_root
from pollnet.tlog.note import (
    NoteError,
    SignedCheckpoint,
    open_checkpoint,
    parse_checkpoint,
    parse_note,
)
from pollnet.tlog.policy import Policy
from pollnet.tlog.tiles import (
    TILE_HEIGHT,
    TILE_WIDTH,
    TileError,
    TileHashes,
    split_bundle,
    tile_path,
)

Fetch = Callable[[str], bytes]
"""``fetch(path)``: the bytes of ``<prefix>/<path>``; raises :class:`ObserveError` otherwise."""


class ObserveError(UserError):
    """The log does not verify: a bad signature, no quorum, inconsistency, a missing tile."""


def _fail(message: str, **params: object) -> ObserveError:
    return ObserveError(Problem(message, params))


class HttpFetch:
    """A :data:`Fetch` for the log at ``url`` (its prefix): one kept-alive connection per
    thread, all closed by :meth:`close` (or at the end of a ``with`` block).

    The standard library's client: a tile costs half the client time of httpx's, which counts
    when an audit reads a hundred thousand of them.
    """

    def __init__(self, url: str, timeout: float = 10.0) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise _fail("not a log URL: {url}", url=url)
        self._parts = parts
        self._host, self._port = parts.hostname, parts.port
        self._prefix = parts.path.rstrip("/") + "/"
        self._timeout = timeout
        self._local = threading.local()
        self._opened: list[http.client.HTTPConnection] = []
        self._lock = threading.Lock()

    def _connect(self) -> http.client.HTTPConnection:
        host, port = self._host, self._port
        conn: http.client.HTTPConnection
        if self._parts.scheme == "https":
            context = ssl.create_default_context()
            conn = http.client.HTTPSConnection(host, port, timeout=self._timeout, context=context)
        else:
            conn = http.client.HTTPConnection(host, port, timeout=self._timeout)
        with self._lock:
            self._opened.append(conn)
        return conn

    def __call__(self, path: str) -> bytes:
        for attempt in range(2):
            conn = getattr(self._local, "conn", None)
            reused = conn is not None
            if conn is None:
                conn = self._local.conn = self._connect()
            try:
                conn.request("GET", self._prefix + path)
                answer = conn.getresponse()
                body = answer.read()
            except (OSError, http.client.HTTPException) as exc:
                conn.close()
                self._local.conn = None
                if reused and attempt == 0:
                    continue  # the server closed a kept-alive connection: one more, on a new one
                raise _fail("cannot reach the log: {reason}", reason=str(exc)) from None
            if answer.status != 200:
                raise _fail("the log answered {status} for {path}", status=answer.status, path=path)
            return body
        raise AssertionError("unreachable")

    def close(self) -> None:
        """Close every thread's connection."""
        with self._lock:
            opened, self._opened = self._opened, []
        for conn in opened:
            conn.close()

    def __enter__(self) -> HttpFetch:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def fetch_all(fetch: Fetch, paths: Iterable[str], workers: int = 6) -> Iterator[bytes]:
    """The bytes of each of ``paths``, in order, fetched ``workers`` at a time (at most a few
    dozen ahead of the caller, so a slow consumer keeps little in memory)."""
    window = 8 * workers
    with ThreadPoolExecutor(max_workers=workers) as pool:
        pending: deque[Future[bytes]] = deque()
        try:
            for path in paths:
                pending.append(pool.submit(fetch, path))
                if len(pending) >= window:
                    yield pending.popleft().result()
            while pending:
                yield pending.popleft().result()
        finally:
            for future in pending:
                future.cancel()


def read_bundles(fetch: Fetch, start: int, end: int) -> Iterator[tuple[int, list[bytes]]]:
    """``(first index, entries)`` of each entry bundle covering ``[start, end)``, in order (the
    first may begin before ``start``)."""
    for n, width, bundle in _bundles(fetch, start, end):
        yield n * TILE_WIDTH, _split_bundle(bundle, width, n)


def _bundles(fetch: Fetch, start: int, end: int) -> Iterator[tuple[int, int, bytes]]:
    """``(N, width, bytes)`` of the entry bundles covering ``[start, end)``, in order."""
    if end <= start:
        return
    jobs = [
        (n, min(TILE_WIDTH, end - n * TILE_WIDTH))
        for n in range(start // TILE_WIDTH, (end - 1) // TILE_WIDTH + 1)
    ]
    paths = (tile_path("entries", n, width) for n, width in jobs)
    for (n, width), bundle in zip(jobs, fetch_all(fetch, paths), strict=True):
        yield n, width, bundle


def _split_bundle(bundle: bytes, width: int, n: int) -> list[bytes]:
    try:
        return split_bundle(bundle, width)
    except TileError:
        raise _fail(
            "entry bundle {path} is short or has trailing bytes",
            path=tile_path("entries", n, width),
        ) from None


def _extend(compact: CompactRange, items: list[bytes], known: TileHashes | None) -> None:
    """Append the leaves of ``items`` (a whole aligned bundle at once when it can, its root then
    kept in ``known`` for the tile check)."""
    leaves = leaf_hashes(items)
    if len(leaves) == TILE_WIDTH and compact.size % TILE_WIDTH == 0:
        root = perfect_root(leaves)
        compact.append_subtree(root, TILE_HEIGHT)
        if known is not None:
            known.add(root)
        return
    for leaf in leaves:
        compact.append(leaf)


def check_tiles(fetch: Fetch, known: TileHashes, size: int) -> int:
    """Fetch every hash tile above level 0 whose hashes ``known`` computed from the entries and
    compare; returns how many were checked. A tile that differs is named in the error."""
    tiles = known.checkable(size)
    paths = [tile_path(level, n, width) for level, n, width in tiles]
    for (level, n, width), path, data in zip(tiles, paths, fetch_all(fetch, paths), strict=True):
        if data != known.tile(level, n, width):
            raise _fail(
                "the log's tile {path} does not hold the hashes of the entries under it: the"
                " log serves tiles of another tree",
                path=path,
            )
    return len(tiles)


@dataclass(frozen=True)
class Quorum:
    """A checkpoint verified against a policy: which witnesses cosigned, and whether enough."""

    signed: SignedCheckpoint
    witnesses: tuple[str, ...]
    met: bool


def check_checkpoint(note_text: bytes | str, policy: Policy) -> Quorum:
    """Verify the log's signature and count the policy's witnesses that cosigned."""
    try:
        origin = parse_checkpoint(parse_note(note_text).text).origin
    except NoteError as exc:
        raise _fail("the checkpoint is malformed: {reason}", reason=str(exc)) from None
    log = policy.log_for(origin)
    if log is None:
        raise _fail("the policy names no log {origin}", origin=origin)
    witnesses = [w.verifier for w in policy.witnesses.values()]
    try:
        signed = open_checkpoint(note_text, log.verifiers, witnesses)
    except NoteError as exc:
        raise _fail("the checkpoint does not verify: {reason}", reason=str(exc)) from None
    names = policy.by_key_name()
    cosigned = tuple(sorted(names[n] for n in signed.signers if n in names))
    return Quorum(signed, cosigned, policy.satisfied(cosigned))


@dataclass
class Counts:
    """Accepted check-ins per station and district, refusals and conflicts, repeated voters."""

    stations: Counter[str] = field(default_factory=Counter)
    duplicates: int = 0
    conflicts: int = 0
    accepted_twice: list[dict[str, object]] = field(default_factory=list)


@dataclass
class Report:
    """What :func:`verify` found."""

    origin: str
    size: int
    previous_size: int
    witnesses: tuple[str, ...]
    counts: Counts


def verify(fetch: Fetch, policy: Policy, state_dir: Path) -> Report:
    """Verify the log's latest checkpoint and the entries since the last one verified."""
    quorum = check_checkpoint(fetch("checkpoint"), policy)
    checkpoint = quorum.signed.checkpoint
    if not quorum.met:
        raise _fail(
            "the checkpoint of size {size} is waiting for its witness quorum (cosigned by: {who})",
            size=checkpoint.size,
            who=", ".join(quorum.witnesses) or "-",
        )
    folder = state_dir / hashlib.sha256(checkpoint.origin.encode()).hexdigest()[:16]
    state = _State.load(folder)
    if checkpoint.size < state.size:
        raise _fail(
            "the log went back from size {old} to {new}", old=state.size, new=checkpoint.size
        )
    old_root = state.compact.root()
    if state.size and old_root != state.root:
        raise _fail("the observer's state is damaged; delete {folder}", folder=str(folder))
    previous = state.size
    compact = CompactRange(state.compact.size, state.compact.hashes)
    known = TileHashes(previous // TILE_WIDTH)
    tally = _Tally(state.counts)
    for n, width, bundle in _bundles(fetch, previous, checkpoint.size):
        items = _split_bundle(bundle, width, n)
        first = n * TILE_WIDTH
        if first < previous:  # a bundle begun before: its whole root still checks the tiles
            if width == TILE_WIDTH:
                known.add(perfect_root(leaf_hashes(items)))
            items, first = items[previous - first :], previous
            _extend(compact, items, None)
        else:
            _extend(compact, items, known)
        tally.add(first, items)
    if compact.root() != checkpoint.root:
        raise _fail(
            "the entries do not lead from the last verified checkpoint (size {old}) to the"
            " signed root of size {new}: the log is not append-only or its tiles were changed",
            old=state.size,
            new=checkpoint.size,
        )
    check_tiles(fetch, known, checkpoint.size)
    state.voters = tally.close(state.voters)
    state.size, state.root, state.compact = checkpoint.size, checkpoint.root, compact
    state.save(folder, quorum.signed.note.text)
    return Report(checkpoint.origin, checkpoint.size, previous, quorum.witnesses, state.counts)


class _Tally:
    """Counts the entries of one run into ``counts``; a voter accepted twice is listed (within
    the run by the whole hash, against earlier runs by its first 8 bytes, kept sorted)."""

    def __init__(self, counts: Counts) -> None:
        self.counts = counts
        self.voters: list[bytes] = []
        self.indexes: list[int] = []
        self.stations: list[str] = []
        self.seen: set[bytes] = set()
        self.twice: dict[int, tuple[str, bytes]] = {}

    def add(self, first: int, items: list[bytes]) -> None:
        """Count ``items``, the entries from index ``first``."""
        stations = self.counts.stations
        for index, data in enumerate(items, start=first):
            try:
                outcome, _, voter, _, station, _ = entries.fields(data)
            except entries.EntryError:
                raise _fail("entry {index} is not a check-in entry", index=index) from None
            if outcome in _CHECKINS:
                stations[station] += 1
                if voter in self.seen:
                    self.twice[index] = (station, voter)
                self.seen.add(voter)
                self.voters.append(voter)
                self.indexes.append(index)
                self.stations.append(station)
            elif outcome == "duplicate":
                self.counts.duplicates += 1
            else:
                self.counts.conflicts += 1

    def close(self, earlier: np.ndarray) -> np.ndarray:
        """List the voters accepted twice (also against the ``earlier`` runs' sorted prefixes)
        and return the prefixes of all runs, sorted."""
        if not self.voters:
            return earlier
        fresh = _prefixes(self.voters)
        if len(earlier):  # np.isin on uint64 takes seconds: the sorted search takes ms
            at = np.minimum(np.searchsorted(earlier, fresh), len(earlier) - 1)
            again = np.flatnonzero(earlier[at] == fresh).tolist()
        else:
            again = []
        for i in again:
            self.twice[self.indexes[i]] = (self.stations[i], self.voters[i])
        self.counts.accepted_twice += [
            {"index": index, "station": station, "voter": voter.hex()}
            for index, (station, voter) in sorted(self.twice.items())
        ]
        return np.sort(np.concatenate([earlier, fresh]))


_CHECKINS = frozenset(o for o in entries.OUTCOMES if o.startswith("accepted"))


def _prefixes(hashes: list[bytes]) -> np.ndarray:
    return np.frombuffer(b"".join(h[:8] for h in hashes), dtype=">u8").astype(np.uint64)


@dataclass
class _State:
    size: int = 0
    root: bytes = merkle.EMPTY_ROOT
    compact: CompactRange = field(default_factory=CompactRange)
    counts: Counts = field(default_factory=Counts)
    voters: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.uint64))

    @classmethod
    def load(cls, folder: Path) -> _State:
        path = folder / "state.json"
        if not path.is_file():
            return cls()
        data = json.loads(path.read_text())
        hashes = [base64.b64decode(h) for h in data["compact"]]
        counts = Counts(
            Counter(data["stations"]),
            int(data["duplicates"]),
            int(data["conflicts"]),
            list(data["accepted_twice"]),
        )
        voters = np.load(folder / "voters.npy") if (folder / "voters.npy").is_file() else None
        return cls(
            int(data["size"]),
            base64.b64decode(data["root"]),
            CompactRange(int(data["size"]), hashes),
            counts,
            voters if voters is not None else np.zeros(0, dtype=np.uint64),
        )

    def save(self, folder: Path, checkpoint: str) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        np.save(folder / "voters.tmp.npy", self.voters)
        os.replace(folder / "voters.tmp.npy", folder / "voters.npy")
        data = {
            "size": self.size,
            "root": base64.b64encode(self.root).decode(),
            "compact": [base64.b64encode(h).decode() for h in self.compact.hashes],
            "stations": dict(self.counts.stations),
            "duplicates": self.counts.duplicates,
            "conflicts": self.counts.conflicts,
            "accepted_twice": self.counts.accepted_twice,
        }
        tmp = folder / "state.tmp"
        tmp.write_text(json.dumps(data))
        os.replace(tmp, folder / "state.json")
        (folder / "checkpoint").write_text(checkpoint)


@dataclass(frozen=True)
class AuditReport:
    origin: str
    size: int
    entries: int
    tiles: int
    """Hash tiles above level 0 checked against the entries."""


def audit(fetch: Fetch, policy: Policy) -> AuditReport:
    """Re-hash every entry of the log and check that they lead to the signed root."""
    quorum = check_checkpoint(fetch("checkpoint"), policy)
    checkpoint = quorum.signed.checkpoint
    compact = CompactRange()
    known = TileHashes(0)
    count = 0
    for n, width, bundle in _bundles(fetch, 0, checkpoint.size):
        items = _split_bundle(bundle, width, n)
        _extend(compact, items, known)
        count += len(items)
    if count != checkpoint.size or compact.root() != checkpoint.root:
        raise _fail(
            "the log's {count} entries do not hash to its signed root of size {size}: entries"
            " were edited, deleted or reordered",
            count=count,
            size=checkpoint.size,
        )
    tiles = check_tiles(fetch, known, checkpoint.size)
    return AuditReport(checkpoint.origin, checkpoint.size, count, tiles)


@dataclass(frozen=True)
class ReceiptReport:
    index: int
    entry: entries.Entry
    quorum: Quorum


def verify_receipt(text: str, policy: Policy) -> ReceiptReport:
    """Verify a tlog-proof receipt offline: the checkpoint, the quorum and the inclusion."""
    head, sep, note_text = text.partition("\n\n")
    lines = head.split("\n")
    if not sep or lines[0] != "c2sp.org/tlog-proof@v1":
        raise _fail("not a tlog-proof receipt")
    rest = lines[1:]
    extra = b""
    try:
        if rest and rest[0].startswith("extra "):
            extra = base64.b64decode(rest.pop(0)[6:], validate=True)
        if not rest or not rest[0].startswith("index ") or not rest[0][6:].isdigit():
            raise _fail("the receipt has no index line")
        index = int(rest[0][6:])
        proof = [base64.b64decode(x, validate=True) for x in rest[1:]]
    except binascii.Error:
        raise _fail("the receipt holds bad base64") from None
    quorum = check_checkpoint(note_text, policy)
    if not quorum.met:
        raise _fail(
            "the receipt's checkpoint lacks the witness quorum (cosigned by: {who})",
            who=", ".join(quorum.witnesses) or "-",
        )
    try:
        entry = entries.decode(extra)
    except entries.EntryError:
        raise _fail("the receipt does not carry its entry") from None
    checkpoint = quorum.signed.checkpoint
    try:
        merkle.verify_inclusion(
            index, checkpoint.size, merkle.leaf_hash(extra), proof, checkpoint.root
        )
    except merkle.ProofError as exc:
        raise _fail(
            "the receipt's inclusion proof does not verify: {reason}", reason=str(exc)
        ) from None
    return ReceiptReport(index, entry, quorum)


def by_district(stations: Counter[str], districts: dict[str, str]) -> Counter[str]:
    """Per-station counts summed per district (``?`` for a station the file does not list)."""
    out: Counter[str] = Counter()
    for station, count in stations.items():
        out[districts.get(station, "?")] += count
    return out


def read_districts(path: Path) -> dict[str, str]:
    """Station code -> district from a station list (CSV, XLSX or GeoJSON) with code and
    district columns, headed in English or Persian as ``pollnet stations export`` writes them."""
    from pollnet.i18n import normalise
    from pollnet.registry import STATION_COLUMNS, read_table

    table = read_table(path)
    where = {STATION_COLUMNS.field_of(header): i for i, header in enumerate(table.headers)}
    if "code" not in where or "district" not in where:
        raise UserError.of("the station file needs code and district columns", file=str(path))
    code, district = where["code"], where["district"]
    return {
        normalise(cells[code]): normalise(cells[district])
        for _, cells in table.rows
        if len(cells) > max(code, district)
    }
