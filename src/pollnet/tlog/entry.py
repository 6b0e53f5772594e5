"""The log's entry: one ledger outcome, in a small binary form that observers decode.

Layout (big-endian): version byte 1, outcome byte, the time as u64 milliseconds since the Unix
epoch (UTC), the 32-byte publication hash of the voter, then election, station and device serial
as u8-length-prefixed UTF-8. The publication hash is HMAC-SHA256 under the *publication* key of
the ledger's voter hash: one voter has one publication hash per election (so a second acceptance
shows), and once the publication key is destroyed nobody can link it back to the ledger's hash,
let alone to a national code.
"""

from __future__ import annotations

import datetime as dt
import hmac
import struct
from collections.abc import Iterable
from dataclasses import dataclass

VERSION = 1
OUTCOMES = ("accepted", "accepted_offline", "duplicate", "conflict")
"""What happened: accepted online, accepted offline and replayed, refused as a duplicate, or an
offline acceptance of a voter already accepted (a conflict)."""
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_HEAD = struct.Struct(">BBQ")


class EntryError(ValueError):
    """Bytes that are not a log entry of this version."""


@dataclass(frozen=True)
class Entry:
    """One decoded log entry."""

    election: str
    station: str
    device: str
    at: dt.datetime
    outcome: str
    voter: bytes
    """The 32-byte publication hash of the voter."""

    @property
    def counts_as_checkin(self) -> bool:
        """Whether this entry is a voter's acceptance (online or offline)."""
        return self.outcome in ("accepted", "accepted_offline")


def publication_hash(publication_key: bytes, ledger_voter_hash: str) -> bytes:
    """HMAC-SHA256 of the ledger's voter hash (hex) under the publication key."""
    return hmac.digest(publication_key, bytes.fromhex(ledger_voter_hash), "sha256")


def encode(entry: Entry) -> bytes:
    """The entry's bytes (at most a few hundred: election, station and device are short)."""
    if len(entry.voter) != 32:
        raise EntryError("the voter hash is 32 bytes")
    names = _names(entry.election, entry.station, entry.device)
    return _header(entry.outcome, entry.at) + entry.voter + names


class Encoder:
    """Encodes the outcomes of one election, many at a time, for the ledger's writer.

    The same bytes as :func:`encode` of each outcome with its :func:`publication_hash`, for a
    fraction of the cost: the publication key's HMAC state is keyed once, and each station's
    and device's encoded names and each outcome's header at one time are reused.
    """

    def __init__(self, election: str, publication_key: bytes) -> None:
        self.election = election
        self._keyed = hmac.new(publication_key, digestmod="sha256")
        self._names: dict[tuple[str, str], bytes] = {}

    def encode(self, outcomes: Iterable[tuple[str, str, str, dt.datetime, str]]) -> list[bytes]:
        """The entries of ``(outcome, station, device, time, ledger voter hash)`` tuples."""
        keyed, names = self._keyed, self._names
        headers: dict[tuple[str, dt.datetime], bytes] = {}
        out = []
        for outcome, station, device, at, voter_hash in outcomes:
            header = headers.get((outcome, at))
            if header is None:
                header = headers[outcome, at] = _header(outcome, at)
            tail = names.get((station, device))
            if tail is None:
                if len(names) > _NAMES_KEPT:
                    names.clear()
                tail = names[station, device] = _names(self.election, station, device)
            mac = keyed.copy()
            mac.update(bytes.fromhex(voter_hash))
            out.append(header + mac.digest() + tail)
        return out


_NAMES_KEPT = 100_000
"""How many (station, device) encodings an :class:`Encoder` keeps (a city has ~12,000 devices)."""


def _header(outcome: str, at: dt.datetime) -> bytes:
    try:
        code = OUTCOMES.index(outcome) + 1
    except ValueError:
        raise EntryError(f"unknown outcome {outcome!r}") from None
    millis = (at - _EPOCH) // dt.timedelta(milliseconds=1)
    return struct.pack(">BBQ", VERSION, code, millis)


def _names(election: str, station: str, device: str) -> bytes:
    parts = []
    for text in (election, station, device):
        raw = text.encode()
        if len(raw) > 255:
            raise EntryError("a name is longer than 255 bytes")
        parts += [bytes([len(raw)]), raw]
    return b"".join(parts)


def decode(data: bytes) -> Entry:
    """Read an entry; raises :class:`EntryError` when the bytes are not one."""
    outcome, millis, voter, election, station, device = fields(data)
    at = _EPOCH + dt.timedelta(milliseconds=millis)
    return Entry(election, station, device, at, outcome, voter)


def fields(data: bytes) -> tuple[str, int, bytes, str, str, str]:
    """``(outcome, milliseconds since the epoch, voter, election, station, device)`` of an
    entry, checked as :func:`decode` checks it but without building one (an observer counts
    millions)."""
    try:
        version, outcome, millis = _HEAD.unpack_from(data)
        if version != VERSION or not 1 <= outcome <= len(OUTCOMES):
            raise EntryError("not a version 1 entry")
        voter = data[10:42]
        pos = 42
        size = data[pos]
        election = data[pos + 1 : pos + 1 + size].decode()
        pos += 1 + size
        size = data[pos]
        station = data[pos + 1 : pos + 1 + size].decode()
        pos += 1 + size
        size = data[pos]
        device = data[pos + 1 : pos + 1 + size].decode()
        pos += 1 + size
    except (struct.error, IndexError, UnicodeDecodeError) as exc:
        raise EntryError("a truncated or garbled entry") from exc
    if pos != len(data) or len(voter) != 32:
        raise EntryError("a truncated or garbled entry")
    return OUTCOMES[outcome - 1], millis, voter, election, station, device
