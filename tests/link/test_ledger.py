"""The ledger on SQLite and PostgreSQL: exactly once per election, idempotent, durable answers."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pollnet.link.audit import verify_audit
from pollnet.link.checkin import Checkin, Refusal, voter_hash
from pollnet.link.ledger import (
    ANALYZE_FROM_ROWS,
    Answer,
    Ledger,
    checkin_count,
    load_roll,
    recorded_ids,
)
from pollnet.store import open_store
from pollnet.store.schema.link import checkin_conflicts, checkins
from tests.link.service_helpers import national_code

KEY = b"k" * 32


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


def test_a_voter_is_recorded_once_across_stations_and_threads(db_url: str) -> None:
    engine = open_store(db_url)
    codes = [national_code(n) for n in range(40)]
    answers: list[tuple[str, int]] = []
    lock = threading.Lock()

    def station(n: int) -> None:
        for code in codes:
            answer = ledger.record(_checkin(code, device=f"D-{n}", station=f"ST-{n}"))
            with lock:
                answers.append((code, answer.status_code))

    with Ledger(engine, "e1") as ledger:
        threads = [threading.Thread(target=station, args=(n,)) for n in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert checkin_count(engine, "e1") == 40
    for code in codes:
        statuses = sorted(s for c, s in answers if c == code)
        assert statuses == [201, 409, 409, 409], code


def test_duplicate_answer_says_where_and_when(db_url: str) -> None:
    engine = open_store(db_url)
    with Ledger(engine, "e1") as ledger:
        first = ledger.record(_checkin("0499370899", station="ST-9")).json()
        again = ledger.record(_checkin("0499370899", device="D-2", station="ST-2"))
    assert again.status_code == 409
    assert again.json() == {
        "status": "refused",
        "reason": "duplicate",
        "first": {"station": "ST-9", "at": first["recorded_at"]},
    }


def test_a_retry_gets_the_original_answer_verbatim_even_after_a_restart(db_url: str) -> None:
    engine = open_store(db_url)
    item = _checkin("0499370899")
    with Ledger(engine, "e1") as ledger:
        first = ledger.record(item)
        assert ledger.record(item) == first
    with Ledger(engine, "e1") as ledger:
        assert ledger.record(item) == first
        # The same key from another device is another request.
        other = ledger.record(
            _checkin("0499370899", device="D-2", idempotency_key=item.idempotency_key)
        )
        assert other.status_code == 409
    refused = _checkin("x", voter_hash=None, refusal=Refusal("invalid_national_code", "m"))
    with Ledger(engine, "e1") as ledger:
        answer = ledger.record(refused)
        assert answer.status_code == 422 and answer.json()["reason"] == "invalid_national_code"
        assert ledger.record(refused) == answer


def test_an_offline_checkin_of_a_voter_recorded_elsewhere_is_a_conflict(db_url: str) -> None:
    engine = open_store(db_url)
    offline_at = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=20)
    with Ledger(engine, "e1") as ledger:
        first = ledger.record(_checkin("0499370899", station="ST-1")).json()
        answer = ledger.record(
            _checkin("0499370899", device="D-7", station="ST-7", provisional_at=offline_at)
        )
    assert answer.status_code == 200
    body = answer.json()
    assert body["status"] == "conflict"
    assert body["first"] == {"station": "ST-1", "at": first["recorded_at"]}
    with engine.connect() as conn:
        kept = conn.execute(sa.select(checkin_conflicts)).one()
    assert kept.id == body["conflict_id"] and kept.station == "ST-7"
    assert kept.first_checkin_id == first["checkin_id"]
    assert checkin_count(engine, "e1") == 1


def test_the_roll_refuses_voters_not_on_it(db_url: str) -> None:
    engine = open_store(db_url)
    assert load_roll(engine, "e1", KEY, ["0499370899", "not a code"]) == 1
    with Ledger(engine, "e1") as ledger:
        assert ledger.record(_checkin("0499370899")).status_code == 201
        refused = ledger.record(_checkin(national_code(5)))
    assert refused.status_code == 422 and refused.json()["reason"] == "not_on_roll"


@settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    st.lists(
        st.tuples(st.integers(0, 8), st.integers(0, 3), st.booleans(), st.booleans()),
        min_size=1,
        max_size=30,
    )
)
def test_any_sequence_counts_each_voter_at_most_once(
    ledger_engine: tuple[Ledger, sa.Engine],
    steps: list[tuple[int, int, bool, bool]],
) -> None:
    ledger, engine = ledger_engine
    election = f"e-{uuid.uuid4()}"
    ledger.election = election
    sent: list[tuple[Checkin, int]] = []
    accepted: dict[int, int] = {}
    for voter, device, provisional, retry in steps:
        if retry and sent:
            item, who = sent[-1]
        else:
            who = voter
            item = _checkin(
                national_code(voter),
                device=f"D-{device}",
                provisional_at=dt.datetime.now(dt.UTC) if provisional else None,
            )
        sent.append((item, who))
        answer = ledger.record(item)
        if answer.status_code == 201:
            accepted[answer.json()["checkin_id"]] = who
    assert sorted(accepted.values()) == sorted(set(accepted.values()))
    assert checkin_count(engine, election) == len(accepted)
    assert recorded_ids(engine, accepted) == set(accepted)


@pytest.fixture(scope="module")
def ledger_engine(tmp_path_factory: pytest.TempPathFactory) -> object:
    engine = open_store(f"sqlite:///{tmp_path_factory.mktemp('ledger') / 'l.db'}")
    with Ledger(engine, "placeholder") as ledger:
        yield ledger, engine


def test_no_raw_national_code_in_the_database_file(tmp_path: Path) -> None:
    engine = open_store(f"sqlite:///{tmp_path / 'l.db'}")
    codes = [national_code(n) for n in range(30)]
    with Ledger(engine, "e1") as ledger:
        for code in codes:
            ledger.record(_checkin(code))
    engine.dispose()
    data = b"".join(p.read_bytes() for p in tmp_path.iterdir())
    assert all(code.encode() not in data for code in codes)
    with open_store(f"sqlite:///{tmp_path / 'l.db'}").connect() as conn:
        assert conn.scalar(sa.select(sa.func.count()).select_from(checkins)) == 30


def test_the_writer_survives_a_dropped_postgresql_connection(pg_url: str) -> None:
    engine = open_store(pg_url)
    with Ledger(engine, "e1") as ledger:
        assert ledger.record(_checkin(national_code(1))).status_code == 201
        with engine.connect() as conn:
            conn.exec_driver_sql(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        item = _checkin(national_code(2))
        first = ledger.record(item)
        # The batch failed on the dead connection and was written again after reconnecting.
        assert first.status_code == 201 and not first.replayed
        assert ledger.retried_batches == 1
        retried = ledger.record(item)
        assert retried == first and retried.replayed
    assert checkin_count(engine, "e1") == 2


def test_roll_load_command(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from pollnet.cli import cli
    from pollnet.link import pki

    folder = pki.init_pki(tmp_path / "pki")
    url = f"sqlite:///{tmp_path / 'roll.db'}"
    good = tmp_path / "roll.csv"
    good.write_text("national_code\n0499370899\n۰۰۱۳۵۴۲۴۱۹\n", encoding="utf-8")
    runner = CliRunner()
    base = ["--db", url, "--lang", "en", "roll", "load", "--dir", str(folder)]
    result = runner.invoke(cli, [*base, str(good)])
    assert result.exit_code == 0, result.output
    assert "2 voters added to the roll (2 read)" in result.output
    bad = tmp_path / "bad.csv"
    bad.write_text("national_code\n0499370899\n1111111111\n", encoding="utf-8")
    result = runner.invoke(cli, [*base, str(bad)])
    assert result.exit_code == 1
    assert "row 2, column national_code: not a valid national code" in str(result.exception)
    assert b"0499370899" not in (tmp_path / "roll.db").read_bytes()


def test_postgresql_ledger_tables_get_statistics_as_they_grow(pg_url: str) -> None:
    engine = open_store(pg_url)
    count = ANALYZE_FROM_ROWS + 100

    async def record_all(ledger: Ledger) -> list[int]:
        checks = [_checkin(national_code(n), device=f"D-{n % 7}") for n in range(count)]
        answers = await asyncio.gather(*(ledger.record_async(c) for c in checks))
        return [a.status_code for a in answers]

    with Ledger(engine, "e-stats") as ledger:
        assert asyncio.run(record_all(ledger)) == [201] * count
        deadline = time.monotonic() + 20
        tuples = -1.0
        while time.monotonic() < deadline:
            with engine.connect() as conn:
                tuples = float(
                    conn.exec_driver_sql(
                        "SELECT reltuples FROM pg_class WHERE relname = 'checkins'"
                    ).scalar_one()
                )
            if tuples >= ANALYZE_FROM_ROWS:
                break
            time.sleep(0.1)
    assert tuples >= ANALYZE_FROM_ROWS


def _poisons(db_url: str) -> list[Checkin]:
    """Check-ins that no parser lets through but that fail the writer's transaction."""
    far_east = dt.timezone(dt.timedelta(hours=14))
    poisons = [
        _checkin("0499370899", provisional_at=dt.datetime(1, 1, 1, tzinfo=far_east)),
        _checkin("0499370899", device_time=dt.datetime(1, 1, 1, tzinfo=far_east)),
    ]
    if db_url.startswith("postgresql"):  # SQLite stores a NUL; PostgreSQL text cannot hold one
        poisons.append(_checkin("0499370899", idempotency_key="nul\x00key"))
    return poisons


def test_a_check_in_that_fails_the_transaction_is_answered_400_and_the_rest_recorded(
    db_url: str,
) -> None:
    engine = open_store(db_url)
    honest = [_checkin(national_code(n), device=f"D-{n}") for n in range(30)]
    poisons = _poisons(db_url)
    batch = honest[:10] + poisons[:1] + honest[10:20] + poisons[1:] + honest[20:]
    answers: dict[str, Answer] = {}
    done = threading.Event()

    def keep(item: Checkin) -> Callable[[Answer], None]:
        def deliver(answer: Answer) -> None:
            answers[item.idempotency_key] = answer
            if len(answers) == len(batch):
                done.set()

        return deliver

    ledger = Ledger(engine, "e1")
    for item in batch:  # queued before the writer starts: they are written as one batch
        ledger.submit(item, keep(item))
    with ledger:
        assert done.wait(30)
        batches = ledger.batches
        # The writer goes on: its ids and audit chain are those of what was committed.
        later = ledger.record(_checkin(national_code(99)))
    assert [answers[p.idempotency_key].status_code for p in poisons] == [400] * len(poisons)
    assert answers[poisons[0].idempotency_key].json()["reason"] == "malformed"
    assert [answers[c.idempotency_key].status_code for c in honest] == [201] * len(honest)
    assert batches == 1
    ids = sorted(answers[c.idempotency_key].json()["checkin_id"] for c in honest)
    assert ids == list(range(1, 31))
    assert later.json()["checkin_id"] == 31
    assert checkin_count(engine, "e1") == 31
    assert ledger.unwritable == len(poisons)
    assert verify_audit(engine).ok
    engine.dispose()


def test_a_reused_key_with_another_voter_is_409_and_the_voter_is_not_taken_for_recorded(
    db_url: str,
) -> None:
    engine = open_store(db_url)
    first = _checkin(national_code(1), idempotency_key="key-1")
    other_voter = _checkin(national_code(2), idempotency_key="key-1")
    with Ledger(engine, "e1") as ledger:
        accepted = ledger.record(first)
        reused = ledger.record(other_voter)
        resent = ledger.record(dataclasses.replace(first, provisional_at=first.device_time))
    assert accepted.status_code == 201
    assert reused.status_code == 409
    assert reused.json()["reason"] == "idempotency_key_reused"
    assert "new key" in reused.json()["message"]
    assert resent == accepted  # the same check-in resent (now marked offline): its answer
    assert resent.replayed and not accepted.replayed
    assert checkin_count(engine, "e1") == 1
    engine.dispose()


def test_a_reused_key_within_one_batch_is_409(db_url: str) -> None:
    engine = open_store(db_url)
    items = [
        _checkin(national_code(1), idempotency_key="key-1"),
        _checkin(national_code(2), idempotency_key="key-1"),
        _checkin(national_code(3), idempotency_key="key-3"),
    ]
    answers: list[Answer] = []
    ledger = Ledger(engine, "e1")
    for item in items:
        ledger.submit(item, answers.append)
    with ledger:
        pass  # stop() writes what is queued: one batch
    assert [a.status_code for a in answers] == [201, 409, 201]
    assert answers[1].json()["reason"] == "idempotency_key_reused"
    with Ledger(engine, "e1") as again:  # the key keeps answering its first check-in only
        assert again.record(items[0]) == answers[0]
        assert again.record(items[1]).json()["reason"] == "idempotency_key_reused"
    assert checkin_count(engine, "e1") == 2
    engine.dispose()
