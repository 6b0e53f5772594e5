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
from dataclasses import dataclass

VERSION = 1
OUTCOMES = ("accepted", "accepted_offline", "duplicate", "conflict")
"""What happened: accepted online, accepted offline and replayed, refused as a duplicate, or an
offline acceptance of a voter already accepted (a conflict)."""
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


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
    if entry.outcome not in OUTCOMES:
        raise EntryError(f"unknown outcome {entry.outcome!r}")
    if len(entry.voter) != 32:
        raise EntryError("the voter hash is 32 bytes")
    millis = (entry.at - _EPOCH) // dt.timedelta(milliseconds=1)
    parts = [struct.pack(">BBQ", VERSION, OUTCOMES.index(entry.outcome) + 1, millis), entry.voter]
    for text in (entry.election, entry.station, entry.device):
        raw = text.encode()
        if len(raw) > 255:
            raise EntryError("a name is longer than 255 bytes")
        parts += [bytes([len(raw)]), raw]
    return b"".join(parts)


def decode(data: bytes) -> Entry:
    """Read an entry; raises :class:`EntryError` when the bytes are not one."""
    try:
        version, outcome, millis = struct.unpack_from(">BBQ", data)
        if version != VERSION or not 1 <= outcome <= len(OUTCOMES):
            raise EntryError("not a version 1 entry")
        voter = data[10:42]
        pos = 42
        names = []
        for _ in range(3):
            size = data[pos]
            names.append(data[pos + 1 : pos + 1 + size].decode())
            pos += 1 + size
    except (struct.error, IndexError, UnicodeDecodeError) as exc:
        raise EntryError("a truncated or garbled entry") from exc
    if pos != len(data) or len(voter) != 32:
        raise EntryError("a truncated or garbled entry")
    at = _EPOCH + dt.timedelta(milliseconds=millis)
    return Entry(names[0], names[1], names[2], at, OUTCOMES[outcome - 1], voter)
