"""A C2SP tlog-witness: verifies a log's consistency and cosigns its checkpoints.

The witness keeps, per log origin, only the latest checkpoint it cosigned (a small file in its
state folder, replaced atomically under a lock, so two requests can never roll it back). It
answers ``POST /add-checkpoint`` as tlog-witness says: 404 for an unknown origin, 403 when no
trusted log key signed, 400 for an old size above the new one, 409 (with the size it holds, as
``text/x.tlog.size``) when the old size is not its latest or the same size comes with another
root, 422 for a consistency proof that does not verify, and 200 with its cosignature line.
It is the split-view check: a log that shows two observers two different trees cannot get the
same witness to cosign both.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from pollnet.errors import UserError
from pollnet.tlog import merkle
from pollnet.tlog.keys import make_key, read_key
from pollnet.tlog.note import (
    COSIGNATURE_V1,
    MLDSA44,
    NoteError,
    Signer,
    Verifier,
    open_checkpoint,
    parse_checkpoint,
    parse_note,
)
from pollnet.tlog.publisher import Cosigner, WitnessBehind

WITNESS_KEY = "witness.key"
WITNESS_PUB = "witness.pub"
MAX_PROOF_LINES = 63


@dataclass(frozen=True)
class Response:
    status: int
    content_type: str
    body: bytes


def _text(status: int, message: str) -> Response:
    return Response(status, "text/plain; charset=utf-8", message.encode() + b"\n")


class Witness:
    """One witness: its key, the logs it trusts and its state folder."""

    def __init__(
        self,
        signer: Signer,
        logs: Iterable[Verifier],
        state_dir: Path,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if signer.sig_type not in (COSIGNATURE_V1, MLDSA44):
            raise ValueError("a witness signs with a cosignature key (type 0x04 or 0x06)")
        self.signer = signer
        self.logs: dict[str, list[Verifier]] = {}
        """Each trusted log's keys by origin (a log with two keys must sign with both)."""
        for key in logs:
            self.logs.setdefault(key.name, []).append(key)
        self.state_dir = state_dir
        self.clock = clock
        self._lock = threading.Lock()
        state_dir.mkdir(parents=True, exist_ok=True)

    def latest(self, origin: str) -> tuple[int, bytes] | None:
        """The size and root of the latest checkpoint cosigned for ``origin``."""
        path = self._path(origin)
        if not path.is_file():
            return None
        data = json.loads(path.read_text())
        return int(data["size"]), base64.b64decode(data["root"])

    def _path(self, origin: str) -> Path:
        return self.state_dir / (hashlib.sha256(origin.encode()).hexdigest()[:32] + ".json")

    def add_checkpoint(self, body: bytes) -> Response:
        """Handle one ``add-checkpoint`` request body."""
        try:
            text = body.decode("utf-8")
            head, sep, note_text = text.partition("\n\n")
            if not sep:
                return _text(400, "malformed request")
            lines = head.split("\n")
            if not lines[0].startswith("old "):
                return _text(400, "malformed request: no old size line")
            old_text = lines[0][4:]
            if not old_text.isdigit() or (old_text.startswith("0") and old_text != "0"):
                return _text(400, "malformed request: the old size")
            old = int(old_text)
            if len(lines) - 1 > MAX_PROOF_LINES:
                return _text(400, "too many proof lines")
            proof = [base64.b64decode(x, validate=True) for x in lines[1:]]
        except (UnicodeDecodeError, binascii.Error, ValueError):
            return _text(400, "malformed request")
        try:
            origin = parse_checkpoint(parse_note(note_text).text).origin
        except NoteError:
            return _text(400, "malformed checkpoint")
        log_keys = self.logs.get(origin)
        if log_keys is None:
            return _text(404, "unknown log")
        try:
            signed = open_checkpoint(note_text, log_keys)
        except NoteError:
            return _text(403, "no signature from a trusted log key")
        checkpoint = signed.checkpoint
        if old > checkpoint.size:
            return _text(400, "the old size is above the checkpoint's size")
        with self._lock:
            latest = self.latest(origin)
            held_size, held_root = latest if latest is not None else (0, merkle.EMPTY_ROOT)
            if old != held_size:
                return Response(409, "text/x.tlog.size", f"{held_size}\n".encode())
            if old == checkpoint.size and held_root != checkpoint.root and latest is not None:
                return _text(409, "the same size with another root")
            if old == 0 and proof:
                return _text(422, "a proof from size 0 must be empty")
            try:
                if latest is not None:
                    merkle.verify_consistency(
                        old, checkpoint.size, held_root, checkpoint.root, proof
                    )
            except merkle.ProofError:
                return _text(422, "the consistency proof does not verify")
            self._save(origin, checkpoint.size, checkpoint.root)
        timestamp = int(self.clock())
        return Response(
            200,
            "text/plain; charset=utf-8",
            self.signer.signature(checkpoint.text, timestamp).encode(),
        )

    def _save(self, origin: str, size: int, root: bytes) -> None:
        path = self._path(origin)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(
            json.dumps({"origin": origin, "size": size, "root": base64.b64encode(root).decode()})
        )
        with tmp.open("rb") as f:
            os.fsync(f.fileno())
        os.replace(tmp, path)


WITNESS_KEY_TYPES = {"ed25519": COSIGNATURE_V1, "ml-dsa-44": MLDSA44}
"""The witness key types by name: an Ed25519 cosignature key (0x04) or an ML-DSA-44 one (0x06)."""


def init_witness(folder: Path, name: str, sig_type: int = COSIGNATURE_V1) -> Signer:
    """Make a witness key named ``name`` of ``sig_type`` in ``folder``; returns it.

    An existing key is kept; a :class:`UserError` says so when it is of another type."""
    if sig_type not in WITNESS_KEY_TYPES.values():
        raise ValueError("a witness signs with a cosignature key (type 0x04 or 0x06)")
    folder.mkdir(parents=True, exist_ok=True)
    if not (folder / WITNESS_KEY).is_file():
        make_key(folder / WITNESS_KEY, folder / WITNESS_PUB, name, sig_type)
    signer = read_witness_key(folder)
    if signer.sig_type != sig_type:
        held = next(k for k, v in WITNESS_KEY_TYPES.items() if v == signer.sig_type)
        raise UserError.of(
            "the witness in {folder} already has a key of type {kind}; a witness has one key",
            file=str(folder), folder=str(folder), kind=held,
        )  # fmt: skip
    return signer


def read_witness_key(folder: Path) -> Signer:
    """The witness key in ``folder``; a :class:`UserError` when there is none."""
    path = folder / WITNESS_KEY
    if not path.is_file():
        raise UserError.of(
            "no witness key in {folder}; run `pollnet witness init` first",
            file=str(folder),
            folder=str(folder),
        )
    return read_key(path)


class WitnessApp:
    """The witness's ASGI app: ``POST /add-checkpoint``."""

    def __init__(self, witness: Witness) -> None:
        self.witness = witness

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        if scope["type"] != "http":
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if len(body) > 64 * 1024:
                response = _text(413, "too large")
                break
            if not message.get("more_body"):
                response = (
                    self.witness.add_checkpoint(body)
                    if scope["method"] == "POST" and scope["path"] == "/add-checkpoint"
                    else _text(404, "not found")
                )
                break
        await send(
            {
                "type": "http.response.start",
                "status": response.status,
                "headers": [(b"content-type", response.content_type.encode())],
            }
        )
        await send({"type": "http.response.body", "body": response.body})


def http_cosigner(url: str, timeout: float = 5.0) -> Cosigner:
    """A cosigner for the publisher that asks the witness at ``url`` (its submission prefix),
    on a connection of its own each time (a checkpoint comes every few seconds at most)."""

    def cosign(checkpoint: str, old: int, proof: Sequence[bytes]) -> str:
        body = f"old {old}\n" + "".join(base64.b64encode(h).decode() + "\n" for h in proof)
        answer = httpx.post(
            url.rstrip("/") + "/add-checkpoint",
            content=(body + "\n" + checkpoint).encode(),
            timeout=timeout,
        )
        if answer.status_code == 409 and answer.headers.get("content-type", "").startswith(
            "text/x.tlog.size"
        ):
            raise WitnessBehind(int(answer.text.strip()))
        if answer.status_code != 200:
            raise RuntimeError(f"the witness answered {answer.status_code}: {answer.text.strip()}")
        return answer.text

    return cosign
