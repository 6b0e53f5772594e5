"""C2SP signed notes (c2sp.org/signed-note), checkpoints (tlog-checkpoint) and witness
cosignatures (tlog-cosignature), signed and verified with ``cryptography``'s Ed25519.

Keys are written the way the signed-note ecosystem writes them: a *verifier key* (vkey) is
``<name>+<key ID, 8 hex digits>+<base64(signature type || public key)>``, a *signer key*
``PRIVATE+KEY+<name>+<key ID>+<base64(signature type || Ed25519 seed)>``.
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

ED25519 = 0x01
"""Signature type of a plain Ed25519 note signature."""
COSIGNATURE_V1 = 0x04
"""Signature type of a timestamped Ed25519 witness cosignature (tlog-cosignature)."""
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


def _raw_public(key: Ed25519PublicKey) -> bytes:
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
        key = Ed25519PublicKey.from_public_bytes(self.public)
        timestamp = 0
        if self.sig_type == COSIGNATURE_V1:
            if len(signature) != 72:
                raise NoteError(f"invalid signature for key {self.name}+{self.key_id:08x}")
            (timestamp,) = struct.unpack(">Q", signature[:8])
            message = cosigned_message(message, timestamp)
            signature = signature[8:]
        try:
            key.verify(signature, message)
        except InvalidSignature as exc:
            raise NoteError(f"invalid signature for key {self.name}+{self.key_id:08x}") from exc
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
    if len(raw) != 33 or raw[0] not in (ED25519, COSIGNATURE_V1):
        raise NoteError("unsupported verifier key")
    verifier = Verifier(name, raw[0], raw[1:])
    if verifier.key_id != int(hex_id, 16):
        raise NoteError("verifier key hash mismatch")
    return verifier


@dataclass(frozen=True)
class Signer:
    """A private Ed25519 key that signs notes (type 0x01) or cosigns checkpoints (type 0x04)."""

    name: str
    seed: bytes
    sig_type: int = ED25519
    _key: Ed25519PrivateKey = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        check_key_name(self.name)
        if len(self.seed) != 32:
            raise NoteError("an Ed25519 seed is 32 bytes")
        object.__setattr__(self, "_key", Ed25519PrivateKey.from_private_bytes(self.seed))

    @classmethod
    def generate(cls, name: str, sig_type: int = ED25519) -> Signer:
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
        if self.sig_type == COSIGNATURE_V1:
            prefix = struct.pack(">Q", timestamp)
            message = cosigned_message(message, timestamp)
        raw = struct.pack(">I", self.key_id) + prefix + self._key.sign(message)
        return f"{_DASH}{self.name} {base64.b64encode(raw).decode()}\n"


def parse_skey(skey: str) -> Signer:
    """Read a signer key written by :attr:`Signer.skey`."""
    parts = skey.split("+", 4)
    if len(parts) != 5 or parts[:2] != ["PRIVATE", "KEY"]:
        raise NoteError("malformed signer key")
    _, _, name, hex_id, blob = parts
    raw = _b64decode(blob)
    if len(raw) != 33 or raw[0] not in (ED25519, COSIGNATURE_V1):
        raise NoteError("unsupported signer key")
    signer = Signer(name, raw[1:], raw[0])
    if f"{signer.key_id:08x}" != hex_id:
        raise NoteError("signer key hash mismatch")
    return signer


def cosigned_message(text: bytes, timestamp: int) -> bytes:
    """What a v1 cosignature signs: a header line, a time line, then the checkpoint's text."""
    return b"cosignature/v1\ntime %d\n" % timestamp + text


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


def open_note(data: bytes | str, verifiers: Iterable[Verifier]) -> Verified:
    """Parse ``data`` and verify it against ``verifiers``.

    Signatures of unknown keys (not both name and key ID known) are ignored; a known key's
    signature that fails rejects the note; a note no known key signed is rejected.
    """
    note = parse_note(data)
    known = {(v.name, v.key_id): v for v in verifiers}
    message = note.text.encode()
    signers: dict[str, int] = {}
    for sig in note.signatures:
        verifier = known.get((sig.name, sig.key_id))
        if verifier is None:
            continue
        signers[sig.name] = verifier.verify(message, sig.signature) or 0
    if not signers:
        raise NoteError("the note has no signature from a trusted key")
    return Verified(note, signers)


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
    data: bytes | str, log: Verifier, witnesses: Iterable[Verifier] = ()
) -> SignedCheckpoint:
    """Verify a checkpoint signed by ``log`` (its key name is the origin) and any witnesses."""
    verified = open_note(data, [log, *witnesses])
    if log.name not in verified.signers:
        raise NoteError("the checkpoint is not signed by the log's key")
    checkpoint = parse_checkpoint(verified.note.text)
    if checkpoint.origin != log.name:
        raise NoteError(f"the checkpoint's origin {checkpoint.origin!r} is not the log's")
    return SignedCheckpoint(checkpoint, verified.note, verified.signers)
