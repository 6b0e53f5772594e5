"""C2SP signed notes (c2sp.org/signed-note), checkpoints (tlog-checkpoint) and cosignatures
(tlog-cosignature), signed and verified with ``cryptography``'s Ed25519 and ML-DSA-44.

Three signature types: plain Ed25519 note signatures (0x01), timestamped Ed25519 cosignatures
(0x04, ``cosignature/v1``) and timestamped ML-DSA-44 cosignatures (0x06, the ``subtree/v1``
message of tlog-cosignature, which commits to the signer's name, the origin, the size and the
root). The log signs its checkpoints with an Ed25519 key and, beside it, an ML-DSA-44 key of the
same name in the 0x06 construction: signed-note assigns no type to a plain ML-DSA-44 signature
over a note's text, so the one ML-DSA-44 format the specs define is used for the log too.

Keys are written the way the signed-note ecosystem writes them: a *verifier key* (vkey) is
``<name>+<key ID, 8 hex digits>+<base64(signature type || public key)>``, a *signer key*
``PRIVATE+KEY+<name>+<key ID>+<base64(signature type || 32-byte seed)>`` (the Ed25519 seed, or
the ML-DSA-44 key-generation seed of FIPS 204).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import struct
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from cryptography.hazmat.primitives.asymmetric.mldsa import MLDSA44PrivateKey, MLDSA44PublicKey

ED25519 = 0x01
"""Signature type of a plain Ed25519 note signature."""
COSIGNATURE_V1 = 0x04
"""Signature type of a timestamped Ed25519 witness cosignature (tlog-cosignature)."""
MLDSA44 = 0x06
"""Signature type of a timestamped ML-DSA-44 (sub)tree cosignature (tlog-cosignature)."""
_PUBLIC_SIZE = {ED25519: 32, COSIGNATURE_V1: 32, MLDSA44: 1312}
_SIGNATURE_SIZE = {ED25519: 64, COSIGNATURE_V1: 8 + 64, MLDSA44: 8 + 2420}
MAX_SIGNATURES = 100
"""A note with more signature lines than this is refused (the spec asks for at least 16)."""

_DASH = "\u2014 "


class NoteError(ValueError):
    """A note, key or checkpoint that is malformed or does not verify."""


def check_key_name(name: str) -> str:
    """``name`` if it is a valid key name: non-empty, no Unicode space, no ``+``."""
    if not name or "+" in name or any(c.isspace() for c in name):
        raise NoteError(f"invalid key name {name!r}")
    return name


def key_id(name: str, sig_type: int, public: bytes) -> int:
    """SHA-256(name || 0x0A || type || public key)[:4], big-endian (signed-note, Signatures)."""
    digest = hashlib.sha256(name.encode() + b"\n" + bytes([sig_type]) + public).digest()
    return int.from_bytes(digest[:4], "big")


def _raw_public(key: Ed25519PublicKey | MLDSA44PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def _b64decode(text: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise NoteError("invalid base64") from exc


@dataclass(frozen=True)
class Verifier:
    """A public key that checks note signatures of one type under one name."""

    name: str
    sig_type: int
    public: bytes

    @property
    def key_id(self) -> int:
        return key_id(self.name, self.sig_type, self.public)

    @property
    def vkey(self) -> str:
        """The verifier key string: ``name+hash+base64(type || key)``."""
        blob = base64.b64encode(bytes([self.sig_type]) + self.public).decode()
        return f"{self.name}+{self.key_id:08x}+{blob}"

    def verify(self, message: bytes, signature: bytes) -> int | None:
        """Check ``signature`` (without its key ID) over the note text ``message``.

        Returns the cosignature's timestamp (0 for a plain Ed25519 signature); raises
        :class:`NoteError` when it does not verify.
        """
        invalid = f"invalid signature for key {self.name}+{self.key_id:08x}"
        if len(signature) != _SIGNATURE_SIZE[self.sig_type]:
            raise NoteError(invalid)
        timestamp = 0
        if self.sig_type != ED25519:
            (timestamp,) = struct.unpack(">Q", signature[:8])
            message = _signed_message(self.sig_type, self.name, message, timestamp)
            signature = signature[8:]
        try:
            if self.sig_type == MLDSA44:
                MLDSA44PublicKey.from_public_bytes(self.public).verify(signature, message)
            else:
                Ed25519PublicKey.from_public_bytes(self.public).verify(signature, message)
        except InvalidSignature as exc:
            raise NoteError(invalid) from exc
        return timestamp


def parse_vkey(vkey: str) -> Verifier:
    """Read a verifier key; raises :class:`NoteError` on any defect (a wrong hash, length, type)."""
    parts = vkey.split("+", 2)
    if len(parts) != 3:
        raise NoteError("malformed verifier key")
    name, hex_id, blob = parts
    check_key_name(name)
    if len(hex_id) != 8 or not all(c in "0123456789abcdef" for c in hex_id):
        raise NoteError("malformed verifier key")
    raw = _b64decode(blob)
    if not raw or len(raw) != 1 + _PUBLIC_SIZE.get(raw[0], -1):
        raise NoteError("unsupported verifier key")
    verifier = Verifier(name, raw[0], raw[1:])
    if verifier.key_id != int(hex_id, 16):
        raise NoteError("verifier key hash mismatch")
    return verifier


@dataclass(frozen=True)
class Signer:
    """A private key that signs notes: Ed25519 (type 0x01), or cosigns checkpoints: Ed25519
    (type 0x04) or ML-DSA-44 (type 0x06)."""

    name: str
    seed: bytes
    sig_type: int = ED25519
    _key: Ed25519PrivateKey | MLDSA44PrivateKey = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        check_key_name(self.name)
        if self.sig_type not in _PUBLIC_SIZE:
            raise NoteError(f"unsupported signature type {self.sig_type:#04x}")
        if len(self.seed) != 32:
            raise NoteError("a signer's seed is 32 bytes")
        key: Ed25519PrivateKey | MLDSA44PrivateKey
        if self.sig_type == MLDSA44:
            key = MLDSA44PrivateKey.from_seed_bytes(self.seed)
        else:
            key = Ed25519PrivateKey.from_private_bytes(self.seed)
        object.__setattr__(self, "_key", key)

    @classmethod
    def generate(cls, name: str, sig_type: int = ED25519) -> Signer:
        if sig_type == MLDSA44:
            return cls(name, MLDSA44PrivateKey.generate().private_bytes_raw(), sig_type)
        key = Ed25519PrivateKey.generate()
        seed = key.private_bytes(
            serialization.Encoding.Raw,
            serialization.PrivateFormat.Raw,
            serialization.NoEncryption(),
        )
        return cls(name, seed, sig_type)

    @property
    def verifier(self) -> Verifier:
        return Verifier(self.name, self.sig_type, _raw_public(self._key.public_key()))

    @property
    def key_id(self) -> int:
        return self.verifier.key_id

    @property
    def skey(self) -> str:
        """The signer key string: ``PRIVATE+KEY+name+hash+base64(type || seed)``."""
        blob = base64.b64encode(bytes([self.sig_type]) + self.seed).decode()
        return f"PRIVATE+KEY+{self.name}+{self.key_id:08x}+{blob}"

    def signature(self, text: str, timestamp: int = 0) -> str:
        """The signature line (with its newline) for note ``text``; cosigners put ``timestamp``
        (seconds since the epoch) in the signed message and the signature."""
        message = text.encode()
        prefix = b""
        if self.sig_type != ED25519:
            prefix = struct.pack(">Q", timestamp)
            message = _signed_message(self.sig_type, self.name, message, timestamp)
        raw = struct.pack(">I", self.key_id) + prefix + self._key.sign(message)
        return f"{_DASH}{self.name} {base64.b64encode(raw).decode()}\n"


def parse_skey(skey: str) -> Signer:
    """Read a signer key written by :attr:`Signer.skey`."""
    parts = skey.split("+", 4)
    if len(parts) != 5 or parts[:2] != ["PRIVATE", "KEY"]:
        raise NoteError("malformed signer key")
    _, _, name, hex_id, blob = parts
    raw = _b64decode(blob)
    if len(raw) != 33 or raw[0] not in _PUBLIC_SIZE:
        raise NoteError("unsupported signer key")
    signer = Signer(name, raw[1:], raw[0])
    if f"{signer.key_id:08x}" != hex_id:
        raise NoteError("signer key hash mismatch")
    return signer


def cosigned_message(text: bytes, timestamp: int) -> bytes:
    """What a v1 cosignature signs: a header line, a time line, then the checkpoint's text."""
    return b"cosignature/v1\ntime %d\n" % timestamp + text


def subtree_message(name: str, timestamp: int, checkpoint: Checkpoint) -> bytes:
    """What an ML-DSA-44 cosignature of a checkpoint signs: tlog-cosignature's
    ``cosigned_message`` with label ``subtree/v1\\n\\0``, the signer's name, the time, the
    origin, start 0, end = the tree size, and the root hash (extension lines are not signed)."""
    signer, origin = name.encode(), checkpoint.origin.encode()
    if not 1 <= len(signer) <= 255 or not 1 <= len(origin) <= 255:
        raise NoteError("a name or origin longer than 255 bytes")
    return b"".join(
        (
            b"subtree/v1\n\x00",
            bytes([len(signer)]) + signer,
            struct.pack(">Q", timestamp),
            bytes([len(origin)]) + origin,
            struct.pack(">QQ", 0, checkpoint.size),
            checkpoint.root,
        )
    )


def _signed_message(sig_type: int, name: str, text: bytes, timestamp: int) -> bytes:
    """What a cosignature of type ``sig_type`` by ``name`` signs over the checkpoint ``text``."""
    if timestamp >= 2**63:
        raise NoteError("a cosignature's timestamp is below 2**63")
    if sig_type == COSIGNATURE_V1:
        return cosigned_message(text, timestamp)
    try:
        checkpoint = parse_checkpoint(text.decode())
    except UnicodeDecodeError as exc:
        raise NoteError("a note must be UTF-8") from exc
    return subtree_message(name, timestamp, checkpoint)


@dataclass(frozen=True)
class Signature:
    """One signature line of a note: the key name, its key ID and the signature bytes."""

    name: str
    key_id: int
    signature: bytes

    @property
    def line(self) -> str:
        raw = struct.pack(">I", self.key_id) + self.signature
        return f"{_DASH}{self.name} {base64.b64encode(raw).decode()}\n"


@dataclass(frozen=True)
class Note:
    """A parsed note: its text (with the final newline) and every signature line on it."""

    text: str
    signatures: tuple[Signature, ...]

    def __str__(self) -> str:
        return self.text + "\n" + "".join(s.line for s in self.signatures)


def shed_signatures(data: str, max_bytes: int = 256) -> str:
    """The note ``data`` without the signature lines whose signature is over ``max_bytes``
    (the 2.4 KB ML-DSA-44 ones): short enough for a QR code, and still verified by anybody who
    trusts the Ed25519 keys that signed it."""
    parsed = parse_note(data)
    kept = tuple(s for s in parsed.signatures if len(s.signature) <= max_bytes)
    if not kept:
        raise NoteError("no signature would be left")
    return str(Note(parsed.text, kept))


def parse_note(data: bytes | str) -> Note:
    """Split a signed note into its text and signature lines (no verification)."""
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise NoteError("a note must be UTF-8") from exc
    if any(ord(c) < 0x20 and c != "\n" for c in data):
        raise NoteError("malformed note: a control character")
    split = data.rfind("\n\n")
    if split < 0 or not data.endswith("\n"):
        raise NoteError("malformed note")
    text, sig_block = data[: split + 1], data[split + 2 :]
    lines = sig_block[:-1].split("\n")
    if len(lines) > MAX_SIGNATURES:
        raise NoteError("malformed note: too many signatures")
    signatures = []
    for line in lines:
        if not line.startswith(_DASH):
            raise NoteError("malformed note: a signature line must start with an em dash")
        name, _, blob = line[len(_DASH) :].partition(" ")
        check_key_name(name)
        raw = _b64decode(blob)
        if len(raw) < 5:
            raise NoteError("malformed note: a signature is too short")
        signatures.append(Signature(name, int.from_bytes(raw[:4], "big"), raw[4:]))
    return Note(text, tuple(signatures))


@dataclass(frozen=True)
class Verified:
    """A note whose text at least one trusted key signed."""

    note: Note
    signers: dict[str, int]
    """Each trusted key (by name) that signed, with its cosignature time (0 for plain)."""
    keys: frozenset[tuple[str, int]] = frozenset()
    """``(name, key ID)`` of each trusted key whose signature verified."""


def open_note(data: bytes | str, verifiers: Iterable[Verifier]) -> Verified:
    """Parse ``data`` and verify it against ``verifiers``.

    Signatures of unknown keys (not both name and key ID known) are ignored; a known key's
    signature that fails rejects the note; a note no known key signed is rejected.
    """
    note = parse_note(data)
    known = {(v.name, v.key_id): v for v in verifiers}
    message = note.text.encode()
    signers: dict[str, int] = {}
    keys: set[tuple[str, int]] = set()
    for sig in note.signatures:
        verifier = known.get((sig.name, sig.key_id))
        if verifier is None:
            continue
        signers[sig.name] = verifier.verify(message, sig.signature) or 0
        keys.add((sig.name, sig.key_id))
    if not signers:
        raise NoteError("the note has no signature from a trusted key")
    return Verified(note, signers, frozenset(keys))


def sign_note(text: str, signers: Sequence[Signer], timestamp: int = 0) -> str:
    """The signed note for ``text`` (ending in a newline) with one line per signer."""
    if not text.endswith("\n") or "\n\n" in text:
        raise NoteError("a note's text ends in one newline and has no empty line")
    return text + "\n" + "".join(s.signature(text, timestamp) for s in signers)


@dataclass(frozen=True)
class Checkpoint:
    """A tlog-checkpoint's text: origin, tree size, root hash (and opaque extension lines)."""

    origin: str
    size: int
    root: bytes
    extensions: tuple[str, ...] = ()

    @property
    def text(self) -> str:
        lines = [self.origin, str(self.size), base64.b64encode(self.root).decode()]
        return "\n".join([*lines, *self.extensions]) + "\n"


def parse_checkpoint(text: str) -> Checkpoint:
    """Read a checkpoint's note text (no signatures); raises :class:`NoteError` when malformed."""
    if not text.endswith("\n"):
        raise NoteError("malformed checkpoint")
    lines = text[:-1].split("\n")
    if len(lines) < 3 or any(not line for line in lines):
        raise NoteError("malformed checkpoint")
    origin, size_text, root_text, *ext = lines
    if (
        not size_text.isascii()
        or not size_text.isdigit()
        or (size_text.startswith("0") and size_text != "0")
    ):
        raise NoteError("malformed checkpoint: the tree size")
    root = _b64decode(root_text)
    if len(root) != 32:
        raise NoteError("malformed checkpoint: the root hash")
    return Checkpoint(origin, int(size_text), root, tuple(ext))


@dataclass(frozen=True)
class SignedCheckpoint:
    """A checkpoint with the note it came in and who signed it."""

    checkpoint: Checkpoint
    note: Note
    signers: dict[str, int]


def open_checkpoint(
    data: bytes | str, log: Verifier | Sequence[Verifier], witnesses: Iterable[Verifier] = ()
) -> SignedCheckpoint:
    """Verify a checkpoint signed by ``log`` and any witnesses.

    ``log`` is the log's key, or its keys (an Ed25519 and an ML-DSA-44 key of one name, the
    origin): every one of them must have signed.
    """
    keys = [log] if isinstance(log, Verifier) else list(log)
    if not keys or any(key.name != keys[0].name for key in keys):
        raise NoteError("a log's keys share one name, its origin")
    verified = open_note(data, [*keys, *witnesses])
    for key in keys:
        if (key.name, key.key_id) not in verified.keys:
            raise NoteError(
                f"the checkpoint is not signed by the log's key {key.name}+{key.key_id:08x}"
            )
    checkpoint = parse_checkpoint(verified.note.text)
    if checkpoint.origin != keys[0].name:
        raise NoteError(f"the checkpoint's origin {checkpoint.origin!r} is not the log's")
    return SignedCheckpoint(checkpoint, verified.note, verified.signers)
