"""The log beside the real mutual-TLS service, and the ``pollnet log`` commands."""

from __future__ import annotations

import base64
import datetime as dt
from pathlib import Path

import httpx

from pollnet.link.checkin import Checkin, voter_hash
from pollnet.link.ledger import Ledger
from pollnet.link.service import start_in_thread
from pollnet.store import open_store
from pollnet.tlog import merkle, note, store
from pollnet.tlog.config import TlogSettings
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
