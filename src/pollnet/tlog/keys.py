"""Key files of the log and its witnesses: a signer key (0600) with its public key beside it."""

from __future__ import annotations

from pathlib import Path

from pollnet.link.pki import _write_public, _write_secret
from pollnet.tlog.note import Signer, parse_skey


def make_key(key: Path, pub: Path, name: str, sig_type: int) -> Signer:
    """A new signer key named ``name`` of ``sig_type``, written to ``key`` (owner only) and its
    verifier key to ``pub``."""
    signer = Signer.generate(name, sig_type)
    _write_secret(key, signer.skey.encode() + b"\n")
    _write_public(pub, signer.verifier.vkey.encode() + b"\n")
    return signer


def read_key(path: Path) -> Signer:
    """The signer key written by :func:`make_key`."""
    return parse_skey(path.read_text().strip())
