"""The device's durable queue: order, answers, the local duplicate check, and kill -9."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from pollnet.link.queue import DurableQueue

BODY = {"national_code": "0499370899", "birth_date": "1370/01/15"}


def test_put_answer_and_scrub(tmp_path: Path) -> None:
    with DurableQueue(tmp_path / "q.db") as queue:
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
    with DurableQueue(tmp_path / "q.db") as queue:
        assert all(i.payload is None for i in queue.items())
    assert raw  # the file exists and was written


def _wal(path: Path) -> bytes:
    wal = path.with_name(path.name + "-wal")
    return wal.read_bytes() if wal.exists() else b""


def test_local_duplicate_check(tmp_path: Path) -> None:
    with DurableQueue(tmp_path / "q.db") as queue:
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


def test_local_key_survives_reopen(tmp_path: Path) -> None:
    with DurableQueue(tmp_path / "q.db") as queue:
        before = queue.voter_hash("0499370899")
    with DurableQueue(tmp_path / "q.db") as queue:
        assert queue.voter_hash("0499370899") == before
    with DurableQueue(tmp_path / "other.db") as queue:
        assert queue.voter_hash("0499370899") != before  # a key of its own per device


def test_provisional_marks_the_wire_body(tmp_path: Path) -> None:
    at = dt.datetime(2028, 2, 25, 9, 30, tzinfo=dt.UTC)
    with DurableQueue(tmp_path / "q.db") as queue:
        item = queue.put(BODY, voter_hash=None)
        marked = queue.mark_provisional(item.idempotency_key, at)
        assert marked.provisional and marked.outcome == "provisional"
        assert marked.payload is not None and marked.payload["provisional_at"] == at.isoformat()
        assert queue.pending()[0].provisional_at == at


@settings(max_examples=25, deadline=None)
@given(st.lists(st.booleans(), min_size=1, max_size=30))
def test_pending_keeps_the_order_taken(tmp_path_factory: object, answered: list[bool]) -> None:
    folder = tmp_path_factory.mktemp("q")  # type: ignore[attr-defined]
    with DurableQueue(folder / "q.db", synchronous="NORMAL") as queue:
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
    queue = DurableQueue(sys.argv[1])
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
    assert proc.returncode == -signal.SIGKILL
    with DurableQueue(path) as queue:
        items = {i.idempotency_key: i for i in queue.items()}
        pending = [i.idempotency_key for i in queue.pending()]
    for key, done in acknowledged:
        assert key in items, "a check-in written before the kill is gone"
        assert items[key].state == ("answered" if done else "pending")
    order = [k for k, done in acknowledged if not done]
    assert pending[: len(order)] == order  # replay order is the order taken
