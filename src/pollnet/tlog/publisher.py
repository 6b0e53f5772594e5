"""The log's publisher: signs checkpoints of what the ledger committed, serves tiles and proofs.

It reads committed entries from the database (the ledger's writer put them there), keeps the
tree in memory (:class:`~pollnet.tlog.tiles.TiledTree`), and signs a checkpoint at least every
``interval_s`` while entries arrive. A checkpoint is written to ``tlog_checkpoints`` before it is
served, and every checkpoint extends the last one: on start the tree rebuilt from the database
must lead to the last signed root, or the publisher refuses to sign anything (the database was
edited, rows deleted or reordered).
"""

from __future__ import annotations

import base64
import datetime as dt
import logging
import struct
import threading
import time
from collections.abc import Callable, Sequence

from sqlalchemy.engine import Engine

from pollnet.tlog import merkle, store
from pollnet.tlog.note import Checkpoint, Signer, sign_note
from pollnet.tlog.tiles import TILE_WIDTH, TiledTree, TileError

log = logging.getLogger("pollnet.tlog.publisher")

MAX_INTERVAL_S = 10.0
"""The issue's bound: an accepted check-in is in a signed checkpoint within 10 s."""


class LogTampered(RuntimeError):
    """The entries in the database do not lead to a checkpoint the log already signed."""


Cosigner = Callable[[str, int, Sequence[bytes]], str]
"""``cosign(signed checkpoint, old size, consistency proof)`` -> the witness's signature lines
(raises when the witness refuses or cannot be reached)."""


class Publisher:
    """Signs and serves checkpoints, tiles and proofs of the log in ``engine`` (without a
    ``signer``, it only serves what the signing service stored: see :meth:`follow`)."""

    def __init__(
        self,
        engine: Engine,
        signer: Signer | None,
        *,
        interval_s: float = 5.0,
        poll_s: float = 0.5,
        clock: Callable[[], float] = time.monotonic,
        mldsa: Signer | None = None,
    ) -> None:
        if not 0 < interval_s <= MAX_INTERVAL_S:
            raise ValueError(f"interval_s must be in (0, {MAX_INTERVAL_S}]")
        self.engine = engine
        self.signer = signer
        self.mldsa = mldsa
        """The log's ML-DSA-44 key: it signs every checkpoint beside ``signer`` when given."""
        self.interval_s = interval_s
        self.poll_s = poll_s
        self.clock = clock
        self.tree = TiledTree()
        self.signed: store.StoredCheckpoint | None = None
        self._signed_clock = -1e18
        self._lock = threading.RLock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.cosigners: dict[str, Cosigner] = {}
        self._witness_sizes: dict[str, int] = {}
        self.loaded = False

    def load(self) -> None:
        """Rebuild the tree from the database and check it against the last checkpoint."""
        tree = TiledTree()
        self._take_in(tree)
        signed = store.latest_checkpoint(self.engine)
        if signed is not None:
            if tree.size < signed.size:
                raise LogTampered(
                    f"the log holds {tree.size} entries, fewer than the {signed.size} it signed"
                )
            if tree.root(signed.size) != signed.root:
                raise LogTampered(f"the entries do not lead to the signed root at {signed.size}")
        with self._lock:
            self.tree = tree
            self.signed = signed
            self.loaded = True

    def step(self, force: bool = False) -> bool:
        """Take in newly committed entries; sign a checkpoint when one is due (``force``: now,
        if there are new entries). True if it signed one."""
        if not self.loaded:
            self.load()
        self._take_in(self.tree)
        with self._lock:
            size = self.tree.size
            signed_size = self.signed.size if self.signed is not None else -1
        if size == signed_size:
            return False
        waited = self.clock() - self._signed_clock
        if signed_size >= 0 and waited < self.interval_s and not force:
            return False
        self.sign(size)
        return True

    def follow(self) -> bool:
        """Take in committed entries and the newest checkpoint stored by the signing service,
        without ever signing (a read-only mirror of the public API). True if it moved on."""
        if not self.loaded:
            self.load()
        self._take_in(self.tree)
        latest = store.latest_checkpoint(self.engine)
        with self._lock:
            current = self.signed
            if latest is None or (current is not None and latest == current):
                return False
            if latest.size > self.tree.size or self.tree.root(latest.size) != latest.root:
                raise LogTampered(f"the entries do not lead to the signed root at {latest.size}")
            self.signed = latest
        return True

    def _take_in(self, tree: TiledTree) -> None:
        """Append the entries committed since ``tree.size`` to ``tree`` (a run at a time)."""
        try:
            for block in store.leaf_blocks(self.engine, tree.size):
                with self._lock:
                    tree.extend(block)
        except store.LogGap as gap:
            raise LogTampered(str(gap)) from None

    def sign(self, size: int) -> store.StoredCheckpoint:
        """Sign, persist and then publish the checkpoint of the first ``size`` entries."""
        if self.signer is None:
            raise RuntimeError("a read-only publisher (a mirror) does not sign")
        with self._lock:
            root = self.tree.root(size)
        checkpoint = Checkpoint(self.signer.name, size, root)
        now = dt.datetime.now(dt.UTC)
        signers = [self.signer] if self.mldsa is None else [self.signer, self.mldsa]
        note = sign_note(checkpoint.text, signers, int(now.timestamp()))
        row = store.StoredCheckpoint(size, root, now, note, None)
        store.save_checkpoint(self.engine, row)  # persisted before it is served
        with self._lock:
            self.signed = row
        self._signed_clock = self.clock()
        if self.cosigners:
            self.collect_cosignatures()
        return row

    def collect_cosignatures(self) -> dict[str, str]:
        """Ask every witness to cosign the latest checkpoint; returns the failures by witness.

        A witness that is down or refuses is skipped (check-ins go on); the checkpoint then
        waits for its quorum, which observers check.
        """
        signed = self.signed
        if signed is None:
            return {}
        lines: list[str] = []
        failures: dict[str, str] = {}
        for name, cosign in self.cosigners.items():
            old = self._witness_sizes.get(name, 0)
            try:
                proof = self.consistency(old, signed.size) if old <= signed.size else []
                lines.append(cosign(signed.note, old, proof))
                self._witness_sizes[name] = signed.size
            except WitnessBehind as behind:
                self._witness_sizes[name] = behind.size
                try:
                    proof = self.consistency(behind.size, signed.size)
                    lines.append(cosign(signed.note, behind.size, proof))
                    self._witness_sizes[name] = signed.size
                except Exception as exc:
                    failures[name] = str(exc)
            except Exception as exc:
                failures[name] = str(exc)
        for name, reason in failures.items():
            log.warning(
                "checkpoint %d waits for witness %s's cosignature: %s", signed.size, name, reason
            )
        if lines:
            cosigned = signed.note + "".join(lines)
            store.save_cosigned(self.engine, signed.size, cosigned)
            with self._lock:
                if self.signed is not None and self.signed.size == signed.size:
                    self.signed = store.StoredCheckpoint(
                        signed.size, signed.root, signed.signed_at, signed.note, cosigned
                    )
        return failures

    # --- reads -------------------------------------------------------------------------------

    def checkpoint(self) -> str | None:
        """The latest checkpoint as served: with the cosignatures collected so far."""
        signed = self.signed
        if signed is None:
            return None
        return signed.cosigned or signed.note

    @property
    def size(self) -> int:
        signed = self.signed
        return signed.size if signed is not None else 0

    def tile(self, level: int, n: int, width: int) -> bytes:
        with self._lock:
            return self.tree.tile(level, n, width, self.size)

    def entry_bundle(self, n: int, width: int) -> bytes:
        """Entries ``[256 n, 256 n + width)`` as uint16-length-prefixed bytes (tlog-tiles)."""
        size = self.size
        start = n * TILE_WIDTH
        if width < 1 or start + width > size or width > TILE_WIDTH:
            raise TileError(f"entries {n} width {width}")
        rows = store.entry_range(self.engine, start, start + width)
        if [i for i, _ in rows] != list(range(start, start + width)):
            raise LogTampered(f"entries {start}..{start + width} are not all in the log")
        return b"".join(struct.pack(">H", len(e)) + e for _, e in rows)

    def consistency(self, old: int, new: int) -> list[bytes]:
        with self._lock:
            return self.tree.consistency(old, new)

    def receipt(self, index: int) -> str:
        """A C2SP tlog-proof for entry ``index`` against the latest checkpoint."""
        note = self.checkpoint()
        size = self.size
        if note is None or not 0 <= index < size:
            raise TileError(f"entry {index} is not in a signed checkpoint yet")
        with self._lock:
            proof = self.tree.inclusion(index, size)
            leaf = self.tree.hash_at(0, index)
        rows = store.entry_range(self.engine, index, index + 1)
        if not rows or merkle.leaf_hash(rows[0][1]) != leaf:
            raise LogTampered(f"entry {index} does not match the signed tree")
        extra = base64.b64encode(rows[0][1]).decode()
        lines = ["c2sp.org/tlog-proof@v1", f"extra {extra}", f"index {index}"]
        lines += [base64.b64encode(h).decode() for h in proof]
        return "\n".join(lines) + "\n\n" + note

    # --- the thread --------------------------------------------------------------------------

    def start(self) -> None:
        """Load the log, sign its first checkpoint if due, then go on in a thread of its own."""
        if self._thread is None:
            self.load()
            self.step()
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, name="tlog-publisher", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        """Stop, after signing what is committed (the last check-ins get a checkpoint too)."""
        if self._thread is not None:
            self._stop.set()
            self._thread.join()
            self._thread = None
            self.step(force=True)

    def _run(self) -> None:
        # The committed entries are read only when a checkpoint is due (every interval_s while
        # entries arrive), not at every poll: one read and one tree update per checkpoint keep
        # the publisher off the ledger writer's CPU (they share the GIL) between checkpoints.
        while not self._stop.wait(self.poll_s):
            if self.clock() - self._signed_clock < self.interval_s:
                continue
            try:
                self.step()
            except LogTampered:
                log.critical("the transparency log was tampered with; no more checkpoints")
                return
            except Exception:
                log.exception("signing a checkpoint failed; trying again")


class WitnessBehind(Exception):
    """A witness's 409: it last cosigned ``size``, not the size we sent as old."""

    def __init__(self, size: int) -> None:
        super().__init__(f"the witness is at size {size}")
        self.size = size
