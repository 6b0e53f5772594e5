"""The log in the ledger's database: every outcome appended in the writer's own transaction."""

from __future__ import annotations

import datetime as dt
import re
import uuid
from pathlib import Path

import pytest

from pollnet.link.checkin import Checkin, voter_hash
from pollnet.link.ledger import Ledger
from pollnet.store import open_store
from pollnet.tlog import entry as entries
from pollnet.tlog import merkle, note, store
from tests.link.service_helpers import national_code

KEY = b"k" * 32
PUBLICATION = b"p" * 32


def _checkin(code: str, device: str = "D-1", station: str = "ST-1", **changes: object) -> Checkin:
    now = dt.datetime.now(dt.UTC)
    values: dict[str, object] = {
        "device": device,
        "station": station,
        "idempotency_key": str(uuid.uuid4()),
        "voter_hash": voter_hash(KEY, code),
        "device_time": now,
        "provisional_at": None,
        "card_read": True,
        "fingerprint_score": 0.9,
    }
    values.update(changes)
    return Checkin(**values)  # type: ignore[arg-type]


def test_every_outcome_is_logged_with_its_index_in_the_answer(db_url: str) -> None:
    engine = open_store(db_url)
    codes = [national_code(n) for n in range(3)]
    offline = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)
    with Ledger(engine, "e1", outcome_log=store.LedgerLog("e1", PUBLICATION)) as ledger:
        first = ledger.record(_checkin(codes[0]))
        again = _checkin(codes[0], device="D-2", station="ST-2")
        duplicate = ledger.record(again)
        replay = ledger.record(again)  # the same request again: no new outcome
        conflict = ledger.record(_checkin(codes[0], device="D-3", provisional_at=offline))
        offline_ok = ledger.record(_checkin(codes[1], provisional_at=offline))
        not_on_roll_free = ledger.record(_checkin(codes[2]))
    assert [a.json().get("log_index") for a in (first, duplicate, replay)] == [0, 1, 1]
    assert conflict.json()["log_index"] == 2
    assert offline_ok.json()["log_index"] == 3
    assert not_on_roll_free.json()["log_index"] == 4

    rows = store.entry_range(engine, 0, 100)
    decoded = [entries.decode(data) for _, data in rows]
    assert [e.outcome for e in decoded] == [
        "accepted",
        "duplicate",
        "conflict",
        "accepted_offline",
        "accepted",
    ]
    assert [e.station for e in decoded[:2]] == ["ST-1", "ST-2"]
    # One voter, one publication hash; not the ledger's hash.
    assert decoded[0].voter == decoded[1].voter == decoded[2].voter != decoded[3].voter
    assert decoded[0].voter.hex() != voter_hash(KEY, codes[0])
    assert decoded[0].voter == entries.publication_hash(PUBLICATION, voter_hash(KEY, codes[0]))
    hashes = b"".join(store.leaf_blocks(engine, 0))
    assert hashes == b"".join(merkle.leaf_hash(data) for _, data in rows)
    # Nothing anywhere in the log looks like a national code.
    for _, data in rows:
        assert not re.search(rb"(?<!\d)\d{10}(?!\d)", data)
        assert all(code.encode() not in data for code in codes)


def test_a_rolled_back_batch_leaves_no_entry_and_a_restart_continues(db_url: str) -> None:
    engine = open_store(db_url)
    codes = [national_code(n) for n in range(4)]
    with Ledger(engine, "e1", outcome_log=store.LedgerLog("e1", PUBLICATION)) as ledger:
        ledger.record(_checkin(codes[0]))
        # A check-in the database refuses (a time before year 1 in UTC) is answered 400: its
        # batch was rolled back with its log entry, and it takes no index.
        far_east = dt.timezone(dt.timedelta(hours=14))
        year_one = dt.datetime(1, 1, 1, tzinfo=far_east)
        bad = ledger.record(_checkin(codes[1], device_time=year_one))
        assert bad.status_code == 400
        after = ledger.record(_checkin(codes[2]))
    assert after.json()["log_index"] == 1
    with Ledger(engine, "e1", outcome_log=store.LedgerLog("e1", PUBLICATION)) as ledger:
        assert ledger.record(_checkin(codes[3])).json()["log_index"] == 2
    assert [i for i, _ in store.entry_range(engine, 0, 10)] == [0, 1, 2]


def test_keys_are_made_once_and_the_publication_key_can_be_destroyed(tmp_path: Path) -> None:
    keys = store.init_keys(tmp_path / "tlog", "vote.example/e1")
    again = store.init_keys(tmp_path / "tlog", "vote.example/e1")
    assert again.signer.skey == keys.signer.skey
    assert keys.mldsa is not None and again.mldsa == keys.mldsa
    assert keys.mldsa.sig_type == note.MLDSA44 and keys.mldsa.name == "vote.example/e1"
    assert keys.publication_key is not None and len(keys.publication_key) == 32
    for secret in (store.LOG_KEY, store.LOG_MLDSA_KEY):
        assert (tmp_path / "tlog" / secret).stat().st_mode & 0o777 == 0o600
    assert store.read_verifiers(tmp_path / "tlog") == [keys.verifier, keys.mldsa.verifier]
    # A log made before ML-DSA-44 keeps its Ed25519 key and gets the second one.
    (tmp_path / "tlog" / store.LOG_MLDSA_KEY).unlink()
    (tmp_path / "tlog" / store.LOG_MLDSA_PUB).unlink()
    assert store.read_keys(tmp_path / "tlog").mldsa is None
    assert store.read_verifiers(tmp_path / "tlog") == [keys.verifier]
    upgraded = store.init_keys(tmp_path / "tlog", "other.example/ignored")
    assert upgraded.signer == keys.signer and upgraded.mldsa is not None
    assert upgraded.mldsa.name == "vote.example/e1"
    assert store.destroy_publication_key(tmp_path / "tlog")
    assert store.read_keys(tmp_path / "tlog").publication_key is None
    assert not store.destroy_publication_key(tmp_path / "tlog")
    with pytest.raises(Exception, match="pollnet log init"):
        store.read_keys(tmp_path / "elsewhere")
