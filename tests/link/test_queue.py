"""The device's durable queue: order, answers, the local duplicate check, and kill -9."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from pollnet.link.queue import DurableQueue

BODY = {"national_code": "0499370899", "birth_date": "1370/01/15"}
KEY = b"k" * 32
OTHER = b"o" * 32


def test_put_answer_and_scrub(tmp_path: Path) -> None:
    with DurableQueue(tmp_path / "q.db", KEY) as queue:
        item = queue.put(BODY, voter_hash=queue.voter_hash("0499370899"))
        assert queue.depth() == 1
        assert item.payload is not None and item.payload["idempotency_key"] == item.idempotency_key
        answered = queue.answer(item.idempotency_key, 201, {"status": "accepted", "checkin_id": 7})
        assert answered.outcome == "accepted" and answered.answer == {
            "status": "accepted",
            "checkin_id": 7,
        }
        assert answered.payload is None  # the raw national code is gone once answered
        assert queue.depth() == 0
    raw = (tmp_path / "q.db").read_bytes() + _wal(tmp_path / "q.db")
    # The code may linger in freed pages until they are reused, but never in a live row.
    with DurableQueue(tmp_path / "q.db", KEY) as queue:
        assert all(i.payload is None for i in queue.items())
    assert raw  # the file exists and was written


def _wal(path: Path) -> bytes:
    wal = path.with_name(path.name + "-wal")
    return wal.read_bytes() if wal.exists() else b""


def test_local_duplicate_check(tmp_path: Path) -> None:
    with DurableQueue(tmp_path / "q.db", KEY) as queue:
        voter = queue.voter_hash("0499370899")
        other = queue.voter_hash("0013542419")
        assert voter != other and len(voter) == 64 and "0499370899" not in voter
        first = queue.put(BODY, voter_hash=voter)
        assert not queue.has_voter(voter, excluding=first.idempotency_key)
        second = queue.put(BODY, voter_hash=voter)
        assert queue.has_voter(voter, excluding=second.idempotency_key)  # the first is pending
        queue.answer(first.idempotency_key, 422, {"status": "refused", "reason": "under_age"})
        assert not queue.has_voter(voter, excluding=second.idempotency_key)
        queue.mark_provisional(second.idempotency_key, dt.datetime.now(dt.UTC))
        assert queue.has_voter(voter)
        assert not queue.has_voter(other)


def test_local_key_is_the_one_given(tmp_path: Path) -> None:
    with DurableQueue(tmp_path / "q.db", KEY) as queue:
        before = queue.voter_hash("0499370899")
    with DurableQueue(tmp_path / "q.db", KEY) as queue:
        assert queue.voter_hash("0499370899") == before
    with DurableQueue(tmp_path / "other.db", OTHER) as queue:
        assert queue.voter_hash("0499370899") != before  # a key of its own per device
    assert before == hmac.new(KEY, b"0499370899", hashlib.sha256).hexdigest()


def test_the_queue_file_is_private(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        with DurableQueue(tmp_path / "q.db", KEY) as queue:
            queue.put(BODY, voter_hash=queue.voter_hash("0499370899"))
            for name in ("q.db", "q.db-wal", "q.db-shm"):
                assert (tmp_path / name).stat().st_mode & 0o777 == 0o600, name
    finally:
        os.umask(old)
    (tmp_path / "q.db").chmod(0o644)  # a file an older pollnet left world-readable
    with DurableQueue(tmp_path / "q.db", KEY):
        assert (tmp_path / "q.db").stat().st_mode & 0o777 == 0o600


def test_no_key_in_the_file_and_an_old_one_is_removed(tmp_path: Path) -> None:
    path = tmp_path / "q.db"
    with sqlite3.connect(path) as db:  # a queue file as an older pollnet wrote it
        db.execute("CREATE TABLE meta (name TEXT PRIMARY KEY, value TEXT NOT NULL)")
        db.execute("INSERT INTO meta VALUES ('voter_key', ?)", ("ab" * 32,))
    db.close()
    with DurableQueue(path, KEY) as queue:
        queue.put(BODY, voter_hash=queue.voter_hash("0499370899"))
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT * FROM meta").fetchall() == []
    db.close()
    raw = path.read_bytes() + _wal(path)
    assert KEY not in raw and KEY.hex().encode() not in raw and b"ab" * 32 not in raw


def test_the_queue_key_comes_from_the_device_key(tmp_path: Path) -> None:
    import datetime as dt

    from pollnet.link import pki

    pki.init_pki(tmp_path / "pki", election_date=dt.date.today())
    one = pki.enroll_device(tmp_path / "pki", "ST-1", "D-1", tmp_path / "one")
    two = pki.enroll_device(tmp_path / "pki", "ST-1", "D-2", tmp_path / "two")
    assert pki.queue_key(one) == pki.queue_key(one) != pki.queue_key(two)
    assert len(pki.queue_key(one)) == 32
    assert pki.queue_key(one).hex() not in (one / "device.key").read_text()


def test_closing_the_day_erases_hashes_and_codes_from_the_file(tmp_path: Path) -> None:
    codes = [f"04993708{n:02d}" for n in range(40)]
    path = tmp_path / "q.db"
    with DurableQueue(path, KEY) as queue:
        hashes = [queue.voter_hash(c) for c in codes]
        items = [
            queue.put({**BODY, "national_code": c}, voter_hash=h)
            for c, h in zip(codes, hashes, strict=True)
        ]
        waiting = items.pop()
        for item in items:
            queue.answer(item.idempotency_key, 201, {"status": "accepted"})
        assert queue.has_voter(hashes[0])
        assert queue.close_day() == len(items)
        assert not queue.has_voter(hashes[0])
        assert queue.has_voter(hashes[-1])  # still to be sent: kept until it is
        assert queue.get(waiting.idempotency_key).voter_hash == hashes[-1]
        raw = path.read_bytes() + _wal(path)
        for code, digest in zip(codes[:-1], hashes[:-1], strict=True):
            assert code.encode() not in raw, "a national code is left in the file"
            assert digest.encode() not in raw, "a voter hash is left in the file"


def test_a_reopened_queue_holds_unanswered_online_items_as_unknown(tmp_path: Path) -> None:
    """A check-in being sent when the device stopped may have been recorded: unknown on restart.
    One accepted offline (provisional) stays pending: its replay is what the operator wants."""
    with DurableQueue(tmp_path / "q.db", KEY) as queue:
        online = queue.put(BODY, voter_hash=queue.voter_hash("0499370899"))
        offline = queue.put(BODY, voter_hash=None)
        queue.mark_provisional(offline.idempotency_key, dt.datetime.now(dt.UTC))
    with DurableQueue(tmp_path / "q.db", KEY) as queue:
        assert [i.idempotency_key for i in queue.unknown()] == [online.idempotency_key]
        assert [i.idempotency_key for i in queue.pending()] == [offline.idempotency_key]
        assert queue.depth() == 2
        assert queue.has_voter(queue.voter_hash("0499370899"))  # may be recorded: counted
        closed = queue.close_item(online.idempotency_key, "not_recorded")
        assert closed.state == "closed" and closed.payload is None and queue.depth() == 1


def test_provisional_marks_the_wire_body(tmp_path: Path) -> None:
    at = dt.datetime(2028, 2, 25, 9, 30, tzinfo=dt.UTC)
    with DurableQueue(tmp_path / "q.db", KEY) as queue:
        item = queue.put(BODY, voter_hash=None)
        marked = queue.mark_provisional(item.idempotency_key, at)
        assert marked.provisional and marked.outcome == "provisional"
        assert marked.payload is not None and marked.payload["provisional_at"] == at.isoformat()
        assert queue.pending()[0].provisional_at == at


@settings(max_examples=25, deadline=None)
@given(st.lists(st.booleans(), min_size=1, max_size=30))
def test_pending_keeps_the_order_taken(tmp_path_factory: object, answered: list[bool]) -> None:
    folder = tmp_path_factory.mktemp("q")  # type: ignore[attr-defined]
    with DurableQueue(folder / "q.db", KEY, synchronous="NORMAL") as queue:
        keys = [queue.put(BODY, voter_hash=None).idempotency_key for _ in answered]
        for key, done in zip(keys, answered, strict=True):
            if done:
                queue.answer(key, 201, {"status": "accepted"})
        left = [k for k, done in zip(keys, answered, strict=True) if not done]
        assert [i.idempotency_key for i in queue.pending()] == left
        assert queue.depth() == len(left)


_WRITER = textwrap.dedent(
    """
    import sys
    from pollnet.link.queue import DurableQueue
    queue = DurableQueue(sys.argv[1], bytes(32))
    n = 0
    while True:
        item = queue.put({"national_code": "0499370899", "n": n}, voter_hash=None)
        if n % 3 == 0:
            queue.answer(item.idempotency_key, 201, {"status": "accepted", "checkin_id": n})
        print(item.idempotency_key, n % 3 == 0, flush=True)
        n += 1
    """
)


def test_survives_kill_9(tmp_path: Path) -> None:
    path = tmp_path / "q.db"
    proc = subprocess.Popen(
        [sys.executable, "-c", _WRITER, str(path)], stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None
    acknowledged: list[tuple[str, bool]] = []
    for line in proc.stdout:
        key, done = line.split()
        acknowledged.append((key, done == "True"))
        if len(acknowledged) >= 300:
            break
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)
    proc.stdout.close()
    assert proc.returncode == -signal.SIGKILL
    with DurableQueue(path, bytes(32)) as queue:
        items = {i.idempotency_key: i for i in queue.items()}
        unknown = [i.idempotency_key for i in queue.unknown()]
        assert queue.pending() == []
    for key, done in acknowledged:
        assert key in items, "a check-in written before the kill is gone"
        # Unanswered at the kill: it may have been sent, so it is unknown, not pending.
        assert items[key].state == ("answered" if done else "unknown")
    order = [k for k, done in acknowledged if not done]
    assert unknown[: len(order)] == order  # asked about in the order taken
