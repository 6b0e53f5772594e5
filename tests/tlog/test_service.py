"""The log beside the real mutual-TLS service, and the ``pollnet log`` commands."""

from __future__ import annotations

import base64
import datetime as dt
import json
import re
from pathlib import Path

import httpx
import pytest

from pollnet.link import pki
from pollnet.link.checkin import Checkin, voter_hash
from pollnet.link.client import Receipt
from pollnet.link.ledger import Ledger
from pollnet.link.service import start_in_thread
from pollnet.store import open_store
from pollnet.tlog import merkle, note, observe, store
from pollnet.tlog.config import TlogSettings
from pollnet.tlog.observe import ObserveError
from pollnet.tlog.policy import parse_policy
from pollnet.tlog.publisher import Publisher
from pollnet.tlog.service import open_transparency
from tests.link.service_helpers import (
    DEVICES,
    ELECTION,
    checkin_body,
    client,
    make_pki,
    national_code,
    policy,
)


def _checkin(n: int) -> Checkin:
    return Checkin(
        device="D-1",
        station="ST-1",
        idempotency_key=f"key-{n}",
        voter_hash=voter_hash(b"k" * 32, national_code(n)),
        device_time=dt.datetime.now(dt.UTC),
        provisional_at=None,
        card_read=True,
        fingerprint_score=0.9,
    )


def test_an_accepted_check_in_carries_its_index_and_a_receipt_proves_it(tmp_path: Path) -> None:
    pki_dir = make_pki(tmp_path / "pki", DEVICES)
    config = TlogSettings(key_dir=tmp_path / "tlog", interval_s=0.2)
    assert open_transparency(open_store(f"sqlite:///{tmp_path / 'x.db'}"), config, ELECTION) is None
    keys = store.init_keys(config.key_dir, "pollnet.test/log")
    engine = open_store(f"sqlite:///{tmp_path / 'link.db'}")
    transparency = open_transparency(engine, config, ELECTION)
    assert transparency is not None
    url = transparency.start("127.0.0.1", 0)
    service = start_in_thread(
        engine, pki_dir, policy(), heartbeat_seconds=1.0, outcome_log=transparency.outcome_log
    )
    try:
        with client(pki_dir, "D-1", service) as device:
            first = device.post("/v1/checkins", json=checkin_body(national_code(1)))
            second = device.post("/v1/checkins", json=checkin_body(national_code(2)))
            again = device.post("/v1/checkins", json=checkin_body(national_code(1)))
            no_receipts = device.get("/v1/receipts/0")  # this service was given no receipts
            malformed = device.get("/v1/receipts/x1")
        assert no_receipts.status_code == 404
        assert no_receipts.json()["reason"] == "no_transparency_log"
        assert malformed.status_code == 400
        assert [r.status_code for r in (first, second, again)] == [201, 201, 409]
        assert [r.json()["log_index"] for r in (first, second, again)] == [0, 1, 2]
        transparency.publisher.step(force=True)
        with httpx.Client(base_url=url) as public:
            checkpoint = public.get("/checkpoint").text
            receipt = public.get(f"/proof/{second.json()['log_index']}").text
            level0 = public.get("/tile/0/000.p/3").content
    finally:
        service.stop()
        transparency.stop()
    signed = note.open_checkpoint(checkpoint, keys.verifier)
    assert signed.checkpoint.size == 3
    head, _, _ = receipt.partition("\n\n")
    proof = [base64.b64decode(line) for line in head.split("\n")[3:]]
    merkle.verify_inclusion(1, 3, level0[32:64], proof, signed.checkpoint.root)


def test_log_commands(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    code, out, err = run("--lang", "en", "log", "destroy-publication-key")
    assert code == 0 and "there is no publication key" in out
    code, out, _ = run("--lang", "en", "log", "init", "--origin", "pollnet.test/cli")
    assert code == 0 and "pollnet.test/cli+" in out and "log-mldsa44.pub" in out
    code, out, err = run("--lang", "en", "log", "export", "out")
    assert code == 1 and "no signed checkpoint" in out + err
    engine = open_store(f"sqlite:///{tmp_path / 'cli.db'}")
    keys = store.read_keys(tmp_path / "pollnet-data" / "tlog")
    assert keys.publication_key is not None
    with Ledger(
        engine, ELECTION, outcome_log=store.LedgerLog(ELECTION, keys.publication_key)
    ) as ledger:
        for n in range(5):
            ledger.record(_checkin(n))
    assert keys.mldsa is not None
    Publisher(engine, keys.signer, mldsa=keys.mldsa).step()
    code, out, _ = run("--lang", "en", "log", "export", "out")
    assert code == 0 and "5 entries" in out
    assert note.open_checkpoint((tmp_path / "out" / "checkpoint").read_text(), keys.verifier)
    code, out, _ = run("--lang", "en", "log", "receipt", "4", "--out", "r.tlog-proof")
    assert code == 0 and "receipt written" in out
    (tmp_path / "policy").write_text(
        f"log {keys.verifier.vkey}\nlog {keys.mldsa.verifier.vkey}\nquorum none\n"
    )
    code, out, _ = run("--lang", "en", "observe", "receipt", "r.tlog-proof", "--policy", "policy")
    assert code == 0 and "receipt verified: entry 4 of 5, accepted at station ST-1" in out
    code, out, _ = run("--lang", "fa", "observe", "receipt", "r.tlog-proof", "--policy", "policy")
    assert code == 0 and "ورودی ۴ از ۵، پذیرفته‌شده در شعبهٔ ST-1" in out  # Jalali, Persian digits
    assert re.search(r"، ۱۴[۰-۹]{2}/[۰-۹]{2}/[۰-۹]{2} [۰-۹]{2}:[۰-۹]{2}:[۰-۹]{2}$", out.strip())
    (tmp_path / "r.tlog-proof").write_text(
        (tmp_path / "r.tlog-proof").read_text().replace("index 4", "index 3")
    )
    code, out, err = run("--lang", "en", "observe", "receipt", "r.tlog-proof", "--policy", "policy")
    assert code == 1 and "inclusion proof does not verify" in out + err
    code, out, err = run("--lang", "en", "log", "receipt", "5")
    assert code == 1 and "not in a signed checkpoint" in out + err
    code, out, _ = run("--lang", "en", "log", "destroy-publication-key")
    assert code == 0 and "the log is closed" in out
    code, out, _ = run("--lang", "en", "log", "destroy-publication-key")
    assert code == 0 and "there is no publication key" in out


def test_a_device_fetches_keeps_and_prints_its_receipts_over_tls(  # type: ignore[no-untyped-def]
    run, tmp_path: Path
) -> None:
    pki_dir = make_pki(tmp_path / "pki", {})
    keys = store.init_keys(tmp_path / "tlog", "pollnet.test/receipts")
    assert keys.publication_key is not None and keys.mldsa is not None
    engine = open_store(f"sqlite:///{tmp_path / 'link.db'}")
    publisher = Publisher(engine, keys.signer, mldsa=keys.mldsa)
    service = start_in_thread(
        engine,
        pki_dir,
        policy(),
        heartbeat_seconds=1.0,
        outcome_log=store.LedgerLog(ELECTION, keys.publication_key),
        receipts=publisher.receipt,
    )
    try:
        bundle = pki.enroll_device(
            pki_dir, "ST-9", "RC-1", tmp_path / "bundle", endpoints={"fiber": service.url}
        )
        voters = "".join(
            json.dumps(
                {
                    "national_code": national_code(n),
                    "birth_date": "1370/01/15",
                    "card_read": True,
                    "fingerprint_score": 0.9,
                }
            )
            + "\n"
            for n in (1, 2)
        )
        (tmp_path / "voters.jsonl").write_text(voters)
        code, out, _ = run(
            "--lang",
            "en",
            "device",
            "run",
            "--bundle",
            str(bundle),
            "--input",
            "voters.jsonl",
            "--json",
        )
        assert code == 0
        assert [json.loads(line)["answer"]["log_index"] for line in out.splitlines()] == [0, 1]
        # Until a signed checkpoint holds them there is no receipt; the device says so.
        code, out, err = run("--lang", "en", "device", "receipt", "--bundle", str(bundle))
        assert code == 1 and "log entry 0 is not in a signed checkpoint yet" in err
        assert publisher.step(force=True)
        code, out, err = run(
            "--lang", "en", "device", "receipt", "--bundle", str(bundle), "1", "--qr", "r.png"
        )
        assert code == 0 and "receipt of log entry 1 kept in" in out
        assert (tmp_path / "r.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        code, out, _ = run("--lang", "en", "device", "receipt", "--bundle", str(bundle))
        assert code == 0 and "log entry 0 kept" in out and "entry 1" not in out  # 1 is kept
        kept = sorted(p.name for p in (bundle / "receipts").iterdir())
        assert kept == ["0.tlog-proof", "1.tlog-proof"]
    finally:
        service.stop()
        engine.dispose()
    # Observers verify the kept receipt offline against both log keys ...
    both = f"log {keys.verifier.vkey}\nlog {keys.mldsa.verifier.vkey}\nquorum none\n"
    (tmp_path / "both.policy").write_text(both)
    receipt_file = str(bundle / "receipts" / "1.tlog-proof")
    code, out, _ = run(
        "--lang", "en", "observe", "receipt", receipt_file, "--policy", "both.policy"
    )
    assert code == 0 and "receipt verified: entry 1 of 2, accepted at station ST-9" in out
    # ... and the QR code's text (no ML-DSA-44 line: a QR code holds under 3 KB) against the
    # Ed25519 key, not against a policy that requires the ML-DSA-44 signature.
    full = Receipt(1, "ok", (bundle / "receipts" / "1.tlog-proof").read_text())
    assert len(full.text or "") > 3000 and len(full.for_qr()) < 1000
    ed25519 = parse_policy(f"log {keys.verifier.vkey}\nquorum none\n")
    assert observe.verify_receipt(full.for_qr(), ed25519).index == 1
    with pytest.raises(ObserveError, match="not signed by the log's key"):
        observe.verify_receipt(full.for_qr(), parse_policy(both))
