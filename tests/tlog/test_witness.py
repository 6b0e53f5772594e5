"""Policies, the witness protocol, observers, receipts, split views and tampering."""

from __future__ import annotations

import base64
import datetime as dt
import json
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa
import uvicorn

from pollnet.errors import UserError
from pollnet.link.checkin import Checkin, voter_hash
from pollnet.link.ledger import Ledger
from pollnet.link.service import bind
from pollnet.store import open_store
from pollnet.tlog import merkle, note, observe, store
from pollnet.tlog.http import start_public
from pollnet.tlog.observe import ObserveError
from pollnet.tlog.policy import parse_policy
from pollnet.tlog.publisher import Publisher
from pollnet.tlog.witness import Witness, WitnessApp, http_cosigner, init_witness
from tests.link.service_helpers import national_code

KEY = b"k" * 32
PUBLICATION = b"p" * 32
ORIGIN = "pollnet.test/e1"


def _checkin(n: int, station: str = "ST-1", provisional: bool = False) -> Checkin:
    now = dt.datetime.now(dt.UTC)
    return Checkin(
        device=f"D-{station}",
        station=station,
        idempotency_key=str(uuid.uuid4()),
        voter_hash=voter_hash(KEY, national_code(n)),
        device_time=now,
        provisional_at=now - dt.timedelta(minutes=1) if provisional else None,
        card_read=True,
        fingerprint_score=0.9,
    )


def _record(engine: sa.Engine, items: list[Checkin]) -> None:
    with Ledger(engine, "e1", outcome_log=store.LedgerLog("e1", PUBLICATION)) as ledger:
        for item in items:
            ledger.record(item)


def _witnesses(tmp_path: Path, log: note.Verifier, count: int = 3) -> list[Witness]:
    return [
        Witness(
            note.Signer.generate(f"witness.test/w{i}", note.COSIGNATURE_V1),
            [log],
            tmp_path / f"w{i}",
        )
        for i in range(count)
    ]


def _direct(witness: Witness):  # type: ignore[no-untyped-def]
    """A cosigner that hands the request body to the witness in-process (the HTTP one is
    tested below)."""
    from pollnet.tlog.publisher import WitnessBehind

    def cosign(checkpoint: str, old: int, proof: list[bytes]) -> str:
        body = f"old {old}\n" + "".join(base64.b64encode(h).decode() + "\n" for h in proof)
        answer = witness.add_checkpoint((body + "\n" + checkpoint).encode())
        if answer.status == 409 and answer.content_type == "text/x.tlog.size":
            raise WitnessBehind(int(answer.body))
        if answer.status != 200:
            raise RuntimeError(f"{answer.status} {answer.body!r}")
        return answer.body.decode()

    return cosign


def _policy(log: note.Verifier, witnesses: list[Witness], quorum: str = "2") -> str:
    lines = [f"log {log.vkey}"]
    lines += [f"witness W{i} {w.signer.verifier.vkey}" for i, w in enumerate(witnesses)]
    lines += [f"group all-w {quorum} " + " ".join(f"W{i}" for i in range(len(witnesses)))]
    return "\n".join([*lines, "quorum all-w", ""])


def test_policy_files_parse_and_count_quorums() -> None:
    log = note.Signer.generate(ORIGIN)
    ws = [note.Signer.generate(f"w{i}.test", note.COSIGNATURE_V1).verifier for i in range(4)]
    text = (
        f"# observers of district 6\nlog {log.verifier.vkey} https://log.test/\n"
        f"witness A {ws[0].vkey}\nwitness B {ws[1].vkey}\n\twitness C {ws[2].vkey} http://c\n"
        f"witness D {ws[3].vkey}\ngroup AB 2 A B\ngroup any-CD any C D\n"
        "group both all AB any-CD\nquorum both\n"
    )
    policy = parse_policy(text)
    assert policy.log_for(ORIGIN) is not None and policy.witnesses["C"].url == "http://c"
    assert policy.satisfied({"A", "B", "D"})
    assert not policy.satisfied({"A", "C", "D"})
    assert parse_policy(f"log {log.verifier.vkey}\nquorum none\n").satisfied(set())
    with pytest.raises(UserError) as bad:
        parse_policy(
            f"witness A {ws[0].vkey}\nwitness B {log.verifier.vkey}\ngroup G 3 A\n"
            "group H 1 A Z\nquorum Q\nfrobnicate\n",
            "p.txt",
        )
    lines = bad.value.render("en")
    assert lines[0].startswith("p.txt, row 2, column vkey")
    assert any("row 3, column threshold" in line for line in lines)
    assert any("row 4, column members" in line for line in lines)
    assert any("row 5, column quorum" in line for line in lines)
    assert any("row 6, column line" in line for line in lines)


def test_the_witness_speaks_the_protocol(tmp_path: Path) -> None:
    log = note.Signer.generate(ORIGIN)
    witness = _witnesses(tmp_path, log.verifier, 1)[0]
    tree = merkle.MemoryTree(merkle.leaf_hash(bytes([i])) for i in range(10))

    def body(old: int, size: int, signer: note.Signer = log, root: bytes | None = None) -> bytes:
        checkpoint = note.Checkpoint(signer.name, size, root or tree.root(size))
        proof = tree.consistency(old, size) if 0 < old <= size else []
        lines = f"old {old}\n" + "".join(base64.b64encode(h).decode() + "\n" for h in proof)
        return (lines + "\n" + note.sign_note(checkpoint.text, [signer])).encode()

    stranger = note.Signer.generate("other.test/log")
    impostor = note.Signer.generate(ORIGIN)
    assert witness.add_checkpoint(body(0, 4, stranger)).status == 404
    assert witness.add_checkpoint(body(0, 4, impostor)).status == 403
    assert witness.add_checkpoint(b"old x\n\n").status == 400
    first = witness.add_checkpoint(body(0, 4))
    assert first.status == 200
    cosigned = note.sign_note(note.Checkpoint(ORIGIN, 4, tree.root(4)).text, [log])
    opened = note.open_checkpoint(
        cosigned + first.body.decode(), log.verifier, [witness.signer.verifier]
    )
    assert witness.signer.name in opened.signers
    assert witness.add_checkpoint(body(5, 4)).status == 400
    behind = witness.add_checkpoint(body(0, 6))
    assert (behind.status, behind.content_type, behind.body) == (409, "text/x.tlog.size", b"4\n")
    forged = body(4, 6).replace(
        base64.b64encode(tree.consistency(4, 6)[0]), base64.b64encode(bytes(32))
    )
    assert witness.add_checkpoint(forged).status == 422
    # The same size with another root: the split view a witness exists to refuse.
    assert witness.add_checkpoint(body(4, 4, root=bytes(32))).status == 409
    assert witness.add_checkpoint(body(4, 6)).status == 200
    assert witness.latest(ORIGIN) == (6, tree.root(6))


def test_the_station_list_may_be_the_offices_persian_export(tmp_path: Path) -> None:
    """``pollnet stations export`` writes Persian headers by default; observers get that file."""
    (tmp_path / "fa.csv").write_text(
        "\ufeffکد شعبه,نام شعبه,منطقه,حساس\nST-0,شعبه ۱,۶,خیر\nST-1,شعبه ۲,7,بله\n", "utf-8"
    )
    assert observe.read_districts(tmp_path / "fa.csv") == {"ST-0": "6", "ST-1": "7"}
    (tmp_path / "bad.csv").write_text("code,name\nST-0,x\n", "utf-8")
    with pytest.raises(UserError, match="needs code and district columns"):
        observe.read_districts(tmp_path / "bad.csv")


def test_observers_verify_count_and_catch_a_split_view(tmp_path: Path) -> None:
    engine = open_store(f"sqlite:///{tmp_path / 'log.db'}")
    signer = note.Signer.generate(ORIGIN)
    witnesses = _witnesses(tmp_path, signer.verifier)
    _record(engine, [_checkin(n, f"ST-{n % 2}") for n in range(40)] + [_checkin(3, "ST-1")])
    publisher = Publisher(engine, signer)
    publisher.cosigners = {f"W{i}": _direct(w) for i, w in enumerate(witnesses)}
    publisher.step()
    policy = parse_policy(_policy(signer.verifier, witnesses))
    (tmp_path / "stations.csv").write_text("code,district\nST-0,6\nST-1,7\n")
    districts = observe.read_districts(tmp_path / "stations.csv")
    public = start_public(publisher)
    fetch = observe.HttpFetch(public.url)
    try:
        report = observe.verify(fetch, policy, tmp_path / "observer")
        assert (report.size, report.previous_size) == (41, 0)
        assert report.witnesses == ("W0", "W1", "W2")
        assert report.counts.stations == {"ST-0": 20, "ST-1": 20}
        assert observe.by_district(report.counts.stations, districts) == {"6": 20, "7": 20}
        assert report.counts.duplicates == 1 and not report.counts.accepted_twice

        # More check-ins, an offline acceptance and a conflict; the next run goes on from 41.
        _record(
            engine,
            [
                _checkin(100, "ST-0"),
                _checkin(101, provisional=True),
                _checkin(100, "ST-1", provisional=True),
            ],
        )
        publisher.step(force=True)
        again = observe.verify(fetch, policy, tmp_path / "observer")
        assert (again.size, again.previous_size) == (44, 41)
        assert again.counts.stations == {"ST-0": 21, "ST-1": 21}
        assert again.counts.conflicts == 1

        receipt = fetch("proof/42").decode()
        checked = observe.verify_receipt(receipt, policy)
        assert (checked.index, checked.entry.outcome, checked.entry.station) == (
            42,
            "accepted_offline",
            "ST-1",
        )
        forged = receipt.replace("index 42", "index 41")
        with pytest.raises(ObserveError):
            observe.verify_receipt(forged, policy)
        assert observe.audit(fetch, policy).entries == 44

        # A split view: the log forks its history (another database) and shows that tree.
        fork = open_store(f"sqlite:///{tmp_path / 'fork.db'}")
        _record(fork, [_checkin(n + 500, "ST-0") for n in range(50)])
        forked = Publisher(fork, signer)
        forked.cosigners = {f"W{i}": _direct(w) for i, w in enumerate(witnesses)}
        forked.step()
        failures = forked.collect_cosignatures()
        assert set(failures) == {"W0", "W1", "W2"}  # every witness refuses: 409 or 422
        assert "422" in failures["W0"] or "409" in failures["W0"]
        split = start_public(forked)
        try:
            with (
                observe.HttpFetch(split.url) as split_fetch,
                pytest.raises(ObserveError, match="waiting for its witness quorum"),
            ):
                observe.verify(split_fetch, policy, tmp_path / "other")
        finally:
            split.stop()
    finally:
        fetch.close()
        public.stop()


def test_a_down_witness_does_not_stop_the_log_and_the_http_witness_cosigns(tmp_path: Path) -> None:
    engine = open_store(f"sqlite:///{tmp_path / 'log.db'}")
    signer = note.Signer.generate(ORIGIN)
    witnesses = _witnesses(tmp_path, signer.verifier)
    server = uvicorn.Server(
        uvicorn.Config(WitnessApp(witnesses[0]), log_level="warning", lifespan="on")
    )
    sock = bind("127.0.0.1", 0)
    import threading
    import time

    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.01)
    try:
        url = f"http://127.0.0.1:{sock.getsockname()[1]}"
        _record(engine, [_checkin(n) for n in range(5)])
        publisher = Publisher(engine, signer)
        publisher.cosigners = {"W0": http_cosigner(url), "W1": http_cosigner("http://127.0.0.1:9")}
        publisher.step()
        policy = parse_policy(_policy(signer.verifier, witnesses[:2], quorum="2"))
        quorum = observe.check_checkpoint(publisher.checkpoint() or "", policy)
        assert quorum.witnesses == ("W0",) and not quorum.met  # waiting for W1
        _record(engine, [_checkin(n) for n in range(5, 8)])  # check-ins go on
        assert publisher.step(force=True) and publisher.size == 8
        assert observe.check_checkpoint(publisher.checkpoint() or "", policy).witnesses == ("W0",)
    finally:
        server.should_exit = True
        thread.join(10)


@pytest.mark.parametrize("tamper", ["edit", "delete", "reorder"])
def test_observe_audit_catches_an_edited_deleted_or_reordered_row(
    tmp_path: Path, tamper: str
) -> None:
    engine = open_store(f"sqlite:///{tmp_path / 'log.db'}")
    signer = note.Signer.generate(ORIGIN)
    _record(engine, [_checkin(n, f"ST-{n % 3}") for n in range(30)])
    publisher = Publisher(engine, signer)
    publisher.step()
    policy = parse_policy(f"log {signer.verifier.vkey}\nquorum none\n")
    public = start_public(publisher)
    fetch = observe.HttpFetch(public.url)
    try:
        assert observe.audit(fetch, policy).entries == 30
        with engine.begin() as conn:
            if tamper == "edit":
                data = bytes(
                    conn.execute(
                        sa.text("SELECT entry FROM tlog_entries WHERE idx = 7")
                    ).scalar_one()
                )
                conn.execute(
                    sa.text("UPDATE tlog_entries SET entry = :e WHERE idx = 7"),
                    {"e": data.replace(b"ST-1", b"ST-2")},
                )
            elif tamper == "delete":
                conn.execute(sa.text("DELETE FROM tlog_entries WHERE idx = 7"))
            else:
                conn.execute(sa.text("UPDATE tlog_entries SET idx = -1 WHERE idx = 7"))
                conn.execute(sa.text("UPDATE tlog_entries SET idx = 7 WHERE idx = 8"))
                conn.execute(sa.text("UPDATE tlog_entries SET idx = 8 WHERE idx = -1"))
        with pytest.raises(ObserveError):
            observe.audit(fetch, policy)
    finally:
        fetch.close()
        public.stop()


def test_observe_and_witness_commands(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    code, out, _ = run("--lang", "en", "witness", "init", "--dir", "w1", "--name", "w1.test/w")
    assert code == 0 and "w1.test/w+" in out
    witness_vkey = (tmp_path / "w1" / "witness.pub").read_text().strip()
    engine = open_store(f"sqlite:///{tmp_path / 'log.db'}")
    signer = note.Signer.generate(ORIGIN)
    _record(engine, [_checkin(n, f"ST-{n % 2}") for n in range(6)] + [_checkin(1, "ST-0")])
    publisher = Publisher(engine, signer)
    publisher.step()
    (tmp_path / "policy").write_text(
        f"log {signer.verifier.vkey}\nwitness W {witness_vkey}\nquorum none\n"
    )
    (tmp_path / "st.csv").write_text("code,district\nST-0,6\n")
    public = start_public(publisher)
    try:
        args = ("--log", public.url, "--policy", "policy")
        code, out, _ = run(
            "observe", "verify", *args, "--state", "obs", "--stations", "st.csv", "--json"
        )
        assert code == 0
        report = json.loads(out)
        assert report["size"] == 7 and report["stations"] == {"ST-0": 3, "ST-1": 3}
        assert report["districts"] == {"6": 3, "?": 3} and report["refused_duplicates"] == 1
        code, out, _ = run("--lang", "en", "observe", "audit", *args)
        assert code == 0 and "the 7 entries" in out
        code, out, _ = run("--lang", "fa", "observe", "audit", *args)
        assert code == 0 and "۷" in out
        (tmp_path / "bad-policy").write_text("quorum W\n")
        code, out, err = run(
            "--lang", "en", "observe", "audit", "--log", public.url, "--policy", "bad-policy"
        )
        assert code == 1 and "bad-policy, row 1, column quorum" in out + err
    finally:
        public.stop()


def test_witness_init_makes_either_key_type(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    args = ("--lang", "en", "witness", "init", "--dir", "pq", "--name", "w.test/pq")
    code, out, _ = run(*args, "--key-type", "ml-dsa-44")
    vkey = (tmp_path / "pq" / "witness.pub").read_text().strip()
    assert code == 0 and out == f"the witness's public key (for policies): {vkey}\n"
    assert note.parse_vkey(vkey).sig_type == note.MLDSA44
    log_vkey = note.Signer.generate(ORIGIN).verifier.vkey
    assert parse_policy(f"log {log_vkey}\nwitness PQ {vkey}\nquorum PQ\n").satisfied(["PQ"])
    assert run(*args, "--key-type", "ml-dsa-44") == (0, out, "")  # the key is kept
    code, out, err = run(*args)  # an Ed25519 key asked of a witness that has another
    assert code == 1 and "already has a key of type ml-dsa-44" in out + err
    assert (tmp_path / "pq" / "witness.pub").read_text().strip() == vkey


def test_ml_dsa_44_log_and_witness_signatures_satisfy_a_policy_that_names_them(
    tmp_path: Path,
) -> None:
    engine = open_store(f"sqlite:///{tmp_path / 'log.db'}")
    keys = store.init_keys(tmp_path / "tlog", ORIGIN)  # both log keys
    assert keys.mldsa is not None and keys.mldsa.name == keys.signer.name == ORIGIN
    assert store.read_verifiers(tmp_path / "tlog") == [keys.verifier, keys.mldsa.verifier]
    log_keys = [keys.verifier, keys.mldsa.verifier]
    pq_key = init_witness(tmp_path / "pq", "witness.test/pq", note.MLDSA44)
    pq_witness = Witness(pq_key, log_keys, tmp_path / "pq" / "state")
    ed_witness = _witnesses(tmp_path, keys.verifier, 1)[0]
    _record(engine, [_checkin(n) for n in range(5)])
    publisher = Publisher(engine, keys.signer, mldsa=keys.mldsa)
    publisher.cosigners = {"PQ": _direct(pq_witness), "ED": _direct(ed_witness)}
    publisher.step()
    policy = parse_policy(
        f"log {keys.verifier.vkey}\nlog {keys.mldsa.verifier.vkey}\n"
        f"witness PQ {pq_witness.signer.verifier.vkey}\n"
        f"witness ED {ed_witness.signer.verifier.vkey}\ngroup both all PQ ED\nquorum both\n"
    )
    assert policy.log_for(ORIGIN) is not None
    assert policy.log_for(ORIGIN).verifiers == tuple(log_keys)  # type: ignore[union-attr]
    quorum = observe.check_checkpoint(publisher.checkpoint() or "", policy)
    assert quorum.met and quorum.witnesses == ("ED", "PQ")
    receipt = observe.verify_receipt(publisher.receipt(3), policy)
    assert receipt.index == 3

    # A checkpoint without the ML-DSA-44 signature fails a policy that names that key.
    text = note.Checkpoint(ORIGIN, 5, publisher.tree.root(5)).text
    with pytest.raises(ObserveError, match="not signed by the log's key"):
        observe.check_checkpoint(note.sign_note(text, [keys.signer]), policy)
