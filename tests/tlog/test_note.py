"""Signed notes, checkpoints and cosignatures against the published examples.

Vectors: the ``PeterNeumann`` and ``EnochRoot`` keys, note and signatures of
golang.org/x/mod ``sumdb/note/note_test.go`` (the reference implementation that
c2sp.org/signed-note specifies); the checkpoint text of c2sp.org/tlog-checkpoint.
"""

from __future__ import annotations

import base64
import hashlib

import hypothesis.strategies as st
import pytest
from cryptography.hazmat.primitives.asymmetric.mldsa import MLDSA44PublicKey
from hypothesis import given, settings

from pollnet.tlog import note
from pollnet.tlog.note import NoteError

PETER_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
PETER_SKEY = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
ENOCH_VKEY = "EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop"
TEXT = (
    "If you think cryptography is the answer to your problem,\n"
    "then you don't know what your problem is.\n"
)
PETER_SIG = (
    "— PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXg"
    "KvqfqdngotpRZb6KE6RyyBwJnAM=\n"
)
ENOCH_SIG = (
    "— EnochRoot rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTG"
    "wnWLox33WWd1RvMc+QQ=\n"
)


def test_keys_and_signature_match_the_reference() -> None:
    signer = note.parse_skey(PETER_SKEY)
    assert signer.verifier.vkey == PETER_VKEY
    assert signer.skey == PETER_SKEY
    assert note.parse_vkey(PETER_VKEY).key_id == 0xC74F20A3
    assert note.sign_note(TEXT, [signer]) == TEXT + "\n" + PETER_SIG


def test_open_verifies_known_keys_and_ignores_unknown_ones() -> None:
    peter, enoch = note.parse_vkey(PETER_VKEY), note.parse_vkey(ENOCH_VKEY)
    data = TEXT + "\n" + PETER_SIG + ENOCH_SIG
    assert note.open_note(data, [peter]).signers == {"PeterNeumann": 0}
    assert set(note.open_note(data, [peter, enoch]).signers) == {"PeterNeumann", "EnochRoot"}
    with pytest.raises(NoteError, match="no signature from a trusted key"):
        note.open_note(data, [])
    broken = TEXT + "\n" + PETER_SIG[:60] + "ABCD" + PETER_SIG[60:]
    with pytest.raises(NoteError):
        note.open_note(broken, [peter])
    with pytest.raises(NoteError):
        note.open_note(TEXT.replace("answer", "ANSWER") + "\n" + PETER_SIG, [peter])


@pytest.mark.parametrize(
    "bad",
    [
        TEXT,
        TEXT + "\n",
        TEXT + "\n" + PETER_SIG[:-1],
        "\x01" + TEXT + "\n" + PETER_SIG,
        TEXT + "\n— Bad Name x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZ=\n",
        TEXT + "\n" + PETER_SIG + "Unexpected line.\n",
    ],
)
def test_malformed_notes_are_refused(bad: str) -> None:
    with pytest.raises(NoteError):
        note.open_note(bad, [note.parse_vkey(PETER_VKEY)])


def test_mangled_verifier_keys_are_refused() -> None:
    for i in range(len(PETER_VKEY)):
        mangled = PETER_VKEY[:i] + chr(ord(PETER_VKEY[i]) + 1) + PETER_VKEY[i + 1 :]
        with pytest.raises(NoteError):
            note.parse_vkey(mangled)
    with pytest.raises(NoteError):
        note.parse_vkey(PETER_VKEY[:-4])


def test_checkpoint_text_round_trips_the_spec_example() -> None:
    text = "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
    checkpoint = note.parse_checkpoint(text)
    assert (checkpoint.origin, checkpoint.size) == ("example.com/behind-the-sofa", 20852163)
    assert checkpoint.text == text
    for bad in (text.replace("20852163", "020852163"), text[:-1], "a\n1\n\n"):
        with pytest.raises(NoteError):
            note.parse_checkpoint(bad)


def test_cosignature_signs_the_header_time_and_checkpoint() -> None:
    log = note.Signer.generate("vote.example/log")
    witness = note.Signer.generate("witness.example/w1", note.COSIGNATURE_V1)
    checkpoint = note.Checkpoint("vote.example/log", 3, bytes(32))
    signed = note.sign_note(checkpoint.text, [log]) + witness.signature(checkpoint.text, 1700000000)
    opened = note.open_checkpoint(signed, log.verifier, [witness.verifier])
    assert opened.signers == {"vote.example/log": 0, "witness.example/w1": 1700000000}
    assert opened.checkpoint == checkpoint
    # The key ID of a cosigner uses type 0x04: the same key as a plain signer has another ID.
    plain = note.Signer(witness.name, witness.seed)
    assert plain.key_id != witness.key_id
    line = signed.splitlines()[-1]
    dash, name, blob = line.split(" ")
    raw = bytearray(base64.b64decode(blob))
    raw[11] ^= 1  # the timestamp is signed too
    forged = signed.replace(line, f"{dash} {name} {base64.b64encode(bytes(raw)).decode()}")
    with pytest.raises(NoteError):
        note.open_checkpoint(forged, log.verifier, [witness.verifier])
    impostor = note.Signer.generate("vote.example/log").verifier
    with pytest.raises(NoteError, match="not signed by the log"):
        note.open_checkpoint(signed, impostor, [witness.verifier])


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.text(
            st.characters(min_codepoint=0x20, max_codepoint=0x10FFFF, exclude_categories=["Cs"]),
            min_size=1,
        ),
        min_size=1,
        max_size=5,
    )
)
def test_any_text_signs_and_verifies(lines: list[str]) -> None:
    signer = note.Signer.generate("test.example/key")
    text = "\n".join(lines) + "\n"
    signed = note.sign_note(text, [signer])
    assert note.open_note(signed, [signer.verifier]).note.text == text


ORIGIN = "example.com/behind-the-sofa"
ROOT = "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I="  # tlog-cosignature's example checkpoint


def test_mldsa44_cosignatures_follow_tlog_cosignature() -> None:
    """Type 0x06: the key ID and vkey of tlog-cosignature's Format section, a signature of 8 +
    2420 bytes over the ``subtree/v1`` struct, built here byte by byte from the spec's text."""
    signer = note.Signer(ORIGIN, bytes(range(32)), note.MLDSA44)
    verifier = signer.verifier
    assert len(verifier.public) == 1312
    by_spec = hashlib.sha256(ORIGIN.encode() + b"\n" + b"\x06" + verifier.public).digest()[:4]
    assert verifier.key_id == int.from_bytes(by_spec, "big")
    assert note.parse_vkey(verifier.vkey) == verifier
    assert note.parse_skey(signer.skey) == signer
    name_text, hex_id, blob = verifier.vkey.split("+", 2)
    assert (name_text, hex_id) == (ORIGIN, by_spec.hex())
    assert base64.b64decode(blob) == b"\x06" + verifier.public

    checkpoint = note.Checkpoint(ORIGIN, 20852163, base64.b64decode(ROOT))
    line = signer.signature(checkpoint.text, 1679315147)
    raw = base64.b64decode(line.split(" ")[-1])
    assert raw[:4] == by_spec and len(raw) == 4 + 8 + 2420
    assert raw[4:12] == (1679315147).to_bytes(8, "big")
    name = ORIGIN.encode()
    message = (
        b"subtree/v1\n\x00"
        + bytes([len(name)])
        + name
        + (1679315147).to_bytes(8, "big")
        + bytes([len(name)])  # the origin: here the log signs its own checkpoint
        + name
        + (0).to_bytes(8, "big")
        + (20852163).to_bytes(8, "big")
        + base64.b64decode(ROOT)
    )
    MLDSA44PublicKey.from_public_bytes(verifier.public).verify(raw[12:], message)
    assert verifier.verify(checkpoint.text.encode(), raw[4:]) == 1679315147
    other = note.Checkpoint(ORIGIN, 20852164, base64.b64decode(ROOT))
    with pytest.raises(NoteError, match="invalid signature"):
        verifier.verify(other.text.encode(), raw[4:])


def test_a_checkpoint_signed_with_both_log_keys_needs_both() -> None:
    ed25519 = note.Signer.generate(ORIGIN)
    mldsa = note.Signer.generate(ORIGIN, note.MLDSA44)
    text = note.Checkpoint(ORIGIN, 5, bytes(32)).text
    both = note.sign_note(text, [ed25519, mldsa], 1700000000)
    keys = [ed25519.verifier, mldsa.verifier]
    opened = note.open_checkpoint(both, keys)
    assert opened.checkpoint.size == 5
    assert note.open_checkpoint(both, ed25519.verifier).checkpoint.size == 5
    assert note.open_checkpoint(both, mldsa.verifier).signers == {ORIGIN: 1700000000}
    ed25519_only = note.sign_note(text, [ed25519])
    with pytest.raises(NoteError, match="not signed by the log's key"):
        note.open_checkpoint(ed25519_only, keys)
    forged = both.replace(text, note.Checkpoint(ORIGIN, 6, bytes(32)).text)
    with pytest.raises(NoteError, match="invalid signature"):
        note.open_checkpoint(forged, mldsa.verifier)
