"""The log in the ledger's database: the writer's appender, the keys, and reads for publishing.

:class:`LedgerLog` is the ledger writer's :class:`~pollnet.link.ledger.OutcomeLog`: it appends
each batch's outcomes to ``tlog_entries`` inside the batch's transaction, so an outcome is in the
log if and only if it is in the ledger. Everything else here reads committed rows.
"""

from __future__ import annotations

import datetime as dt
import os
import secrets
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import Connection, Engine

from pollnet.errors import UserError
from pollnet.link.ledger import Outcome
from pollnet.link.pki import _write_secret
from pollnet.store.bulk import insert_many
from pollnet.store.schema.tlog import tlog_checkpoints
from pollnet.tlog import entry as entries
from pollnet.tlog import merkle
from pollnet.tlog.keys import make_key, read_key
from pollnet.tlog.note import ED25519, MLDSA44, Signer, Verifier, parse_vkey

LOG_KEY = "log.key"
LOG_PUB = "log.pub"
LOG_MLDSA_KEY = "log-mldsa44.key"
LOG_MLDSA_PUB = "log-mldsa44.pub"
PUBLICATION_KEY = "publication.key"


@dataclass(frozen=True)
class LogKeys:
    """The log's signing keys and, until it is destroyed, the publication key."""

    signer: Signer
    """The Ed25519 key (signature type 0x01) every checkpoint is signed with."""
    publication_key: bytes | None
    mldsa: Signer | None = None
    """The ML-DSA-44 key (type 0x06, the same name) that signs every checkpoint beside it."""

    @property
    def verifier(self) -> Verifier:
        return self.signer.verifier

    @property
    def signers(self) -> tuple[Signer, ...]:
        return (self.signer,) if self.mldsa is None else (self.signer, self.mldsa)


def init_keys(folder: Path, origin: str) -> LogKeys:
    """Make the log's Ed25519 and ML-DSA-44 keys (named ``origin``) and a fresh publication key
    in ``folder``.

    Existing keys are kept (running it twice changes nothing; a log made before ML-DSA-44 gets
    that key, named like its Ed25519 key); returns the keys.
    """
    folder.mkdir(parents=True, exist_ok=True)
    if not (folder / LOG_KEY).is_file():
        make_key(folder / LOG_KEY, folder / LOG_PUB, origin, ED25519)
        _write_secret(folder / PUBLICATION_KEY, secrets.token_hex(32).encode() + b"\n")
    if not (folder / LOG_MLDSA_KEY).is_file():
        name = read_keys(folder).signer.name
        make_key(folder / LOG_MLDSA_KEY, folder / LOG_MLDSA_PUB, name, MLDSA44)
    return read_keys(folder)


def read_keys(folder: Path) -> LogKeys:
    """The keys in ``folder``; a :class:`UserError` when the log was never set up there."""
    path = folder / LOG_KEY
    if not path.is_file():
        raise UserError.of(
            "no transparency log keys in {folder}; run `pollnet log init` first",
            file=str(folder),
            folder=str(folder),
        )
    signer = read_key(path)
    pub = folder / PUBLICATION_KEY
    publication = bytes.fromhex(pub.read_text().strip()) if pub.is_file() else None
    mldsa_path = folder / LOG_MLDSA_KEY
    mldsa = read_key(mldsa_path) if mldsa_path.is_file() else None
    return LogKeys(signer, publication, mldsa)


def read_verifiers(folder: Path) -> list[Verifier]:
    """The log's public keys (``log.pub``, and ``log-mldsa44.pub`` when there is one): what
    observers are given."""
    return [
        parse_vkey((folder / name).read_text().strip())
        for name in (LOG_PUB, LOG_MLDSA_PUB)
        if name == LOG_PUB or (folder / name).is_file()
    ]


def destroy_publication_key(folder: Path) -> bool:
    """Overwrite and delete the publication key; True when there was one.

    After this nobody can tell which ledger voter hash a published hash stands for: the log can
    take no new entries, and the published hashes stay unlinkable for ever.
    """
    path = folder / PUBLICATION_KEY
    if not path.is_file():
        return False
    size = path.stat().st_size
    with path.open("r+b") as f:
        f.write(secrets.token_bytes(size))
        f.flush()
        os.fsync(f.fileno())
    path.unlink()
    return True


class LedgerLog:
    """Appends the ledger's outcomes to ``tlog_entries`` in the writer's own transaction.

    Only the entries and their leaf hashes are written there (one ``executemany`` a batch); the
    publisher builds the tree's interior hashes from the committed rows.
    """

    def __init__(self, election: str, publication_key: bytes) -> None:
        self.election = election
        self.publication_key = publication_key
        self.encoder = entries.Encoder(election, publication_key)
        self.next_index = 0

    def reload(self, conn: Connection) -> None:
        self.next_index = log_size(conn)

    def append(self, conn: Connection, outcomes: Sequence[Outcome]) -> int:
        first = self.next_index
        data = self.encoder.encode(outcomes)
        rows = list(
            zip(range(first, first + len(data)), data, merkle.leaf_hashes(data), strict=True)
        )
        insert_many(conn, "tlog_entries", ("idx", "entry", "leaf_hash"), rows)
        self.next_index = first + len(rows)
        return first


def log_size(conn: Connection) -> int:
    """How many entries the log holds (committed, as seen by ``conn``)."""
    value = conn.exec_driver_sql("SELECT coalesce(max(idx) + 1, 0) FROM tlog_entries").scalar()
    return int(value or 0)


def leaf_blocks(engine: Engine, start: int, chunk: int = 50_000) -> Iterator[bytes]:
    """The leaf hashes of the committed entries from ``start`` on, in order, as runs of 32-byte
    hashes (up to ``chunk`` a run); a missing index or a bad hash raises :class:`LogGap`."""
    mark = "?" if engine.dialect.name == "sqlite" else "%s"
    sql = f"SELECT idx, leaf_hash FROM tlog_entries WHERE idx >= {mark} ORDER BY idx LIMIT {mark}"
    with engine.connect() as conn:
        cursor = conn.connection.cursor()  # the driver's plain tuples: no row objects per leaf
        try:
            while True:
                cursor.execute(sql, (start, chunk))
                rows = cursor.fetchall()
                if not rows:
                    return
                if rows[0][0] != start or rows[-1][0] != start + len(rows) - 1:
                    raise LogGap(f"entry {start + _first_gap(rows, start)} is missing from the log")
                block = b"".join(h for _, h in rows)
                if len(block) != merkle.HASH_SIZE * len(rows):
                    raise LogGap(f"a leaf hash from entry {start} on is not 32 bytes")
                yield block
                if len(rows) < chunk:
                    return
                start += len(rows)
        finally:
            cursor.close()


class LogGap(ValueError):
    """The committed entries are not a run of indices ``0, 1, 2, ...`` with 32-byte leaf hashes."""


def _first_gap(rows: Sequence[Sequence[object]], start: int) -> int:
    return next((n for n, row in enumerate(rows) if row[0] != start + n), len(rows))


def entry_range(engine: Engine, start: int, end: int) -> list[tuple[int, bytes]]:
    """``(index, entry bytes)`` of the committed entries in ``[start, end)``, in order."""
    mark = "?" if engine.dialect.name == "sqlite" else "%s"
    with engine.connect() as conn:
        rows = conn.exec_driver_sql(
            f"SELECT idx, entry FROM tlog_entries WHERE idx >= {mark} AND idx < {mark}"
            " ORDER BY idx",
            (start, end),
        ).all()
    return [(int(i), bytes(e)) for i, e in rows]


@dataclass(frozen=True)
class StoredCheckpoint:
    """A checkpoint row: what was signed, when, and the note with any cosignatures."""

    size: int
    root: bytes
    signed_at: dt.datetime
    note: str
    cosigned: str | None


def latest_checkpoint(engine: Engine) -> StoredCheckpoint | None:
    """The checkpoint of the largest size the log signed, or None before the first."""
    with engine.connect() as conn:
        row = conn.exec_driver_sql(
            "SELECT size, root, signed_at, note, cosigned FROM tlog_checkpoints"
            " ORDER BY size DESC LIMIT 1"
        ).first()
    if row is None:
        return None
    signed_at = row[2]
    if isinstance(signed_at, str):
        signed_at = dt.datetime.fromisoformat(signed_at)
    return StoredCheckpoint(int(row[0]), bytes(row[1]), signed_at, row[3], row[4])


def save_checkpoint(engine: Engine, checkpoint: StoredCheckpoint) -> None:
    """Persist a checkpoint the log just signed (before anyone is shown it)."""
    with engine.begin() as conn:
        conn.execute(
            tlog_checkpoints.insert().values(
                size=checkpoint.size,
                root=checkpoint.root,
                signed_at=checkpoint.signed_at,
                note=checkpoint.note,
                cosigned=checkpoint.cosigned,
            )
        )


def save_cosigned(engine: Engine, size: int, cosigned: str) -> None:
    """Keep the checkpoint of ``size`` with the witnesses' cosignatures collected for it."""
    with engine.begin() as conn:
        conn.execute(
            tlog_checkpoints.update()
            .where(tlog_checkpoints.c.size == size)
            .values(cosigned=cosigned)
        )
