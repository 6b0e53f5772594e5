"""The ledger's head, anchored outside the database: a signed checkpoint in a file of its own.

The audit chain (:mod:`pollnet.link.audit`) shows any ledger row edited or removed, but not that
the last batches were cut off together with their audit rows. The service therefore writes the
chain's head (how many batches, and the chain value after them) to a separate file, signed with
the PKI's ``head.key`` (ECDSA P-256, SHA-256), about once a second and when it stops.
``pollnet audit --head FILE`` checks the database against it: fewer batches than the head
vouches for, or another chain value, is a problem.

The file is a signed note in the shape of a transparency log's checkpoint (C2SP
``tlog-checkpoint``): an origin line, the tree size (here: the batch count), the root hash (here:
the chain value, hex), then extension lines (the time it was signed), a blank line and one
signature line ``— <name> <base64(key id + signature)>``. When the transparency log exists, its
checkpoints are read into the same :class:`~pollnet.link.audit.Checkpoint` and verified the
same way. Keep a copy away from the database's host (a replica, an operator's laptop): an anchor
on the same disk goes with it.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import logging
import os
import threading
from collections.abc import Callable
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from pollnet.errors import UserError
from pollnet.link.audit import Checkpoint

ORIGIN = "pollnet ledger"
SIGNER = "pollnet-service"
log = logging.getLogger("pollnet.link.anchor")


def key_id(public_key: ec.EllipticCurvePublicKey) -> bytes:
    """The first four bytes of SHA-256 of the public key (DER): which key signed a note."""
    der = public_key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return hashlib.sha256(der).digest()[:4]


def sign_head(key: ec.EllipticCurvePrivateKey, size: int, head: str, at: dt.datetime) -> bytes:
    """The signed note of the chain after ``size`` batches (``head``), signed at ``at``."""
    body = f"{ORIGIN}\n{size}\n{head}\n{at.astimezone(dt.UTC).isoformat()}\n".encode()
    signature = key.sign(body, ec.ECDSA(hashes.SHA256()))
    blob = base64.b64encode(key_id(key.public_key()) + signature).decode()
    return body + f"\n\u2014 {SIGNER} {blob}\n".encode()


def read_head(path: Path, public_key: ec.EllipticCurvePublicKey) -> Checkpoint:
    """The checkpoint in the signed head file ``path``; a :class:`UserError` unless it verifies."""
    path = Path(path)
    try:
        text = path.read_bytes()
    except OSError as exc:
        raise UserError.of(
            "cannot read the signed head: {reason}", file=str(path), reason=exc.strerror or ""
        ) from None
    body, _, tail = text.partition(b"\n\n")
    body += b"\n"
    lines = body.decode("utf-8", "replace").splitlines()
    signature_line = tail.decode("utf-8", "replace").strip().split(" ")
    try:
        if len(lines) < 3 or lines[0] != ORIGIN or len(signature_line) != 3:
            raise ValueError
        size = int(lines[1])
        head = lines[2]
        blob = base64.b64decode(signature_line[2], validate=True)
        if signature_line[1] != SIGNER or blob[:4] != key_id(public_key) or len(head) != 64:
            raise ValueError
        public_key.verify(blob[4:], body, ec.ECDSA(hashes.SHA256()))
    except (ValueError, InvalidSignature):
        raise UserError.of(
            "the signed head does not verify with the PKI's head.pub", file=str(path)
        ) from None
    return Checkpoint(f"{ORIGIN} ({path.name})", size, head)


def write_head(path: Path, note: bytes) -> None:
    """Replace ``path`` by ``note`` atomically and durably (0644: a head is no secret)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        os.write(fd, note)
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


class HeadAnchor:
    """A thread that signs ``current()`` (batches, chain) into ``path`` whenever it moved.

    It looks every ``interval_s`` seconds and once more when stopped, so at most the batches of
    the last interval are not yet anchored.
    """

    def __init__(
        self,
        path: Path,
        key: ec.EllipticCurvePrivateKey,
        current: Callable[[], tuple[int, str]],
        *,
        interval_s: float = 1.0,
    ) -> None:
        self.path = Path(path)
        self._key = key
        self._current = current
        self.interval_s = interval_s
        self._written: tuple[int, str] | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, name="ledger-anchor", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        self.write()

    def write(self) -> bool:
        """Sign and write the current head if it moved since the last write; whether it did."""
        size, head = self._current()
        if (size, head) == self._written or size == 0:
            return False
        write_head(self.path, sign_head(self._key, size, head, dt.datetime.now(dt.UTC)))
        self._written = (size, head)
        return True

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s):
            try:
                self.write()
            except OSError:  # a full disk: the ledger goes on, the anchor tries again
                log.exception("could not write the signed ledger head to %s", self.path)


__all__ = ["ORIGIN", "HeadAnchor", "read_head", "sign_head", "write_head"]
