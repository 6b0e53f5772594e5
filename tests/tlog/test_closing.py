"""Station closing notes: signed by the device's key, verified with its certificate, checked
against the log."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from pollnet.cli import cli
from pollnet.link import pki
from pollnet.link.service import start_in_thread
from pollnet.store import open_store
from pollnet.tlog import closing, store
from pollnet.tlog.config import TlogSettings
from pollnet.tlog.note import NoteError
from pollnet.tlog.service import open_transparency
from tests.link.service_helpers import ELECTION, make_pki, national_code, policy


def _voter(n: int) -> str:
    body = {"national_code": national_code(n), "birth_date": "1370/01/15"}
    return json.dumps({**body, "card_read": True, "fingerprint_score": 0.9})


def test_a_station_closing_note_is_signed_verified_and_matches_the_log(tmp_path: Path) -> None:
    pki_dir = make_pki(tmp_path / "pki", {})
    config = TlogSettings(key_dir=tmp_path / "tlog")
    keys = store.init_keys(config.key_dir, "pollnet.test/log")
    engine = open_store(f"sqlite:///{tmp_path / 'link.db'}")
    transparency = open_transparency(engine, config, ELECTION)
    assert transparency is not None
    url = transparency.start("127.0.0.1", 0)
    service = start_in_thread(
        engine, pki_dir, policy(), heartbeat_seconds=1.0, outcome_log=transparency.outcome_log
    )
    runner = CliRunner()
    try:
        bundles = [
            pki.enroll_device(
                pki_dir, "ST-9", f"DV-{i}", tmp_path / f"b{i}", endpoints={"fiber": service.url}
            )
            for i in (1, 2)
        ]
        lines = "\n".join([_voter(1), _voter(2), _voter(3)]) + "\n"
        done = runner.invoke(
            cli, ["--lang", "en", "device", "run", "--bundle", str(bundles[0])], input=lines
        )
        assert done.exit_code == 0, done.output
        other = runner.invoke(
            cli,
            ["--lang", "en", "device", "run", "--bundle", str(bundles[1])],
            input=_voter(4) + "\n",
        )
        assert other.exit_code == 0, other.output
        transparency.publisher.step(force=True)
        made = runner.invoke(
            cli,
            [
                "--lang",
                "en",
                "device",
                "close-note",
                "--bundle",
                str(bundles[0]),
                "--voters",
                "1200",
                "--qr",
                str(tmp_path / "note.png"),
            ],
        )
        assert made.exit_code == 0, made.output
        signed = made.output
        assert (tmp_path / "note.png").read_bytes()[:4] == b"\x89PNG"
        ca = (
            pki.load_certificate(bundles[0] / "ca.pem")
            if hasattr(pki, "load_certificate")
            else None
        )
        from cryptography import x509

        cert = x509.load_pem_x509_certificate((bundles[0] / "device.crt").read_bytes())
        ca = x509.load_pem_x509_certificates((bundles[0] / "ca.pem").read_bytes())
        note = closing.open_signed(signed, cert, ca)
        assert (note.station, note.device, note.eligible) == ("ST-9", "DV-1", 1200)
        assert (note.checkins, note.conflicts, note.first_index, note.last_index) == (3, 0, 0, 2)
        # Another device's certificate, or an edited count, does not verify.
        other_cert = x509.load_pem_x509_certificate((bundles[1] / "device.crt").read_bytes())
        for bad in (
            lambda: closing.open_signed(signed, other_cert, ca),
            lambda: closing.open_signed(signed.replace("checkins 3", "checkins 4"), cert, ca),
        ):
            try:
                bad()
                raise AssertionError("verified")
            except NoteError:
                pass
        (tmp_path / "note.txt").write_text(signed)
        (tmp_path / "policy").write_text(f"log {keys.verifier.vkey}\nquorum none\n")
        args = [
            "--lang",
            "en",
            "observe",
            "station-note",
            str(tmp_path / "note.txt"),
            "--cert",
            str(bundles[0] / "device.crt"),
            "--ca",
            str(bundles[0] / "ca.pem"),
            "--log",
            url,
            "--policy",
            str(tmp_path / "policy"),
        ]
        checked = runner.invoke(cli, args)
        assert checked.exit_code == 0, checked.output
        assert "3 check-ins, 0 conflicts of 1,200 eligible voters" in checked.output
        assert "the log agrees with the note" in checked.output
        # A note that claims one check-in less than the log holds: signed, but contradicted.
        forged = closing.sign(
            closing.ClosingNote("ST-9", "DV-1", 1200, 2, 0, 0, 2),
            _device_key(bundles[0]),
        )
        (tmp_path / "note.txt").write_text(forged)
        contradicted = runner.invoke(cli, args)
        assert contradicted.exit_code == 1  # a UserError: main() prints it as one line
        assert "checkins: the log holds 3, the note says 2" in str(contradicted.exception)
    finally:
        service.stop()
        transparency.stop()


def _device_key(bundle: Path):  # type: ignore[no-untyped-def]
    from cryptography.hazmat.primitives import serialization

    return serialization.load_pem_private_key((bundle / "device.key").read_bytes(), None)
