"""Station closing notes: what one device recorded, signed with the device's own key.

At close each device signs a short note (station, eligible voters, its check-ins and conflicts,
the first and last log index of its outcomes) as a C2SP signed note. The device key is the
ECDSA P-256 key of its certificate, so the signature is of signed-note type ``0x02`` (ECDSA, key
ID the first four bytes of SHA-256 of the DER public key; the signature is ASN.1 DER over
SHA-256 of the note text). An observer photographs the note at the door, checks it with the
device's certificate (issued by the election's CA) and compares it with the public log.
"""

from __future__ import annotations

import base64
import hashlib
import struct
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from pollnet.link.queue import QueuedCheckin
from pollnet.tlog import entry as entries
from pollnet.tlog.note import NoteError, check_key_name, parse_note

ECDSA = 0x02
HEADER = "pollnet.example/station-closing/v1"


@dataclass(frozen=True)
class ClosingNote:
    """A device's count of its day."""

    station: str
    device: str
    eligible: int
    checkins: int
    conflicts: int
    first_index: int | None
    last_index: int | None

    @property
    def text(self) -> str:
        first = "-" if self.first_index is None else str(self.first_index)
        last = "-" if self.last_index is None else str(self.last_index)
        return (
            f"{HEADER}\nstation {self.station}\ndevice {self.device}\neligible {self.eligible}\n"
            f"checkins {self.checkins}\nconflicts {self.conflicts}\nfirst {first}\nlast {last}\n"
        )


def from_queue(
    items: Iterable[QueuedCheckin], station: str, device: str, eligible: int
) -> ClosingNote:
    """The closing note of a device from its queue's answered check-ins."""
    checkins = conflicts = 0
    indices = []
    for item in items:
        answer = item.answer or {}
        if "log_index" in answer:
            indices.append(int(answer["log_index"]))
        if item.outcome == "accepted":
            checkins += 1
        elif item.outcome == "conflict":
            conflicts += 1
    return ClosingNote(
        station,
        device,
        eligible,
        checkins,
        conflicts,
        min(indices) if indices else None,
        max(indices) if indices else None,
    )


def key_id(public: ec.EllipticCurvePublicKey) -> int:
    """The note key ID of an ECDSA key: SHA-256 of its DER SubjectPublicKeyInfo, first 4 bytes."""
    der = public.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return int.from_bytes(hashlib.sha256(der).digest()[:4], "big")


def sign(note: ClosingNote, key: ec.EllipticCurvePrivateKey) -> str:
    """The signed closing note, signed by the device key under the device's serial."""
    check_key_name(note.device)
    signature = key.sign(note.text.encode(), ec.ECDSA(hashes.SHA256()))
    raw = struct.pack(">I", key_id(key.public_key())) + signature
    return note.text + "\n" + f"\u2014 {note.device} {base64.b64encode(raw).decode()}\n"


def open_signed(
    data: str, certificate: x509.Certificate, ca: Sequence[x509.Certificate]
) -> ClosingNote:
    """Verify a signed closing note with the device's certificate, itself checked up to a root
    in the election's CA file (``ca``: its certificates); raises :class:`NoteError` when anything
    does not verify."""
    _check_chain(certificate, ca)
    public = certificate.public_key()
    if not isinstance(public, ec.EllipticCurvePublicKey):
        raise NoteError("the device certificate does not hold an EC key")
    names = certificate.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)
    serial = str(names[0].value) if names else ""
    note = parse_note(data)
    wanted = key_id(public)
    signed = [s for s in note.signatures if s.name == serial and s.key_id == wanted]
    if not signed:
        raise NoteError(f"the note is not signed by device {serial}")
    try:
        public.verify(signed[0].signature, note.text.encode(), ec.ECDSA(hashes.SHA256()))
    except InvalidSignature as exc:
        raise NoteError(f"invalid signature for device {serial}") from exc
    closing = parse(note.text)
    if closing.device != serial:
        raise NoteError(f"the note speaks for device {closing.device}, signed by {serial}")
    return closing


def _issued(child: x509.Certificate, parent: x509.Certificate) -> bool:
    try:
        child.verify_directly_issued_by(parent)
    except (ValueError, TypeError, InvalidSignature):
        return False
    return True


def _check_chain(certificate: x509.Certificate, ca: Sequence[x509.Certificate]) -> None:
    """``certificate`` leads, through ``ca``'s certificates, to a self-signed root among them."""
    current = certificate
    for _ in range(len(ca) + 1):
        parent = next((c for c in ca if _issued(current, c)), None)
        if parent is None:
            break
        if parent.subject == parent.issuer and _issued(parent, parent):
            return
        current = parent
    raise NoteError("the device certificate is not issued by this CA")


def parse(text: str) -> ClosingNote:
    """Read a closing note's text."""
    lines = text.rstrip("\n").split("\n")
    if len(lines) != 8 or lines[0] != HEADER:
        raise NoteError("not a station closing note")
    values = {}
    for line in lines[1:]:
        name, _, value = line.partition(" ")
        values[name] = value
    try:
        return ClosingNote(
            values["station"],
            values["device"],
            int(values["eligible"]),
            int(values["checkins"]),
            int(values["conflicts"]),
            None if values["first"] == "-" else int(values["first"]),
            None if values["last"] == "-" else int(values["last"]),
        )
    except (KeyError, ValueError) as exc:
        raise NoteError("a malformed station closing note") from exc


def compare(note: ClosingNote, logged: Iterable[tuple[int, bytes]]) -> dict[str, tuple[int, int]]:
    """What differs between the note and the log's entries ``(index, entry)`` of the note's
    range, as ``{"checkins" | "conflicts": (in the log, in the note)}``; empty when they agree."""
    checkins = conflicts = 0
    for _index, data in logged:
        e = entries.decode(data)
        if e.device != note.device or e.station != note.station:
            continue
        if e.counts_as_checkin:
            checkins += 1
        elif e.outcome == "conflict":
            conflicts += 1
    found = {"checkins": (checkins, note.checkins), "conflicts": (conflicts, note.conflicts)}
    return {name: pair for name, pair in found.items() if pair[0] != pair[1]}
