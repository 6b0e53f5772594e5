"""The ledger writer across database failures: a commit whose fate is unknown, an outage longer
than the hold, several writers on one PostgreSQL ledger (real PostgreSQL, no mocks)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg

from pollnet.link.audit import verify_audit
from pollnet.link.ledger import UNAVAILABLE, Answer, Ledger, checkin_count
from pollnet.store import create_engine, open_store
from tests.link.service_helpers import national_code
from tests.link.test_ledger import _checkin
from tests.pgserver import PostgresServer


@contextmanager
def ghost_standby(server: PostgresServer) -> Iterator[psycopg.Connection[tuple[object, ...]]]:
    """The server waits, at every commit, for a standby that never comes (until reset)."""
    admin = psycopg.connect(server.url("postgres").replace("+psycopg", ""), autocommit=True)
    admin.execute("ALTER SYSTEM SET synchronous_standby_names = 'ghost'")
    admin.execute("SELECT pg_reload_conf()")
    try:
        yield admin
    finally:
        admin.execute("ALTER SYSTEM RESET synchronous_standby_names")
        admin.execute("SELECT pg_reload_conf()")
        admin.close()


def test_a_commit_cut_off_during_commit_is_resolved_by_its_idempotency_key(
    pg_server: PostgresServer, pg_url: str
) -> None:
    engine = open_store(pg_url)
    database = engine.url.database
    item = _checkin(national_code(1))
    answers: list[Answer] = []
    with Ledger(engine, "e1") as ledger, ghost_standby(pg_server) as admin:
        recording = threading.Thread(target=lambda: answers.append(ledger.record(item)))
        recording.start()
        # The COMMIT has been written locally and waits for the (missing) standby: cut it off.
        deadline = time.monotonic() + 20
        while True:
            waiting = admin.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = %s AND wait_event = 'SyncRep'",
                (database,),
            ).fetchall()
            if waiting or time.monotonic() > deadline:
                break
            time.sleep(0.02)
        assert len(waiting) == 1, "the ledger's commit never waited for the standby"
        admin.execute("SELECT pg_terminate_backend(%s)", (waiting[0][0],))
        recording.join(timeout=30)
    # The writer saw its connection die during COMMIT; it wrote the batch again on a new
    # connection, where the stored answer of the key came back: the check-in is there once.
    assert len(answers) == 1
    answer = answers[0]
    assert answer.status_code == 201 and answer.replayed
    assert ledger.retried_batches == 1
    assert checkin_count(engine, "e1") == 1
    assert verify_audit(engine).ok


def test_a_database_that_stays_away_gets_503_after_the_hold(tmp_path: object) -> None:
    engine = create_engine("postgresql://postgres@127.0.0.1:1/none?connect_timeout=1")
    started = time.monotonic()
    with Ledger(engine, "e1", hold_s=0.5) as ledger:
        answer = ledger.record(_checkin(national_code(1)), timeout=10)
        assert not ledger.connected
    assert answer == UNAVAILABLE
    assert time.monotonic() - started < 5  # answered after the hold; stop did not hang


def test_two_writers_on_one_ledger_record_each_voter_once_in_one_chain(pg_url: str) -> None:
    codes = [national_code(n) for n in range(60)]
    first, second = open_store(pg_url), create_engine(pg_url)
    answers: list[tuple[str, int]] = []
    lock = threading.Lock()

    def station(ledger: Ledger, n: int) -> None:
        for code in codes:
            answer = ledger.record(_checkin(code, device=f"D-{n}", station=f"ST-{n}"))
            with lock:
                answers.append((code, answer.status_code))

    with Ledger(first, "e1") as a, Ledger(second, "e1") as b:
        threads = [
            threading.Thread(target=station, args=(ledger, n))
            for n, ledger in enumerate((a, b, a, b))
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert checkin_count(first, "e1") == len(codes)
    for code in codes:
        assert sorted(s for c, s in answers if c == code) == [201, 409, 409, 409], code
    report = verify_audit(first)
    assert report.ok, report
    assert report.checkins == len(codes)
