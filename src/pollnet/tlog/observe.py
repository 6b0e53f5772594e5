"""Observers: verify the log from outside, trusting only a policy of public keys.

:func:`verify` fetches the checkpoint, checks the log's signature and the witnesses' quorum,
reads the entries added since the last checkpoint it verified (state in a local folder: the
compact range of the tree, the counts, the accepted voters), checks that they lead to the new
root from the old one (consistency), and counts per station and district, listing any voter
accepted twice. :func:`audit` re-hashes the whole log. :func:`verify_receipt` checks a
tlog-proof offline.
"""

from __future__ import annotations

import base64
import binascii
import csv
import hashlib
import json
import os
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import numpy as np

from pollnet.errors import Problem, UserError
from pollnet.tlog import entry as entries
from pollnet.tlog import merkle
from pollnet.tlog.merkle import CompactRange
from pollnet.tlog.note import (
    NoteError,
    SignedCheckpoint,
    open_checkpoint,
    parse_checkpoint,
    parse_note,
)
from pollnet.tlog.policy import Policy
from pollnet.tlog.tiles import TILE_WIDTH, tile_path

Fetch = Callable[[str], bytes]
"""``fetch(path)``: the bytes of ``<prefix>/<path>``; raises :class:`ObserveError` otherwise."""


class ObserveError(UserError):
    """The log does not verify: a bad signature, no quorum, inconsistency, a missing tile."""


def _fail(message: str, **params: object) -> ObserveError:
    return ObserveError(Problem(message, params))


def http_fetch(url: str, timeout: float = 10.0) -> Fetch:
    """A fetcher for the log at ``url`` (its prefix), keeping its connections open."""
    client = httpx.Client(base_url=url.rstrip("/") + "/", timeout=timeout)

    def fetch(path: str) -> bytes:
        try:
            answer = client.get(path)
        except httpx.HTTPError as exc:
            raise _fail("cannot reach the log: {reason}", reason=str(exc)) from None
        if answer.status_code != 200:
            raise _fail(
                "the log answered {status} for {path}", status=answer.status_code, path=path
            )
        return answer.content

    return fetch


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
        signed = open_checkpoint(note_text, log.verifier, witnesses)
    except NoteError as exc:
        raise _fail("the checkpoint does not verify: {reason}", reason=str(exc)) from None
    names = policy.by_key_name()
    cosigned = tuple(sorted(names[n] for n in signed.signers if n in names))
    return Quorum(signed, cosigned, policy.satisfied(cosigned))


def read_bundles(
    fetch: Fetch, start: int, end: int, workers: int = 4
) -> Iterator[tuple[int, list[bytes]]]:
    """``(first index, entries)`` of each entry bundle covering ``[start, end)``, in order
    (fetched ``workers`` at a time; the first may begin before ``start``)."""
    first, last = start // TILE_WIDTH, (end - 1) // TILE_WIDTH
    jobs = [(n, min(TILE_WIDTH, end - n * TILE_WIDTH)) for n in range(first, last + 1)]

    def get(job: tuple[int, int]) -> tuple[int, int, bytes]:
        n, width = job
        return n, width, fetch(tile_path("entries", n, width))

    if end <= start:
        return
    with ThreadPoolExecutor(max_workers=workers) as pool:
        for n, width, bundle in pool.map(get, jobs):
            yield n * TILE_WIDTH, _split_bundle(bundle, width, n)


def _split_bundle(bundle: bytes, width: int, n: int) -> list[bytes]:
    """The ``width`` uint16-length-prefixed entries of a bundle."""
    out = []
    pos = 0
    size = len(bundle)
    for _ in range(width):
        if pos + 2 > size:
            raise _fail("entry bundle {n} is short", n=n)
        length = (bundle[pos] << 8) | bundle[pos + 1]
        out.append(bundle[pos + 2 : pos + 2 + length])
        pos += 2 + length
    if pos != size:
        raise _fail("entry bundle {n} has trailing bytes or is short", n=n)
    return out


def _extend(compact: CompactRange, items: list[bytes]) -> None:
    """Append the leaves of ``items`` (a whole aligned tile at once when it can)."""
    sha = hashlib.sha256
    leaves = [sha(b"\x00" + d).digest() for d in items]
    if len(leaves) == TILE_WIDTH and compact.size % TILE_WIDTH == 0:
        while len(leaves) > 1:
            leaves = [
                sha(b"\x01" + a + b).digest()
                for a, b in zip(leaves[::2], leaves[1::2], strict=True)
            ]
        compact.append_subtree(leaves[0], 8)
        return
    for leaf in leaves:
        compact.append(leaf)


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
    counts = state.counts
    voters = state.voters
    fresh: list[bytes] = []
    fresh_set: set[bytes] = set()
    for index, data in _entries(fetch, state.size, checkpoint.size, compact):
        try:
            e = entries.decode(data)
        except entries.EntryError:
            raise _fail("entry {index} is not a check-in entry", index=index) from None
        if e.counts_as_checkin:
            counts.stations[e.station] += 1
            if _seen(voters, e.voter) or e.voter in fresh_set:
                counts.accepted_twice.append(
                    {"index": index, "station": e.station, "voter": e.voter.hex()}
                )
            fresh.append(e.voter)
            fresh_set.add(e.voter)
        elif e.outcome == "duplicate":
            counts.duplicates += 1
        else:
            counts.conflicts += 1
    if compact.root() != checkpoint.root:
        raise _fail(
            "the entries do not lead from the last verified checkpoint (size {old}) to the"
            " signed root of size {new}: the log is not append-only or its tiles were changed",
            old=state.size,
            new=checkpoint.size,
        )
    state.size, state.root, state.compact = checkpoint.size, checkpoint.root, compact
    state.voters = _merged(voters, fresh)
    state.save(folder, quorum.signed.note.text)
    return Report(checkpoint.origin, checkpoint.size, previous, quorum.witnesses, counts)


def _entries(
    fetch: Fetch, start: int, end: int, compact: CompactRange
) -> Iterator[tuple[int, bytes]]:
    """Each entry of ``[start, end)`` with its index, its leaf added to ``compact`` first."""
    for first, items in read_bundles(fetch, start, end):
        items = items[start - first :] if first < start else items
        base = max(first, start)
        _extend(compact, items)
        yield from enumerate(items, start=base)


def _prefixes(hashes: list[bytes]) -> np.ndarray:
    return np.frombuffer(b"".join(h[:8] for h in hashes), dtype=">u8").astype(np.uint64)


def _seen(voters: np.ndarray, voter: bytes) -> bool:
    """Whether ``voter`` (by its first 8 bytes) is among the sorted accepted ``voters``."""
    key = np.uint64(int.from_bytes(voter[:8], "big"))
    i = int(np.searchsorted(voters, key))
    return i < len(voters) and voters[i] == key


def _merged(voters: np.ndarray, fresh: list[bytes]) -> np.ndarray:
    if not fresh:
        return voters
    return np.sort(np.concatenate([voters, _prefixes(fresh)]))


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


def audit(fetch: Fetch, policy: Policy) -> AuditReport:
    """Re-hash every entry of the log and check that they lead to the signed root."""
    quorum = check_checkpoint(fetch("checkpoint"), policy)
    checkpoint = quorum.signed.checkpoint
    compact = CompactRange()
    count = 0
    for _first, items in read_bundles(fetch, 0, checkpoint.size):
        _extend(compact, items)
        count += len(items)
    if count != checkpoint.size or compact.root() != checkpoint.root:
        raise _fail(
            "the log's {count} entries do not hash to its signed root of size {size}: entries"
            " were edited, deleted or reordered",
            count=count,
            size=checkpoint.size,
        )
    return AuditReport(checkpoint.origin, checkpoint.size, count)


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
    """Station code -> district from a CSV with ``code`` and ``district`` columns."""
    with path.open(encoding="utf-8-sig", newline="") as f:
        reader = csv.DictReader(f)
        if not reader.fieldnames or not {"code", "district"} <= set(reader.fieldnames):
            raise UserError.of("the station file needs code and district columns", file=str(path))
        return {row["code"]: row["district"] for row in reader}
